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
      stat(&S::llc_read_hits,
           {"llc_read_hits", "count", "device reads the last-level cache served (every line)"}),
      stat(&S::llc_read_misses,
           {"llc_read_misses", "count", "device reads that went to DRAM, with llc_size set"}),
      stat(&S::ddio_writes,
           {"ddio_writes", "count", "device writes DDIO took into the last-level cache"}),
      stat(&S::llc_writebacks,
           {"llc_writebacks", "count", "dirty cache lines written back to DRAM to make room"}),
  });
  return table;
}

const ParamTable<HostMemoryParams> &HostMemoryParams::table() {
  using P = HostMemoryParams;
  static const ParamTable<P> table(
      field(&P::size,
            {"size", ParamKind::size, "64 GiB", "capacity of this socket's DRAM", 1 << 20, 0}),
      field(&P::latency, {"latency", ParamKind::time, "80 ns",
                          "DRAM access latency (Intel MLC: 74-122 ns idle on Xeon and EPYC hosts, "
                          "docs/references.md)",
                          0, 1e9}),
      field(&P::bandwidth,
            {"bandwidth", ParamKind::rate, "100 GB/s",
             "DRAM bandwidth per socket, split evenly across its channels (Intel MLC: "
             "61-200 GB/s on Xeon and EPYC hosts, docs/references.md)",
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
             64, 1 << 30, true}),
      field(&P::llc_size,
            {"llc_size", ParamKind::size, "0 B",
             "last-level cache of the socket as devices see it (Intel's PCIe reads look it up): "
             "0 for none, every access going to DRAM; a platform file sets it",
             0, 1ull << 40}),
      field(&P::llc_io_size,
            {"llc_io_size", ParamKind::size, "0 B",
             "share of the cache device writes may allocate (DDIO: 2 of the ways by default on "
             "Xeon Scalable, Farshin et al. ATC 2020); 0 for no DDIO: writes go to DRAM",
             0, 1ull << 40}),
      field(&P::llc_latency,
            {"llc_latency", ParamKind::time, "0 ns",
             "what a device access the cache serves costs instead of `latency`", 0, 1e9}));
  return table;
}

HostMemory::HostMemory(sc_core::sc_module_name name, const HostMemoryParams &params)
    : sc_module(name), socket("socket"), params_(params),
      ps_per_byte_per_channel_(1e12 * std::max(params.channels, 1) /
                               params.bandwidth.bytes_per_second),
      channels_(static_cast<std::size_t>(std::max(params.channels, 1))),
      interleave_{FixedDivisor(std::max<std::uint64_t>(params.interleave.count, 1)),
                  FixedDivisor(channels_.size())},
      llc_(params.llc_size, params.llc_io_size) {
  socket.register_b_transport(this, &HostMemory::b_transport);
}

// Channel of interleave block `block`: within each group of `channels` consecutive blocks
// every channel takes one in turn, and a hash of the group number rotates the order from one
// group to the next. Memory controllers hash upper address bits into the channel select for
// the same reason: a power-of-two stride (one 256 B read per 4 KiB page) would otherwise land
// on a single channel.
std::size_t HostMemory::Interleave::channel_of(std::uint64_t block) const {
  std::uint64_t group = channels.quotient(block);
  std::uint64_t rotation = (group * 0x9e3779b97f4a7c15ull) >> 32; // Fibonacci hashing
  return static_cast<std::size_t>(channels.remainder(channels.remainder(block) + rotation));
}

template <class F>
void HostMemory::for_each_block(std::uint64_t address, std::uint64_t bytes, F &&serve) {
  if (channels_.size() == 1) {
    serve(channels_.front(), bytes);
    return;
  }
  const std::uint64_t granule = interleave_.granule.divisor();
  do {
    std::uint64_t block = interleave_.granule.quotient(address);
    std::uint64_t in_block = std::min(bytes, (block + 1) * granule - address);
    serve(channels_[interleave_.channel_of(block)], in_block);
    address += in_block;
    bytes -= in_block;
  } while (bytes > 0);
}

