#include "sim/run/mechanisms/bounce.h"

#include <algorithm>
#include <numeric>
#include <set>

#include "sim/run/mechanisms/mechanism.h"

namespace pciesim {

BouncePipeline::BouncePipeline(const BounceConfig &config, DmaEngine &device, DmaEngine &gpu,
                               const std::string &id)
    : config_(config), first_(config.nic_writes ? &device : &gpu),
      second_(config.nic_writes ? &gpu : &device), message_done_bytes_(config.count, 0),
      message_start_ps_(config.count, -1) {
  const std::int64_t first_wait = first_->params().semaphore_wait.ps;
  const std::int64_t second_wait = second_->params().semaphore_wait.ps;
  if (first_wait > 0 && second_wait > 0) {
    first_waits_ps_ = first_wait;
    second_waits_ps_ = second_wait;
  }
  for (int i = 0; i < config.chunks_in_flight; ++i) {
    Slot slot;
    // Stage 1 writes the chunk into the slot's staging area; stage 2 reads it back out.
    // The device-side address of the GPU copy is not modelled separately: its memory is
    // the GPU's own (local access), only the host side crosses PCIe.
    DmaStreamSpec spec;
    spec.id = id + ".stage" + std::to_string(i);
    spec.transfer_bytes = config.chunk_bytes;
    spec.region_bytes = config.chunk_bytes;
    spec.stride_bytes = config.chunk_bytes;
    spec.count = 1;
    spec.concurrency = 1;
    spec.is_write = true;
    slot.first_stream = first_->add_stream(spec);
    spec.is_write = false;
    slot.second_stream = second_->add_stream(spec);
    slots_.push_back(slot);
  }
}

void BouncePipeline::start(std::int64_t at_ps) {
  result_.first_start_ps = at_ps;
  fill(at_ps, at_ps);
}

void BouncePipeline::rerun(std::int64_t at_ps) {
  next_message_ = next_offset_ = messages_done_ = 0;
  std::fill(message_done_bytes_.begin(), message_done_bytes_.end(), 0);
  std::fill(message_start_ps_.begin(), message_start_ps_.end(), -1);
  result_.finished = false;
  if (result_.first_start_ps < 0)
    result_.first_start_ps = at_ps;
  fill(at_ps, at_ps);
}

void BouncePipeline::fill(std::int64_t at_ps, std::int64_t ready_ps) {
  for (std::size_t i = 0; i < slots_.size() && next_message_ < config_.count; ++i) {
    Slot &slot = slots_[i];
    if (slot.busy)
      continue;
    if (next_offset_ == 0 && config_.concurrency > 0 &&
        next_message_ - messages_done_ >= config_.concurrency)
      break; // the next message waits for an earlier one to finish
    slot.busy = true;
    slot.ready_ps[0] = ready_ps;
    ++busy_slots_;
    slot.message = next_message_;
    slot.offset = next_offset_;
    if (message_start_ps_[next_message_] < 0)
      message_start_ps_[next_message_] = at_ps;
    next_offset_ += config_.chunk_bytes;
    if (next_offset_ >= config_.message_bytes) {
      next_offset_ = 0;
      ++next_message_;
    }
    waiting_[0].push_back(static_cast<int>(i));
  }
  kick(0, at_ps);
}

// Starts the next queued chunk of a stage that is idle.
void BouncePipeline::kick(int stage, std::int64_t at_ps) {
  if (running_[stage] >= 0 || waiting_[stage].empty())
    return;
  int i = waiting_[stage].front();
  waiting_[stage].pop_front();
  running_[stage] = i;
  const Slot &slot = slots_[static_cast<std::size_t>(i)];
  // A stage waiting on the other engine's semaphore holds its queue until the wait ends.
  at_ps = std::max(at_ps, slot.ready_ps[stage]);
  stage_start_ps_[stage] = at_ps;
  std::uint64_t address =
      config_.staging_address + static_cast<std::uint64_t>(i) * config_.chunk_bytes;
  if (stage == 0)
    first_->restart_stream(slot.first_stream, address, at_ps);
  else
    second_->restart_stream(slot.second_stream, address, at_ps);
}

bool BouncePipeline::stage_done(const DmaEngine &engine, int stream, std::int64_t at_ps) {
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    Slot &slot = slots_[i];
    if (&engine == first_ && stream == slot.first_stream) {
      if (on_stage)
        on_stage(0, stage_start_ps_[0], at_ps);
      running_[0] = -1;
      slot.ready_ps[1] = at_ps + second_waits_ps_;
      waiting_[1].push_back(static_cast<int>(i));
      kick(1, at_ps);
      kick(0, at_ps);
      return true;
    }
    if (&engine == second_ && stream == slot.second_stream) {
      if (on_stage)
        on_stage(1, stage_start_ps_[1], at_ps);
      std::uint64_t m = slot.message;
      message_done_bytes_[m] += config_.chunk_bytes;
      if (message_done_bytes_[m] >= config_.message_bytes) {
        ++messages_done_;
        result_.bytes += config_.message_bytes;
        ++result_.transfers_done;
        result_.latencies_ps.push_back(at_ps - message_start_ps_[m]);
        if (on_message)
          on_message(at_ps - message_start_ps_[m]);
        result_.last_done_ps = std::max(result_.last_done_ps, at_ps);
      }
      slot.busy = false;
      --busy_slots_;
      running_[1] = -1;
      const DmaStreamResult &a = first_->stream_result(slot.first_stream);
      const DmaStreamResult &b = second_->stream_result(slot.second_stream);
      if (result_.error.empty() && !(a.error.empty() && b.error.empty()))
        result_.error = a.error.empty() ? b.error : a.error;
      if (result_.error.empty())
        fill(at_ps, at_ps + first_waits_ps_); // the first engine learns of the freed slot
      kick(1, at_ps);
      if (busy_slots_ == 0 && (next_message_ >= config_.count || !result_.error.empty()))
        result_.finished = true;
      return true;
    }
  }
  return false;
}

