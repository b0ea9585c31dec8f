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
      stat(&GpuStats::bar_read_waits,
           {"bar_read_waits", "TLPs",
            "peer reads through the BAR that waited for a read slot (bar_read_outstanding)"}),
      stat_of<GpuStats>([](const GpuStats &s) { return s.bar_read_busy_ps / 1000; },
                        {"bar_read_busy_ns", "ns",
                         "time the BAR read path moved data to peers (bar_read_bandwidth)"}),
  });
  return table;
}

const ParamTable<GpuParams> &GpuParams::table() {
  using P = GpuParams;
  static const ParamTable<P> table(
      field(&P::memory_size,
            {"memory_size", ParamKind::size, "16 GiB",
             "device memory (HBM/GDDR): what a workload's buffers may keep on the GPU; managed "
             "memory beyond it is evicted (NVIDIA V100 PCIe 16 GB, docs/references.md)",
             1 << 20, 0}),
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
             "device memory access latency (estimate; DRAM-class: docs/references.md)", 0, 1e9}),
      field(&P::memory_bandwidth,
            {"memory_bandwidth", ParamKind::rate, "2000 GB/s",
             "device memory bandwidth (V100 900 GB/s to H100 SXM 3350 GB/s by generation, NVIDIA "
             "datasheets: docs/references.md)",
             1e9, 0}),
      field(&P::copy_engines,
            {"copy_engines", ParamKind::integer, 2,
             "copy engines (DMA engines moving data over PCIe); transfers pick one", 1, 16}),
      field(&P::copy_engine_tags,
            {"copy_engine_tags", ParamKind::integer, 256,
             "outstanding PCIe reads of one copy engine (10-bit tags): a Blackwell GPU's "
             "host-to-device copy through a PCIe 5.0 switch moves 55 GB/s, which over a read's "
             "round trip of about 1.5 us needs more than 160 reads of 512 B in flight; Ampere "
             "and Ada Lovelace testbeds set 128, two engines sharing 8-bit tags "
             "(docs/references.md)",
             1, 768}),
      field(&P::mrrs, {"mrrs", ParamKind::size, "512 B",
                       "Max_Read_Request_Size of the copy engines", 128, 4096, true}),
      field(&P::posted_window,
            {"posted_window", ParamKind::integer, 32,
             "MWr TLPs the copy engines keep queued at the port before waiting; a read request "
             "queues behind them (a read may not pass a write), so a deep queue slows "
             "host-to-device copies while device-to-host ones run (Blackwell: shallow, as this "
             "default; Ampere and Ada Lovelace: 512; docs/references.md)",
             1, 4096}),
      field(&P::read_completion_boundary, {"read_completion_boundary", ParamKind::size, "64 B",
                                           "RCB of the GPU as completer", 64, 128, true}),
      field(&P::bar_read_latency,
            {"bar_read_latency", ParamKind::time, "400 ns",
             "a peer's read through the BAR1 aperture: time in the GPU's BAR path on top of the "
             "device memory access (estimate: no published figure found; GPUDirect RDMA reads "
             "are known to be slow)",
             0, 1e9}),
      field(&P::bar_read_bandwidth,
            {"bar_read_bandwidth", ParamKind::rate, "50 GB/s",
             "peers' reads through the BAR1 aperture, all together (estimate: NVIDIA's "
             "switch-attached GPUDirect RDMA layouts read GPU memory at the NIC's line rate; the "
             "slow published reads cross root complexes, whose p2p_read_bandwidth models them)",
             1e6, 0}),
      field(&P::bar_read_outstanding,
            {"bar_read_outstanding", ParamKind::integer, 64,
             "peer reads the BAR path serves at once; more wait for a slot (estimate)", 1, 4096}),
      field(&P::semaphore_wait,
            {"semaphore_wait", ParamKind::time, "3.8 us",
             "a copy waiting on a semaphore another GPU releases in host memory starts this long "
             "after the release: CUDA's peer copies with peer access off hand every staged chunk "
             "over that way, both ways (from CUDA's staged 16 B peer copies back to back on two "
             "RTX 6000 Ada, docs/references.md)",
             0, 1e9}),
      nested(&P::ports, port_fields(kPortDefaults)),
      nested(&P::costs, device_dma_cost_fields(kCostDefaults)));
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
  d.costs = costs;
  d.semaphore_wait = semaphore_wait;
  d.group_tags.assign(static_cast<std::size_t>(copy_engines), copy_engine_tags);
  return d;
}

Gpu::Gpu(sc_core::sc_module_name name, const GpuParams &params, DmaEngineWiring wiring,
         SimContext &context)
    : DmaEngine(name, params.engine_params(), std::move(wiring), context), gpu_params_(params),
      memory_ps_per_byte_(1e12 / params.memory_bandwidth.bytes_per_second),
      bar_read_ps_per_byte_(1e12 / params.bar_read_bandwidth.bytes_per_second) {
  for (int i = 0; i < params.bar_read_outstanding; ++i)
    bar_read_slots_.push(0);
}

bool Gpu::in_aperture(std::uint64_t address) const {
  const DmaEngineWiring &w = wiring();
  return w.bar_bases.size() > kApertureBar && address >= w.bar_bases[kApertureBar] &&
         address - w.bar_bases[kApertureBar] < w.bar_sizes[kApertureBar];
}

// One server for all of device memory: accesses queue behind each other for their transfer
// time after the access latency, in the order they reach it. Peer reads through the BAR
// therefore slow down when kernels keep the memory busy.
std::int64_t Gpu::device_memory_access(std::uint32_t bytes, std::int64_t at_ps) {
  std::int64_t busy = busy_ps(bytes * memory_ps_per_byte_);
  memory_.forget_before(now_ps());
  std::int64_t start = memory_.serve(at_ps + gpu_params_.memory_latency.ps, busy);
  gpu_stats_.memory_busy_ps += busy;
  return start + busy;
}

// A peer's read through the aperture waits for one of the BAR path's read slots, crosses the
// path (its latency), reads device memory, and leaves at the path's read bandwidth; the slot
// frees when its data has left. Requests arrive in time order, so the slots and the path are
// served in time order. Writes are posted and take the memory path only.
std::int64_t Gpu::memory_access(bool is_write, std::uint64_t address, std::uint32_t bytes,
                                std::int64_t at_ps) {
  if (is_write || !in_aperture(address))
    return device_memory_access(bytes, at_ps);
  std::int64_t slot_free = bar_read_slots_.top();
  bar_read_slots_.pop();
  if (slot_free > at_ps)
    ++gpu_stats_.bar_read_waits;
  std::int64_t start = std::max(at_ps, slot_free);
  std::int64_t data_ready = device_memory_access(bytes, start + gpu_params_.bar_read_latency.ps);
  std::int64_t busy = busy_ps(bytes * bar_read_ps_per_byte_);
  bar_read_free_at_ps_ = std::max(data_ready, bar_read_free_at_ps_) + busy;
  gpu_stats_.bar_read_busy_ps += busy;
  bar_read_slots_.push(bar_read_free_at_ps_);
  return bar_read_free_at_ps_;
}

} // namespace pciesim
