#include "models/nic/rdma_nic.h"

#include <algorithm>

namespace pciesim {

namespace {
// Where the NIC's MTT lives in its socket's host memory (a 16 MiB table region).
constexpr std::uint64_t kMttTableBytes = 16ull << 20;
// The ATC's page: the Smallest Translation Unit, 4 KiB, one translation each.
constexpr std::uint64_t kAtcPageBytes = 4096;
// InfiniBand transport headers beyond the BTH (IBTA Architecture Specification, vol. 1, the
// extended transport headers): an RDMA WRITE's first (or only) packet carries the RETH
// (virtual address, R_Key, length), an RDMA READ response's first and last (or only) packets
// the AETH.
constexpr std::uint64_t kRethBytes = 16;
constexpr std::uint64_t kAethBytes = 4;
} // namespace

const StatTable<RdmaNicStats> &RdmaNicStats::table() {
  using S = RdmaNicStats;
  static const StatTable<S> table({
      stat(&S::mtt_hits, {"mtt_hits", "count", "requests whose page had its MTT entry cached"}),
      stat(&S::mtt_misses,
           {"mtt_misses", "count", "MTT lines read from host memory because a request missed"}),
      stat(&S::mtt_prefetches,
           {"mtt_prefetches", "count",
            "MTT lines read ahead of a sequential stream (mtt_prefetch_lines)"}),
      stat(&S::atc_hits,
           {"atc_hits", "count", "requests whose page had its ATS translation in the ATC"}),
      stat(&S::atc_misses, {"atc_misses", "count", "ATS Translation Requests sent on an ATC miss"}),
      stat(&S::atc_prefetches,
           {"atc_prefetches", "count",
            "ATS Translation Requests sent ahead, for the pages a request reaches next"}),
      stat(&S::translated_requests,
           {"translated_requests", "TLPs", "requests sent with a translated address (ATS)"}),
      stat(&S::untranslated_requests,
           {"untranslated_requests", "TLPs", "requests sent with an untranslated address"}),
  });
  return table;
}

const ParamTable<RdmaNicParams> &RdmaNicParams::table() {
  using P = RdmaNicParams;
  static const ParamTable<P> table(
      field(&P::line_rate, {"line_rate", ParamKind::rate, "200 Gb/s",
                            "network line rate: RDMA WRITE packets arrive and RDMA READ response "
                            "packets leave at it, with their headers (ConnectX-6 HDR; ConnectX-5 "
                            "100, ConnectX-7 400 Gb/s: docs/references.md)",
                            1e6, 0}),
      field(&P::network_mtu,
            {"network_mtu", ParamKind::size, "4096 B",
             "path MTU: the payload of a full packet (RoCE on 9000-byte Ethernet frames and "
             "InfiniBand: 4096; RoCE on 1500-byte frames: 1024; docs/references.md)",
             256, 4096, true}),
      field(&P::packet_overhead,
            {"packet_overhead", ParamKind::size, "82 B",
             "line bytes of each packet besides its payload: RoCEv2 over Ethernet and IPv4 82 "
             "(preamble, header, FCS and inter-frame gap 38, IPv4 20, UDP 8, BTH 12, ICRC 4), "
             "InfiniBand 26 (LRH 8, BTH 12, ICRC 4, VCRC 2); an RDMA WRITE's first packet adds "
             "its RETH (16), a READ response's first and last its AETH (4); 0: payload only, "
             "no header at all (docs/references.md)",
             0, 1024}),
      field(&P::tags, {"tags", ParamKind::integer, 256,
                       "outstanding PCIe read requests: the 8-bit Tag field Linux enables on "
                       "every device that supports Extended Tags, as ConnectX adapters do "
                       "(docs/references.md)",
                       1, 1024}),
      field(&P::mrrs, {"mrrs", ParamKind::size, "512 B",
                       "Max_Read_Request_Size (as on pcie-bench's hosts: docs/references.md)", 128,
                       4096, true}),
      field(&P::posted_window,
            {"posted_window", ParamKind::integer, 32,
             "MWr TLPs the NIC keeps queued at its port before waiting", 1, 4096}),
      field(&P::rdma_reads_per_qp,
            {"rdma_reads_per_qp", ParamKind::integer, 16,
             "RDMA READs outstanding per queue pair (max_qp_rd_atom of ConnectX adapters: "
             "docs/references.md)",
             1, 256}),
      field(&P::mtt_entries,
            {"mtt_entries", ParamKind::integer, 4096,
             "MTT translation cache entries (0 = MTT lookups not modelled; estimate)", 0, 1 << 24}),
      field(&P::mtt_page_size, {"mtt_page_size", ParamKind::size, "4 KiB",
                                "page size of the memory region's MTT", 4096, 1ull << 30, true}),
      field(&P::mtt_fetch_bytes,
            {"mtt_fetch_bytes", ParamKind::size, "64 B",
             "bytes of MTT entries (8 B each) one miss reads from host memory", 8, 4096, true}),
      field(&P::mtt_prefetch_lines,
            {"mtt_prefetch_lines", ParamKind::integer, 2,
             "MTT lines read ahead of a sequential stream: halfway through a line, the next "
             "this many are fetched if not cached (0 = only on a miss)",
             0, 64}),
      field(&P::ats, {"ats", ParamKind::boolean, false,
                      "Address Translation Services: translate through the ATC, send translated "
                      "requests"}),
      field(&P::atc_entries, {"atc_entries", ParamKind::integer, 256,
                              "ATS translation cache entries (estimate)", 1, 1 << 20}),
      field(&P::atc_prefetch_pages,
            {"atc_prefetch_pages", ParamKind::integer, 4,
             "pages past the one a request reaches whose ATS translations the NIC asks for ahead "
             "(0 = only on a miss; estimate: docs/references.md)",
             0, 64}),
      field(&P::register_bar, {"register_bar", ParamKind::size, "32 MiB",
                               "BAR0: registers and doorbells", 4096, 0, true}),
      field(&P::bar_latency,
            {"bar_latency", ParamKind::time, "100 ns",
             "latency of the NIC's registers behind BAR0 (estimate; the dma_engine's default, "
             "which the NIC ran on before it had this parameter)",
             0, 1e9}),
      field(&P::bar_bandwidth,
            {"bar_bandwidth", ParamKind::rate, "32 GB/s",
             "bandwidth of the NIC's registers behind BAR0 (estimate; the dma_engine's default, "
             "which the NIC ran on before it had this parameter)",
             1e6, 0}),
      field(&P::read_completion_boundary,
            {"read_completion_boundary", ParamKind::size, "64 B",
             "RCB of the NIC as completer of reads to its BAR (PCIe Base Spec: 64 B or 128 B; "
             "the dma_engine's default, which the NIC ran on before it had this parameter)",
             64, 128, true}),
      nested(&P::ports, port_fields(kPortDefaults)),
      nested(&P::costs, device_dma_cost_fields(kCostDefaults)));
  return table;
}

std::vector<Bytes> RdmaNicParams::bar_sizes(const ParamSet &params) {
  return {params.bytes("register_bar")};
}

DmaEngineParams RdmaNicParams::engine_params() const {
  DmaEngineParams d = core_params_of(*this);
  d.network_rate = line_rate;
  return d;
}

RdmaNic::RdmaNic(sc_core::sc_module_name name, const RdmaNicParams &params, DmaEngineWiring wiring,
                 SimContext &context)
    : DmaEngine(name, params.engine_params(), std::move(wiring), context), nic_params_(params),
      pages_per_mtt_line_(params.mtt_fetch_bytes.count / 8), mtu_(params.network_mtu.count) {
  if (params.mtt_entries > 0)
    mtt_ = std::make_unique<TranslationCache>(static_cast<std::size_t>(params.mtt_entries), 0,
                                              params.mtt_page_size);
  if (params.ats)
    atc_ = std::make_unique<TranslationCache>(static_cast<std::size_t>(params.atc_entries), 0,
                                              Bytes{kAtcPageBytes});
}

std::uint64_t RdmaNic::mtt_line_address(std::uint64_t line) const {
  return wiring().host_memory_base + (line * nic_params_.mtt_fetch_bytes.count) % kMttTableBytes;
}

void RdmaNic::invalidate(std::uint64_t address, std::uint64_t bytes) {
  if (mtt_)
    mtt_->invalidate(address, bytes);
  if (atc_)
    atc_->invalidate(address, bytes);
}

std::uint64_t RdmaNic::wire_bytes(bool rdma_write, std::uint64_t offset, std::uint32_t bytes,
                                  std::uint64_t message_bytes) const {
  const std::uint64_t overhead = nic_params_.packet_overhead.count;
  if (overhead == 0)
    return bytes;
  // Packets start every MTU of the message: those whose first byte is in the range.
  const std::uint64_t mtu = mtu_.divisor();
  const std::uint64_t first = mtu_.quotient(offset + mtu - 1);
  const std::uint64_t end = mtu_.quotient(offset + bytes + mtu - 1);
  std::uint64_t wire = bytes + (end - first) * overhead;
  if (offset == 0)
    wire += rdma_write ? kRethBytes : kAethBytes;
  const std::uint64_t last = message_bytes > 0 ? mtu_.quotient(message_bytes - 1) : 0;
  if (!rdma_write && last > 0 && last >= first && last < end)
    wire += kAethBytes;
  return wire;
}

// The line rate is the engine's network_rate (RdmaNicParams::engine_params).
std::int64_t RdmaNic::pace(const DmaStreamSpec &spec, std::int64_t transfer_start_ps,
                           std::uint64_t offset, std::uint32_t bytes) {
  const Bandwidth &line_rate = params().network_rate;
  if (!spec.is_write || line_rate.bytes_per_second <= 0)
    return 0;
  return std::max(network_rx_until_ps_, transfer_start_ps) +
         serialization_ps(wire_bytes(true, offset, bytes, spec.transfer_bytes), line_rate);
}

std::int64_t RdmaNic::completion_drained_ps(std::uint64_t offset, std::uint32_t bytes,
                                            std::uint64_t message_bytes, std::int64_t ready_ps) {
  const Bandwidth &line_rate = params().network_rate;
  if (line_rate.bytes_per_second <= 0)
    return ready_ps;
  network_tx_until_ps_ =
      std::max(network_tx_until_ps_, ready_ps) +
      serialization_ps(wire_bytes(false, offset, bytes, message_bytes), line_rate);
  return network_tx_until_ps_;
}

DmaEngine::Gate RdmaNic::gate_request(int stream, std::uint64_t address) {
  if (mtt_) {
    std::uint64_t page = mtt_->page_of(address);
    std::uint64_t line = pages_per_mtt_line_.quotient(page);
    if (fetch_pending(FetchKind::MttLine, line))
      return Gate::Wait;
    if (!mtt_->contains(page)) {
      if (request_mtt_line(line) < 0)
        return Gate::Wait; // no tag free: retried when one frees
      ++nic_stats_.mtt_misses;
      return Gate::Wait;
    }
    mtt_->lookup(page);
    // Sequential prefetch: halfway through a line, fetch the next ones so that a streaming
    // transfer does not stall on every line (while a tag is spare for them; no retry
    // otherwise). They may lie past the transfer's end: the next transfer of a workload often
    // goes on there.
    if (pages_per_mtt_line_.remainder(page) == pages_per_mtt_line_.divisor() / 2) {
      const std::uint64_t last = line + static_cast<std::uint64_t>(nic_params_.mtt_prefetch_lines);
      for (std::uint64_t next = line + 1; next <= last && free_tag_count() > 1; ++next) {
        if (mtt_->contains(next * pages_per_mtt_line_.divisor()) ||
            fetch_pending(FetchKind::MttLine, next))
          continue;
        if (request_mtt_line(next) >= 0)
          ++nic_stats_.mtt_prefetches;
      }
    }
  }
  // An MTT hit counts for the request that goes, not for each attempt: how often the engine
  // asks while the ATC waits for a translation is no property of the cache.
  if (!atc_) {
    nic_stats_.mtt_hits += mtt_ != nullptr;
    ++nic_stats_.untranslated_requests;
    return Gate::Untranslated;
  }
  std::uint64_t page = atc_->page_of(address);
  if (fetch_pending(FetchKind::Translation, page))
    return Gate::Wait;
  if (!atc_->contains(page)) {
    if (request_translation(page) < 0)
      return Gate::Wait;
    ++nic_stats_.atc_misses;
    return Gate::Wait;
  }
  atc_->lookup(page);
  // Translations ahead: the pages of its buffer a streaming transfer reaches next are asked
  // for while this one is read, so it does not wait a round trip to the IOMMU at every page
  // (while a tag is spare for them; no retry otherwise).
  const DmaStreamSpec &spec = stream_spec(stream);
  const std::uint64_t buffer_end =
      spec.target_address + std::max(spec.region_bytes, spec.transfer_bytes);
  const std::uint64_t last =
      std::min(page + static_cast<std::uint64_t>(nic_params_.atc_prefetch_pages),
               atc_->page_of(buffer_end - 1));
  for (std::uint64_t ahead = page + 1; ahead <= last && free_tag_count() > 1; ++ahead) {
    if (atc_->contains(ahead) || fetch_pending(FetchKind::Translation, ahead))
      continue;
    if (request_translation(ahead) >= 0)
      ++nic_stats_.atc_prefetches;
  }
  nic_stats_.mtt_hits += mtt_ != nullptr;
  ++nic_stats_.atc_hits;
  ++nic_stats_.translated_requests;
  return Gate::Translated;
}

int RdmaNic::start_fetch(FetchKind kind, std::uint64_t key, std::uint64_t address,
                         std::uint32_t bytes, AddressType type) {
  int id = free_fetches_.empty() ? static_cast<int>(fetches_.size()) : free_fetches_.back();
  if (!send_fetch(address, bytes, type, id))
    return -1;
  if (id == static_cast<int>(fetches_.size()))
    fetches_.push_back({kind, key, true});
  else {
    free_fetches_.pop_back();
    fetches_[static_cast<std::size_t>(id)] = {kind, key, true};
  }
  return id;
}

int RdmaNic::request_mtt_line(std::uint64_t line) {
  return start_fetch(FetchKind::MttLine, line, mtt_line_address(line),
                     static_cast<std::uint32_t>(nic_params_.mtt_fetch_bytes.count),
                     AddressType::Untranslated);
}

int RdmaNic::request_translation(std::uint64_t page) {
  return start_fetch(FetchKind::Translation, page, page * kAtcPageBytes, 8,
                     AddressType::TranslationRequest);
}

bool RdmaNic::fetch_pending(FetchKind kind, std::uint64_t key) const {
  for (const Fetch &f : fetches_)
    if (f.in_flight && f.key == key && f.kind == kind)
      return true;
  return false;
}

void RdmaNic::fetch_completed(int fetch_id) {
  Fetch f = fetches_[static_cast<std::size_t>(fetch_id)];
  fetches_[static_cast<std::size_t>(fetch_id)].in_flight = false;
  free_fetches_.push_back(fetch_id);
  if (f.kind == FetchKind::MttLine) {
    // One read brings the entries of every page of the line.
    for (std::uint64_t p = 0; p < pages_per_mtt_line_.divisor(); ++p)
      mtt_->insert(f.key * pages_per_mtt_line_.divisor() + p);
  } else {
    atc_->insert(f.key);
  }
}

} // namespace pciesim
