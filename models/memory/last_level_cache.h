// The host's last-level cache as devices see it: which lines of host memory it holds. Intel
// Xeons look up the LLC for every PCIe read and serve hits from it; with Data Direct I/O
// (DDIO) a device write updates a line in place or allocates it, but only into the few ways
// set aside for I/O (2 of 11 on a Xeon Gold 6140: Farshin et al., USENIX ATC 2020), so a
// device that writes more than those ways hold pushes its own earlier lines out to DRAM. A
// PCIe read that misses leaves the cache as it was. The CPU's use of a buffer is summed up by
// warm() (the host touched it: its last `capacity` bytes stay) and flush().
//
// Line-granular, least recently used, deterministic: two LRU lists (lines the CPU brought in,
// lines device writes allocated) share the capacity, and a full cache evicts the least
// recently used line of either; the I/O list alone is also bounded by the I/O capacity.
#pragma once

#include <cstdint>
#include <list>
#include <unordered_map>

#include "models/common/units.h"

namespace pciesim {

struct LastLevelCacheCounts {
  std::uint64_t read_hits = 0, read_misses = 0;
  std::uint64_t write_hits = 0, write_allocations = 0;
  std::uint64_t dirty_evictions = 0; // lines written back to DRAM to make room
};

class LastLevelCache {
public:
  // `capacity` 0 is no cache: every read misses and writes go to DRAM. `io_capacity` (at most
  // `capacity`) bounds what device writes may allocate; 0 disables DDIO (writes bypass the
  // cache and drop any copy of their line).
  LastLevelCache(Bytes capacity, Bytes io_capacity, Bytes line = Bytes{64});

  bool enabled() const { return capacity_lines_ > 0; }
  Bytes line_size() const { return Bytes{line_bytes_}; }

  // A device read of the line holding `address`: true if the cache serves it.
  bool read(std::uint64_t address);
  // Whether the line holding `address` is cached; touches and counts nothing.
  bool holds(std::uint64_t address) const { return lines_.count(address / line_bytes_) != 0; }
  // A device write of the line holding `address`. Returns whether the cache took it (DDIO);
  // `written_back` is set when making room evicted a dirty line, which costs a DRAM write.
  bool write(std::uint64_t address, bool &written_back);
  // The CPU read or wrote [base, base + bytes): those lines are now the most recently used.
  void warm(std::uint64_t base, std::uint64_t bytes);
  // [base, base + bytes) leaves the cache (clflush, or the CPU's other work evicted it).
  void flush(std::uint64_t base, std::uint64_t bytes);

  std::uint64_t lines_held() const { return lines_.size(); }
  const LastLevelCacheCounts &counts() const { return counts_; }

private:
  struct Line {
    std::list<std::uint64_t>::iterator position;
    std::uint64_t last_use;
    bool io;
    bool dirty;
  };
  std::list<std::uint64_t> &list_of(const Line &line) { return line.io ? io_lru_ : cpu_lru_; }
  void touch(Line &line);
  // Inserts a line, evicting as needed; returns whether a dirty line was evicted.
  bool insert(std::uint64_t line_number, bool io, bool dirty);
  bool evict_lru(std::list<std::uint64_t> &from);

  std::uint64_t line_bytes_;
  std::uint64_t capacity_lines_;
  std::uint64_t io_capacity_lines_;
  std::uint64_t uses_ = 0;
  std::unordered_map<std::uint64_t, Line> lines_;
  std::list<std::uint64_t> cpu_lru_, io_lru_; // most recently used first
  LastLevelCacheCounts counts_;
};

} // namespace pciesim
