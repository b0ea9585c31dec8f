// A GPU endpoint: device memory (HBM: a latency and a bandwidth shared by everything that
// touches it), a register BAR and a BAR aperture onto device memory (256 MiB by default, or
// all of it with resizable BAR), copy engines that move data over PCIe with their own
// outstanding-read budgets, and a compute side whose kernels read and write device memory at
// a given rate. Built on the DMA engine core: copy-engine transfers and kernels are streams.
#pragma once

#include <systemc>

#include "models/common/stats.h"
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
  int copy_engine_tags = 64;
  Bytes mrrs{512};
  int posted_window = 32;
  Bytes read_completion_boundary{64};
  PortCapabilities ports = PortCapabilities::with(kPortDefaults);

  static constexpr PortDefaults kPortDefaults{5, 16, 256, 64, 1024, 64, 0, 0, 0};
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
  std::int64_t memory_busy_ps = 0; // device memory serving accesses (peer, copy engine, kernels)

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

private:
  GpuParams gpu_params_;
  double memory_ps_per_byte_;
  std::int64_t memory_free_at_ps_ = 0;
  GpuStats gpu_stats_;
};

} // namespace pciesim
