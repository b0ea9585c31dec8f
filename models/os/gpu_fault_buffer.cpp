#include "models/os/gpu_fault_buffer.h"

#include <algorithm>
#include <iterator>

#include "models/common/sim_time.h"
#include "models/os/hmm.h"

namespace pciesim {

void GpuFaultBuffer::fault(HmmDriver &driver, std::vector<std::uint64_t> pages, Done done) {
  waiting_.push_back(Request{&driver, std::move(pages), std::move(done)});
  fetch();
}

// The driver reads the GPU's fault buffer in the bottom half of the fault interrupt, after the
// GPU raised the fault: every fault raised at the same instant is in the buffer by then, and
// one batch takes them all.
void GpuFaultBuffer::fetch() {
  if (busy_ || fetch_due_ || waiting_.empty())
    return;
  fetch_due_ = true;
  kernel_.call_at(now_ps(), [this] {
    fetch_due_ = false;
    serve();
  });
}

// One batch of the fault buffer: up to gpu_fault_batch_pages faults, from as many waiting
// accesses as fit; an access with more pages is served over several batches.
void GpuFaultBuffer::serve() {
  if (busy_ || waiting_.empty())
    return;
  busy_ = true;
  const std::size_t limit = static_cast<std::size_t>(kernel_.costs().gpu_fault_batch_pages);
  auto groups = std::make_shared<std::vector<Group>>();
  std::vector<Done> completed;
  std::size_t taken = 0;
  while (!waiting_.empty() && taken < limit) {
    Request &r = waiting_.front();
    const std::size_t take = std::min(limit - taken, r.pages.size());
    auto group = std::find_if(groups->begin(), groups->end(),
                              [&](const Group &g) { return g.driver == r.driver; });
    if (group == groups->end())
      group = groups->insert(groups->end(), Group{r.driver, {}});
    group->pages.insert(group->pages.end(), r.pages.begin(),
                        r.pages.begin() + static_cast<long>(take));
    r.pages.erase(r.pages.begin(), r.pages.begin() + static_cast<long>(take));
    taken += take;
    if (!r.pages.empty())
      break;
    completed.push_back(std::move(r.done));
    waiting_.pop_front();
  }
  // Faults on pages an earlier batch already brought (its migration or prefetch overtook
  // accesses in flight) are fetched and dropped: only the others cost a fault's service.
  std::int64_t faults = 0, stale = 0;
  for (Group &g : *groups) {
    std::sort(g.pages.begin(), g.pages.end());
    g.pages.erase(std::unique(g.pages.begin(), g.pages.end()), g.pages.end());
    const auto group_stale = std::count_if(g.pages.begin(), g.pages.end(), [&](std::uint64_t p) {
      return g.driver->fault_is_stale(p);
    });
    stale += group_stale;
    faults += static_cast<std::int64_t>(g.pages.size()) - group_stale;
  }
  ++kernel_.stats().gpu_fault_batches;
  kernel_.stats().gpu_faults += static_cast<std::uint64_t>(faults);
  kernel_.stats().gpu_faults_stale += static_cast<std::uint64_t>(stale);
  const std::int64_t start = now_ps();
  const std::int64_t serviced =
      start + kernel_.costs().gpu_fault_batch.ps + faults * kernel_.costs().gpu_fault_per_fault.ps;
  kernel_.record(TimeKind::FaultHandling, start, serviced, StepActor::gpu_driver(gpu_),
                 "gpu fault batch", {{"faults", faults}, {"stale", stale}});
  kernel_.call_at(serviced, [this, groups, completed = std::move(completed)]() mutable {
    service_groups(groups, 0, [this, completed = std::move(completed)]() mutable {
      replay(std::move(completed));
    });
  });
}

// The one servicing thread takes the batch's buffers in turn: each buffer's migration (or
// mapping) runs to its end before the next starts.
void GpuFaultBuffer::service_groups(std::shared_ptr<std::vector<Group>> groups, std::size_t from,
                                    std::function<void()> finish) {
  if (from == groups->size()) {
    finish();
    return;
  }
  Group &group = (*groups)[from];
  group.driver->service_gpu_faults(
      std::move(group.pages),
      [this, groups, from, finish = std::move(finish)](std::int64_t) mutable {
        service_groups(std::move(groups), from + 1, std::move(finish));
      });
}

// The batch is done and its faults replayed. The faults raised while it was serviced are not
// serviced as they stand: UVM flushes its fault buffer before the replay (its default replay
// policy), amdgpu skips retry faults on a range it restored in the last 2 ms. Their accesses
// retry: one whose pages the batch brought goes on, the others fault again on the pages still
// missing.
void GpuFaultBuffer::replay(std::vector<Done> completed) {
  std::deque<Request> raised = std::move(waiting_);
  waiting_.clear();
  for (const Done &d : completed)
    d(now_ps());
  busy_ = false;
  std::deque<Request> still_missing; // ahead of faults raised since: older
  for (Request &r : raised) {
    r.pages.erase(std::remove_if(r.pages.begin(), r.pages.end(),
                                 [&](std::uint64_t page) { return r.driver->gpu_reachable(page); }),
                  r.pages.end());
    if (r.pages.empty())
      r.done(now_ps());
    else
      still_missing.push_back(std::move(r));
  }
  waiting_.insert(waiting_.begin(), std::make_move_iterator(still_missing.begin()),
                  std::make_move_iterator(still_missing.end()));
  fetch();
}

} // namespace pciesim
