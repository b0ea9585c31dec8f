#include "models/dma/dma_engine.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "models/pcie/pcie_switch.h"

namespace pciesim {

namespace {
constexpr std::uint64_t kPage = 4096; // no TLP may cross a 4 KiB boundary
}

const std::vector<ParamSpec> &DmaEngineParams::specs() {
  static const std::vector<ParamSpec> specs = [] {
    std::vector<ParamSpec> s = {
        {"bar_size", ParamKind::size, "1 MiB", "size of BAR0 (a power of two)", 4096, 0, true},
        {"mrrs", ParamKind::size, "512 B", "Max_Read_Request_Size", 128, 4096, true},
        {"tags", ParamKind::integer, 32,
         "outstanding non-posted requests (tags); 32 is a generic DMA engine's (a 5-bit Tag "
         "field, no Extended Tags), an RDMA NIC has 64 (MODELING.md §7)",
         1, 1024},
        {"posted_window", ParamKind::integer, 16,
         "MWr TLPs the engine keeps queued at its port before waiting", 1, 4096},
        {"bar_latency", ParamKind::time, "100 ns",
         "latency of the engine's internal memory behind its BAR (estimate)", 0, 1e9},
        {"bar_bandwidth", ParamKind::rate, "32 GB/s",
         "bandwidth of the engine's internal memory behind its BAR (estimate)", 1e6, 0},
        {"read_completion_boundary", ParamKind::size, "64 B", "RCB of the engine as completer", 64,
         128, true},
    };
    append_port_specs(s, PortDefaults{5, 16, "512 B", 64, 1024, 64, 0, 0, 0});
    return s;
  }();
  return specs;
}

DmaEngineParams DmaEngineParams::from(const ParamSet &p) {
  DmaEngineParams d;
  d.bar_size = p.bytes("bar_size");
  d.mrrs = p.bytes("mrrs");
  d.tags = static_cast<int>(p.integer("tags"));
  d.posted_window = static_cast<int>(p.integer("posted_window"));
  d.bar_latency = p.duration("bar_latency");
  d.bar_bandwidth = p.bandwidth("bar_bandwidth");
  d.read_completion_boundary = p.bytes("read_completion_boundary");
  d.ports = port_capabilities_from(p);
  return d;
}

DmaEngine::DmaEngine(sc_core::sc_module_name name, const DmaEngineParams &params,
                     DmaEngineWiring wiring, TlpPool &pool)
    : sc_module(name), params_(params), wiring_(wiring), pool_(pool), port_("up", *this, 0),
      tags_(static_cast<std::size_t>(params.tags)),
      bar_ps_per_byte_(1e12 / params.bar_bandwidth.bytes_per_second) {
  for (int t = 0; t < params.tags; ++t)
    free_tags_.push_back(static_cast<std::uint16_t>(t));
  SC_HAS_PROCESS(DmaEngine);
  SC_METHOD(run);
  sensitive << wake_;
  dont_initialize();
}

int DmaEngine::add_stream(const DmaStreamSpec &spec) {
  Stream s;
  s.spec = spec;
  streams_.push_back(std::move(s));
  return static_cast<int>(streams_.size()) - 1;
}

const DmaStreamResult &DmaEngine::stream_result(int stream) const {
  return streams_[static_cast<std::size_t>(stream)].result;
}

void DmaEngine::start_stream(int stream, std::int64_t at_ps) {
  schedule(at_ps, Action::StartStream, stream);
}

void DmaEngine::schedule(std::int64_t at_ps, Action action, int arg) {
  timed_.push(Timed{at_ps, seq_++, action, arg});
  wake_.notify(ps_to_time(std::max<std::int64_t>(0, timed_.top().at_ps - now_ps())));
}

void DmaEngine::run() {
  std::int64_t now = now_ps();
  while (!timed_.empty() && timed_.top().at_ps <= now) {
    Timed t = timed_.top();
    timed_.pop();
    if (t.action == Action::StartStream) {
      Stream &s = streams_[static_cast<std::size_t>(t.arg)];
      s.running = true;
      s.result.first_start_ps = now;
      activate_transfers(t.arg);
    } else {
      finish_transfer(t.arg, now);
    }
  }
  try_issue();
  if (!timed_.empty())
    wake_.notify(ps_to_time(timed_.top().at_ps - now));
}

void DmaEngine::activate_transfers(int stream_index) {
  Stream &s = streams_[static_cast<std::size_t>(stream_index)];
  const DmaStreamSpec &spec = s.spec;
  std::uint64_t slots = 1;
  if (spec.region_bytes > spec.transfer_bytes && spec.stride_bytes > 0)
    slots = (spec.region_bytes - spec.transfer_bytes) / spec.stride_bytes + 1;
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
    t.address = spec.target_address + (s.started % slots) * spec.stride_bytes;
    t.size = spec.transfer_bytes;
    t.start_ps = now_ps();
    ++s.started;
    ++s.active;
    s.issue_order.push_back(slot);
  }
}

