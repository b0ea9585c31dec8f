#include "sim/run/workload_runner.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "models/pcie/pcie_port.h"

namespace pciesim {

WorkloadRunner::WorkloadRunner(const WorkloadConfig &workload, Mechanism mechanism,
                               std::vector<DmaEngine *> engines, OsKernel &kernel)
    : workload_(workload), engines_(std::move(engines)),
      kernel_(kernel), context_{workload, kernel, tables_, drivers_} {
  result_.mechanism = mechanism_name(mechanism);
  for (std::size_t b = 0; b < workload_.buffers.size(); ++b) {
    const BufferConfig &buffer = workload_.buffers[b];
    std::uint32_t frames = static_cast<std::uint32_t>(buffer.pages());
    tables_.push_back(std::make_unique<PageTable>(
        buffer.pages(), buffer.page_bytes,
        buffer.on_device ? PageHome::Device : PageHome::SystemRam, frames, frames));
    if (!buffer.populated)
      tables_.back()->start_unpopulated();
    HmmHooks hooks;
    int gpu = buffer.gpu;
    hooks.owner_gpu = gpu;
    std::uint64_t page_bytes = buffer.page_bytes;
    hooks.copy = [this, gpu, page_bytes](const std::vector<std::uint64_t> &ram, bool to_ram,
                                         Done done) {
      copy(gpu, ram, page_bytes, to_ram, std::move(done));
    };
    hooks.zap_nic = [this, page_bytes](int nic, const std::vector<std::uint64_t> &addresses) {
      for (std::uint64_t address : addresses)
        engine(nic).invalidate(address, page_bytes);
    };
    hooks.nic_unmap_translated = [this, b](int nic, bool peer_page) {
      return context_.unmap_translated(nic, static_cast<int>(b), peer_page);
    };
    drivers_.push_back(std::make_unique<HmmDriver>(kernel_, *tables_.back(), buffer.device_address,
                                                   buffer.ram_address, std::move(hooks)));
    std::unique_ptr<GpuFaultBuffer> &faults = fault_buffers_[gpu];
    if (!faults)
      faults = std::make_unique<GpuFaultBuffer>(kernel_, gpu);
    drivers_.back()->attach(*faults);
  }
  context_.zap_peer = [this](int peer, std::uint64_t address, std::uint64_t bytes) {
    engine(peer).invalidate(address, bytes);
  };
  policy_ = make_mechanism(mechanism, context_);
  // Each GPU's memory, shared by its buffers: what fits, and what the driver may evict.
  for (std::size_t b = 0; b < workload_.buffers.size(); ++b) {
    const BufferConfig &buffer = workload_.buffers[b];
    if (buffer.gpu_memory_bytes == 0)
      continue; // no capacity given (a hand-made workload): unbounded, as before
    std::unique_ptr<DeviceMemory> &memory = device_memories_[buffer.gpu];
    if (!memory)
      memory = std::make_unique<DeviceMemory>(buffer.gpu_memory_bytes,
                                              kernel_.costs().eviction_unit.count, kernel_.stats());
    HmmDriver *driver = drivers_[b].get();
    driver->attach(*memory,
                   memory->add_buffer(*tables_[b], buffer.on_device, policy_->managed(buffer),
                                      [driver](std::vector<std::uint64_t> pages, Done done) {
                                        driver->evict(std::move(pages), std::move(done));
                                      }));
  }
  for (const BufferConfig &buffer : workload_.buffers)
    add_ce_streams(buffer.gpu);
  for (const PhaseConfig &p : workload_.phases)
    has_nic_phase_ = has_nic_phase_ || p.actor_is_peer;
  for (const PhaseConfig &p : workload_.phases) {
    PhaseState state;
    const BufferConfig &buffer = workload_.buffers[static_cast<std::size_t>(p.buffer)];
    if (p.actor_is_peer)
      state.bounce = policy_->peer_pipeline(p, engine(p.actor), engine(buffer.gpu));
    if (p.revoke) {
      // No accesses: the policy revokes (start_run).
    } else if (state.bounce) {
      state.bounce->on_message = [this](std::int64_t latency_ps) {
        result_.latencies_ps.push_back(latency_ps);
      };
    } else {
      for (int s = 0; s < p.concurrency; ++s) {
        Slot slot;
        DmaStreamSpec spec;
        spec.id = fmt::format("{}.{}", p.id, s);
        spec.transfer_bytes = spec.region_bytes = spec.stride_bytes = p.access_bytes;
        spec.is_write = p.is_write;
        if (p.actor < 0) {
          // CPU access to device data goes through staging: the GPU's copy engine writes it
          // there for a read, reads it from there for a write.
          spec.is_write = !p.is_write;
          slot.stream = engine(buffer.gpu).add_stream(spec);
        } else if (p.actor_is_peer) {
          slot.stream = engine(p.actor).add_stream(spec);
        } else {
          spec.local = true;
          slot.stream = engine(p.actor).add_stream(spec);
          spec.local = false;
          spec.per_transfer_costs = false; // the kernel's loads and stores, not a copy engine
          slot.remote_stream = engine(p.actor).add_stream(spec);
        }
        state.slots.push_back(slot);
      }
    }
    phases_.push_back(std::move(state));
  }
  for (int iteration = 0; iteration < workload_.iterations; ++iteration)
    for (std::size_t p = 0; p < workload_.phases.size(); ++p) {
      if (workload_.phases[p].once && iteration > 0)
        continue;
      Run run;
      run.phase = static_cast<int>(p);
      run.iteration = iteration;
      runs_.push_back(std::move(run));
    }
}

WorkloadRunner::~WorkloadRunner() = default;

DmaEngine &WorkloadRunner::engine(int component) const {
  return *engines_[static_cast<std::size_t>(component)];
}

const PhaseConfig &WorkloadRunner::phase_of(const Run &run) const {
  return workload_.phases[static_cast<std::size_t>(run.phase)];
}

std::vector<std::uint64_t> WorkloadRunner::pages_of(int buffer, std::uint64_t offset,
                                                    std::uint64_t bytes) const {
  const BufferConfig &b = workload_.buffers[static_cast<std::size_t>(buffer)];
  const std::uint64_t page_bytes = b.page_bytes;
  // Loading keeps every access inside its buffer; past it, the page table has no state.
  if (bytes == 0 || offset + bytes > b.bytes)
    throw std::logic_error("an access runs past its buffer");
  std::vector<std::uint64_t> pages;
  for (std::uint64_t p = offset / page_bytes; p <= (offset + bytes - 1) / page_bytes; ++p)
    pages.push_back(p);
  return pages;
}

void WorkloadRunner::fail(const std::string &why) {
  if (result_.status == "ok") {
    result_.status = "failed";
    result_.reason = why;
  }
}

void WorkloadRunner::start() {
  if (!workload_.sockets_apart.empty()) {
    result_.status = "not_supported";
    result_.reason = workload_.sockets_apart;
    finished_ = true;
    return;
  }
  // The platform refuses a peer mapping: the mechanism cannot run, or says how it degrades.
  for (const PhaseConfig &p : workload_.phases) {
    if (!p.actor_is_peer || context_.peer_ok(p.actor, p.buffer))
      continue;
    const P2pVerdict &v =
        workload_.verdict(p.actor, workload_.buffers[static_cast<std::size_t>(p.buffer)].gpu);
    MechanismPolicy::Refusal refusal = policy_->peer_refused(v);
    if (refusal.not_supported) {
      result_.status = "not_supported";
      result_.reason = refusal.reason;
      finished_ = true;
      return;
    }
    if (result_.reason.empty())
      result_.reason = refusal.reason;
  }
  setup();
}

// What the mechanism does before the first access, charged as setup; the first phase starts
// when its setup timeline and every piece of work it left running have ended.
void WorkloadRunner::setup() {
  auto pending = std::make_shared<int>(1);
  Done setup_done = [this, pending](std::int64_t) {
    if (--*pending == 0)
      kernel_.call_at(now_ps(), [this] { start_group(0); });
  };
  SetupHold hold = [pending, setup_done] {
    ++*pending;
    return setup_done;
  };
  std::int64_t t = now_ps();
  // Each NIC sets up its own view of a buffer, one after the other (a registration on each
  // rail, as NIXL and Mooncake register a buffer on every NIC they use).
  for (std::size_t b = 0; b < workload_.buffers.size(); ++b)
    for (int peer : workload_.peers[b])
      t = policy_->setup_buffer(b, peer, t, hold);
  t = policy_->setup_shared(t);
  kernel_.call_at(t, [setup_done] { setup_done(now_ps()); });
}

void WorkloadRunner::start_group(std::size_t first) {
  if (first >= runs_.size()) {
    finished_ = true;
    result_.end_ps = now_ps();
    return;
  }
  group_end_ = first + 1;
  while (group_end_ < runs_.size() && phase_of(runs_[group_end_]).with_previous &&
         runs_[group_end_].iteration == runs_[first].iteration)
    ++group_end_;
  group_active_ = static_cast<int>(group_end_ - first);
  for (std::size_t r = first; r < group_end_; ++r)
    start_run(r);
}

void WorkloadRunner::start_run(std::size_t r) {
  Run &run = runs_[r];
  const PhaseConfig &p = phase_of(run);
  run.offsets = p.access_offsets();
  run.result.phase = p.id;
  run.result.iteration = run.iteration;
  run.result.start_ps = now_ps();
  run.stats_at_start = kernel_.stats();
  PhaseState &state = phases_[static_cast<std::size_t>(run.phase)];
  if (p.revoke) {
    run.active = 1;
    kernel_.call_at(now_ps() + p.revoke_at_ps, [this, r, &p] {
      policy_->revoke(static_cast<std::size_t>(p.buffer), p.evict, [this, r](std::int64_t at) {
        runs_[r].active = 0;
        run_done(r, at);
      });
    });
    return;
  }
  if (state.bounce) {
    run.active = 1;
    state.bounce->rerun(now_ps());
    return;
  }
  for (std::size_t s = 0; s < state.slots.size(); ++s)
    issue(r, s);
  if (run.active == 0)
    run_done(r, now_ps());
}

void WorkloadRunner::issue(std::size_t r, std::size_t s) {
  Run &run = runs_[r];
  if (run.next >= run.offsets.size())
    return;
  Slot &slot = phases_[static_cast<std::size_t>(run.phase)].slots[s];
  slot.busy = true;
  slot.offset = run.offsets[run.next++];
  slot.bytes = phase_of(run).access_bytes;
  slot.issued_ps = now_ps();
  ++run.active;
  prepare(r, s);
}

// Makes the access's pages reachable by its actor under the mechanism, then accesses them.
void WorkloadRunner::prepare(std::size_t r, std::size_t s) {
  const Run &run = runs_[r];
  const PhaseConfig &p = phase_of(run);
  Slot &slot = phases_[static_cast<std::size_t>(run.phase)].slots[s];
  const std::size_t b = static_cast<std::size_t>(p.buffer);
  PageTable &table = *tables_[b];
  std::vector<std::uint64_t> pages = pages_of(p.buffer, slot.offset, slot.bytes);
  // After a fault, only the pages it had yet to reach (make_reachable); `pages` stays whole
  // when they are reachable.
  std::vector<std::uint64_t> &wanted = slot.faulting ? slot.pages_left : pages;
  if (!policy_->make_reachable(p, wanted, [this, r, s](std::int64_t) { prepare(r, s); })) {
    if (!slot.faulting)
      slot.pages_left = std::move(pages);
    slot.faulting = true;
    return;
  }
  slot.faulting = false;
  // The CPU's first store to a page never touched faults it in: an exception, then the
  // page's allocation and zeroing.
  slot.first_touched = p.actor < 0 ? table.populate(pages) : 0;
  // Segments: runs of pages contiguous at their bus addresses.
  slot.segments.clear();
  slot.next_segment = 0;
  std::uint64_t page_bytes = table.page_bytes();
  for (std::uint64_t page : pages) {
    std::uint64_t lo = std::max(slot.offset, page * page_bytes);
    std::uint64_t hi = std::min(slot.offset + slot.bytes, (page + 1) * page_bytes);
    std::uint64_t address = drivers_[b]->address_of(page) + (lo - page * page_bytes);
    bool local = table.page(page).home == PageHome::Device;
    if (!slot.segments.empty() && slot.segments.back().local == local &&
        slot.segments.back().address + slot.segments.back().bytes == address)
      slot.segments.back().bytes += hi - lo;
    else
      slot.segments.push_back(Segment{address, hi - lo, local});
  }
  access(r, s);
}

void WorkloadRunner::access(std::size_t r, std::size_t s) {
  const Run &run = runs_[r];
  const PhaseConfig &p = phase_of(run);
  Slot &slot = phases_[static_cast<std::size_t>(run.phase)].slots[s];
  slot.dma_start_ps = now_ps();
  if (p.actor >= 0) {
    next_segment(r, s);
    return;
  }
  // The CPU: its own time over the bytes, after the copy engine staged device data for it.
  std::int64_t cpu_ps = static_cast<std::int64_t>(
      static_cast<double>(slot.bytes) * 1e12 / kernel_.costs().cpu_copy_bandwidth.bytes_per_second);
  const std::int64_t touch_ps =
      static_cast<std::int64_t>(slot.first_touched) * kernel_.costs().cpu_fault.ps +
      kernel_.first_touch_ps(slot.first_touched,
                             tables_[static_cast<std::size_t>(p.buffer)]->page_bytes());
  auto cpu = [this, r, s, cpu_ps, touch_ps, touched = slot.first_touched](std::int64_t at) {
    if (touch_ps > 0) {
      kernel_.record(TimeKind::FaultHandling, at, at + touch_ps, StepActor::kernel(), "first touch",
                     {{"pages", static_cast<std::int64_t>(touched)}});
      at += touch_ps;
    }
    kernel_.record(TimeKind::Copy, at, at + cpu_ps);
    kernel_.call_at(at + cpu_ps, [this, r, s] { access_done(r, s, now_ps()); });
  };
  if (!slot.segments.empty() && slot.segments.front().local) {
    const BufferConfig &b = workload_.buffers[static_cast<std::size_t>(p.buffer)];
    std::int64_t start = now_ps();
    run_stream(b.gpu, slot.stream, workload_.staging_address, slot.bytes,
               [this, start, cpu](std::int64_t at) {
                 kernel_.record(TimeKind::Copy, start, at);
                 cpu(at);
               });
    return;
  }
  cpu(now_ps());
}

void WorkloadRunner::next_segment(std::size_t r, std::size_t s) {
  const Run &run = runs_[r];
  const PhaseConfig &p = phase_of(run);
  Slot &slot = phases_[static_cast<std::size_t>(run.phase)].slots[s];
  if (slot.next_segment == slot.segments.size()) {
    kernel_.record(TimeKind::Dma, slot.dma_start_ps, now_ps());
    if (policy_->access_revoked(p, slot.offset, slot.bytes, slot.dma_start_ps)) {
      // Its mapping was revoked under it: the access failed, and goes again once reachable.
      ++kernel_.stats().accesses_replayed;
      prepare(r, s);
      return;
    }
    access_done(r, s, now_ps());
    return;
  }
  const Segment &seg = slot.segments[slot.next_segment++];
  int stream = p.actor_is_peer || seg.local ? slot.stream : slot.remote_stream;
  run_stream(p.actor, stream, seg.address, seg.bytes,
             [this, r, s](std::int64_t) { next_segment(r, s); });
}

void WorkloadRunner::access_done(std::size_t r, std::size_t s, std::int64_t at_ps) {
  Run &run = runs_[r];
  const PhaseConfig &p = phase_of(run);
  Slot &slot = phases_[static_cast<std::size_t>(run.phase)].slots[s];
  slot.busy = false;
  run.result.bytes += slot.bytes;
  result_.bytes_accessed += slot.bytes;
  if (p.actor_is_peer)
    result_.nic_bytes += slot.bytes;
  if (p.actor_is_peer || !has_nic_phase_)
    result_.latencies_ps.push_back(at_ps - slot.issued_ps);
  --run.active;
  issue(r, s);
  if (run.active == 0)
    run_done(r, at_ps);
}

void WorkloadRunner::run_done(std::size_t r, std::int64_t at_ps) {
  Run &run = runs_[r];
  if (run.done)
    return;
  run.done = true;
  run.result.end_ps = at_ps;
  const OsStats &now = kernel_.stats(), &then = run.stats_at_start;
  run.result.pages_to_ram = now.pages_to_ram - then.pages_to_ram;
  run.result.pages_to_device = now.pages_to_device - then.pages_to_device;
  run.result.faults = (now.cpu_faults - then.cpu_faults) + (now.gpu_faults - then.gpu_faults) +
                      (now.odp_faults - then.odp_faults);
  result_.phase_runs.push_back(run.result);
  if (--group_active_ == 0)
    start_group(group_end_);
}

void WorkloadRunner::run_stream(int component, int stream, std::uint64_t address,
                                std::uint64_t bytes, Done done) {
  stream_waiters_[{component, stream}] = std::move(done);
  engine(component).restart_stream(stream, address, bytes, now_ps());
}

// Copy-engine streams for migrations are made before the run (an engine's streams must not
// grow while it runs them); a copy that finds none free waits for one.
void WorkloadRunner::add_ce_streams(int gpu) {
  for (bool is_write : {true, false}) {
    std::vector<int> &free = free_ce_streams_[{gpu, is_write}];
    if (!free.empty())
      return;
    for (int i = 0; i < kCopyStreamsPerDirection; ++i) {
      DmaStreamSpec spec;
      spec.id = fmt::format("migration.{}.{}", is_write ? "to_ram" : "to_device", i);
      spec.is_write = is_write;
      spec.per_transfer_costs = false; // the batch's copy_engine_setup stands for them
      spec.transfer_bytes = spec.region_bytes = spec.stride_bytes = 4096;
      free.push_back(engine(gpu).add_stream(spec));
    }
  }
}

// A migration copy on the owner's copy engine: one DMA per run of contiguous system pages.
void WorkloadRunner::copy(int gpu, const std::vector<std::uint64_t> &ram_addresses,
                          std::uint64_t page_bytes, bool to_ram, Done done) {
  std::vector<Segment> runs;
  for (std::uint64_t address : ram_addresses)
    if (!runs.empty() && runs.back().address + runs.back().bytes == address)
      runs.back().bytes += page_bytes;
    else
      runs.push_back(Segment{address, page_bytes, false});
  std::vector<int> &free = free_ce_streams_[{gpu, to_ram}];
  if (free.empty()) {
    copies_waiting_[{gpu, to_ram}].push_back(
        [this, gpu, ram_addresses, page_bytes, to_ram, done = std::move(done)]() mutable {
          copy(gpu, ram_addresses, page_bytes, to_ram, std::move(done));
        });
    return;
  }
  int stream = free.back();
  free.pop_back();
  auto step = std::make_shared<std::function<void(std::size_t)>>();
  // `done` moves in: a copy would copy every continuation behind it.
  *step = [this, gpu, stream, to_ram, runs = std::move(runs), done = std::move(done),
           step](std::size_t i) {
    if (i == runs.size()) {
      free_ce_streams_[{gpu, to_ram}].push_back(stream);
      done(now_ps());
      std::deque<std::function<void()>> &waiting = copies_waiting_[{gpu, to_ram}];
      if (!waiting.empty()) {
        std::function<void()> next = std::move(waiting.front());
        waiting.pop_front();
        next();
      }
      *step = nullptr; // break the cycle
      return;
    }
    run_stream(gpu, stream, runs[i].address, runs[i].bytes,
               [this, i, step, bytes = runs[i].bytes](std::int64_t) {
                 result_.bytes_migrated += bytes;
                 (*step)(i + 1);
               });
  };
  (*step)(0);
}

bool WorkloadRunner::stream_done(int engine_index, int stream, std::int64_t at_ps) {
  for (std::size_t p = 0; p < phases_.size(); ++p) {
    PhaseState &state = phases_[p];
    if (!state.bounce)
      continue;
    const PhaseConfig &phase = workload_.phases[p];
    DmaEngine &e = engine(engine_index);
    if (!state.bounce->stage_done(e, stream, at_ps))
      continue;
    if (!state.bounce->result().error.empty())
      fail(state.bounce->result().error);
    if (state.bounce->result().finished)
      for (std::size_t r = 0; r < runs_.size(); ++r)
        if (runs_[r].phase == static_cast<int>(p) && !runs_[r].done && runs_[r].active == 1) {
          runs_[r].result.bytes += phase.bytes;
          result_.bytes_accessed += phase.bytes;
          result_.nic_bytes += phase.bytes;
          runs_[r].active = 0;
          run_done(r, at_ps);
          break;
        }
    return true;
  }
  auto it = stream_waiters_.find({engine_index, stream});
  if (it == stream_waiters_.end())
    return false;
  const DmaStreamResult &sr = engine(engine_index).stream_result(stream);
  if (!sr.error.empty())
    fail(sr.error);
  Done done = std::move(it->second);
  stream_waiters_.erase(it);
  done(at_ps);
  return true;
}

bool WorkloadRunner::quiescent() const {
  for (const auto &[key, waiting] : copies_waiting_)
    if (!waiting.empty())
      return false;
  return stream_waiters_.empty() && kernel_.idle();
}

std::uint64_t WorkloadRunner::planned_bytes() const {
  std::uint64_t bytes = 0;
  for (const Run &run : runs_)
    bytes += phase_of(run).revoke ? 0 : phase_of(run).bytes;
  return bytes;
}

MechanismResult WorkloadRunner::result() const {
  MechanismResult r = result_;
  r.os = kernel_.stats();
  r.pages_migrated = r.os.pages_migrated();
  r.breakdown_ps = kernel_.breakdown_ps(0, r.end_ps);
  r.violations = violations();
  return r;
}

std::vector<std::string> WorkloadRunner::violations() const {
  std::vector<std::string> out = result_.violations;
  for (std::size_t b = 0; b < tables_.size(); ++b)
    for (const std::string &line : tables_[b]->check())
      out.push_back("buffer " + workload_.buffers[b].id + ": " + line);
  std::uint64_t pages_copied = kernel_.stats().pages_migrated();
  for (const std::unique_ptr<HmmDriver> &driver : drivers_)
    pages_copied -= driver->pages_zero_filled();
  if (result_.bytes_migrated != 0 && result_.status == "ok") {
    // Every migrated page crossed PCIe once, whole, but those a first touch zero-filled on the
    // device (pages of different buffers may differ in size, so the check is per buffer only
    // when all agree).
    std::uint64_t page = workload_.buffers.front().page_bytes;
    bool uniform = true;
    for (const BufferConfig &b : workload_.buffers)
      uniform = uniform && b.page_bytes == page;
    if (uniform && result_.bytes_migrated != pages_copied * page)
      out.push_back(fmt::format("{} bytes migrated for {} pages copied of {} bytes",
                                result_.bytes_migrated, pages_copied, page));
  }
  return out;
}

} // namespace pciesim