namespace {

class Bounce final : public MechanismPolicy {
public:
  using MechanismPolicy::MechanismPolicy;

  std::int64_t setup_buffer(std::size_t, int peer, std::int64_t at_ps, const SetupHold &) override {
    nics_.insert(peer);
    return at_ps;
  }

  // The staging buffer is registered (pinned and mapped) for the GPU's copies and by each NIC
  // that moves the buffers through it, one NIC after the other (each its own MR).
  std::int64_t setup_shared(std::int64_t at_ps) override {
    OsKernel &kernel = context_.kernel;
    std::uint64_t staging_pages = context_.workload.staging_bytes / 4096;
    std::int64_t end_ps = at_ps;
    for (std::size_t k = 0; k < std::max<std::size_t>(1, nics_.size()); ++k) {
      const std::int64_t start_ps = end_ps;
      end_ps = start_ps + kernel.registration_ps(staging_pages);
      kernel.record(TimeKind::Setup, start_ps, end_ps, StepActor::kernel(), "register staging",
                    {{"pages", static_cast<std::int64_t>(staging_pages)}});
      kernel.stats().pages_pinned += staging_pages;
    }
    return end_ps;
  }

  std::unique_ptr<BouncePipeline> peer_pipeline(const PhaseConfig &phase, DmaEngine &peer,
                                                DmaEngine &owner) override {
    const WorkloadConfig &w = context_.workload;
    BounceConfig b;
    b.message_bytes = phase.access_bytes;
    b.count = phase.bytes / phase.access_bytes;
    // Chunks divide every access: the chunk size, or the largest divisor of both.
    b.chunk_bytes = std::gcd(w.chunk_bytes, phase.access_bytes);
    b.chunks_in_flight = w.chunks_in_flight;
    b.staging_address = w.staging_address;
    b.nic_writes = phase.is_write;
    auto pipeline = std::make_unique<BouncePipeline>(b, peer, owner, phase.id);
    // The copy engine's stage is a copy, the peer's is its DMA.
    int copy_stage = phase.is_write ? 1 : 0;
    pipeline->on_stage = [this, copy_stage](int stage, std::int64_t from, std::int64_t to) {
      context_.kernel.record(stage == copy_stage ? TimeKind::Copy : TimeKind::Dma, from, to);
    };
    return pipeline;
  }

private:
  std::set<int> nics_; // the NICs that reach the buffers (through staging)
};

} // namespace

std::unique_ptr<MechanismPolicy> make_bounce(MechanismContext &context) {
  return std::make_unique<Bounce>(context);
}

} // namespace pciesim