void DmaEngine::try_issue() {
  if (issuing_)
    return; // a callback from a send below; the loop here continues
  issuing_ = true;
  bool progress = true;
  while (progress) {
    progress = false;
    for (std::size_t i = 0; i < streams_.size(); ++i) {
      std::size_t index = (round_robin_ + i) % streams_.size();
      if (issue_from(static_cast<int>(index))) {
        round_robin_ = index + 1;
        progress = true;
        break;
      }
    }
  }
  issuing_ = false;
}

bool DmaEngine::issue_from(int stream_index) {
  Stream &s = streams_[static_cast<std::size_t>(stream_index)];
  if (s.issue_order.empty())
    return false;
  int slot = s.issue_order.front();
  Transfer &t = transfers_[static_cast<std::size_t>(slot)];
  std::uint64_t address = t.address + t.issued;
  std::uint64_t remaining = t.size - t.issued;
  std::uint64_t to_page_end = kPage - address % kPage;
  tlm::tlm_generic_payload *gp = nullptr;
  if (s.spec.is_write) {
    if (posted_in_queue_ >= params_.posted_window)
      return false;
    std::uint32_t chunk = static_cast<std::uint32_t>(
        std::min<std::uint64_t>({remaining, wiring_.mps_bytes, to_page_end}));
    gp = &pool_.acquire();
    TlpExtension &w = tlp_of(*gp);
    w.type = TlpType::MWr;
    w.payload_bytes = chunk;
    w.address = address;
    w.requester_id = wiring_.bdf.packed();
    w.observer = this;
    w.cookie = static_cast<std::uint64_t>(slot);
    t.issued += chunk;
    ++posted_in_queue_;
    ++stats_.mwr_sent;
  } else {
    if (free_tags_.empty()) {
      ++stats_.tag_waits;
      return false;
    }
    std::uint32_t chunk = static_cast<std::uint32_t>(
        std::min<std::uint64_t>({remaining, params_.mrrs.count, to_page_end}));
    std::uint16_t tag = free_tags_.front();
    free_tags_.pop_front();
    tags_[tag] = Tag{slot, chunk};
    gp = &pool_.acquire();
    TlpExtension &r = tlp_of(*gp);
    r.type = TlpType::MRd;
    r.request_bytes = chunk;
    r.address = address;
    r.requester_id = wiring_.bdf.packed();
    r.tag = tag;
    r.cookie = static_cast<std::uint64_t>(slot);
    t.issued += chunk;
    ++stats_.mrd_sent;
  }
  if (t.issued == t.size)
    s.issue_order.pop_front();
  port_.send(*gp, sc_core::SC_ZERO_TIME);
  return true;
}

void DmaEngine::finish_transfer(int slot, std::int64_t at_ps) {
  Transfer &t = transfers_[static_cast<std::size_t>(slot)];
  Stream &s = streams_[static_cast<std::size_t>(t.stream)];
  if (!t.failed) {
    s.result.bytes += t.size;
    s.result.latencies_ps.push_back(at_ps - t.start_ps);
  }
  ++s.result.transfers_done;
  s.result.last_done_ps = std::max(s.result.last_done_ps, at_ps);
  ++s.finished;
  --s.active;
  int stream_index = t.stream;
  free_transfers_.push_back(slot);
  bool complete = s.finished == s.spec.count || (!s.result.error.empty() && s.active == 0);
  if (complete && !s.result.finished) {
    s.result.finished = true;
    s.running = false;
    if (on_stream_done)
      on_stream_done(stream_index, at_ps);
    return;
  }
  activate_transfers(stream_index);
  try_issue();
}

void DmaEngine::delivered(std::uint64_t cookie, std::uint32_t payload_bytes, std::int64_t at_ps) {
  Transfer &t = transfers_[static_cast<std::size_t>(cookie)];
  t.done += payload_bytes;
  if (t.done == t.size)
    schedule(at_ps, Action::FinishTransfer, static_cast<int>(cookie));
}

