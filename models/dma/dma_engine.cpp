#include "models/dma/dma_engine.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include <fmt/format.h>

#include "models/pcie/completion.h"

namespace pciesim {

DmaEngine::DmaEngine(sc_core::sc_module_name name, const DmaEngineParams &params,
                     DmaEngineWiring wiring, SimContext &context)
    : sc_module(name), calendar_(context.calendar), pool_(context.pool),
      tags_(static_cast<std::size_t>(params.tags)),
      tag_pool_in_use_(std::max<std::size_t>(1, params.group_tags.size()), 0),
      read_pipeline_ps_(params.costs.read_pipeline_latency.ps),
      posted_window_(params.posted_window),
      mrrs_bytes_(static_cast<std::uint32_t>(params.mrrs.count)),
      group_tags_(!params.group_tags.empty()), wiring_(std::move(wiring)), params_(params),
      port_("up", *this, 0), bar_ps_per_byte_(1e12 / params.bar_bandwidth.bytes_per_second) {
  if (params.costs.max_issue_rate > 0) {
    double write_slot_ps = 1e12 / static_cast<double>(params.costs.max_issue_rate);
    issue_interval_ps_[1] = busy_ps(write_slot_ps);
    issue_interval_ps_[0] = busy_ps(write_slot_ps * params.costs.read_issue_percent / 100.0);
  }
  if (params.costs.datapath_bandwidth.bytes_per_second > 0)
    datapath_ps_per_byte_ = 1e12 / params.costs.datapath_bandwidth.bytes_per_second;
  if (params.costs.read_channel_bandwidth.bytes_per_second > 0)
    read_channel_ps_per_byte_ = 1e12 / params.costs.read_channel_bandwidth.bytes_per_second;
  for (int t = 0; t < params.tags; ++t)
    free_tags_.push_back(static_cast<std::uint16_t>(t));
}

int DmaEngine::add_stream(const DmaStreamSpec &spec) {
  Stream s;
  s.spec = spec;
  s.slot_draw_state = spec.slot_seed;
  streams_.push_back(std::move(s));
  return static_cast<int>(streams_.size()) - 1;
}

const DmaStreamResult &DmaEngine::stream_result(int stream) const {
  return streams_[static_cast<std::size_t>(stream)].result;
}

void DmaEngine::start_stream(int stream, std::int64_t at_ps) {
  schedule(at_ps, Action::StartStream, stream);
}

void DmaEngine::restart_stream(int stream, std::uint64_t target_address, std::int64_t at_ps) {
  Stream &s = streams_[static_cast<std::size_t>(stream)];
  s.spec.target_address = target_address;
  s.started = s.finished = 0;
  s.result.finished = false;
  schedule(at_ps, Action::StartStream, stream);
}

void DmaEngine::restart_stream(int stream, std::uint64_t target_address,
                               std::uint64_t transfer_bytes, std::int64_t at_ps) {
  DmaStreamSpec &spec = streams_[static_cast<std::size_t>(stream)].spec;
  spec.transfer_bytes = spec.region_bytes = spec.stride_bytes = transfer_bytes;
  spec.count = 1;
  restart_stream(stream, target_address, at_ps);
}

bool DmaEngine::owns(std::uint64_t address) const {
  for (std::size_t b = 0; b < wiring_.bar_bases.size(); ++b)
    if (address >= wiring_.bar_bases[b] && address - wiring_.bar_bases[b] < wiring_.bar_sizes[b])
      return true;
  return false;
}

std::int64_t DmaEngine::serialization_ps(std::uint64_t bytes, const Bandwidth &rate) {
  return busy_ps(static_cast<double>(bytes) * 1e12 / rate.bytes_per_second);
}

void DmaEngine::schedule(std::int64_t at_ps, Action action, int arg, std::uint32_t bytes) {
  timed_.push(Timed{at_ps, seq_++, action, arg, bytes});
  calendar_.wake_at(*this, timed_.top().at_ps);
}

void DmaEngine::wake_issue() { calendar_.wake_at(*this, now_ps()); }

void DmaEngine::run() {
  std::int64_t now = now_ps();
  while (!timed_.empty() && timed_.top().at_ps <= now) {
    Timed t = timed_.top();
    timed_.pop();
    switch (t.action) {
    case Action::StartStream: {
      Stream &s = streams_[static_cast<std::size_t>(t.arg)];
      s.running = true;
      if (s.result.first_start_ps < 0)
        s.result.first_start_ps = now;
      activate_transfers(t.arg);
      break;
    }
    case Action::FinishTransfer:
      finish_transfer(t.arg, now);
      break;
    case Action::Settle:
      settle(t.arg, t.bytes, now);
      break;
    case Action::TagDrained:
      release_tag_bytes(t.arg, t.bytes);
      break;
    case Action::ChannelDone:
      deliver_read_bytes(t.arg, t.bytes, now);
      break;
    case Action::LocalDone:
      --streams_[static_cast<std::size_t>(transfers_[static_cast<std::size_t>(t.arg)].stream)]
            .local_in_flight;
      delivered(static_cast<std::uint64_t>(t.arg), t.bytes, now);
      break;
    case Action::Wake:
      pacing_wake_ps_ = -1;
      break;
    case Action::Release: {
      Transfer &released = transfers_[static_cast<std::size_t>(t.arg)];
      if (!released.queued && released.issued < released.issue_limit)
        queue_for_issue(released.stream, t.arg);
      break;
    }
    case Action::Doorbell:
      if (params_.costs.descriptor_bytes.count > 0) {
        descriptor_pending_.push_back(t.arg);
        send_pending_descriptors();
      } else {
        schedule(now + params_.costs.setup_latency.ps, Action::Setup, t.arg);
      }
      break;
    case Action::Setup:
      transfer_ready(t.arg);
      break;
    case Action::Finished:
      finish_costs(t.arg);
      break;
    }
  }
  try_issue();
  if (!timed_.empty())
    calendar_.wake_at(*this, timed_.top().at_ps);
}

void DmaEngine::activate_transfers(int stream_index) {
  Stream &s = streams_[static_cast<std::size_t>(stream_index)];
  const DmaStreamSpec &spec = s.spec;
  while (s.running && s.result.error.empty() && s.active < spec.concurrency &&
         s.started < spec.count) {
    int slot;
    if (free_transfers_.empty()) {
      slot = static_cast<int>(transfers_.size());
      transfers_.emplace_back();
    } else {
      slot = free_transfers_.back();
      free_transfers_.pop_back();
    }
    Transfer &t = transfers_[static_cast<std::size_t>(slot)];
    t = Transfer{};
    t.stream = stream_index;
    std::uint64_t slot_index = spec.random_slots ? splitmix64_next(s.slot_draw_state) : s.started;
    t.address = spec.target_address + slot_index % spec.slots() * spec.stride_bytes;
    t.size = spec.transfer_bytes;
    t.start_ps = now_ps();
    t.index = s.started;
    if (observer_)
      observer_->transfer_started(*this, stream_index, t.index, t.start_ps);
    ++s.started;
    ++s.active;
    if (spec.local) {
      t.issue_limit = t.size;
      queue_for_issue(stream_index, slot);
    } else {
      begin_transfer(slot);
    }
  }
}

bool DmaEngine::send_fetch(std::uint64_t address, std::uint32_t bytes, AddressType type,
                           int fetch_id) {
  if (free_tags_.empty())
    return false;
  std::uint16_t tag = free_tags_.front();
  free_tags_.pop_front();
  tags_[tag] = Tag{-1, fetch_id, -1, bytes};
  ++fetches_in_flight_;
  ++stats_.fetches_sent;
  tlm::tlm_generic_payload &gp = pool_.acquire();
  TlpExtension &tlp = tlp_of(gp);
  tlp.type = TlpType::MRd;
  tlp.address = address;
  tlp.address_type = type;
  tlp.request_bytes = bytes;
  tlp.requester_id = wiring_.bdf.packed();
  tlp.tag = tag;
  port_.send(gp, 0);
  return true;
}

void DmaEngine::free_tag(std::uint16_t tag) {
  Tag &t = tags_[tag];
  if (t.tag_pool >= 0)
    --tag_pool_in_use_[static_cast<std::size_t>(t.tag_pool)];
  t = Tag{};
  free_tags_.push_back(tag);
}

void DmaEngine::finish_transfer(int slot, std::int64_t at_ps) {
  Transfer &t = transfers_[static_cast<std::size_t>(slot)];
  Stream &s = streams_[static_cast<std::size_t>(t.stream)];
  if (!t.costs_paid && !t.failed && !s.spec.local && s.spec.per_transfer_costs &&
      params_.costs.any_after_data()) {
    schedule(at_ps + params_.costs.finish_latency.ps, Action::Finished, slot);
    return;
  }
  if (!t.finish_held && !s.spec.local && !transfer_may_finish(slot)) {
    t.finish_held = true;
    return;
  }
  if (!t.failed) {
    s.result.bytes += t.size;
    s.result.latencies_ps.push_back(at_ps - t.start_ps);
  }
  ++s.result.transfers_done;
  if (observer_)
    observer_->transfer_finished(*this, t.stream, t.index, at_ps, t.failed);
  s.result.last_done_ps = std::max(s.result.last_done_ps, at_ps);
  ++s.finished;
  --s.active;
  int stream_index = t.stream;
  free_transfers_.push_back(slot);
  bool complete = s.finished == s.spec.count || (!s.result.error.empty() && s.active == 0);
  if (complete && !s.result.finished) {
    s.result.finished = true;
    s.running = false;
    if (observer_)
      observer_->stream_finished(*this, stream_index, at_ps);
    if (on_stream_done)
      on_stream_done(stream_index, at_ps);
    return;
  }
  activate_transfers(stream_index);
  try_issue();
}

void DmaEngine::delivered(std::uint64_t cookie, std::uint32_t payload_bytes, std::int64_t at_ps) {
  if (cookie & kModelWriteCookie) {
    posted_write_delivered(static_cast<std::uint32_t>(cookie), at_ps);
    return;
  }
  if (cookie & kCoreWriteCookie) {
    core_write_delivered(static_cast<int>(cookie & ~kCoreWriteCookie), at_ps);
    return;
  }
  Transfer &t = transfers_[static_cast<std::size_t>(cookie)];
  t.done += payload_bytes;
  if (t.done == t.size)
    schedule(at_ps, Action::FinishTransfer, static_cast<int>(cookie));
}

void DmaEngine::fail_transfer(int slot, const std::string &error) {
  Transfer &t = transfers_[static_cast<std::size_t>(slot)];
  Stream &s = streams_[static_cast<std::size_t>(t.stream)];
  if (s.result.error.empty())
    s.result.error = error;
  if (t.failed)
    return;
  t.failed = true;
  if (observer_)
    observer_->transfer_failed(*this, t.stream, t.index, error, now_ps());
  // Issue nothing more for a failed transfer; it settles once its issued bytes are accounted.
  if (s.issue_order.erase_first_of(slot))
    issuable_has_empty_ |= s.issue_order.empty();
  t.size = t.issued;
}

void DmaEngine::refused(std::uint64_t cookie, std::uint32_t payload_bytes,
                        std::uint16_t completer_id, std::uint64_t address) {
  ++stats_.posted_writes_dropped;
  if (!(cookie & (kModelWriteCookie | kCoreWriteCookie))) // the device's own: seen as written
    fail_transfer(static_cast<int>(cookie),
                  fmt::format("Unsupported Request: {} dropped the posted write to {:#x}",
                              format_bdf(Bdf::unpack(completer_id)), address));
  delivered(cookie, payload_bytes, now_ps());
}

// Bytes of a read completion reach the transfer (once they left the device's buffer: see
// completion_drained_ps); the tag frees when all its bytes are in.
void DmaEngine::settle(int tag_index, std::uint32_t bytes, std::int64_t at_ps) {
  int slot = tags_[static_cast<std::size_t>(tag_index)].transfer;
  release_tag_bytes(tag_index, bytes);
  deliver_read_bytes(slot, bytes, at_ps);
}

void DmaEngine::release_tag_bytes(int tag_index, std::uint32_t bytes) {
  Tag &tag = tags_[static_cast<std::size_t>(tag_index)];
  tag.remaining -= bytes;
  if (tag.remaining == 0)
    free_tag(static_cast<std::uint16_t>(tag_index));
}

void DmaEngine::deliver_read_bytes(int slot, std::uint32_t bytes, std::int64_t at_ps) {
  Transfer &t = transfers_[static_cast<std::size_t>(slot)];
  t.done += bytes;
  if (t.done + t.channel_pending_bytes == t.size) {
    if (t.channel_pending_bytes > 0 && t.channel_pending_ps > at_ps) {
      // Its last bytes are still crossing the channel: it finishes when they are through.
      schedule_channel_bytes(slot);
    } else {
      // Those through by now were in before these.
      t.done += std::exchange(t.channel_pending_bytes, 0);
      finish_transfer(slot, at_ps);
    }
  }
  try_issue();
}

void DmaEngine::book_channel_bytes(int slot, std::uint32_t bytes, std::int64_t through_ps) {
  // Bytes that do not finish the transfer change nothing but its count when they are through:
  // no issue waits for them (a tag frees when it drains, before its bytes cross the channel).
  // They are counted with the transfer's last ones, at their time (the latest: the channel
  // serves in order), which saves the engine a wake-up per tag.
  Transfer &t = transfers_[static_cast<std::size_t>(slot)];
  t.channel_pending_bytes += bytes;
  t.channel_pending_ps = through_ps;
  if (t.done + t.channel_pending_bytes == t.size || t.channel_pending_bytes >= kMaxPendingBytes)
    schedule_channel_bytes(slot);
}

void DmaEngine::schedule_channel_bytes(int slot) {
  Transfer &t = transfers_[static_cast<std::size_t>(slot)];
  schedule(t.channel_pending_ps, Action::ChannelDone, slot,
           static_cast<std::uint32_t>(std::exchange(t.channel_pending_bytes, 0)));
}

void DmaEngine::receive_completion(tlm::tlm_generic_payload &gp) {
  TlpExtension &cpl = tlp_of(gp);
  Tag &tag = tags_[cpl.tag];
  if (tag.descriptor) { // the core's descriptor fetch: the setup follows once it is in
    tag.remaining -= std::min(tag.remaining, cpl.payload_bytes);
    if (cpl.status != CompletionStatus::SuccessfulCompletion)
      tag.remaining = 0; // seen as read: the transfer's own data path reports the fault
    if (tag.remaining == 0) {
      int slot = tag.transfer;
      free_tag(cpl.tag);
      schedule(now_ps() + params_.costs.setup_latency.ps, Action::Setup, slot);
      try_issue();
    }
    return;
  }
  if (tag.transfer < 0) { // a fetch the model asked for
    tag.remaining -= std::min(tag.remaining, cpl.payload_bytes);
    if (cpl.status != CompletionStatus::SuccessfulCompletion)
      tag.remaining = 0; // the model sees a failed fetch as done; its data path will fail
    if (tag.remaining == 0) {
      int fetch_id = tag.fetch_id;
      free_tag(cpl.tag);
      --fetches_in_flight_;
      fetch_completed(fetch_id);
      try_issue();
    }
    return;
  }
  int slot = tag.transfer;
  if (cpl.status != CompletionStatus::SuccessfulCompletion) {
    ++stats_.ur_received;
    fail_transfer(slot, fmt::format("Unsupported Request: completer {} refused the read of {:#x}",
                                    format_bdf(Bdf::unpack(cpl.completer_id)), cpl.address));
    settle(cpl.tag, tag.remaining, now_ps()); // the refused bytes will never come
    return;
  }
  receive_data_completion(cpl, now_ps());
}

void DmaEngine::receive_data_completion(const TlpExtension &cpl, std::int64_t arrived_ps) {
  Tag &tag = tags_[cpl.tag];
  ++stats_.cpld_received;
  // The tag (the PCIe core's buffer) frees once the data is through the device's pipeline
  // and data path and, on a NIC, has left for the wire; the transfer has the data once it
  // also crossed its DMA channel.
  // A request's completions come in address order (PCIe 2.3.1.1): this one's data follows the
  // bytes its tag holds.
  std::int64_t drained_ps =
      completion_drained_ps(tag.offset + tag.held, cpl.payload_bytes,
                            transfers_[static_cast<std::size_t>(tag.transfer)].size,
                            through_device(cpl.payload_bytes, arrived_ps));
  std::int64_t data_ps = through_read_channel(tag.transfer, cpl.payload_bytes, drained_ps);
  // A tag's data settles when its last completion's does: each of those times only grows
  // from one completion to the next (the pipeline, the data path, the line and the channel
  // serve in arrival order), the tag frees only once all its bytes are in, and a transfer
  // finishes only with its last bytes, which are some tag's last. Settling the earlier
  // completions on their own changed nothing but counts, at a wake-up each.
  tag.held += cpl.payload_bytes;
  if (tag.held < tag.remaining)
    return;
  const std::uint32_t bytes = std::exchange(tag.held, 0);
  if (data_ps > drained_ps) {
    schedule(drained_ps, Action::TagDrained, cpl.tag, bytes);
    book_channel_bytes(tag.transfer, bytes, data_ps);
    return;
  }
  // Taken ahead of its arrival (tlp_arriving), even a completion that drains as it arrives
  // settles at a wake-up of its own, then.
  if (drained_ps > now_ps()) {
    schedule(drained_ps, Action::Settle, cpl.tag, bytes);
    return;
  }
  settle(cpl.tag, bytes, arrived_ps);
}

// Receiving a read's data completion depends on nothing but its arrival time and the
// completions before it (the device's pipeline, data path, line and the transfer's channel
// serve only completions, which arrive on the one link in the order they were sent), and its
// effects all fall at its arrival or later, each at a wake-up of the engine's own: the tag
// drains, the data crosses the channel. Such a completion is taken when the link starts
// sending it, which saves the link a wake-up per completion (docs/performance.md); only a
// tag's last completion needs a wake-up, the engine's. The link offers it nothing else
// (early_arrival_types); a refusal, a descriptor or translation fetch (whose handling issues
// at once) arrives as usual, as does a completion arriving after the run's time limit.
// Per TLP: flattened (docs/models.md, "Hot paths").
[[gnu::flatten]] bool DmaEngine::tlp_arriving(int, tlm::tlm_generic_payload &gp,
                                              std::int64_t arrival_delay_ps) {
  const TlpExtension &cpl = tlp_of(gp);
  if (cpl.status != CompletionStatus::SuccessfulCompletion)
    return false;
  const Tag &tag = tags_[cpl.tag];
  const std::int64_t arrived_ps = now_ps() + arrival_delay_ps;
  if (tag.descriptor || tag.transfer < 0 || arrived_ps > calendar_.time_limit_ps())
    return false;
  port_.release(gp, arrival_delay_ps); // consumed at line rate, as on arrival
  receive_data_completion(cpl, arrived_ps);
  pool_.release(gp);
  return true;
}

std::int64_t DmaEngine::memory_access(bool, std::uint64_t, std::uint32_t bytes,
                                      std::int64_t at_ps) {
  std::int64_t start = std::max(at_ps + params_.bar_latency.ps, bar_busy_until_ps_);
  bar_busy_until_ps_ = start + busy_ps(bytes * bar_ps_per_byte_);
  return bar_busy_until_ps_;
}

void DmaEngine::serve_bar_request(tlm::tlm_generic_payload &gp) {
  TlpExtension &req = tlp_of(gp);
  std::int64_t now = now_ps();
  std::uint32_t bytes = req.type == TlpType::MWr ? req.payload_bytes : req.request_bytes;
  std::int64_t done = memory_access(req.type == TlpType::MWr, req.address, bytes, now);
  stats_.bar_bytes += bytes;
  if (req.type == TlpType::MWr) {
    ++stats_.bar_writes_absorbed;
    port_.release(gp, done - now);
    if (req.observer)
      req.observer->delivered(req.cookie, bytes, done);
    pool_.release(gp);
    return;
  }
  ++stats_.bar_reads_served;
  port_.release(gp, 0);
  port_.send_completions(gp, wiring_.bdf.packed(), static_cast<std::uint32_t>(wiring_.mps_bytes),
                         static_cast<std::uint32_t>(params_.read_completion_boundary.count),
                         done - now);
}

// Per TLP: flattened (docs/models.md, "Hot paths").
[[gnu::flatten]] void DmaEngine::tlp_arrived(int, tlm::tlm_generic_payload &gp) {
  TlpExtension &tlp = tlp_of(gp);
  if (!is_request(tlp.type)) {
    port_.release(gp, 0); // completions are consumed at line rate
    receive_completion(gp);
    pool_.release(gp);
    return;
  }
  if (owns(tlp.address)) {
    serve_bar_request(gp);
    return;
  }
  terminate_unsupported_request(port_, pool_, gp, wiring_.bdf.packed(), 0);
}

// Per TLP: flattened (docs/models.md, "Hot paths").
[[gnu::flatten]] void DmaEngine::tlp_departing(int, tlm::tlm_generic_payload &gp, std::int64_t) {
  if (tlp_of(gp).type != TlpType::MWr || tlp_of(gp).ingress_port != kNoIngressPort)
    return;
  --posted_in_queue_;
  try_issue();
}

bool DmaEngine::quiescent() const {
  if (static_cast<int>(free_tags_.size()) != params_.tags || posted_in_queue_ != 0)
    return false;
  for (const Stream &s : streams_)
    if (s.active != 0)
      return false;
  return true;
}

std::string DmaEngine::describe_outstanding() const {
  std::string out;
  int tags_in_use = params_.tags - static_cast<int>(free_tags_.size());
  if (tags_in_use)
    out += fmt::format("{} of {} tags in use; ", tags_in_use, params_.tags);
  if (fetches_in_flight_)
    out += fmt::format("{} translation fetches in flight; ", fetches_in_flight_);
  if (!descriptor_pending_.empty())
    out += fmt::format("{} descriptor fetches waiting for a tag; ", descriptor_pending_.size());
  if (posted_in_queue_)
    out += fmt::format("{} MWr queued at the port; ", posted_in_queue_);
  for (const Stream &s : streams_)
    if (s.active || (s.running && !s.result.finished))
      out += fmt::format("transfer \"{}\": {} of {} done, {} in flight; ", s.spec.id, s.finished,
                         s.spec.count, s.active);
  if (out.size() >= 2)
    out.resize(out.size() - 2);
  return out;
}

void DmaEngine::release_transfer_bytes(int transfer, std::uint64_t bytes) {
  Transfer &t = transfers_[static_cast<std::size_t>(transfer)];
  t.issue_limit = std::min(t.size, t.issue_limit + bytes);
  schedule(now_ps(), Action::Release, transfer);
}

} // namespace pciesim
