// The OS view of one buffer: a virtual range of equal pages, each backed by exactly one frame,
// either in system RAM or in a GPU's device-private memory, with the mappings that point at
// it (CPU page table, GPU page table, NIC MTT, the NIC's peer mapping of the GPU BAR page),
// its pins, and the mmu_interval_notifier subscriptions over the range with their sequence
// numbers (linux-semantics.md §2.4). Frames come from per-memory allocators, lowest free
// first, so a run of pages allocated together is contiguous. Pure data: the HMM driver
// (models/os/hmm.h) changes it at the simulated times of the steps it models.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <string>
#include <vector>

namespace pciesim {

enum class PageHome : std::uint8_t { SystemRam, Device };

struct PageState {
  PageHome home = PageHome::Device;
  std::uint32_t frame = 0;
  bool cpu_mapped = false;
  bool gpu_mapped = false; // in the GPU page table (local, or remote to a system page)
  bool nic_mapped = false; // in the NIC MTT
  bool nic_peer = false;   // that MTT entry is the GPU BAR page (option F, peer mapping)
  std::uint16_t pins = 0;  // long-term pins (FOLL_LONGTERM): the page may not migrate
  bool migrating = false;  // between migrate_vma_setup and finalize
};

// Frames of one memory: `count` frames, lowest free first.
class FrameAllocator {
public:
  explicit FrameAllocator(std::uint32_t count = 0);
  // False when none is free.
  bool allocate(std::uint32_t &frame);
  void release(std::uint32_t frame);
  std::uint32_t in_use() const { return count_ - static_cast<std::uint32_t>(free_.size()); }
  bool is_free(std::uint32_t frame) const { return !used_[frame]; }

private:
  std::uint32_t count_;
  std::priority_queue<std::uint32_t, std::vector<std::uint32_t>, std::greater<std::uint32_t>> free_;
  std::vector<bool> used_;
};

// A device (or the CPU) mirroring the range: it receives invalidations when pages move.
struct NotifierSubscription {
  std::string owner; // "nic0", "gpu0"
  std::uint64_t seq = 0;
};

class PageTable {
public:
  // `pages` pages of `page_bytes`, all in `initial`; `ram_frames`/`device_frames` are the
  // capacities of the two memories (at least `pages` each).
  PageTable(std::uint64_t pages, std::uint64_t page_bytes, PageHome initial,
            std::uint32_t ram_frames, std::uint32_t device_frames);

  std::uint64_t page_count() const { return pages_.size(); }
  std::uint64_t page_bytes() const { return page_bytes_; }
  PageState &page(std::uint64_t index) { return pages_[index]; }
  const PageState &page(std::uint64_t index) const { return pages_[index]; }

  // Moves a page's backing to the other memory: a new frame there, the old one freed.
  // The caller copied the data (real traffic) before. False when the target memory is full.
  bool move(std::uint64_t index, PageHome to);

  int subscribe(const std::string &owner);
  NotifierSubscription &subscription(int id) { return subscriptions_[static_cast<size_t>(id)]; }
  const std::vector<NotifierSubscription> &subscriptions() const { return subscriptions_; }
  // mmu_interval_read_begin: the sequence a reader must see unchanged to commit.
  std::uint64_t read_begin(int subscription) const;
  // mmu_interval_read_retry: whether an invalidation happened since `seq`.
  bool read_retry(int subscription, std::uint64_t seq) const;
  // An invalidation of the range reached this subscriber (mmu_interval_set_seq).
  void invalidated(int subscription);

  std::uint64_t pages_in(PageHome home) const;
  // The conservation invariant: every page in exactly one frame of exactly one memory, no
  // frame shared or leaked. Empty when it holds; otherwise one line per violation.
  std::vector<std::string> check() const;

private:
  std::uint64_t page_bytes_;
  std::vector<PageState> pages_;
  FrameAllocator ram_, device_;
  std::vector<NotifierSubscription> subscriptions_;
};

} // namespace pciesim
