#include "models/gpu/gpu.h"

#include <algorithm>
#include <cmath>

namespace pciesim {

const std::vector<ParamSpec> &GpuParams::specs() {
  static const std::vector<ParamSpec> specs = [] {
    std::vector<ParamSpec> s = {
        {"memory_size", ParamKind::size, "16 GiB", "device memory (HBM/GDDR)", 1 << 20, 0},
        {"bar_aperture", ParamKind::size, "256 MiB",
         "BAR1 aperture onto device memory without resizable BAR (a power of two)", 1 << 20, 0,
         true},
        {"resizable_bar", ParamKind::boolean, false,
         "Resizable BAR: BAR1 covers all of device memory (rounded up to a power of two)"},
        {"register_bar", ParamKind::size, "16 MiB", "BAR0: registers (a power of two)", 4096, 0,
         true},
        {"memory_latency", ParamKind::time, "100 ns",
         "device memory access latency (estimate; DRAM-class, MODELING.md §4)", 0, 1e9},
        {"memory_bandwidth", ParamKind::rate, "2000 GB/s",
         "device memory bandwidth (MODELING.md §4: 900-3350 GB/s by generation)", 1e9, 0},
        {"copy_engines", ParamKind::integer, 2,
         "copy engines (DMA engines moving data over PCIe); transfers pick one", 1, 16},
        {"copy_engine_tags", ParamKind::integer, 64,
         "outstanding PCIe reads of one copy engine (estimate)", 1, 256},
        {"mrrs", ParamKind::size, "512 B", "Max_Read_Request_Size of the copy engines", 128, 4096,
         true},
        {"posted_window", ParamKind::integer, 32,
         "MWr TLPs the copy engines keep queued at the port before waiting", 1, 4096},
        {"read_completion_boundary", ParamKind::size, "64 B", "RCB of the GPU as completer", 64,
         128, true},
    };
    append_port_specs(s, PortDefaults{5, 16, "256 B", 64, 1024, 64, 0, 0, 0});
    return s;
  }();
  return specs;
}

GpuParams GpuParams::from(const ParamSet &p) {
  GpuParams g;
  g.memory_size = p.bytes("memory_size");
  g.bar_aperture = p.bytes("bar_aperture");
  g.resizable_bar = p.boolean("resizable_bar");
  g.register_bar = p.bytes("register_bar");
  g.memory_latency = p.duration("memory_latency");
  g.memory_bandwidth = p.bandwidth("memory_bandwidth");
  g.copy_engines = static_cast<int>(p.integer("copy_engines"));
  g.copy_engine_tags = static_cast<int>(p.integer("copy_engine_tags"));
  g.mrrs = p.bytes("mrrs");
  g.posted_window = static_cast<int>(p.integer("posted_window"));
  g.read_completion_boundary = p.bytes("read_completion_boundary");
  g.ports = port_capabilities_from(p);
  return g;
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
  memory_busy_ps_ += busy;
  return memory_free_at_ps_;
}

} // namespace pciesim
