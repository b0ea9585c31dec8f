// The GPU's replayable faults on system pages (models/os/hmm.h): fault batches, and the driver
// policies that decide what a batch moves or maps — the driver's fault granularity, UVM's
// density prefetch and thrashing detection, nouveau's remote mapping, room made in device
// memory by eviction. The migrations themselves are hmm.cpp's.
#include "models/os/hmm.h"

#include <algorithm>
#include <set>

#include "models/common/sim_time.h"

namespace pciesim {

void HmmDriver::gpu_fault(std::vector<std::uint64_t> pages, Done done) {
  fault_buffer_->fault(*this, std::move(pages), std::move(done));
}

bool HmmDriver::fault_is_stale(std::uint64_t page) {
  const PageState &p = table_.page(page);
  return p.home == PageHome::Device || p.gpu_mapped;
}

bool HmmDriver::gpu_reachable(std::uint64_t page) { return table_.page(page).gpu_reachable(); }

// This buffer's share of a fault batch, once the batch's faults are fetched and serviced: the
// pages still missing migrate (with the driver's granularity and prefetch around them) or are
// mapped where they are.
void HmmDriver::service_gpu_faults(std::vector<std::uint64_t> batch, Done finish) {
  when_settled(batch, [this, batch, finish = std::move(finish)]() mutable {
    std::vector<std::uint64_t> movable;
    for (std::uint64_t page : batch) {
      if (fault_is_stale(page))
        continue;
      if (table_.pinned(page)) {
        // A pinned page cannot move: the driver maps the system page remotely instead.
        ++kernel_.stats().migrations_refused_pinned;
        remote_map(page);
        continue;
      }
      movable.push_back(page);
    }
    const OsCosts &c = kernel_.costs();
    if (c.gpu_fault_policy == OsCosts::GpuFaultPolicy::MapRemote) {
      map_remote(std::move(movable), std::move(finish));
      return;
    }
    add_fault_granule(movable);
    if (c.gpu_prefetch_threshold > 0 && !movable.empty())
      add_density_prefetch(movable);
    std::vector<std::uint64_t> throttled =
        c.thrashing_threshold > 0 ? hold_thrashing(movable) : std::vector<std::uint64_t>{};
    if (throttled.empty()) {
      migrate_in(std::move(movable), std::move(finish));
      return;
    }
    // UVM throttles the faulting processor on a thrashing page: its fault is serviced a nap
    // later, so the processor that has the page keeps it meanwhile.
    migrate_in(std::move(movable), [this, throttled = std::move(throttled),
                                    finish = std::move(finish)](std::int64_t) mutable {
      const std::int64_t wake = now_ps() + kernel_.costs().thrashing_nap.ps;
      kernel_.trace_step(driver(), "thrashing throttle", now_ps(), wake,
                         {{"pages", static_cast<std::int64_t>(throttled.size())}});
      kernel_.call_at(
          wake, [this, throttled = std::move(throttled), finish = std::move(finish)]() mutable {
            migrate_in(std::move(throttled), std::move(finish));
          });
    });
  });
}

// nouveau's fault handler: hmm_range_fault and a DMA mapping per page, then the GPU maps the
// system page where it is.
void HmmDriver::map_remote(std::vector<std::uint64_t> pages, Done done) {
  const OsCosts &c = kernel_.costs();
  const std::int64_t start = now_ps();
  const std::int64_t n = static_cast<std::int64_t>(pages.size());
  const std::uint64_t faulted_in = table_.populate(pages); // hmm_range_fault faults them in
  const std::int64_t mapped = start + n * (c.hmm_range_fault_page.ps + c.dma_map_page.ps) +
                              kernel_.first_touch_ps(faulted_in, table_.page_bytes());
  kernel_.record(TimeKind::FaultHandling, start, mapped, driver(), "map remote", {{"pages", n}});
  kernel_.call_at(mapped, [this, pages = std::move(pages), done = std::move(done)] {
    for (std::uint64_t page : pages)
      remote_map(page);
    done(now_ps());
  });
}

void HmmDriver::remote_map(std::uint64_t page) {
  ++kernel_.stats().remote_mappings;
  table_.populate(page);
  table_.page(page).gpu_mapped = true;
}

bool HmmDriver::may_join_migration(std::uint64_t page) {
  const PageState &p = table_.page(page);
  return p.home != PageHome::Device && !p.migrating && !p.gpu_mapped && !table_.pinned(page);
}

namespace {

// Adds to `pages` (and `chosen`) the pages of [first, end) that `chosen` does not hold yet and
// `may_join` lets ride with a migration, counting them in `added`.
template <typename MayJoin>
void add_range(std::vector<std::uint64_t> &pages, std::set<std::uint64_t> &chosen,
               std::uint64_t first, std::uint64_t end, const MayJoin &may_join,
               std::uint64_t &added) {
  for (std::uint64_t q = first; q < end; ++q) {
    if (chosen.count(q) || !may_join(q))
      continue;
    chosen.insert(q);
    pages.push_back(q);
    ++added;
  }
}

} // namespace

// amdgpu SVM migrates the aligned range of its granularity around each faulted page.
void HmmDriver::add_fault_granule(std::vector<std::uint64_t> &movable) {
  const std::uint64_t granule =
      std::max<std::uint64_t>(1, kernel_.costs().gpu_fault_granularity.count / table_.page_bytes());
  if (granule <= 1 || movable.empty())
    return;
  const std::size_t faulted = movable.size();
  std::set<std::uint64_t> chosen(movable.begin(), movable.end());
  for (std::size_t i = 0; i < faulted; ++i) {
    const std::uint64_t first = movable[i] / granule * granule;
    add_range(
        movable, chosen, first, std::min(first + granule, table_.page_count()),
        [this](std::uint64_t q) { return may_join_migration(q); },
        kernel_.stats().gpu_prefetched_pages);
  }
  std::sort(movable.begin() + static_cast<long>(faulted), movable.end());
}

void HmmDriver::note_moves(const std::vector<std::uint64_t> &pages, std::int64_t at_ps) {
  const std::int64_t lapse = kernel_.costs().thrashing_lapse.ps;
  for (std::uint64_t page : pages) {
    Thrashing &t = thrashing_[page];
    t.events = t.moved && at_ps - t.last_move_ps <= lapse ? t.events + 1 : 0;
    t.moved = true;
    t.last_move_ps = at_ps;
  }
}

bool HmmDriver::thrashing_now(const Thrashing &history) const {
  const OsCosts &c = kernel_.costs();
  return c.thrashing_threshold > 0 && history.events >= c.thrashing_threshold &&
         now_ps() - history.last_move_ps <= c.thrashing_lapse.ps;
}

bool HmmDriver::thrashing_now(std::uint64_t page) const {
  auto it = thrashing_.find(page);
  return it != thrashing_.end() && thrashing_now(it->second);
}

// UVM's thrashing policy (uvm_perf_thrashing.c), for a GPU fault: a page that moved back and
// forth thrashing_threshold times, each within the lapse, is throttled; after
// thrashing_pin_threshold throttles it is pinned where it is, in system RAM, and the GPU maps
// it remotely. Returns the throttled pages, taken out of `movable` with the pinned ones.
std::vector<std::uint64_t> HmmDriver::hold_thrashing(std::vector<std::uint64_t> &movable) {
  const OsCosts &c = kernel_.costs();
  std::vector<std::uint64_t> throttled, kept;
  for (std::uint64_t page : movable) {
    auto it = thrashing_.find(page);
    if (it == thrashing_.end() || !thrashing_now(it->second)) {
      kept.push_back(page);
    } else if (it->second.throttles >= c.thrashing_pin_threshold) {
      ++kernel_.stats().thrashing_pins;
      remote_map(page);
    } else {
      // The page's history runs on through the nap: the fault it holds back moves it then.
      ++it->second.throttles;
      it->second.last_move_ps = now_ps() + c.thrashing_nap.ps;
      ++kernel_.stats().thrashing_throttles;
      throttled.push_back(page);
    }
  }
  movable = std::move(kept);
  return throttled;
}

void HmmDriver::migrate_in(std::vector<std::uint64_t> movable, Done done) {
  if (movable.empty()) {
    done(now_ps());
    return;
  }
  if (!memory_) {
    migrate(std::move(movable), PageHome::Device, std::move(done));
    return;
  }
  const std::size_t wanted = movable.size();
  memory_->make_room(
      memory_buffer_, wanted,
      [this, movable = std::move(movable), done = std::move(done)](std::size_t granted) mutable {
        // No room and nothing left to evict (everything resident pinned, or a
        // driver that never evicts): the page stays in RAM and the GPU maps it
        // remotely, as nouveau does when its device memory is exhausted.
        for (std::size_t i = granted; i < movable.size(); ++i)
          remote_map(movable[i]);
        movable.resize(granted);
        // A page another migration took while the room was made no longer needs its frame.
        const std::size_t before = movable.size();
        movable.erase(std::remove_if(movable.begin(), movable.end(),
                                     [this](std::uint64_t page) {
                                       const PageState &p = table_.page(page);
                                       return p.home == PageHome::Device || p.migrating;
                                     }),
                      movable.end());
        memory_->unreserve(memory_buffer_, before - movable.size());
        if (movable.empty())
          done(now_ps());
        else
          migrate(std::move(movable), PageHome::Device, std::move(done));
      });
}

namespace {

// UVM's density region (uvm_perf_prefetch.c, compute_prefetch_region) of a faulted page:
// within its VA block of `block_pages`, each aligned power-of-two region around it, from the
// page up to the whole block, qualifies when the pages `counts` are more than `threshold`
// percent of it; the largest qualifying one, [page, page + 1) when none does.
template <typename Counts>
std::pair<std::uint64_t, std::uint64_t>
density_region(std::uint64_t page, std::uint64_t pages, std::uint64_t block_pages,
               std::uint64_t threshold, const Counts &counts) {
  std::uint64_t best_lo = page, best_end = page + 1;
  for (std::uint64_t size = 2; size <= block_pages; size *= 2) {
    const std::uint64_t lo = page / size * size, end = std::min(lo + size, pages);
    std::uint64_t in = 0;
    for (std::uint64_t q = lo; q < end; ++q)
      in += counts(q) ? 1 : 0;
    if (in * 100 > size * threshold) {
      best_lo = lo;
      best_end = end;
    }
  }
  return {best_lo, best_end};
}

// UVM's density prefetch toward one processor (uvm_perf_prefetch.c): the faulted pages of
// `pages` and those already at home `counted` count, and of each faulted page's largest
// qualifying region the pages `may_join` lets ride are added to `pages` (counted in `added`).
template <typename MayJoin>
void add_density_prefetch_regions(PageTable &table, std::uint64_t block_pages,
                                  std::uint64_t threshold, PageHome counted,
                                  std::vector<std::uint64_t> &pages, const MayJoin &may_join,
                                  std::uint64_t &added) {
  const std::set<std::uint64_t> faulted(pages.begin(), pages.end());
  std::set<std::uint64_t> chosen = faulted;
  auto counts = [&](std::uint64_t page) {
    return table.page(page).home == counted || faulted.count(page) > 0;
  };
  for (std::uint64_t page : faulted) {
    const auto [lo, end] = density_region(page, table.page_count(), block_pages, threshold, counts);
    add_range(pages, chosen, lo, end, may_join, added);
  }
}

} // namespace

// UVM's density prefetcher on a GPU fault batch: the pages on the device or faulted in this
// batch count, and the largest qualifying region of each faulted page migrates whole.
// Prefetched pages pay no per-fault cost: they ride with the batch's migration.
void HmmDriver::add_density_prefetch(std::vector<std::uint64_t> &movable) {
  const std::size_t faulted_count = movable.size();
  add_density_prefetch_regions(
      table_, va_block_pages(), static_cast<std::uint64_t>(kernel_.costs().gpu_prefetch_threshold),
      PageHome::Device, movable, [this](std::uint64_t q) { return may_join_migration(q); },
      kernel_.stats().gpu_prefetched_pages);
  // The faulted pages stay first (a memory short of frames maps the tail remotely); the
  // prefetched ones follow in address order, so their contiguous runs copy as one DMA each.
  std::sort(movable.begin() + static_cast<long>(faulted_count), movable.end());
}

// The same prefetcher on a CPU fault: uvm_va_block_service_locked takes its hint for a CPU
// destination too (with 64 KiB big pages, as migrate_to_ram_pages has them). The pages in RAM
// or faulted count, and the qualifying region's device pages that are neither moving nor
// thrashing move with the fault, in the same migration (a VA block is serviced at once).
void HmmDriver::add_density_prefetch_to_ram(std::vector<std::uint64_t> &device) {
  add_density_prefetch_regions(
      table_, va_block_pages(), static_cast<std::uint64_t>(kernel_.costs().gpu_prefetch_threshold),
      PageHome::SystemRam, device,
      [this](std::uint64_t q) {
        const PageState &p = table_.page(q);
        return p.home == PageHome::Device && !p.migrating && !thrashing_now(q);
      },
      kernel_.stats().cpu_prefetched_pages);
  std::sort(device.begin(), device.end());
}

} // namespace pciesim
