#include "models/gpu/gpu.h"

#include <algorithm>
#include <cmath>

namespace pciesim {

const StatTable<GpuStats> &GpuStats::table() {
  static const StatTable<GpuStats> table({
      stat_of<GpuStats>([](const GpuStats &s) { return s.memory_busy_ps / 1000; },
                        {"memory_busy_ns", "ns",
                         "time device memory was busy serving accesses (peers through the BAR, "
                         "copy engines, kernels)"}),
  });
  return table;
}

const ParamTable<GpuParams> &GpuParams::table() {
  using P = GpuParams;
  static const ParamTable<P> table(
      field(&P::memory_size,
            {"memory_size", ParamKind::size, "16 GiB", "device memory (HBM/GDDR)", 1 << 20, 0}),
      field(&P::bar_aperture,
            {"bar_aperture", ParamKind::size, "256 MiB",
             "BAR1 aperture onto device memory without resizable BAR (a power of two)", 1 << 20, 0,
             true}),
      field(&P::resizable_bar,
            {"resizable_bar", ParamKind::boolean, false,
             "Resizable BAR: BAR1 covers all of device memory (rounded up to a power of two)"}),
      field(&P::register_bar, {"register_bar", ParamKind::size, "16 MiB",
                               "BAR0: registers (a power of two)", 4096, 0, true}),
      field(&P::memory_latency,
            {"memory_latency", ParamKind::time, "100 ns",
             "device memory access latency (estimate; DRAM-class, MODELING.md §4)", 0, 1e9}),
      field(&P::memory_bandwidth,
            {"memory_bandwidth", ParamKind::rate, "2000 GB/s",
             "device memory bandwidth (MODELING.md §4: 900-3350 GB/s by generation)", 1e9, 0}),
      field(&P::copy_engines,
            {"copy_engines", ParamKind::integer, 2,
             "copy engines (DMA engines moving data over PCIe); transfers pick one", 1, 16}),
      field(&P::copy_engine_tags, {"copy_engine_tags", ParamKind::integer, 64,
                                   "outstanding PCIe reads of one copy engine (estimate)", 1, 256}),
      field(&P::mrrs, {"mrrs", ParamKind::size, "512 B",
                       "Max_Read_Request_Size of the copy engines", 128, 4096, true}),
      field(&P::posted_window,
            {"posted_window", ParamKind::integer, 32,
             "MWr TLPs the copy engines keep queued at the port before waiting", 1, 4096}),
      field(&P::read_completion_boundary, {"read_completion_boundary", ParamKind::size, "64 B",
                                           "RCB of the GPU as completer", 64, 128, true}),
      nested(&P::ports, port_fields(kPortDefaults)));
  return table;
}

Bytes GpuParams::aperture() const {
  if (!resizable_bar)
    return bar_aperture;
  std::uint64_t size = 1;
  while (size < memory_size.count)
    size <<= 1;
  return Bytes{size};
}

std::vector<Bytes> GpuParams::bar_sizes(const ParamSet &params) {
  GpuParams g = from(params);
  return {g.register_bar, g.aperture()};
}

DmaEngineParams GpuParams::engine_params() const {
  DmaEngineParams d;
  d.mrrs = mrrs;
  d.tags = copy_engines * copy_engine_tags;
  d.posted_window = posted_window;
  d.read_completion_boundary = read_completion_boundary;
  d.ports = ports;
  d.group_tags.assign(static_cast<std::size_t>(copy_engines), copy_engine_tags);
  return d;
}

Gpu::Gpu(sc_core::sc_module_name name, const GpuParams &params, DmaEngineWiring wiring,
         SimContext &context)
    : DmaEngine(name, params.engine_params(), std::move(wiring), context), gpu_params_(params),
      memory_ps_per_byte_(1e12 / params.memory_bandwidth.bytes_per_second) {}

// One server for all of device memory: accesses queue behind each other for their transfer
// time after the access latency. Peer reads through the BAR therefore slow down when
// kernels keep the memory busy.
std::int64_t Gpu::memory_access(bool, std::uint64_t, std::uint32_t bytes, std::int64_t at_ps) {
  std::int64_t start = std::max(at_ps + gpu_params_.memory_latency.ps, memory_free_at_ps_);
  std::int64_t busy = busy_ps(bytes * memory_ps_per_byte_);
  memory_free_at_ps_ = start + busy;
  gpu_stats_.memory_busy_ps += busy;
  return memory_free_at_ps_;
}

} // namespace pciesim
