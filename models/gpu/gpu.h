// A GPU endpoint: device memory (HBM: a latency and a bandwidth shared by everything that
// touches it), a register BAR and a BAR aperture onto device memory (256 MiB by default, or
// all of it with resizable BAR), copy engines that move data over PCIe with their own
// outstanding-read budgets, and a compute side whose kernels read and write device memory at
// a given rate. Built on the DMA engine core: copy-engine transfers and kernels are streams.
#pragma once

#include <vector>

#include <systemc>

#include "models/common/arrival_ordered_queue.h"
#include "models/common/stats.h"
#include "models/common/time_ordered_server.h"
#include "models/dma/dma_engine.h"

namespace pciesim {

struct GpuParams {
  Bytes memory_size{16ull << 30};
  Bytes bar_aperture{256ull << 20};
  bool resizable_bar = false;
  Bytes register_bar{16ull << 20};
  Duration memory_latency{100000};
  Bandwidth memory_bandwidth{2000e9};
  int copy_engines = 2;
  int copy_engine_tags = 256;
  Bytes mrrs{512};
  int posted_window = 32;
  Bytes read_completion_boundary{64};
  // The BAR1 completer: peers' reads of device memory through the aperture.
  Duration bar_read_latency{400000};
  Bandwidth bar_read_bandwidth{50e9};
  int bar_read_outstanding = 64;
  Duration semaphore_wait{3800000};
  PortCapabilities ports = PortCapabilities::with(kPortDefaults);
  DeviceDmaCosts costs = device_dma_costs_with(kCostDefaults);

  static constexpr PortDefaults kPortDefaults{5, 16, 256, 128, 2048, 64, 0, 0, 0};
  // Copy engines: a copy's fixed time before its first TLP (fetching and decoding the copy's
  // methods, its semaphore), from the per-copy time of small copies back to back in one stream;
  // migrations pay the driver's copy_engine_setup per batch instead. A read of host or peer
  // memory also spends time inside the GPU (its hub and the write into device memory): the
  // host-to-device copies of the same run start about 1 us later than the device-to-host ones.
  // No other internal cost was published: off (the fabric only).
  static constexpr DeviceDmaCostDefaults kCostDefaults = [] {
    DeviceDmaCostDefaults d = no_device_costs(
        "GPU copy engines: setup and read pipeline from the per-copy time of CUDA "
        "bandwidthTest's pinned copies on a V100, each direction against size; other "
        "generations take theirs from a device file (\"device\": nvidia-ada, nvidia-blackwell, "
        "amd-vega20 ...; docs/references.md); the rest estimate 0, no published measurement "
        "found");
    d.setup_latency = "1.5 us";
    d.read_pipeline_latency = "950 ns";
    return d;
  }();
  static const ParamTable<GpuParams> &table();
  static const std::vector<ParamSpec> &specs() { return table().specs(); }
  static GpuParams from(const ParamSet &params) { return table().from(params); }
  // The BAR1 aperture: all of device memory (next power of two) with resizable BAR.
  Bytes aperture() const;
  static std::vector<Bytes> bar_sizes(const ParamSet &params);
  DmaEngineParams engine_params() const;
};

// The GPU's counters besides its DMA engine core's (DmaEngineStats).
struct GpuStats {
  std::int64_t memory_busy_ps = 0;   // device memory serving accesses (peer, copy engine, kernels)
  std::uint64_t bar_read_waits = 0;  // peer reads that found every BAR read slot busy
  std::int64_t bar_read_busy_ps = 0; // the BAR read path moving data

  static const StatTable<GpuStats> &table();
  template <class F> void for_each(F &&f) const { table().for_each(*this, f); }
};

class Gpu : public DmaEngine {
public:
  static constexpr int kApertureBar = 1;

  Gpu(sc_core::sc_module_name name, const GpuParams &params, DmaEngineWiring wiring,
      SimContext &context);

  const GpuParams &gpu_params() const { return gpu_params_; }
  const GpuStats &gpu_stats() const { return gpu_stats_; }
  nlohmann::ordered_json stats_json() const override {
    nlohmann::ordered_json j = DmaEngine::stats_json();
    j.update(stats_to_json(gpu_stats_));
    return j;
  }

protected:
  std::int64_t memory_access(bool is_write, std::uint64_t address, std::uint32_t bytes,
                             std::int64_t at_ps) override;
  // The GPU's own kernels reach device memory directly, not through the BAR1 read path.
  std::int64_t local_memory_access(bool, std::uint64_t, std::uint32_t bytes,
                                   std::int64_t at_ps) override {
    return device_memory_access(bytes, at_ps);
  }

private:
  std::int64_t device_memory_access(std::uint32_t bytes, std::int64_t at_ps);
  bool in_aperture(std::uint64_t address) const;

  GpuParams gpu_params_;
  double memory_ps_per_byte_;
  // Device memory serves accesses in the order they reach it: a peer's read is booked when
  // its request arrives, for after the BAR path's latency, and a write arriving meanwhile
  // must not queue behind it.
  TimeOrderedServer memory_;
  double bar_read_ps_per_byte_;
  std::int64_t bar_read_free_at_ps_ = 0;
  // When each of the BAR path's read slots frees (bar_read_outstanding of them), earliest first.
  // A slot frees when the BAR path does, which only moves later, so the times come in order
  // and the sorted ring takes each at its end.
  ArrivalOrderedQueue<std::int64_t> bar_read_slots_;
  GpuStats gpu_stats_;
};

} // namespace pciesim