void DmaEngine::receive_completion(tlm::tlm_generic_payload &gp) {
  TlpExtension &cpl = tlp_of(gp);
  Tag &tag = tags_[cpl.tag];
  Transfer &t = transfers_[static_cast<std::size_t>(tag.transfer)];
  if (cpl.status != CompletionStatus::SuccessfulCompletion) {
    ++stats_.ur_received;
    Stream &s = streams_[static_cast<std::size_t>(t.stream)];
    if (s.result.error.empty())
      s.result.error = fmt::format("Unsupported Request: completer {:02x}:{:02x}.{} refused the "
                                   "read of {:#x}",
                                   cpl.completer_id >> 8, (cpl.completer_id >> 3) & 0x1f,
                                   cpl.completer_id & 7, cpl.address);
    t.failed = true;
    t.done += tag.remaining; // the refused bytes will never come: count them as settled
    tag.remaining = 0;
  } else {
    ++stats_.cpld_received;
    t.done += cpl.payload_bytes;
    tag.remaining -= cpl.payload_bytes;
  }
  if (tag.remaining == 0)
    free_tags_.push_back(cpl.tag);
  int slot = tag.transfer;
  if (t.failed) {
    // Issue nothing more for a failed transfer; it settles once its other tags are back.
    Stream &s = streams_[static_cast<std::size_t>(t.stream)];
    auto it = std::find(s.issue_order.begin(), s.issue_order.end(), slot);
    if (it != s.issue_order.end())
      s.issue_order.erase(it);
    t.size = t.issued;
  }
  if (t.done == t.size)
    finish_transfer(slot, now_ps());
  try_issue();
}

void DmaEngine::serve_bar_request(tlm::tlm_generic_payload &gp) {
  TlpExtension &req = tlp_of(gp);
  std::int64_t now = now_ps();
  std::uint32_t bytes = req.type == TlpType::MWr ? req.payload_bytes : req.request_bytes;
  std::int64_t start = std::max(now + params_.bar_latency.ps, bar_busy_until_ps_);
  bar_busy_until_ps_ = start + static_cast<std::int64_t>(std::llround(bytes * bar_ps_per_byte_));
  stats_.bar_bytes += bytes;
  if (req.type == TlpType::MWr) {
    ++stats_.bar_writes_absorbed;
    port_.release(gp, ps_to_time(bar_busy_until_ps_ - now));
    if (req.observer)
      req.observer->delivered(req.cookie, bytes, bar_busy_until_ps_);
    pool_.release(gp);
    return;
  }
  ++stats_.bar_reads_served;
  port_.release(gp, sc_core::SC_ZERO_TIME);
  std::uint64_t rcb = params_.read_completion_boundary.count;
  std::uint64_t address = req.address;
  std::uint32_t remaining = req.request_bytes;
  while (remaining > 0) {
    std::uint64_t end_limit = (address + wiring_.mps_bytes) / rcb * rcb;
    std::uint32_t chunk = static_cast<std::uint32_t>(std::min<std::uint64_t>(
        remaining, end_limit > address ? end_limit - address : wiring_.mps_bytes));
    tlm::tlm_generic_payload &cpl_gp = pool_.acquire();
    TlpExtension &cpl = tlp_of(cpl_gp);
    cpl.type = TlpType::CplD;
    cpl.requester_id = req.requester_id;
    cpl.completer_id = wiring_.bdf.packed();
    cpl.tag = req.tag;
    cpl.payload_bytes = chunk;
    cpl.byte_count = remaining;
    cpl.address = address;
    cpl.cookie = req.cookie;
    port_.send(cpl_gp, ps_to_time(bar_busy_until_ps_ - now));
    address += chunk;
    remaining -= chunk;
  }
  pool_.release(gp);
}

void DmaEngine::tlp_arrived(int, tlm::tlm_generic_payload &gp) {
  TlpExtension &tlp = tlp_of(gp);
  if (!is_request(tlp.type)) {
    port_.release(gp, sc_core::SC_ZERO_TIME); // completions are consumed at line rate
    receive_completion(gp);
    pool_.release(gp);
    return;
  }
  if (tlp.address >= wiring_.bar_base && tlp.address - wiring_.bar_base < params_.bar_size.count) {
    serve_bar_request(gp);
    return;
  }
  port_.release(gp, sc_core::SC_ZERO_TIME);
  if (tlp.type == TlpType::MRd)
    port_.send(make_unsupported_request_completion(pool_, tlp, wiring_.bdf.packed()),
               sc_core::SC_ZERO_TIME);
  pool_.release(gp);
}

void DmaEngine::tlp_departing(int, tlm::tlm_generic_payload &gp, const sc_core::sc_time &) {
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

} // namespace pciesim
