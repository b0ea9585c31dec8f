#include "models/os/hmm.h"

#include <algorithm>
#include <memory>
#include <stdexcept>

#include "models/common/sim_time.h"

namespace pciesim {

HmmDriver::HmmDriver(OsKernel &kernel, PageTable &table, std::uint64_t device_base,
                     std::uint64_t ram_base, HmmHooks hooks)
    : kernel_(kernel), table_(table), device_base_(device_base), ram_base_(ram_base),
      hooks_(std::move(hooks)), own_fault_buffer_(kernel, hooks_.owner_gpu) {}

std::uint64_t HmmDriver::address_of(std::uint64_t page) const {
  const PageState &p = table_.page(page);
  return (p.home == PageHome::Device ? device_base_ : ram_base_) +
         static_cast<std::uint64_t>(p.frame) * table_.page_bytes();
}

std::uint16_t HmmDriver::add_nic(int nic) {
  auto it = nics_.find(nic);
  if (it != nics_.end())
    return it->second.bit;
  if (nics_.size() >= static_cast<std::size_t>(kMaxNicsPerBuffer))
    throw std::logic_error("more NICs mirror a buffer than its pages can record");
  const NicMirror mirror{table_.subscribe("nic" + std::to_string(nic)),
                         static_cast<std::uint16_t>(1u << nics_.size())};
  nics_.emplace(nic, mirror);
  return mirror.bit;
}

void HmmDriver::migrate(std::vector<std::uint64_t> pages, PageHome to, Done done) {
  migrate_pages(std::move(pages), to, true, std::move(done));
}

void HmmDriver::evict(std::vector<std::uint64_t> pages, Done done) {
  migrate_pages(std::move(pages), PageHome::SystemRam,
                kernel_.costs().eviction_path == OsCosts::EvictionPath::MigrateVma,
                std::move(done));
}

void HmmDriver::migrate_pages(std::vector<std::uint64_t> pages, PageHome to, bool per_page_steps,
                              Done done) {
  // A page another migration took meanwhile (an eviction racing a fault's walk) is not moved
  // twice: it is already there, or on its way.
  pages.erase(std::remove_if(pages.begin(), pages.end(),
                             [&](std::uint64_t page) {
                               const PageState &p = table_.page(page);
                               return p.home == to || p.migrating;
                             }),
              pages.end());
  if (pages.empty()) {
    kernel_.call_at(now_ps(), [done = std::move(done)] { done(now_ps()); });
    return;
  }
  const OsCosts &c = kernel_.costs();
  const std::int64_t n = static_cast<std::int64_t>(pages.size());
  const std::int64_t t0 = now_ps();
  if (c.thrashing_threshold > 0)
    note_moves(pages, t0);
  std::int64_t t = t0;
  if (per_page_steps) {
    // migrate_vma_setup: the notifiers run first (invalidate_range_start), then each page is
    // collected and unmapped (its page locked and isolated, a migration entry replacing its
    // PTE). A page never touched has no PTE: migrate_vma_collect_hole only marks it for the
    // driver to fill, so it costs no collection. The CPU's TLB is flushed only if a present
    // PTE was unmapped (migrate_vma_collect_pmd counts only those): a page the CPU maps in
    // RAM. A device-private page (a swap entry for the CPU) or a hole needs none.
    const std::int64_t collected =
        std::count_if(pages.begin(), pages.end(),
                      [&](std::uint64_t page) { return table_.page(page).populated; });
    t += collected * c.migrate_collect_page.ps;
    kernel_.record(TimeKind::FaultHandling, t0, t, driver(), "migrate collect",
                   {{"pages", collected}});
    const bool cpu_mapped = std::any_of(pages.begin(), pages.end(), [&](std::uint64_t page) {
      const PageState &p = table_.page(page);
      return p.home == PageHome::SystemRam && p.cpu_mapped;
    });
    if (cpu_mapped) {
      kernel_.record(TimeKind::Shootdown, t, t + c.tlb_shootdown.ps, StepActor::kernel(),
                     "tlb shootdown");
      t += c.tlb_shootdown.ps;
    }
  }
  if (to == PageHome::SystemRam) {
    // Pages leaving the device: the owning driver drops its own mappings of them, one GPU
    // page-table update and TLB invalidate (the whole unit, on the driver's own eviction path,
    // which has no per-page migrate_vma work).
    kernel_.record(TimeKind::FaultHandling, t, t + c.notifier_invalidate.ps, driver(), "gpu unmap",
                   {{"pages", n}});
    t += c.notifier_invalidate.ps;
  }
  for (const auto &[nic, mirror] : nics_) {
    std::vector<std::uint64_t> zapped;
    std::uint64_t translated = 0; // of the zapped pages, DMA-mapped through the IOMMU
    for (std::uint64_t page : pages) {
      PageState &p = table_.page(page);
      if (!p.nic_mapped(mirror.bit))
        continue;
      zapped.push_back(address_of(page));
      if (hooks_.nic_unmap_translated &&
          hooks_.nic_unmap_translated(nic, (p.nic_peer_by & mirror.bit) != 0))
        ++translated;
      p.nic_mapped_by = static_cast<std::uint16_t>(p.nic_mapped_by & ~mirror.bit);
      p.nic_peer_by = static_cast<std::uint16_t>(p.nic_peer_by & ~mirror.bit);
    }
    // Every subscriber whose interval covers the moving pages sees the invalidation (its
    // sequence moves on, so a fault walking the range retries); only one with mapped pages
    // has MTT entries to zap, which is what costs time.
    table_.invalidated(mirror.subscription);
    if (zapped.empty())
      continue;
    hooks_.zap_nic(nic, zapped);
    ++kernel_.stats().invalidations;
    kernel_.record(TimeKind::Invalidation, t, t + c.notifier_invalidate.ps, StepActor::nic(nic),
                   "notifier invalidation", {{"pages", static_cast<std::int64_t>(zapped.size())}});
    t += c.notifier_invalidate.ps;
    // ib_umem_odp_unmap_dma_pages: one dma_unmap per page the NIC had mapped.
    for (std::uint64_t k = 0; k < translated; ++k)
      t = kernel_.iommu_unmap(t, 1);
    if (nic_mappings_gone)
      nic_mappings_gone(nic, t);
  }
  for (std::uint64_t page : pages) {
    PageState &p = table_.page(page);
    p.migrating = true;
    p.cpu_mapped = p.gpu_mapped = false;
  }
  const std::int64_t copy_at = t + c.copy_engine_setup.ps;
  kernel_.record(TimeKind::Copy, t, copy_at, driver(), "copy engine setup");
  kernel_.call_at(copy_at, [this, pages = std::move(pages), to, per_page_steps,
                            done = std::move(done)]() mutable {
    // move_pages reads `pages` after its continuation is made: that keeps a copy.
    move_pages(
        pages, to,
        [this, pages, to, per_page_steps, done = std::move(done)](std::int64_t copied) mutable {
          std::int64_t finalized = copied;
          if (per_page_steps) {
            finalized +=
                static_cast<std::int64_t>(pages.size()) * kernel_.costs().migrate_finalize_page.ps;
            kernel_.record(TimeKind::FaultHandling, copied, finalized, driver(), "migrate finalize",
                           {{"pages", static_cast<std::int64_t>(pages.size())}});
          }
          kernel_.call_at(
              finalized, [this, pages = std::move(pages), to, done = std::move(done)]() {
                for (std::uint64_t page : pages) {
                  PageState &p = table_.page(page);
                  p.migrating = false;
                  // migrate_vma_finalize installs the new page: a CPU PTE for RAM, a
                  // device-private entry (the GPU maps it) for device memory.
                  p.cpu_mapped = to == PageHome::SystemRam;
                  p.gpu_mapped = to == PageHome::Device;
                }
                (to == PageHome::SystemRam ? kernel_.stats().pages_to_ram
                                           : kernel_.stats().pages_to_device) += pages.size();
                settled();
                done(now_ps());
              });
        });
  });
}

void HmmDriver::move_pages(const std::vector<std::uint64_t> &pages, PageHome to, Done moved) {
  // The destination frames are allocated now; the copy writes (to RAM) or reads (from RAM)
  // the system side of each page.
  std::vector<std::uint64_t> ram_addresses;
  std::size_t leaving_device = 0;
  for (std::uint64_t page : pages) {
    leaving_device += to == PageHome::SystemRam && table_.page(page).home == PageHome::Device;
    // A page never touched has no data to copy: the device page is zero-filled where it is
    // (migrate_vma hands the driver an empty source, UVM populates on the GPU).
    if (to == PageHome::Device) {
      if (table_.populate(page))
        ++pages_zero_filled_;
      else
        ram_addresses.push_back(address_of(page));
    }
    if (!table_.move(page, to))
      throw std::logic_error("page move found no free frame");
    if (to == PageHome::SystemRam)
      ram_addresses.push_back(address_of(page));
  }
  if (memory_ && to == PageHome::Device)
    memory_->moved_in(memory_buffer_, pages);
  else if (memory_)
    memory_->moved_out(memory_buffer_, leaving_device);
  if (ram_addresses.empty()) {
    moved(now_ps()); // nothing to copy: every page was zero-filled on the device
    return;
  }
  const std::int64_t copy_start = now_ps();
  const std::int64_t n = static_cast<std::int64_t>(ram_addresses.size());
  hooks_.copy(ram_addresses, to == PageHome::SystemRam,
              [this, copy_start, n, to, moved = std::move(moved)](std::int64_t copied) {
                kernel_.stats().migration_copy_ns +=
                    static_cast<std::uint64_t>(copied - copy_start) / 1000;
                kernel_.record(TimeKind::Copy, copy_start, copied, driver(), "migrate copy",
                               {{"pages", n}, {"to_ram", to == PageHome::SystemRam}});
                moved(copied);
              });
}

void HmmDriver::migrate_batches(std::vector<std::uint64_t> pages, std::size_t batch,
                                bool with_cpu_fault, Done done) {
  migrate_batches_from(std::make_shared<const std::vector<std::uint64_t>>(std::move(pages)), 0,
                       batch, with_cpu_fault, std::move(done));
}

// The batches share one list of pages (a pinned MR's registration moves every page of the
// buffer): each takes its slice, so the whole costs time and memory linear in the pages.
void HmmDriver::migrate_batches_from(std::shared_ptr<const std::vector<std::uint64_t>> pages,
                                     std::size_t from, std::size_t batch, bool with_cpu_fault,
                                     Done done) {
  if (from == pages->size()) {
    done(now_ps());
    return;
  }
  // One migrate_to_ram per aligned range of `batch` pages (the pages are in address order).
  const std::uint64_t range = (*pages)[from] / batch;
  std::size_t take = 1;
  while (from + take < pages->size() && (*pages)[from + take] / batch == range)
    ++take;
  std::vector<std::uint64_t> first(pages->begin() + static_cast<long>(from),
                                   pages->begin() + static_cast<long>(from + take));
  std::int64_t start = now_ps();
  if (with_cpu_fault) {
    ++kernel_.stats().cpu_faults;
    kernel_.record(TimeKind::FaultHandling, start, start + kernel_.costs().cpu_fault.ps,
                   StepActor::kernel(), "cpu fault", {{"pages", static_cast<std::int64_t>(take)}});
    start += kernel_.costs().cpu_fault.ps;
  }
  ++kernel_.stats().migrate_to_ram_calls;
  kernel_.call_at(start, [this, first = std::move(first), pages = std::move(pages),
                          next = from + take, batch, with_cpu_fault,
                          done = std::move(done)]() mutable {
    // Another path (a revocation's migration) may have moved or be moving some of these
    // pages since the list was made: wait for it, and move only what is still on the device.
    // Each continuation runs once, so each hands its captures on by move: a copy of `done`
    // would copy the whole chain of continuations behind it.
    const std::vector<std::uint64_t> watched = first; // read by when_settled after the move
    when_settled(watched, [this, first = std::move(first), pages = std::move(pages), next, batch,
                           with_cpu_fault, done = std::move(done)]() mutable {
      std::vector<std::uint64_t> still;
      for (std::uint64_t page : first)
        if (table_.page(page).home == PageHome::Device)
          still.push_back(page);
      Done after = [this, pages = std::move(pages), next, batch, with_cpu_fault,
                    done = std::move(done)](std::int64_t) mutable {
        migrate_batches_from(std::move(pages), next, batch, with_cpu_fault, std::move(done));
      };
      if (still.empty())
        after(now_ps());
      else
        migrate(std::move(still), PageHome::SystemRam, std::move(after));
    });
  });
}

// migrate_to_ram moves the aligned range of migrate_to_ram_pages around a faulting page (nouveau
// one page, UVM its 64 KiB big page, amdgpu SVM its 2 MiB granule): of the ranges of the touched
// pages that are on the device, every page still on the device, in address order.
std::vector<std::uint64_t>
HmmDriver::device_pages_around(const std::vector<std::uint64_t> &touched) {
  const std::uint64_t batch = migrate_to_ram_pages();
  std::vector<std::uint64_t> ranges;
  for (std::uint64_t page : touched)
    if (table_.page(page).home == PageHome::Device) {
      if (batch == 1) {
        ranges.push_back(page); // one-page ranges: the touched pages themselves, no second list
      } else if (ranges.empty() || ranges.back() != page / batch) {
        ranges.push_back(page / batch);
      }
    }
  std::sort(ranges.begin(), ranges.end());
  ranges.erase(std::unique(ranges.begin(), ranges.end()), ranges.end());
  if (batch == 1)
    return ranges;
  std::vector<std::uint64_t> device;
  for (std::uint64_t range : ranges)
    for (std::uint64_t q = range * batch; q < std::min((range + 1) * batch, table_.page_count());
         ++q)
      if (table_.page(q).home == PageHome::Device)
        device.push_back(q);
  return device;
}

void HmmDriver::cpu_fault(std::vector<std::uint64_t> pages, Done done) {
  to_ram(std::move(pages), true, std::move(done));
}

void HmmDriver::get_user_pages(std::vector<std::uint64_t> pages, Done done) {
  to_ram(std::move(pages), false, std::move(done));
}

void HmmDriver::to_ram(std::vector<std::uint64_t> pages, bool cpu_exception, Done done) {
  when_settled(pages, [this, pages, cpu_exception, done = std::move(done)]() {
    std::vector<std::uint64_t> device = device_pages_around(pages);
    // UVM: one fault services the faulted big pages of a VA block and its prefetch region.
    const bool uvm_prefetch = cpu_exception && kernel_.costs().gpu_prefetch_threshold > 0;
    if (uvm_prefetch)
      add_density_prefetch_to_ram(device);
    migrate_batches(std::move(device), uvm_prefetch ? va_block_pages() : migrate_to_ram_pages(),
                    cpu_exception, done);
  });
}

void HmmDriver::nic_fault(int nic, std::vector<std::uint64_t> pages, bool peer_map, Done done) {
  add_nic(nic);
  FaultQueue &q = nic_faults_[nic];
  q.waiting.push_back(FaultQueue::Request{std::move(pages), peer_map, std::move(done)});
  serve_nic(nic);
}

void HmmDriver::serve_nic(int nic) {
  FaultQueue &q = nic_faults_[nic];
  while (q.in_service < kernel_.costs().odp_fault_workers && !q.waiting.empty()) {
    ++q.in_service;
    FaultQueue::Request request = std::move(q.waiting.front());
    q.waiting.pop_front();
    nic_fault_chunk(nic, std::move(request));
  }
}

// One ODP fault: at most odp_fault_max bytes of the request's still-unmapped pages; the rest
// is another fault after it.
void HmmDriver::nic_fault_chunk(int nic, FaultQueue::Request request) {
  const std::uint16_t bit = nics_.at(nic).bit;
  std::vector<std::uint64_t> missing;
  for (std::uint64_t page : request.pages)
    if (!table_.page(page).nic_mapped(bit))
      missing.push_back(page);
  if (missing.empty()) {
    request.done(now_ps());
    --nic_faults_[nic].in_service;
    serve_nic(nic);
    return;
  }
  std::size_t cap = std::max<std::size_t>(
      1, static_cast<std::size_t>(kernel_.costs().odp_fault_max.count / table_.page_bytes()));
  if (missing.size() > cap)
    missing.resize(cap);
  ++kernel_.stats().odp_faults;
  const std::int64_t start = now_ps(), resumed = start + kernel_.costs().odp_fault.ps;
  kernel_.record(TimeKind::FaultHandling, start, resumed, StepActor::nic(nic), "odp fault",
                 {{"pages", static_cast<std::int64_t>(missing.size())}});
  FaultQueue::Request chunk{std::move(missing), request.peer_map, nullptr};
  kernel_.call_at(
      resumed, [this, nic, chunk = std::move(chunk), request = std::move(request)]() mutable {
        chunk.done = [this, nic, request = std::move(request)](std::int64_t) mutable {
          nic_fault_chunk(nic, std::move(request)); // the next chunk, or the request is done
        };
        // The notifier sequence is read just before the walk (mmu_interval_read_begin in
        // ib_umem_odp_map_dma_and_lock), not when the fault was raised.
        start_page_work(nic, [this, nic, chunk = std::move(chunk)]() mutable {
          resolve_nic(nic, std::move(chunk), table_.read_begin(nics_.at(nic).subscription));
        });
      });
}

void HmmDriver::start_page_work(int nic, std::function<void()> work) {
  FaultQueue &q = nic_faults_[nic];
  if (q.page_work_busy) {
    q.page_work_waiting.push_back(std::move(work));
    return;
  }
  q.page_work_busy = true;
  work();
}

void HmmDriver::end_page_work(int nic) {
  FaultQueue &q = nic_faults_[nic];
  if (q.page_work_waiting.empty()) {
    q.page_work_busy = false;
    return;
  }
  std::function<void()> next = std::move(q.page_work_waiting.front());
  q.page_work_waiting.pop_front();
  next();
}

// hmm_range_fault over the fault's pages.
void HmmDriver::resolve_nic(int nic, FaultQueue::Request request, std::uint64_t seq) {
  std::vector<std::uint64_t> pages = request.pages;
  when_settled(pages, [this, nic, seq, request = std::move(request)]() mutable {
    const std::int64_t start = now_ps();
    const auto pages = static_cast<std::int64_t>(request.pages.size());
    const std::uint64_t faulted_in =
        table_.populate(request.pages); // hmm_range_fault faults them in
    const std::int64_t walked = start + pages * kernel_.costs().hmm_range_fault_page.ps +
                                kernel_.first_touch_ps(faulted_in, table_.page_bytes());
    if (faulted_in == 0)
      kernel_.record(TimeKind::FaultHandling, start, walked, StepActor::nic(nic), "hmm_range_fault",
                     {{"pages", pages}});
    else
      kernel_.record(TimeKind::FaultHandling, start, walked, StepActor::nic(nic), "hmm_range_fault",
                     {{"pages", pages}, {"faulted_in", static_cast<std::int64_t>(faulted_in)}});
    std::vector<std::uint64_t> device = device_pages_around(request.pages);
    kernel_.call_at(walked, [this, nic, seq, device = std::move(device),
                             request = std::move(request)]() mutable {
      if (request.peer_map || device.empty()) {
        map_nic(nic, std::move(request), seq);
        return;
      }
      migrate_batches(std::move(device), migrate_to_ram_pages(), false,
                      [this, nic, seq, request = std::move(request)](std::int64_t) mutable {
                        map_nic(nic, std::move(request), seq);
                      });
    });
  });
}

// DMA-map the pages, then commit the MTT update unless an invalidation raced with the walk
// (mmu_interval_read_retry), in which case the walk runs again.
void HmmDriver::map_nic(int nic, FaultQueue::Request request, std::uint64_t seq) {
  const std::int64_t start = now_ps();
  const std::int64_t mapped =
      start + static_cast<std::int64_t>(request.pages.size()) * kernel_.costs().dma_map_page.ps;
  kernel_.record(TimeKind::FaultHandling, start, mapped, StepActor::nic(nic), "dma_map",
                 {{"pages", static_cast<std::int64_t>(request.pages.size())}});
  kernel_.call_at(mapped, [this, nic, seq, request = std::move(request)]() mutable {
    const NicMirror mirror = nics_.at(nic);
    const int subscription = mirror.subscription;
    bool moving = false;
    for (std::uint64_t page : request.pages)
      moving = moving || table_.page(page).migrating;
    if (moving || table_.read_retry(subscription, seq)) {
      ++kernel_.stats().odp_fault_retries;
      resolve_nic(nic, std::move(request), table_.read_begin(subscription));
      return;
    }
    for (std::uint64_t page : request.pages) {
      PageState &p = table_.page(page);
      const bool peer_page = p.home == PageHome::Device; // its BAR page (option F)
      p.nic_mapped_by |= mirror.bit;
      p.nic_peer_by = static_cast<std::uint16_t>(peer_page ? p.nic_peer_by | mirror.bit
                                                           : p.nic_peer_by & ~mirror.bit);
      if (peer_page)
        ++kernel_.stats().p2p_page_mappings;
    }
    end_page_work(nic);
    request.done(now_ps());
  });
}

void HmmDriver::when_settled(const std::vector<std::uint64_t> &pages, std::function<void()> then) {
  for (std::uint64_t page : pages)
    if (table_.page(page).migrating) {
      settle_waiters_.emplace_back(pages, std::move(then));
      return;
    }
  then();
}

void HmmDriver::settled() {
  std::vector<std::function<void()>> ready;
  for (std::size_t i = 0; i < settle_waiters_.size();) {
    bool moving = false;
    for (std::uint64_t page : settle_waiters_[i].first)
      moving = moving || table_.page(page).migrating;
    if (moving) {
      ++i;
      continue;
    }
    ready.push_back(std::move(settle_waiters_[i].second));
    settle_waiters_.erase(settle_waiters_.begin() + static_cast<long>(i));
  }
  for (auto &then : ready)
    then();
}

} // namespace pciesim
