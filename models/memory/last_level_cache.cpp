#include "models/memory/last_level_cache.h"

#include <algorithm>
#include <stdexcept>

namespace pciesim {

LastLevelCache::LastLevelCache(Bytes capacity, Bytes io_capacity, Bytes line)
    : line_bytes_(line.count),
      capacity_lines_(capacity.count / std::max<std::uint64_t>(1, line.count)),
      io_capacity_lines_(std::min(capacity.count, io_capacity.count) /
                         std::max<std::uint64_t>(1, line.count)) {
  if (line.count == 0 || (line.count & (line.count - 1)) != 0)
    throw std::invalid_argument("the cache line size must be a power of two");
}

void LastLevelCache::touch(Line &line) {
  std::list<std::uint64_t> &list = list_of(line);
  list.splice(list.begin(), list, line.position);
  line.last_use = ++uses_;
}

bool LastLevelCache::evict_lru(std::list<std::uint64_t> &from) {
  std::uint64_t victim = from.back();
  from.pop_back();
  auto it = lines_.find(victim);
  bool dirty = it->second.dirty;
  lines_.erase(it);
  if (dirty)
    ++counts_.dirty_evictions;
  return dirty;
}

bool LastLevelCache::insert(std::uint64_t line_number, bool io, bool dirty) {
  bool written_back = false;
  if (io && io_lru_.size() >= io_capacity_lines_)
    written_back = evict_lru(io_lru_);
  if (lines_.size() >= capacity_lines_) {
    // The least recently used line of either list: the one whose last use is older.
    bool take_io = cpu_lru_.empty() ||
                   (!io_lru_.empty() &&
                    lines_.at(io_lru_.back()).last_use < lines_.at(cpu_lru_.back()).last_use);
    written_back = evict_lru(take_io ? io_lru_ : cpu_lru_) || written_back;
  }
  std::list<std::uint64_t> &list = io ? io_lru_ : cpu_lru_;
  list.push_front(line_number);
  lines_.emplace(line_number, Line{list.begin(), ++uses_, io, dirty});
  return written_back;
}

bool LastLevelCache::read(std::uint64_t address) {
  auto it = lines_.find(address / line_bytes_);
  if (it == lines_.end()) {
    ++counts_.read_misses;
    return false;
  }
  touch(it->second);
  ++counts_.read_hits;
  return true;
}

bool LastLevelCache::write(std::uint64_t address, bool &written_back) {
  written_back = false;
  std::uint64_t line_number = address / line_bytes_;
  auto it = lines_.find(line_number);
  if (io_capacity_lines_ == 0) { // no DDIO: the write goes to DRAM and invalidates the line
    if (it != lines_.end()) {
      list_of(it->second).erase(it->second.position);
      lines_.erase(it);
    }
    return false;
  }
  if (it != lines_.end()) { // write update in place, whoever brought the line in
    touch(it->second);
    it->second.dirty = true;
    ++counts_.write_hits;
    return true;
  }
  written_back = insert(line_number, true, true);
  ++counts_.write_allocations;
  return true;
}

void LastLevelCache::warm(std::uint64_t base, std::uint64_t bytes) {
  if (!enabled() || bytes == 0)
    return;
  std::uint64_t first = base / line_bytes_, end = (base + bytes - 1) / line_bytes_ + 1;
  // Only the last `capacity` lines can remain: earlier ones would be evicted by later ones.
  first = std::max(first, end > capacity_lines_ ? end - capacity_lines_ : 0);
  for (std::uint64_t n = first; n < end; ++n) {
    auto it = lines_.find(n);
    if (it == lines_.end()) {
      insert(n, false, false);
    } else if (it->second.io) { // the CPU now owns it: move it to the CPU's list
      bool dirty = it->second.dirty;
      io_lru_.erase(it->second.position);
      lines_.erase(it);
      insert(n, false, dirty);
    } else {
      touch(it->second);
    }
  }
}

void LastLevelCache::flush(std::uint64_t base, std::uint64_t bytes) {
  if (bytes == 0)
    return;
  std::uint64_t first = base / line_bytes_, end = (base + bytes - 1) / line_bytes_ + 1;
  auto drop = [this](std::unordered_map<std::uint64_t, Line>::iterator it) {
    list_of(it->second).erase(it->second.position);
    return lines_.erase(it);
  };
  if (end - first < lines_.size()) {
    for (std::uint64_t n = first; n < end; ++n)
      if (auto it = lines_.find(n); it != lines_.end())
        drop(it);
    return;
  }
  for (auto it = lines_.begin(); it != lines_.end();)
    it = it->first >= first && it->first < end ? drop(it) : std::next(it);
}

} // namespace pciesim
