// An RDMA NIC endpoint: queue pairs post RDMA READ/WRITE work requests over a memory region;
// the network side sources and sinks at line rate. An RDMA WRITE arriving from the network
// becomes posted MWr into the target as its data arrives; an RDMA READ by a remote peer
// becomes MRd to the target whose completions leave on the wire at line rate. Before the
// DMA engine touches a page it needs the page's translation from its MTT cache (a miss reads
// the MTT entries from host memory over PCIe) and, with ATS, from its ATC (a miss sends an
// ATS Translation Request to the root complex; hits go out as translated requests).
#pragma once

#include <memory>
#include <vector>

#include <systemc>

#include "models/common/fixed_divisor.h"
#include "models/common/stats.h"
#include "models/dma/dma_engine.h"
#include "models/iommu/translation_cache.h"

namespace pciesim {

struct RdmaNicParams {
  Bandwidth line_rate{25e9}; // 200 Gb/s
  Bytes network_mtu{4096};   // payload of a full network packet
  Bytes packet_overhead{82}; // what each packet carries besides payload (RoCEv2, Ethernet)
  int tags = 256;
  Bytes mrrs{512};
  int posted_window = 32;
  int rdma_reads_per_qp = 16;
  int mtt_entries = 4096;
  Bytes mtt_page_size{4096};
  Bytes mtt_fetch_bytes{64};
  int mtt_prefetch_lines = 2;
  bool ats = false;
  int atc_entries = 256;
  int atc_prefetch_pages = 4;
  Bytes register_bar{32ull << 20};
  Duration bar_latency{100000};
  Bandwidth bar_bandwidth{32e9};
  Bytes read_completion_boundary{64};
  PortCapabilities ports = PortCapabilities::with(kPortDefaults);
  DeviceDmaCosts costs = device_dma_costs_with(kCostDefaults);

  static constexpr PortDefaults kPortDefaults{5, 16, 512, 64, 1024, 64, 0, 0, 0};
  // The read pipeline of the NFP6000 pcie-bench measured (a SmartNIC's PCIe core); its issue
  // rate and data path belong to a 40 GbE part and would cap a line-rate NIC, so they stay
  // unlimited. No descriptor, write-back or interrupt: the responder of one-sided RDMA posts
  // none. A transfer's messages are posted by one thread (the requester's, here or across the
  // network), one work request and doorbell each, as perftest posts them: 7.0 M a second on one
  // queue pair whatever their size up to 1 KiB.
  static constexpr DeviceDmaCostDefaults kCostDefaults = [] {
    DeviceDmaCostDefaults d = no_device_costs(
        "post interval from ib_write_bw -q 1's 7.0 M messages a second of 2-128 B on a 100 GbE "
        "RoCE host; read pipeline as the generic dma_engine's (pcie-bench NFP6000); issue "
        "rate and data path unlimited (estimate: built for the line rate); docs/references.md");
    d.post_interval = "143 ns";
    d.read_pipeline_latency = DmaEngineParams::kCostDefaults.read_pipeline_latency;
    return d;
  }();
  static const ParamTable<RdmaNicParams> &table();
  static const std::vector<ParamSpec> &specs() { return table().specs(); }
  static RdmaNicParams from(const ParamSet &params) { return table().from(params); }
  static std::vector<Bytes> bar_sizes(const ParamSet &params);
  DmaEngineParams engine_params() const;
};

struct RdmaNicStats {
  std::uint64_t mtt_hits = 0, mtt_misses = 0, mtt_prefetches = 0;
  std::uint64_t atc_hits = 0, atc_misses = 0, atc_prefetches = 0;
  std::uint64_t translated_requests = 0, untranslated_requests = 0;
  static const StatTable<RdmaNicStats> &table();
  template <class F> void for_each(F &&f) const { table().for_each(*this, f); }
};

class RdmaNic : public DmaEngine {
public:
  RdmaNic(sc_core::sc_module_name name, const RdmaNicParams &params, DmaEngineWiring wiring,
          SimContext &context);

  const RdmaNicParams &nic_params() const { return nic_params_; }
  const RdmaNicStats &nic_stats() const { return nic_stats_; }
  nlohmann::ordered_json stats_json() const override {
    nlohmann::ordered_json j = DmaEngine::stats_json();
    j.update(stats_to_json(nic_stats_));
    return j;
  }
  // Drops cached translations of a range (an MTT zap or an ATS invalidation).
  void invalidate(std::uint64_t address, std::uint64_t bytes) override;

protected:
  Gate gate_request(int stream, std::uint64_t address) override;
  void fetch_completed(int fetch_id) override;
  // The network side at line rate: an RDMA WRITE's MWr waits for its data to arrive, and an
  // RDMA READ's completion data holds its tag until it has left.
  std::int64_t pace(const DmaStreamSpec &spec, std::int64_t transfer_start_ps, std::uint64_t offset,
                    std::uint32_t bytes) override;
  void paced_request_issued(std::int64_t ready_ps) override { network_rx_until_ps_ = ready_ps; }
  std::int64_t completion_drained_ps(std::uint64_t offset, std::uint32_t bytes,
                                     std::uint64_t message_bytes, std::int64_t ready_ps) override;

private:
  // Bytes on the wire for the payload [offset, offset + bytes) of a message of
  // `message_bytes`: the payload, the per-packet overhead of each packet that starts in it,
  // and the transport's extended headers on the packets that carry them.
  std::uint64_t wire_bytes(bool rdma_write, std::uint64_t offset, std::uint32_t bytes,
                           std::uint64_t message_bytes) const;
  enum class FetchKind { MttLine, Translation };
  struct Fetch {
    FetchKind kind;
    std::uint64_t key; // MTT line or ATC page
    bool in_flight;
  };
  // Whether a fetch of `key` is in flight. A scan: at most one fetch per tag is in flight,
  // and this runs per TLP, where a hash map's lookups cost more than a few compares.
  bool fetch_pending(FetchKind kind, std::uint64_t key) const;
  // A read of MTT line `line` (mtt_fetch_bytes of entries) from host memory. Returns the fetch
  // id, or -1 when no tag is free.
  int request_mtt_line(std::uint64_t line);
  // An ATS Translation Request for ATC page `page`: a read of one 8-byte translation
  // completion. Returns the fetch id, or -1 when no tag is free.
  int request_translation(std::uint64_t page);
  std::uint64_t mtt_line_address(std::uint64_t line) const;
  // Sends the read behind a miss; its id, or -1 when no tag is free.
  int start_fetch(FetchKind kind, std::uint64_t key, std::uint64_t address, std::uint32_t bytes,
                  AddressType type);

  RdmaNicParams nic_params_;
  std::unique_ptr<TranslationCache> mtt_;
  std::unique_ptr<TranslationCache> atc_;
  FixedDivisor pages_per_mtt_line_; // divided by at every request
  FixedDivisor mtu_;                // network_mtu: packets per message, at every TLP
  std::vector<Fetch> fetches_;      // indexed by fetch id; ids of finished fetches are reused
  std::vector<int> free_fetches_;
  RdmaNicStats nic_stats_;
  std::int64_t network_rx_until_ps_ = 0; // line-rate arrival of RDMA WRITE data
  std::int64_t network_tx_until_ps_ = 0; // line-rate departure of RDMA READ data
};

} // namespace pciesim
