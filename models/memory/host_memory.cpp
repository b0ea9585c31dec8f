// Host memory: the parameter and stat tables, and the channel servers (see the header).
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
      stat(&S::busy_ps,
           {"busy_ps", "ps", "time the channels were transferring, summed over channels"}),
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
      field(&P::bandwidth,
            {"bandwidth", ParamKind::rate, "100 GB/s",
             "DRAM bandwidth per socket, split evenly across its channels (MODELING.md §4: "
             "50-300 GB/s)",
             1e6, 0}),
      field(&P::channels,
            {"channels", ParamKind::integer, 8,
             "memory channels per socket, each served in the order accesses reach it (8 on "
             "Ice Lake-SP, AMD EPYC 7002/7003: docs/references.md)",
             1, 64}),
      field(&P::interleave,
            {"interleave", ParamKind::size, "256 B",
             "channel interleave granule: each run of `channels` consecutive blocks of this "
             "size spreads over all channels, in an order hashed from the address (estimate)",
             64, 1 << 30, true}));
  return table;
}

HostMemory::HostMemory(sc_core::sc_module_name name, const HostMemoryParams &params)
    : sc_module(name), socket("socket"), params_(params),
      ps_per_byte_per_channel_(1e12 * std::max(params.channels, 1) /
                               params.bandwidth.bytes_per_second),
      channels_(static_cast<std::size_t>(std::max(params.channels, 1))) {
  socket.register_b_transport(this, &HostMemory::b_transport);
}

namespace {

// Channel of interleave block `block`: within each group of `channels` consecutive blocks
// every channel takes one in turn, and a hash of the group number rotates the order from one
// group to the next. Memory controllers hash upper address bits into the channel select for
// the same reason: a power-of-two stride (one 256 B read per 4 KiB page) would otherwise land
// on a single channel.
std::size_t channel_of(std::uint64_t block, std::size_t channels) {
  std::uint64_t group = block / channels;
  std::uint64_t rotation = (group * 0x9e3779b97f4a7c15ull) >> 32; // Fibonacci hashing
  return static_cast<std::size_t>((block % channels + rotation) % channels);
}

} // namespace

template <class F>
void HostMemory::for_each_block(std::uint64_t address, std::uint64_t bytes, F &&serve) {
  if (channels_.size() == 1) {
    serve(channels_.front(), bytes);
    return;
  }
  std::uint64_t granule = params_.interleave.count;
  do {
    std::uint64_t block = address / granule;
    std::uint64_t in_block = std::min(bytes, (block + 1) * granule - address);
    serve(channels_[channel_of(block, channels_.size())], in_block);
    address += in_block;
    bytes -= in_block;
  } while (bytes > 0);
}

void HostMemory::b_transport(tlm::tlm_generic_payload &gp, sc_core::sc_time &delay) {
  std::int64_t now = now_ps();
  std::int64_t arrive = now + time_to_ps(delay);
  std::int64_t bytes = gp.get_data_length();
  // The access is taken when the last channel it needs takes its part, and complete when the
  // last part has been transferred.
  std::int64_t accepted = arrive, transferred = arrive;
  for_each_block(gp.get_address(), static_cast<std::uint64_t>(bytes),
                 [&](TimeOrderedServer &channel, std::uint64_t block_bytes) {
                   channel.forget_before(now);
                   std::int64_t transfer = busy_ps(block_bytes * ps_per_byte_per_channel_);
                   std::int64_t start = channel.serve(arrive, transfer);
                   accepted = std::max(accepted, start);
                   transferred = std::max(transferred, start + transfer);
                   stats_.busy_ps += transfer;
                 });
  if (gp.is_read()) {
    ++stats_.reads;
    stats_.bytes_read += static_cast<std::uint64_t>(bytes);
  } else {
    ++stats_.writes;
    stats_.bytes_written += static_cast<std::uint64_t>(bytes);
  }
  if (auto *timing = gp.get_extension<MemoryTimingExtension>())
    timing->accepted_at_ps = accepted;
  delay = ps_to_time(transferred + params_.latency.ps - now);
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

} // namespace pciesim
