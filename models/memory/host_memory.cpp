#include "models/memory/host_memory.h"

#include <algorithm>
#include <cmath>

#include "models/common/sim_time.h"

namespace pciesim {

const std::vector<ParamSpec> &HostMemoryParams::specs() {
  static const std::vector<ParamSpec> specs = {
      {"size", ParamKind::size, "64 GiB", "capacity of this socket's DRAM", 1 << 20, 0},
      {"latency", ParamKind::time, "80 ns", "DRAM access latency (MODELING.md §4: 60-120 ns)", 0,
       1e9},
      {"bandwidth", ParamKind::rate, "100 GB/s",
       "DRAM bandwidth per socket (MODELING.md §4: 50-300 GB/s)", 1e6, 0},
  };
  return specs;
}

HostMemoryParams HostMemoryParams::from(const ParamSet &p) {
  HostMemoryParams m;
  m.size = p.bytes("size");
  m.latency = p.duration("latency");
  m.bandwidth = p.bandwidth("bandwidth");
  return m;
}

HostMemory::HostMemory(sc_core::sc_module_name name, const HostMemoryParams &params)
    : sc_module(name), socket("socket"), params_(params),
      ps_per_byte_(1e12 / params.bandwidth.bytes_per_second) {
  socket.register_b_transport(this, &HostMemory::b_transport);
}

void HostMemory::b_transport(tlm::tlm_generic_payload &gp, sc_core::sc_time &delay) {
  std::int64_t now = now_ps();
  std::int64_t arrive = now + time_to_ps(delay);
  std::int64_t bytes = gp.get_data_length();
  std::int64_t transfer = busy_ps(bytes * ps_per_byte_);
  std::int64_t start = std::max(arrive, busy_until_ps_);
  busy_until_ps_ = start + transfer;
  stats_.busy_ps += transfer;
  if (gp.is_read()) {
    ++stats_.reads;
    stats_.bytes_read += static_cast<std::uint64_t>(bytes);
  } else {
    ++stats_.writes;
    stats_.bytes_written += static_cast<std::uint64_t>(bytes);
  }
  if (auto *timing = gp.get_extension<MemoryTimingExtension>())
    timing->accepted_at_ps = start;
  delay = ps_to_time(start + transfer + params_.latency.ps - now);
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

} // namespace pciesim
