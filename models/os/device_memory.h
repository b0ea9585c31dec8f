// The device memory of one GPU as the buffers of a workload share it (docs/mechanisms.md, "GPU
// memory capacity"): its capacity, what is resident in it (pages of every buffer on the GPU,
// pinned or not) plus the frames promised to migrations under way, and the order in which the
// GPU driver evicts when a migration to the device finds no free frame. That order is an LRU
// of eviction units (`eviction_unit` bytes of a buffer: NVIDIA UVM's 2 MiB root chunk), made
// most recent when pages migrate into them; as in UVM, an access that does not fault does not
// reorder it (the driver sees faults, not accesses). Pages resident from the start are older
// than any migrated page, in buffer and address order. Only pages of evictable buffers (HMM or
// managed memory; never a cudaMalloc'd buffer) that are neither pinned nor migrating are
// evicted. Requests for room are served one at a time in the order they arrive, so two
// migrations never count the same free frames or pick the same victim.
//
// This class decides and accounts; the buffers' HMM drivers move the pages (real copy-engine
// traffic) and report every move through moved_in / moved_out.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <utility>
#include <vector>

#include "models/os/os_kernel.h"
#include "models/os/page_table.h"

namespace pciesim {

class DeviceMemory {
public:
  // Migrates pages of one buffer to system RAM; done(at_ps) once they are there.
  using Evict =
      std::function<void(std::vector<std::uint64_t> pages, std::function<void(std::int64_t)>)>;
  // (buffer, eviction unit of it): an entry of the LRU.
  using Unit = std::pair<int, std::uint64_t>;

  // `unit_bytes` 0: the driver never evicts (nouveau); requests get what is free.
  DeviceMemory(std::uint64_t capacity_bytes, std::uint64_t unit_bytes, OsStats &stats);

  // A buffer of this GPU. `initially_resident`: its pages start here (they count from now
  // on). `evictable`: its pages may be evicted, through `evict`. Returns its index here.
  int add_buffer(PageTable &table, bool initially_resident, bool evictable, Evict evict);

  // Frames for `pages` pages of `buffer` about to migrate here: evicts least recently used
  // units until they fit, then done(granted) with the frames reserved — all of them, or fewer
  // (possibly none) when nothing more can be evicted.
  void make_room(int buffer, std::size_t pages, std::function<void(std::size_t granted)> done);
  // Pages of `buffer` now have device frames (a reservation used up): their units become the
  // most recently used.
  void moved_in(int buffer, const std::vector<std::uint64_t> &pages);
  // `pages` pages of `buffer` left for system RAM: their frames are free.
  void moved_out(int buffer, std::size_t pages);
  // Frames reserved for `pages` pages of `buffer` that will not come after all.
  void unreserve(int buffer, std::size_t pages);

  std::uint64_t capacity_bytes() const { return capacity_bytes_; }
  std::uint64_t resident_bytes() const { return resident_bytes_; }
  // Resident plus promised to migrations under way: never above the capacity.
  std::uint64_t used_bytes() const { return resident_bytes_ + reserved_bytes_; }
  // The units in eviction order, least recently used first (those resident from the start and
  // not yet visited come before these).
  std::vector<Unit> lru() const { return {lru_.begin(), lru_.end()}; }

private:
  struct Buffer {
    PageTable *table = nullptr;
    bool evictable = false;
    Evict evict;
    std::uint64_t pages_per_unit = 1;
    std::uint64_t cold_next = 0; // resident from the start: units from here on not visited yet
    std::uint64_t cold_end = 0;
  };
  struct Request {
    int buffer;
    std::size_t pages;
    std::function<void(std::size_t)> done;
  };
  std::uint64_t free_bytes() const;
  void serve();
  // Evicts the next victim and calls serve() when it is in RAM; false when there is none.
  bool evict_next();
  // The pages of a unit that may be evicted now.
  std::vector<std::uint64_t> evictable_pages(const Unit &unit);
  std::uint64_t page_bytes(int buffer) const {
    return buffers_[static_cast<std::size_t>(buffer)].table->page_bytes();
  }

  std::uint64_t capacity_bytes_, unit_bytes_;
  OsStats &stats_;
  std::uint64_t resident_bytes_ = 0, reserved_bytes_ = 0;
  std::vector<Buffer> buffers_;
  std::list<Unit> lru_; // least recently used first
  std::map<Unit, std::list<Unit>::iterator> in_lru_;
  std::deque<Request> waiting_;
  bool busy_ = false;
};

} // namespace pciesim
