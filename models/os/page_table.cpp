#include "models/os/page_table.h"

#include <map>

#include <fmt/format.h>

namespace pciesim {

FrameAllocator::FrameAllocator(std::uint32_t count) : count_(count), used_(count, false) {
  std::vector<std::uint32_t> all(count);
  for (std::uint32_t f = 0; f < count; ++f)
    all[f] = f;
  free_ = decltype(free_)(std::greater<std::uint32_t>(), std::move(all));
}

bool FrameAllocator::allocate(std::uint32_t &frame) {
  if (free_.empty())
    return false;
  frame = free_.top();
  free_.pop();
  used_[frame] = true;
  return true;
}

void FrameAllocator::release(std::uint32_t frame) {
  used_[frame] = false;
  free_.push(frame);
}

PageTable::PageTable(std::uint64_t pages, std::uint64_t page_bytes, PageHome initial,
                     std::uint32_t ram_frames, std::uint32_t device_frames)
    : page_bytes_(page_bytes), pages_(pages), ram_(ram_frames), device_(device_frames) {
  FrameAllocator &from = initial == PageHome::Device ? device_ : ram_;
  for (PageState &p : pages_) {
    p.home = initial;
    from.allocate(p.frame);
    // A GPU-produced buffer starts mapped by its producer; a system buffer by the CPU.
    p.gpu_mapped = initial == PageHome::Device;
    p.cpu_mapped = initial == PageHome::SystemRam;
  }
}

bool PageTable::move(std::uint64_t index, PageHome to) {
  PageState &p = pages_[index];
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
  for (const PageState &p : pages_)
    n += p.home == home;
  return n;
}

std::vector<std::string> PageTable::check() const {
  std::vector<std::string> out;
  std::map<std::pair<int, std::uint32_t>, std::uint64_t> owner;
  for (std::uint64_t i = 0; i < pages_.size(); ++i) {
    const PageState &p = pages_[i];
    const FrameAllocator &memory = p.home == PageHome::Device ? device_ : ram_;
    const char *name = p.home == PageHome::Device ? "device" : "system RAM";
    if (memory.is_free(p.frame))
      out.push_back(fmt::format("page {}: its {} frame {} is marked free", i, name, p.frame));
    auto [it, fresh] = owner.emplace(std::make_pair(static_cast<int>(p.home), p.frame), i);
    if (!fresh)
      out.push_back(fmt::format("pages {} and {} share {} frame {}", it->second, i, name, p.frame));
    if (p.migrating)
      out.push_back(fmt::format("page {}: still migrating", i));
    if (p.nic_peer && p.home != PageHome::Device)
      out.push_back(fmt::format("page {}: NIC peer mapping to a page no longer on the GPU", i));
  }
  std::uint64_t in_ram = pages_in(PageHome::SystemRam);
  std::uint64_t on_device = pages_.size() - in_ram;
  if (ram_.in_use() != in_ram || device_.in_use() != on_device)
    out.push_back(fmt::format("frames in use ({} system RAM, {} device) differ from pages ({} "
                              "system RAM, {} device)",
                              ram_.in_use(), device_.in_use(), in_ram, on_device));
  return out;
}

} // namespace pciesim
