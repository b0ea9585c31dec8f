// The endpoint core's tables (parameters, statistics) and its device-side DMA costs around a
// transfer's data (DeviceDmaCosts): the doorbell, descriptor fetch and setup before it, the
// finish time, completion write-back and MSI-X after it. The per-TLP costs (issue time, data
// path, read pipeline and channel) are charged where TLPs are issued and completions arrive,
// in dma_engine_issue.cpp and dma_engine.cpp.
#include "models/dma/dma_engine.h"

#include <algorithm>

namespace pciesim {

namespace {
// Where the core's descriptor ring, completion records and MSI-X target live in the socket's
// host memory: past the NIC's MTT (16 MiB) and the NVMe drive's queues (32-35 MiB).
constexpr std::uint64_t kDescriptorRingOffset = 40ull << 20;
constexpr std::uint64_t kWritebackRingOffset = 41ull << 20;
constexpr std::uint64_t kMsixOffset = 42ull << 20;
constexpr std::uint64_t kRingBytes = 1ull << 20;
constexpr std::uint32_t kMsixBytes = 4;
} // namespace

const StatTable<DmaEngineStats> &DmaEngineStats::table() {
  using S = DmaEngineStats;
  static const StatTable<S> table({
      stat(&S::mrd_sent, {"mrd_sent", "TLPs", "memory read requests sent"}),
      stat(&S::mwr_sent, {"mwr_sent", "TLPs", "memory writes sent"}),
      stat(&S::cpld_received, {"cpld_received", "TLPs", "completions with data received"}),
      stat(&S::ur_received, {"ur_received", "TLPs", "Unsupported Request completions received"}),
      stat(&S::posted_writes_dropped,
           {"posted_writes_dropped", "TLPs",
            "posted writes the fabric dropped as Unsupported Request (their transfer fails)"}),
      stat(&S::bar_reads_served,
           {"bar_reads_served", "TLPs", "read requests to the engine's BARs it answered"}),
      stat(&S::bar_writes_absorbed,
           {"bar_writes_absorbed", "TLPs", "writes to the engine's BARs it absorbed"}),
      stat(&S::bar_bytes, {"bar_bytes", "bytes", "payload read from or written to its BARs"}),
      stat(&S::local_bytes,
           {"local_bytes", "bytes", "on-device memory traffic of local streams (GPU kernels)"}),
      stat(&S::tag_waits,
           {"tag_waits", "count",
            "times a stream with a read to issue began waiting because every tag (of its "
            "group) was in use: a wait counts once, however often the engine asks meanwhile"}),
      stat(&S::fetches_sent,
           {"fetches_sent", "TLPs",
            "reads for the device's own lookups: NIC MTT lines and ATS Translation Requests"}),
      stat(&S::doorbells,
           {"doorbells", "count",
            "doorbells the host rang (doorbell_latency): per transfer, per command on an NVMe "
            "drive"}),
      stat(&S::descriptor_fetches,
           {"descriptor_fetches", "TLPs", "descriptor reads from host memory (descriptor_bytes)"}),
      stat(&S::completion_writebacks,
           {"completion_writebacks", "TLPs",
            "completion records written to host memory (completion_writeback_bytes)"}),
      stat(&S::msix_sent, {"msix_sent", "TLPs", "MSI-X messages sent after transfers (msix)"}),
      stat(&S::issue_waits,
           {"issue_waits", "count",
            "times a stream with a TLP to issue began waiting for the engine, busy with an "
            "earlier TLP of the same direction (max_issue_rate, read_issue_percent, "
            "datapath_bandwidth): a wait counts once, however often the engine asks meanwhile"}),
      stat_of<S>([](const S &s) { return s.datapath_busy_ps / 1000; },
                 {"datapath_busy_ns", "ns",
                  "time the internal data path moved payload (datapath_bandwidth)"}),
      stat_of<S>([](const S &s) { return s.read_pipeline_ps / 1000; },
                 {"read_pipeline_ns", "ns",
                  "read requests' time inside the device, summed (read_pipeline_latency)"}),
  });
  return table;
}

const ParamTable<DmaEngineParams> &DmaEngineParams::table() {
  using P = DmaEngineParams;
  static const ParamTable<P> table(
      field(&P::bar_size,
            {"bar_size", ParamKind::size, "1 MiB", "size of BAR0 (a power of two)", 4096, 0, true}),
      field(&P::mrrs, {"mrrs", ParamKind::size, "512 B", "Max_Read_Request_Size", 128, 4096, true}),
      field(&P::tags, {"tags", ParamKind::integer, 32,
                       "outstanding non-posted requests (tags); 32 is a generic DMA engine's (a "
                       "5-bit Tag field, no Extended Tags: PCIe Base Specification, Transaction "
                       "Descriptor), an RDMA NIC 256 (8-bit Extended Tags: docs/references.md)",
                       1, 1024}),
      field(&P::posted_window,
            {"posted_window", ParamKind::integer, 16,
             "MWr TLPs the engine keeps queued at its port before waiting", 1, 4096}),
      field(&P::bar_latency,
            {"bar_latency", ParamKind::time, "100 ns",
             "latency of the engine's internal memory behind its BAR (estimate)", 0, 1e9}),
      field(&P::bar_bandwidth,
            {"bar_bandwidth", ParamKind::rate, "32 GB/s",
             "bandwidth of the engine's internal memory behind its BAR (estimate)", 1e6, 0}),
      field(&P::read_completion_boundary, {"read_completion_boundary", ParamKind::size, "64 B",
                                           "RCB of the engine as completer", 64, 128, true}),
      nested(&P::ports, port_fields(kPortDefaults)),
      nested(&P::costs, device_dma_cost_fields(kCostDefaults)));
  return table;
}

// Before its data: its posting, the doorbell, the descriptor fetch and the setup time, when
// the device has them; then the model's own start (transfer_may_start). The host posts a
// stream's transfers in turn, so with post_interval a slot freed early still waits for the
// posting of those before it: the stream's message rate is at most 1 / post_interval.
void DmaEngine::begin_transfer(int slot) {
  const DeviceDmaCosts &costs = params_.costs;
  const Transfer &t = transfers_[static_cast<std::size_t>(slot)];
  Stream &s = streams_[static_cast<std::size_t>(t.stream)];
  if (!costs.any_before_data() || !s.spec.per_transfer_costs) {
    transfer_ready(slot);
    return;
  }
  std::int64_t posted_ps = now_ps();
  if (costs.post_interval.ps > 0) {
    posted_ps = std::max(posted_ps, s.next_post_ps);
    s.next_post_ps = posted_ps + costs.post_interval.ps;
  }
  if (costs.doorbell_latency.ps > 0)
    ++stats_.doorbells;
  schedule(posted_ps + costs.doorbell_latency.ps, Action::Doorbell, slot);
}

void DmaEngine::transfer_ready(int slot) {
  if (!transfer_may_start(slot))
    return; // the model releases its bytes (release_transfer_bytes)
  Transfer &t = transfers_[static_cast<std::size_t>(slot)];
  t.issue_limit = t.size;
  queue_for_issue(t.stream, slot);
}

std::uint64_t DmaEngine::core_table_address(std::uint64_t offset, std::uint64_t slot,
                                            std::uint64_t entry_bytes) const {
  return wiring_.host_memory_base + offset + (slot * entry_bytes) % kRingBytes;
}

void DmaEngine::send_pending_descriptors() {
  const std::uint32_t bytes = static_cast<std::uint32_t>(params_.costs.descriptor_bytes.count);
  while (!descriptor_pending_.empty() && !free_tags_.empty()) {
    int slot = descriptor_pending_.front();
    descriptor_pending_.pop_front();
    std::uint16_t tag = free_tags_.front();
    free_tags_.pop_front();
    tags_[tag] = Tag{slot, -1, -1, bytes, true};
    ++stats_.descriptor_fetches;
    tlm::tlm_generic_payload &gp = pool_.acquire();
    TlpExtension &tlp = tlp_of(gp);
    tlp.type = TlpType::MRd;
    tlp.address =
        core_table_address(kDescriptorRingOffset, static_cast<std::uint64_t>(slot), bytes);
    tlp.address_type = AddressType::Untranslated;
    tlp.request_bytes = bytes;
    tlp.requester_id = wiring_.bdf.packed();
    tlp.tag = tag;
    port_.send(gp, 0);
  }
}

// After the data and the finish time: the completion write-back, then the MSI-X message
// (posted writes, kept in that order by PCIe ordering); the transfer ends when the last lands.
void DmaEngine::finish_costs(int slot) {
  const DeviceDmaCosts &costs = params_.costs;
  std::uint64_t cookie = kCoreWriteCookie | static_cast<std::uint64_t>(slot);
  std::size_t index = static_cast<std::size_t>(slot);
  if (core_writes_pending_.size() <= index)
    core_writes_pending_.resize(index + 1, 0);
  if (costs.completion_writeback_bytes.count > 0) {
    std::uint32_t bytes = static_cast<std::uint32_t>(costs.completion_writeback_bytes.count);
    send_write(core_table_address(kWritebackRingOffset, index, bytes), bytes, cookie);
    ++stats_.completion_writebacks;
    ++core_writes_pending_[index];
  }
  if (costs.msix) {
    send_write(wiring_.host_memory_base + kMsixOffset, kMsixBytes, cookie);
    ++stats_.msix_sent;
    ++core_writes_pending_[index];
  }
  if (core_writes_pending_[index] == 0)
    core_write_delivered(slot, now_ps());
}

void DmaEngine::core_write_delivered(int slot, std::int64_t at_ps) {
  std::size_t index = static_cast<std::size_t>(slot);
  if (core_writes_pending_[index] > 0 && --core_writes_pending_[index] > 0)
    return;
  transfers_[index].costs_paid = true;
  schedule(at_ps, Action::FinishTransfer, slot);
}

// A read completion's data through the device: its read pipeline, then the data path (one
// server, in arrival order).
std::int64_t DmaEngine::through_device(std::uint32_t bytes, std::int64_t arrived_ps) {
  std::int64_t ready = arrived_ps + read_pipeline_ps_;
  if (datapath_ps_per_byte_ <= 0)
    return ready;
  std::int64_t datapath_ps = busy_ps(bytes * datapath_ps_per_byte_);
  datapath_free_at_ps_ = std::max(ready, datapath_free_at_ps_) + datapath_ps;
  stats_.datapath_busy_ps += datapath_ps;
  return datapath_free_at_ps_;
}

// Then through the read transfer's own DMA channel, in order.
std::int64_t DmaEngine::through_read_channel(int slot, std::uint32_t bytes, std::int64_t ready_ps) {
  if (read_channel_ps_per_byte_ <= 0)
    return ready_ps;
  Transfer &t = transfers_[static_cast<std::size_t>(slot)];
  t.read_channel_free_at_ps =
      std::max(ready_ps, t.read_channel_free_at_ps) + busy_ps(bytes * read_channel_ps_per_byte_);
  return t.read_channel_free_at_ps;
}

// The device's own posted writes (the model's through send_posted_write, the core's
// write-backs and MSI-X), told apart by their cookie when delivered.
void DmaEngine::send_posted_write(std::uint64_t address, std::uint32_t bytes,
                                  std::uint32_t write_id) {
  send_write(address, bytes, kModelWriteCookie | write_id);
}

void DmaEngine::send_write(std::uint64_t address, std::uint32_t bytes, std::uint64_t cookie) {
  tlm::tlm_generic_payload &gp = pool_.acquire();
  TlpExtension &tlp = tlp_of(gp);
  tlp.type = TlpType::MWr;
  tlp.address = address;
  tlp.payload_bytes = bytes;
  tlp.requester_id = wiring_.bdf.packed();
  tlp.cookie = cookie;
  tlp.observer = this;
  ++posted_in_queue_;
  ++stats_.mwr_sent;
  port_.send(gp, 0);
}

} // namespace pciesim
