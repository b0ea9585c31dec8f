// The endpoint core's issue path: how transfers become TLPs. Streams take turns (round robin
// over those with something to issue), each TLP is cut at the MPS or MRRS and at 4 KiB
// boundaries, and it waits for the stream's and the device's pacing, the engine's issue slot,
// the posted window or a free tag; local (on-device) accesses go to device memory instead.
#include "models/dma/dma_engine.h"

#include <algorithm>

namespace pciesim {

namespace {
constexpr std::uint64_t kPage = 4096; // no TLP may cross a 4 KiB boundary
// Local (on-device) accesses a stream keeps in flight, so that unpaced kernel traffic
// interleaves with peer accesses at the device memory instead of reserving it far ahead.
constexpr int kLocalWindow = 64;
} // namespace

void DmaEngine::queue_for_issue(int stream_index, int slot) {
  Stream &s = streams_[static_cast<std::size_t>(stream_index)];
  if (s.issue_order.empty()) {
    auto at = std::lower_bound(issuable_.begin(), issuable_.end(), stream_index);
    if (at == issuable_.end() || *at != stream_index)
      issuable_.insert(at, stream_index);
  }
  s.issue_order.push_back(slot);
  transfers_[static_cast<std::size_t>(slot)].queued = true;
}

// Per TLP: flattened (docs/models.md, "Hot paths").
[[gnu::flatten]] void DmaEngine::try_issue() {
  if (issuing_)
    return; // a callback from a send below; the loop here continues
  issuing_ = true;
  if (!descriptor_pending_.empty())
    send_pending_descriptors(); // a descriptor waiting for a tag goes before more data
  // Round robin over the streams from the one after the last that issued, visiting only
  // those with something to issue (an engine may hold many idle streams: a workload's slots).
  bool progress = !streams_.empty();
  while (progress) {
    progress = false;
    const std::size_t count = issuable_.size();
    std::size_t at = 0; // with one stream to visit, where the round robin stands is moot
    if (count > 1) {
      int from = static_cast<int>(round_robin_ % streams_.size());
      at = static_cast<std::size_t>(std::lower_bound(issuable_.begin(), issuable_.end(), from) -
                                    issuable_.begin());
    }
    for (std::size_t i = 0; i < count; ++i, ++at) {
      if (at == count)
        at = 0;
      int index = issuable_[at];
      if (!port_refuses(streams_[static_cast<std::size_t>(index)]) && issue_from(index)) {
        round_robin_ = static_cast<std::size_t>(index) + 1;
        progress = true;
        break;
      }
    }
  }
  // Streams left with nothing to issue leave the round robin; the scan above skips them at
  // no cost, so this waits until one has emptied.
  if (issuable_has_empty_) {
    issuable_.erase(
        std::remove_if(issuable_.begin(), issuable_.end(),
                       [this](int stream) {
                         return streams_[static_cast<std::size_t>(stream)].issue_order.empty();
                       }),
        issuable_.end());
    issuable_has_empty_ = false;
  }
  issuing_ = false;
}

DmaEngine::Gate DmaEngine::gate_request(int, std::uint64_t) { return Gate::Untranslated; }

// What the port lets through first: after each issue the round robin asks every stream
// again, and mostly the window or the tags say no. Checked inline in the loop, before the
// call that works out the TLP (a refused stream then costs no call).
bool DmaEngine::port_refuses(Stream &s) {
  if (s.issue_order.empty())
    return true;
  if (s.spec.local)
    return false;
  if (s.spec.is_write)
    return posted_in_queue_ >= posted_window_;
  const auto tag_pool = static_cast<std::size_t>(s.spec.group);
  const bool pool_full = group_tags_ && tag_pool_in_use_[tag_pool] >= params_.group_tags[tag_pool];
  if (free_tags_.empty() || pool_full) {
    stats_.tag_waits += begins_waiting(s, IssueWait::Tag);
    return true;
  }
  return false;
}

bool DmaEngine::issue_from(int stream_index) {
  Stream &s = streams_[static_cast<std::size_t>(stream_index)];
  const bool write = s.spec.is_write;
  const int tag_pool = s.spec.group;
  int slot = s.issue_order.front();
  Transfer &t = transfers_[static_cast<std::size_t>(slot)];
  std::uint64_t address = t.address + t.issued;
  std::uint64_t remaining = t.issue_limit - t.issued;
  std::uint64_t to_page_end = kPage - address % kPage;
  std::uint32_t chunk =
      static_cast<std::uint32_t>(std::min<std::uint64_t>({remaining, to_page_end,
                                                          s.spec.local ? kPage
                                                          : write      ? wiring_.mps_bytes
                                                                       : mrrs_bytes_}));
  // Pacing: the stream's rate, and the device's own for PCIe requests.
  const std::int64_t now = now_ps();
  std::int64_t paced = 0, device_paced = 0, ready = now;
  if (s.spec.rate.bytes_per_second > 0) {
    paced = std::max(s.paced_until_ps, t.start_ps) + serialization_ps(chunk, s.spec.rate);
    ready = std::max(ready, paced);
  }
  if (!s.spec.local) {
    device_paced = pace(s.spec, t.start_ps, t.issued, chunk);
    ready = std::max(ready, device_paced);
    const std::int64_t engine_free_at = engine_free_at_ps_[write];
    if (engine_free_at > now) {
      stats_.issue_waits += begins_waiting(s, IssueWait::Engine);
      ready = std::max(ready, engine_free_at);
    }
  }
  if (ready > now) {
    if (pacing_wake_ps_ < 0 || pacing_wake_ps_ > ready) {
      pacing_wake_ps_ = ready;
      schedule(ready, Action::Wake, 0);
    }
    return false;
  }
  if (s.spec.local)
    return s.local_in_flight < kLocalWindow && issue_local(s, slot, t);
  Gate gate = gate_request(stream_index, address);
  if (gate == Gate::Wait || (!write && free_tags_.empty()))
    return false; // waiting for a translation, or the gate's own fetch took the last tag
  if (paced)
    s.paced_until_ps = paced;
  if (device_paced)
    paced_request_issued(device_paced);
  s.waiting = IssueWait::None;
  tlm::tlm_generic_payload &gp = pool_.acquire();
  TlpExtension &tlp = tlp_of(gp);
  tlp.address = address;
  tlp.address_type = gate == Gate::Translated ? AddressType::Translated : AddressType::Untranslated;
  tlp.requester_id = wiring_.bdf.packed();
  tlp.cookie = static_cast<std::uint64_t>(slot);
  if (write) {
    tlp.type = TlpType::MWr;
    tlp.payload_bytes = chunk;
    tlp.observer = this;
    ++posted_in_queue_;
    ++stats_.mwr_sent;
  } else {
    std::uint16_t tag = free_tags_.front();
    free_tags_.pop_front();
    ++tag_pool_in_use_[static_cast<std::size_t>(tag_pool)];
    tags_[tag] = Tag{slot, -1, tag_pool, chunk, false, 0, t.issued};
    tlp.type = TlpType::MRd;
    tlp.request_bytes = chunk;
    tlp.tag = tag;
    ++stats_.mrd_sent;
    stats_.read_pipeline_ps += read_pipeline_ps_;
  }
  t.issued += chunk;
  if (t.issued == t.issue_limit)
    pop_issued(s, t);
  // The engine's own time for this TLP: its issue slot and, for a write, its payload through
  // the internal data path; the TLP leaves once that is done, and the next of its direction
  // waits for it. Reads and writes have a slot each: pcie-bench's NFP-6000 alternating 64 B
  // reads and writes issues 45 M of each a second, 90 M TLPs in all, where one slot of
  // 55 M would allow half as many pairs (docs/references.md, Device-side DMA costs).
  std::int64_t engine_ps = issue_interval_ps_[write];
  if (write && datapath_ps_per_byte_ > 0) {
    std::int64_t datapath_ps = busy_ps(chunk * datapath_ps_per_byte_);
    stats_.datapath_busy_ps += datapath_ps;
    engine_ps += datapath_ps;
  }
  engine_free_at_ps_[write] = now + engine_ps;
  port_.send(gp, engine_ps);
  return true;
}

bool DmaEngine::issue_local(Stream &s, int slot, Transfer &t) {
  std::uint64_t address = t.address + t.issued;
  std::uint32_t chunk = static_cast<std::uint32_t>(
      std::min<std::uint64_t>({t.issue_limit - t.issued, kPage - address % kPage}));
  if (s.spec.rate.bytes_per_second > 0)
    s.paced_until_ps =
        std::max(s.paced_until_ps, t.start_ps) + serialization_ps(chunk, s.spec.rate);
  std::int64_t done = local_memory_access(s.spec.is_write, address, chunk, now_ps());
  stats_.local_bytes += chunk;
  t.issued += chunk;
  ++s.local_in_flight;
  if (t.issued == t.issue_limit)
    pop_issued(s, t);
  schedule(done, Action::LocalDone, slot, chunk);
  return true;
}

} // namespace pciesim