std::pair<std::int64_t, std::int64_t> HostMemory::book_dram(std::uint64_t address,
                                                            std::uint64_t bytes, std::int64_t now,
                                                            std::int64_t arrive) {
  // The access is taken when the last channel it needs takes its part, and complete when the
  // last part has been transferred.
  std::int64_t accepted = arrive, transferred = arrive;
  for_each_block(address, bytes, [&](TimeOrderedServer &channel, std::uint64_t block_bytes) {
    channel.forget_before(now);
    std::int64_t transfer = busy_ps(block_bytes * ps_per_byte_per_channel_);
    std::int64_t start = channel.serve(arrive, transfer);
    accepted = std::max(accepted, start);
    transferred = std::max(transferred, start + transfer);
    stats_.busy_ps += transfer;
  });
  return {accepted, transferred};
}

void HostMemory::count_access(bool is_write, std::uint64_t bytes) {
  if (is_write) {
    ++stats_.writes;
    stats_.bytes_written += bytes;
  } else {
    ++stats_.reads;
    stats_.bytes_read += bytes;
  }
}

bool HostMemory::served_by_cache(bool is_write, std::uint64_t address, std::uint64_t bytes,
                                 std::int64_t now, std::int64_t arrive) {
  std::uint64_t line = llc_.line_size().count;
  std::uint64_t first = address / line * line;
  std::uint64_t end = address + std::max<std::uint64_t>(1, bytes);
  bool all = true;
  for (std::uint64_t at = first; at < end; at += line) {
    if (!is_write) {
      all = llc_.read(at) && all;
      continue;
    }
    bool written_back = false;
    all = llc_.write(at, written_back) && all;
    if (written_back) { // the evicted line goes to DRAM; its address is not tracked: this one's
      ++stats_.llc_writebacks;
      book_dram(at, line, now, arrive);
    }
  }
  if (!is_write)
    ++(all ? stats_.llc_read_hits : stats_.llc_read_misses);
  else if (all)
    ++stats_.ddio_writes;
  return all;
}

// Per TLP: flattened (docs/models.md, "Hot paths").
[[gnu::flatten]] HostMemory::Answer HostMemory::access(bool is_write, std::uint64_t address,
                                                       std::uint64_t bytes, std::int64_t delay_ps) {
  std::int64_t now = now_ps();
  std::int64_t arrive = now + delay_ps;
  count_access(is_write, bytes);
  if (llc_.enabled() && served_by_cache(is_write, address, bytes, now, arrive))
    return {arrive, arrive + params_.llc_latency.ps - now};
  auto [accepted, transferred] = book_dram(address, bytes, now, arrive);
  return {accepted, transferred + params_.latency.ps - now};
}

void HostMemory::foreign_cache_touched(std::uint64_t offset, std::uint64_t bytes, bool warm) {
  if (!llc_.enabled() || (!warm && !foreign_lines_))
    return;
  foreign_lines_ = true;
  if (warm)
    llc_.warm(offset | kForeignTag, bytes);
  else
    llc_.flush(offset | kForeignTag, bytes);
}

bool HostMemory::read_foreign_lines(std::uint64_t offset, std::uint64_t bytes) {
  if (!foreign_lines_ || bytes == 0)
    return false;
  const std::uint64_t line = llc_.line_size().count;
  const std::uint64_t first = (offset | kForeignTag) / line * line;
  const std::uint64_t end = (offset | kForeignTag) + bytes;
  for (std::uint64_t at = first; at < end; at += line)
    if (!llc_.holds(at))
      return false;
  for (std::uint64_t at = first; at < end; at += line)
    llc_.read(at); // most recently used now
  count_access(false, bytes);
  ++stats_.llc_read_hits;
  return true;
}

void HostMemory::b_transport(tlm::tlm_generic_payload &gp, sc_core::sc_time &delay) {
  Answer answer = access(!gp.is_read(), gp.get_address(), gp.get_data_length(), time_to_ps(delay));
  if (auto *timing = gp.get_extension<MemoryTimingExtension>())
    timing->accepted_at_ps = answer.accepted_at_ps;
  delay = answer_delay_.of_ps(answer.delay_ps);
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

} // namespace pciesim
