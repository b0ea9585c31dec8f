#include "models/os/device_memory.h"

#include "models/common/sim_time.h"

#include <algorithm>

namespace pciesim {

DeviceMemory::DeviceMemory(std::uint64_t capacity_bytes, std::uint64_t unit_bytes, OsStats &stats)
    : capacity_bytes_(capacity_bytes), unit_bytes_(unit_bytes), stats_(stats) {}

int DeviceMemory::add_buffer(PageTable &table, bool initially_resident, bool evictable,
                             Evict evict) {
  Buffer b;
  b.table = &table;
  b.evictable = evictable;
  b.evict = std::move(evict);
  b.pages_per_unit = std::max<std::uint64_t>(1, unit_bytes_ / table.page_bytes());
  if (initially_resident) {
    resident_bytes_ += table.page_count() * table.page_bytes();
    if (evictable)
      b.cold_end = (table.page_count() + b.pages_per_unit - 1) / b.pages_per_unit;
  }
  buffers_.push_back(std::move(b));
  return static_cast<int>(buffers_.size()) - 1;
}

std::uint64_t DeviceMemory::free_bytes() const {
  return capacity_bytes_ > used_bytes() ? capacity_bytes_ - used_bytes() : 0;
}

void DeviceMemory::make_room(int buffer, std::size_t pages,
                             std::function<void(std::size_t granted)> done) {
  waiting_.push_back(Request{buffer, pages, std::move(done)});
  serve();
}

void DeviceMemory::serve() {
  while (!busy_ && !waiting_.empty()) {
    Request &r = waiting_.front();
    const std::uint64_t page = page_bytes(r.buffer);
    if (free_bytes() < r.pages * page && unit_bytes_ > 0 && evict_next())
      return; // serve() runs again once the victim is in RAM
    const std::size_t granted =
        static_cast<std::size_t>(std::min<std::uint64_t>(r.pages, free_bytes() / page));
    reserved_bytes_ += granted * page;
    std::function<void(std::size_t)> done = std::move(r.done);
    waiting_.pop_front();
    done(granted);
  }
}

bool DeviceMemory::evict_next() {
  Unit victim{-1, 0};
  std::vector<std::uint64_t> pages;
  // Pages resident from the start are the least recently used: allocated before any fault.
  for (std::size_t b = 0; b < buffers_.size() && pages.empty(); ++b) {
    Buffer &buffer = buffers_[b];
    if (!buffer.evictable || buffer.table->all_pinned())
      buffer.cold_next = buffer.cold_end;
    while (buffer.cold_next < buffer.cold_end && pages.empty()) {
      victim = Unit{static_cast<int>(b), buffer.cold_next++};
      if (!in_lru_.count(victim))
        pages = evictable_pages(victim);
    }
  }
  while (pages.empty() && !lru_.empty()) {
    victim = lru_.front();
    lru_.pop_front();
    in_lru_.erase(victim);
    pages = evictable_pages(victim);
  }
  if (pages.empty())
    return false;
  busy_ = true;
  ++stats_.evictions;
  stats_.evicted_bytes += pages.size() * page_bytes(victim.first);
  const std::int64_t start_ps = now_ps();
  buffers_[static_cast<std::size_t>(victim.first)].evict(
      std::move(pages), [this, start_ps](std::int64_t at) {
        stats_.eviction_time_ns += static_cast<std::uint64_t>(at - start_ps) / 1000;
        busy_ = false;
        serve();
      });
  return true;
}

std::vector<std::uint64_t> DeviceMemory::evictable_pages(const Unit &unit) {
  const Buffer &buffer = buffers_[static_cast<std::size_t>(unit.first)];
  const PageTable &table = *buffer.table;
  std::vector<std::uint64_t> pages;
  const std::uint64_t first = unit.second * buffer.pages_per_unit;
  const std::uint64_t end = std::min(first + buffer.pages_per_unit, table.page_count());
  for (std::uint64_t i = first; i < end; ++i) {
    const PageState p = table.page(i);
    if (p.home == PageHome::Device && !p.migrating && p.pins == 0 && !table.all_pinned())
      pages.push_back(i);
  }
  return pages;
}

void DeviceMemory::moved_in(int buffer, const std::vector<std::uint64_t> &pages) {
  const std::uint64_t bytes = pages.size() * page_bytes(buffer);
  reserved_bytes_ -= std::min(reserved_bytes_, bytes);
  resident_bytes_ += bytes;
  const Buffer &b = buffers_[static_cast<std::size_t>(buffer)];
  if (!b.evictable)
    return;
  for (std::uint64_t page : pages) {
    const Unit unit{buffer, page / b.pages_per_unit};
    auto it = in_lru_.find(unit);
    if (it != in_lru_.end()) {
      if (std::next(it->second) == lru_.end())
        continue; // already the most recent
      lru_.erase(it->second);
    }
    in_lru_[unit] = lru_.insert(lru_.end(), unit);
  }
}

void DeviceMemory::moved_out(int buffer, std::size_t pages) {
  resident_bytes_ -= std::min<std::uint64_t>(resident_bytes_, pages * page_bytes(buffer));
}

void DeviceMemory::unreserve(int buffer, std::size_t pages) {
  // No request waits for this: requests wait only behind an eviction, which serves them.
  reserved_bytes_ -= std::min<std::uint64_t>(reserved_bytes_, pages * page_bytes(buffer));
}

} // namespace pciesim
