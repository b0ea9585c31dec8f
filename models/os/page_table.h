// The OS view of one buffer: a virtual range of equal pages, each backed by exactly one frame,
// either in system RAM or in a GPU's device-private memory, with the mappings that point at
// it (CPU page table, GPU page table, NIC MTT, the NIC's peer mapping of the GPU BAR page),
// its pins, and the mmu_interval_notifier subscriptions over the range with their sequence
// numbers (Linux mm/mmu_notifier.c, Documentation/mm/hmm.rst). Frames come from per-memory
// allocators, lowest free first, so a run of pages allocated together is contiguous. Pure data: the
// HMM driver (models/os/hmm.h) changes it at the simulated times of the steps it models.
//
// A buffer may be far larger than what a workload touches (a 256 GiB buffer is 64 M pages),
// so memory is spent in proportion to the pages touched: page state is kept in chunks made on
// first access, and an untouched page is implied — in its initial memory, at the frame of
// its own index, mapped by its producer. The allocators likewise keep only the frames
// released below the highest frame ever handed out.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace pciesim {

enum class PageHome : std::uint8_t { SystemRam, Device };

struct PageState {
  PageHome home = PageHome::Device;
  bool cpu_mapped = false;
  bool gpu_mapped = false; // in the GPU page table (local, or remote to a system page)
  bool migrating = false;  // between migrate_vma_setup and finalize
  std::uint32_t frame = 0;
  // The NICs whose MTT maps the page, bit k for the buffer's k-th NIC (HmmDriver::nic_bit):
  // each NIC registers and faults on its own, so two rails map a page independently.
  std::uint16_t nic_mapped_by = 0;
  std::uint16_t nic_peer_by = 0; // of those, the NICs whose entry is the GPU BAR page (option F)
  std::uint16_t pins = 0; // long-term pins of this page (FOLL_LONGTERM); see PageTable::pinned
  bool populated = true;  // backed by a frame with data: false for a page of memory allocated
                          // and never touched (no PTE yet; its first access faults it in)

  // The GPU can access the page now: in its memory or mapped by it, and not moving.
  bool gpu_reachable() const { return (home == PageHome::Device || gpu_mapped) && !migrating; }
  bool nic_mapped(std::uint16_t nic_bit) const { return (nic_mapped_by & nic_bit) != 0; }
};
// One PageState a page of a chunk of touched pages: keep it at 16 bytes.
static_assert(sizeof(PageState) == 16, "PageState grew");

// The most NICs one buffer's pages can record as mapping them (bits of PageState's masks).
constexpr int kMaxNicsPerBuffer = 16;

// Frames of one memory: `count` frames, lowest free first. The first `taken` are in use
// from the start (a buffer's initial pages, frame = page index).
class FrameAllocator {
public:
  explicit FrameAllocator(std::uint32_t count = 0, std::uint32_t taken = 0);
  // False when none is free.
  bool allocate(std::uint32_t &frame);
  void release(std::uint32_t frame);
  std::uint32_t in_use() const {
    return high_water_ - static_cast<std::uint32_t>(released_.size());
  }
  // Frames below the high-water mark that are free again, ascending (for checks).
  std::vector<std::uint32_t> released_frames() const;
  // Every frame from here up has never been handed out.
  std::uint32_t high_water() const { return high_water_; }

private:
  std::uint32_t count_;
  std::uint32_t high_water_;
  std::vector<std::uint32_t> released_; // a min-heap: every free frame below high_water_
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

  std::uint64_t page_count() const { return page_count_; }
  std::uint64_t page_bytes() const { return page_bytes_; }
  // A page's state, made (as its initial state) on first access.
  PageState &page(std::uint64_t index) {
    std::unique_ptr<PageState[]> &chunk = chunks_[index >> kChunkShift];
    if (!chunk)
      chunk = make_chunk(index >> kChunkShift);
    return chunk[index & kChunkMask];
  }
  // A page's state without making it.
  PageState page(std::uint64_t index) const;
  // Pages touched so far (state made), for tests of the memory bound.
  std::uint64_t pages_touched() const;

  // A buffer allocated and never touched (malloc without a write): every page unpopulated
  // until its first access faults it in. Called before any page is made.
  void start_unpopulated() {
    initially_populated_ = false;
    unpopulated_ = page_count_;
  }
  // Faults one page in: true when it was unpopulated (its first access).
  bool populate(std::uint64_t index);
  // Faults in those of `pages` still unpopulated; returns how many were.
  std::uint64_t populate(const std::vector<std::uint64_t> &pages);
  // Faults in every page still unpopulated (pin_user_pages over the whole buffer, as a
  // registration does); returns how many were.
  std::uint64_t populate_all();
  bool populated(std::uint64_t index) const { return unpopulated_ == 0 || page(index).populated; }
  std::uint64_t unpopulated_pages() const { return unpopulated_; }

  // A long-term pin of every page (a registration over the whole buffer), kept once for the
  // table rather than per page.
  void pin_all() { ++pins_of_all_; }
  bool pinned(std::uint64_t index) { return pins_of_all_ > 0 || page(index).pins > 0; }
  bool all_pinned() const { return pins_of_all_ > 0; }

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
  // 512 pages a chunk: a 2 MiB region of 4 KiB pages, 8 KiB of state.
  static constexpr unsigned kChunkShift = 9;
  static constexpr std::uint64_t kChunkPages = std::uint64_t{1} << kChunkShift;
  static constexpr std::uint64_t kChunkMask = kChunkPages - 1;
  PageState initial_state(std::uint64_t index) const;
  std::unique_ptr<PageState[]> make_chunk(std::uint64_t chunk) const;
  bool touched(std::uint64_t index) const { return chunks_[index >> kChunkShift] != nullptr; }

  std::uint64_t page_count_, page_bytes_;
  PageHome initial_;
  std::vector<std::unique_ptr<PageState[]>> chunks_; // null: every page of it untouched
  std::uint32_t pins_of_all_ = 0;
  bool initially_populated_ = true;
  std::uint64_t unpopulated_ = 0; // pages never faulted in; populated(i) needs no look once 0
  FrameAllocator ram_, device_;
  std::vector<NotifierSubscription> subscriptions_;
};

} // namespace pciesim
