#include "models/memory/host_memory.h"

#include <algorithm>
#include <cmath>

#include "models/common/sim_time.h"

namespace pciesim {

const StatTable<HostMemoryStats> &HostMemoryStats::table() {
  using S = HostMemoryStats;
  static const StatTable<S> table({
      stat(&S::reads, {"reads", "count", "read accesses served"}),
      stat(&S::writes, {"writes", "count", "write accesses served"}),
      stat(&S::bytes_read, {"bytes_read", "bytes", "bytes read"}),
      stat(&S::bytes_written, {"bytes_written", "bytes", "bytes written"}),
      stat(&S::busy_ps, {"busy_ps", "ps", "time the bandwidth server was transferring"}),
  });
  return table;
}

const ParamTable<HostMemoryParams> &HostMemoryParams::table() {
  using P = HostMemoryParams;
  static const ParamTable<P> table(
      field(&P::size,
            {"size", ParamKind::size, "64 GiB", "capacity of this socket's DRAM", 1 << 20, 0}),
      field(&P::latency, {"latency", ParamKind::time, "80 ns",
                          "DRAM access latency (MODELING.md §4: 60-120 ns)", 0, 1e9}),
      field(&P::bandwidth, {"bandwidth", ParamKind::rate, "100 GB/s",
                            "DRAM bandwidth per socket (MODELING.md §4: 50-300 GB/s)", 1e6, 0}));
  return table;
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
