// A set-associative, LRU cache of address translations keyed by page number: the IOMMU's
// IOTLB and page-walk cache, and a device's ATS Address Translation Cache. It holds no
// translation values (the simulator translates by identity); it only answers hit or miss, so
// the owner can charge the time of a lookup or a walk. Deterministic: the set of a page is
// page mod sets, and the victim is the least recently used entry of that set.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <unordered_map>
#include <vector>

#include "models/common/units.h"

namespace pciesim {

struct TranslationCacheStats {
  std::uint64_t hits = 0, misses = 0;
  std::uint64_t evictions = 0;     // valid entries displaced by an insert into a full set
  std::uint64_t invalidations = 0; // entries dropped by invalidate*()
  template <class F> void for_each(F &&f) const {
    f("hits", hits);
    f("misses", misses);
    f("evictions", evictions);
    f("invalidations", invalidations);
  }
};

class TranslationCache {
public:
  // `ways` = 0 or >= entries makes the cache fully associative; otherwise `entries` must be a
  // multiple of `ways` (std::invalid_argument). `entries` = 0 is a cache that always misses.
  // `page_size` (a power of two) maps addresses to page numbers.
  TranslationCache(std::size_t entries, std::size_t ways, Bytes page_size);

  std::uint64_t page_of(std::uint64_t address) const { return address >> page_shift_; }
  Bytes page_size() const { return Bytes{std::uint64_t{1} << page_shift_}; }
  std::size_t capacity() const { return sets_.size() * ways_; }
  std::size_t ways() const { return ways_; }
  std::size_t size() const { return where_.size(); }

  // Hit: true, and the entry becomes the most recently used of its set. Counts hit or miss.
  bool lookup(std::uint64_t page) {
    if (page == recent_page_) { // already the most recently used of its set
      ++stats_.hits;
      return true;
    }
    return lookup_slow(page);
  }
  // Presence without side effects (no counting, no LRU update).
  bool contains(std::uint64_t page) const {
    return page == recent_page_ || where_.count(page) != 0;
  }
  // Makes `page` present and most recently used, evicting its set's LRU entry when full.
  void insert(std::uint64_t page);
  // Drops every page in [first_page, last_page]; returns how many were present.
  std::size_t invalidate_pages(std::uint64_t first_page, std::uint64_t last_page);
  // Drops every page overlapping [address, address + bytes).
  std::size_t invalidate(std::uint64_t address, std::uint64_t bytes);
  std::size_t invalidate_all();

  const TranslationCacheStats &stats() const { return stats_; }

private:
  using Set = std::list<std::uint64_t>; // most recently used first
  Set &set_of(std::uint64_t page) { return sets_[page % sets_.size()]; }
  void erase(std::uint64_t page);
  bool lookup_slow(std::uint64_t page);

  unsigned page_shift_;
  std::size_t ways_;
  std::vector<Set> sets_;
  std::unordered_map<std::uint64_t, Set::iterator> where_; // page -> its place in its set
  TranslationCacheStats stats_;
  // The page last found or inserted, present and first of its set (kNoPage: none). A device
  // streams through a page with many requests in a row; for those this answers without the
  // hash map and the list, whose nodes are cache misses when many devices are busy. No key
  // reaches kNoPage: pages are addresses shifted by 12 bits or more, walk-cache keys < 2^61.
  static constexpr std::uint64_t kNoPage = ~std::uint64_t{0};
  std::uint64_t recent_page_ = kNoPage;
};

} // namespace pciesim
