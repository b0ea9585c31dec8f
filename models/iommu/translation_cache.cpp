#include "models/iommu/translation_cache.h"

#include <stdexcept>

#include <fmt/format.h>

namespace pciesim {
namespace {

unsigned log2_exact(std::uint64_t value) {
  if (value == 0 || (value & (value - 1)) != 0)
    throw std::invalid_argument(
        fmt::format("translation cache page size {} is not a power of two", value));
  unsigned shift = 0;
  while ((std::uint64_t{1} << shift) != value)
    ++shift;
  return shift;
}

} // namespace

TranslationCache::TranslationCache(std::size_t entries, std::size_t ways, Bytes page_size)
    : page_shift_(log2_exact(page_size.count)) {
  if (entries == 0) {
    ways_ = 0;
    sets_.resize(1); // a set of no ways: every lookup misses, inserts are dropped
    return;
  }
  ways_ = ways == 0 || ways >= entries ? entries : ways;
  if (entries % ways_ != 0)
    throw std::invalid_argument(fmt::format(
        "translation cache of {} entries cannot be split into sets of {} ways", entries, ways));
  sets_.resize(entries / ways_);
}

bool TranslationCache::lookup_slow(std::uint64_t page) {
  auto found = where_.find(page);
  if (found == where_.end()) {
    ++stats_.misses;
    return false;
  }
  ++stats_.hits;
  Set &set = set_of(page);
  set.splice(set.begin(), set, found->second);
  recent_page_ = page;
  return true;
}

void TranslationCache::insert(std::uint64_t page) {
  Set &set = set_of(page);
  auto found = where_.find(page);
  if (found != where_.end()) {
    set.splice(set.begin(), set, found->second);
    recent_page_ = page;
    return;
  }
  if (ways_ == 0)
    return;
  if (set.size() == ways_) {
    where_.erase(set.back());
    set.pop_back();
    ++stats_.evictions;
  }
  set.push_front(page);
  where_[page] = set.begin();
  recent_page_ = page; // an eviction above may have taken the previous one
}

void TranslationCache::erase(std::uint64_t page) {
  if (page == recent_page_)
    recent_page_ = kNoPage;
  auto found = where_.find(page);
  set_of(page).erase(found->second);
  where_.erase(found);
  ++stats_.invalidations;
}

std::size_t TranslationCache::invalidate_pages(std::uint64_t first_page, std::uint64_t last_page) {
  if (last_page < first_page)
    return 0;
  std::size_t dropped = 0;
  // Visit whichever is smaller: the pages of the range, or the entries present.
  if (last_page - first_page < where_.size()) {
    for (std::uint64_t page = first_page;; ++page) {
      if (contains(page)) {
        erase(page);
        ++dropped;
      }
      if (page == last_page)
        break;
    }
    return dropped;
  }
  std::vector<std::uint64_t> doomed;
  for (const auto &entry : where_)
    if (entry.first >= first_page && entry.first <= last_page)
      doomed.push_back(entry.first);
  for (std::uint64_t page : doomed)
    erase(page);
  return doomed.size();
}

std::size_t TranslationCache::invalidate(std::uint64_t address, std::uint64_t bytes) {
  if (bytes == 0)
    return 0;
  std::uint64_t last_byte = bytes - 1 > UINT64_MAX - address ? UINT64_MAX : address + bytes - 1;
  return invalidate_pages(page_of(address), page_of(last_byte));
}

std::size_t TranslationCache::invalidate_all() {
  std::size_t dropped = where_.size();
  stats_.invalidations += dropped;
  recent_page_ = kNoPage;
  where_.clear();
  for (Set &set : sets_)
    set.clear();
  return dropped;
}

} // namespace pciesim
