#include "models/os/page_table.h"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

namespace pciesim {

FrameAllocator::FrameAllocator(std::uint32_t count, std::uint32_t taken)
    : count_(count), high_water_(taken) {}

// The lowest free frame is the least released one, since every released frame lies below the
// high-water mark; only when none is released does the mark move up.
bool FrameAllocator::allocate(std::uint32_t &frame) {
  if (!released_.empty()) {
    std::pop_heap(released_.begin(), released_.end(), std::greater<std::uint32_t>());
    frame = released_.back();
    released_.pop_back();
    return true;
  }
  if (high_water_ == count_)
    return false;
  frame = high_water_++;
  return true;
}

void FrameAllocator::release(std::uint32_t frame) {
  released_.push_back(frame);
  std::push_heap(released_.begin(), released_.end(), std::greater<std::uint32_t>());
}

std::vector<std::uint32_t> FrameAllocator::released_frames() const {
  std::vector<std::uint32_t> frames = released_;
  std::sort(frames.begin(), frames.end());
  return frames;
}

PageTable::PageTable(std::uint64_t pages, std::uint64_t page_bytes, PageHome initial,
                     std::uint32_t ram_frames, std::uint32_t device_frames)
    : page_count_(pages), page_bytes_(page_bytes), initial_(initial),
      chunks_((pages + kChunkPages - 1) / kChunkPages),
      ram_(ram_frames, initial == PageHome::SystemRam ? static_cast<std::uint32_t>(pages) : 0),
      device_(device_frames, initial == PageHome::Device ? static_cast<std::uint32_t>(pages) : 0) {}

PageState PageTable::initial_state(std::uint64_t index) const {
  PageState p;
  p.home = initial_;
  p.frame = static_cast<std::uint32_t>(index);
  // A GPU-produced buffer starts mapped by its producer; a system buffer by the CPU.
  p.gpu_mapped = initial_ == PageHome::Device;
  p.cpu_mapped = initial_ == PageHome::SystemRam && initially_populated_;
  p.populated = initially_populated_;
  return p;
}

bool PageTable::populate(std::uint64_t index) {
  if (unpopulated_ == 0)
    return false;
  PageState &p = page(index);
  if (p.populated)
    return false;
  p.populated = true;
  p.cpu_mapped = p.home == PageHome::SystemRam && !p.migrating;
  --unpopulated_;
  return true;
}

std::uint64_t PageTable::populate(const std::vector<std::uint64_t> &pages) {
  std::uint64_t faulted = 0;
  for (std::size_t i = 0; i < pages.size() && unpopulated_ > 0; ++i)
    faulted += populate(pages[i]);
  return faulted;
}

std::uint64_t PageTable::populate_all() {
  const std::uint64_t faulted = unpopulated_;
  unpopulated_ = 0;
  return faulted;
}

std::unique_ptr<PageState[]> PageTable::make_chunk(std::uint64_t chunk) const {
  std::unique_ptr<PageState[]> states(new PageState[kChunkPages]);
  for (std::uint64_t i = 0; i < kChunkPages; ++i)
    states[i] = initial_state(chunk * kChunkPages + i);
  return states;
}

PageState PageTable::page(std::uint64_t index) const {
  return touched(index) ? chunks_[index >> kChunkShift][index & kChunkMask] : initial_state(index);
}

std::uint64_t PageTable::pages_touched() const {
  std::uint64_t n = 0;
  for (std::uint64_t c = 0; c < chunks_.size(); ++c)
    if (chunks_[c])
      n += std::min(kChunkPages, page_count_ - c * kChunkPages);
  return n;
}

bool PageTable::move(std::uint64_t index, PageHome to) {
  PageState &p = page(index);
  if (p.home == to)
    return true;
  FrameAllocator &dst = to == PageHome::Device ? device_ : ram_;
  FrameAllocator &src = p.home == PageHome::Device ? device_ : ram_;
  std::uint32_t frame = 0;
  if (!dst.allocate(frame))
    return false;
  src.release(p.frame);
  p.frame = frame;
  p.home = to;
  return true;
}

int PageTable::subscribe(const std::string &owner) {
  subscriptions_.push_back(NotifierSubscription{owner, 0});
  return static_cast<int>(subscriptions_.size()) - 1;
}

std::uint64_t PageTable::read_begin(int subscription) const {
  return subscriptions_[static_cast<std::size_t>(subscription)].seq;
}

bool PageTable::read_retry(int subscription, std::uint64_t seq) const {
  return subscriptions_[static_cast<std::size_t>(subscription)].seq != seq;
}

void PageTable::invalidated(int subscription) {
  ++subscriptions_[static_cast<std::size_t>(subscription)].seq;
}

std::uint64_t PageTable::pages_in(PageHome home) const {
  std::uint64_t n = 0;
  for (std::uint64_t c = 0; c < chunks_.size(); ++c) {
    std::uint64_t in_chunk = std::min(kChunkPages, page_count_ - c * kChunkPages);
    if (!chunks_[c]) {
      n += initial_ == home ? in_chunk : 0;
      continue;
    }
    for (std::uint64_t i = 0; i < in_chunk; ++i)
      n += chunks_[c][i].home == home;
  }
  return n;
}

// Checks the touched pages one by one; the untouched ones hold their own index's frame in the
// initial memory, so they are checked against the touched pages and the free frames only.
std::vector<std::string> PageTable::check() const {
  std::vector<std::string> out;
  auto memory_name = [](PageHome home) {
    return home == PageHome::Device ? "device" : "system RAM";
  };
  std::vector<std::uint32_t> free_ram = ram_.released_frames();
  std::vector<std::uint32_t> free_device = device_.released_frames();
  auto is_free = [&](PageHome home, std::uint32_t frame) {
    const FrameAllocator &memory = home == PageHome::Device ? device_ : ram_;
    const std::vector<std::uint32_t> &released = home == PageHome::Device ? free_device : free_ram;
    return frame >= memory.high_water() ||
           std::binary_search(released.begin(), released.end(), frame);
  };
  struct Owner {
    PageHome home;
    std::uint32_t frame;
    std::uint64_t page;
  };
  std::vector<Owner> owners;
  for (std::uint64_t c = 0; c < chunks_.size(); ++c) {
    if (!chunks_[c])
      continue;
    std::uint64_t in_chunk = std::min(kChunkPages, page_count_ - c * kChunkPages);
    for (std::uint64_t k = 0; k < in_chunk; ++k) {
      const std::uint64_t i = c * kChunkPages + k;
      const PageState &p = chunks_[c][k];
      if (is_free(p.home, p.frame))
        out.push_back(fmt::format("page {}: its {} frame {} is marked free", i, memory_name(p.home),
                                  p.frame));
      owners.push_back(Owner{p.home, p.frame, i});
      // An untouched page holds this frame too.
      if (p.home == initial_ && p.frame < page_count_ && !touched(p.frame))
        out.push_back(fmt::format("pages {} and {} share {} frame {}", p.frame, i,
                                  memory_name(p.home), p.frame));
      if (p.migrating)
        out.push_back(fmt::format("page {}: still migrating", i));
      if (p.nic_peer_by != 0 && p.home != PageHome::Device)
        out.push_back(fmt::format("page {}: NIC peer mapping to a page no longer on the GPU", i));
    }
  }
  std::sort(owners.begin(), owners.end(), [](const Owner &a, const Owner &b) {
    return std::tie(a.home, a.frame, a.page) < std::tie(b.home, b.frame, b.page);
  });
  for (std::size_t k = 1; k < owners.size(); ++k)
    if (owners[k].home == owners[k - 1].home && owners[k].frame == owners[k - 1].frame)
      out.push_back(fmt::format("pages {} and {} share {} frame {}", owners[k - 1].page,
                                owners[k].page, memory_name(owners[k].home), owners[k].frame));
  for (std::uint32_t frame : initial_ == PageHome::Device ? free_device : free_ram)
    if (frame < page_count_ && !touched(frame))
      out.push_back(fmt::format("page {}: its {} frame {} is marked free", frame,
                                memory_name(initial_), frame));
  std::uint64_t in_ram = pages_in(PageHome::SystemRam);
  std::uint64_t on_device = page_count_ - in_ram;
  if (ram_.in_use() != in_ram || device_.in_use() != on_device)
    out.push_back(fmt::format("frames in use ({} system RAM, {} device) differ from pages ({} "
                              "system RAM, {} device)",
                              ram_.in_use(), device_.in_use(), in_ram, on_device));
  return out;
}

} // namespace pciesim
