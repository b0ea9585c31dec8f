// Host DRAM behind a root complex's host bridge: `channels` memory channels sharing the
// socket's bandwidth, with addresses interleaved across them every `interleave` bytes, and a
// fixed access latency. It is a plain TLM-2.0 base-protocol target; b_transport annotates when
// the access completes. Callers book accesses ahead of time (the annotated delay says when the
// access reaches memory), and calls do not arrive in that order (the root complex books a data
// access after a translation, an IOMMU walk books its page-table reads sooner), so each
// channel is a TimeOrderedServer: it serves accesses in the order they reach memory, never in
// the order they were booked (models/common/time_ordered_server.h says why this and not the
// event calendar).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "models/common/fixed_divisor.h"
#include "models/common/params.h"
#include "models/common/sim_time.h"
#include "models/common/stats.h"
#include "models/common/time_ordered_server.h"
#include "models/memory/last_level_cache.h"
#include "models/pcie/component.h"

namespace pciesim {

struct HostMemoryParams {
  Bytes size{64ull << 30};
  Duration latency{80000};
  Bandwidth bandwidth{100e9}; // of the socket, split evenly across the channels
  int channels = 8;
  Bytes interleave{256}; // blocks of this size are spread over the channels
  // The socket's last-level cache as devices see it (models/memory/last_level_cache.h):
  Bytes llc_size{0};       // 0: no cache model, every access goes to DRAM
  Bytes llc_io_size{0};    // what device writes may allocate (DDIO ways), 0: no DDIO
  Duration llc_latency{0}; // a device access the cache serves, instead of `latency`

  static const ParamTable<HostMemoryParams> &table();
  static const std::vector<ParamSpec> &specs() { return table().specs(); }
  static HostMemoryParams from(const ParamSet &params) { return table().from(params); }
};

// Set by HostMemory on every access it serves: when its channels took the access (the last
// of them, for an access spread over several).
// A requester that buffers writes (the root complex) frees its buffer from this moment.
struct MemoryTimingExtension : tlm::tlm_extension<MemoryTimingExtension> {
  std::int64_t accepted_at_ps = 0;
  tlm::tlm_extension_base *clone() const override { return new MemoryTimingExtension(*this); }
  void copy_from(const tlm::tlm_extension_base &other) override {
    accepted_at_ps = static_cast<const MemoryTimingExtension &>(other).accepted_at_ps;
  }
};

struct HostMemoryStats {
  std::uint64_t reads = 0, writes = 0;
  std::uint64_t bytes_read = 0, bytes_written = 0;
  std::int64_t busy_ps = 0;
  std::uint64_t llc_read_hits = 0, llc_read_misses = 0;
  std::uint64_t ddio_writes = 0, llc_writebacks = 0;
  static const StatTable<HostMemoryStats> &table();
  template <class F> void for_each(F &&f) const { table().for_each(*this, f); }
};

class HostMemory : public sc_core::sc_module, public Component {
public:
  HostMemory(sc_core::sc_module_name name, const HostMemoryParams &params);

  tlm_utils::simple_target_socket<HostMemory> socket;
  const HostMemoryStats &stats() const { return stats_; }
  // Host memory sits behind a root complex's host bridge, not on a PCIe link.
  PciePort &port(int) override {
    throw std::logic_error("host memory has no PCIe port: it attaches to its root complex");
  }
  nlohmann::ordered_json stats_json() const override { return stats_to_json(stats_); }
  tlm::tlm_target_socket<> *host_memory_target() override { return &socket; }
  const HostMemoryParams &params() const { return params_; }
  // One access as b_transport serves it, for the root complex this memory sits behind: it
  // calls here directly, without a transaction and its sc_time conversions (once per TLP that
  // reaches memory). `delay_ps` after now it reaches memory.
  struct Answer {
    std::int64_t accepted_at_ps; // when its channels took it (MemoryTimingExtension's)
    std::int64_t delay_ps;       // after now, when it is complete (b_transport's delay)
  };
  Answer access(bool is_write, std::uint64_t address, std::uint64_t bytes, std::int64_t delay_ps);
  void host_cache_touched(std::uint64_t address, std::uint64_t bytes, bool warm) override {
    if (warm)
      llc_.warm(address, bytes);
    else
      llc_.flush(address, bytes);
  }

  // Lines of the other socket's memory in this socket's cache (a CPU of this socket touched
  // them; Xeons cache lines of either socket's memory). `offset` is from the base of the other
  // socket's memory; a machine has at most two sockets, so one tag bit tells its lines apart.
  void foreign_cache_touched(std::uint64_t offset, std::uint64_t bytes, bool warm) override;
  // A read of the other socket's memory that this cache holds whole: counted and served here
  // (the caller adds llc_latency). False, and nothing counted, if any line is missing.
  bool read_foreign_lines(std::uint64_t offset, std::uint64_t bytes);
  // A write anywhere to the other socket's [offset, offset + bytes): copies here go stale.
  void drop_foreign_lines(std::uint64_t offset, std::uint64_t bytes) {
    if (foreign_lines_)
      llc_.flush(offset | kForeignTag, bytes);
  }

private:
  void b_transport(tlm::tlm_generic_payload &gp, sc_core::sc_time &delay);
  // Calls serve(channel, bytes) for each interleave block of [address, address + bytes),
  // or once for the whole access with one channel.
  template <class F> void for_each_block(std::uint64_t address, std::uint64_t bytes, F &&serve);
  // Whether the last-level cache takes the whole access (a read that hits every line, a DDIO
  // write); a dirty line it evicts is written back to its channel from `arrive_ps`.
  bool served_by_cache(bool is_write, std::uint64_t address, std::uint64_t bytes,
                       std::int64_t now_ps, std::int64_t arrive_ps);
  void count_access(bool is_write, std::uint64_t bytes);
  // Books [address, address + bytes) on its channels from `arrive_ps`: when the access was
  // taken and when its last byte was transferred.
  std::pair<std::int64_t, std::int64_t> book_dram(std::uint64_t address, std::uint64_t bytes,
                                                  std::int64_t now_ps, std::int64_t arrive_ps);

  // The interleave's granule and channel count, divided by at every access.
  struct Interleave {
    FixedDivisor granule, channels;
    std::size_t channel_of(std::uint64_t block) const;
  };

  static constexpr std::uint64_t kForeignTag = 1ull << 62; // above any memory's size

  HostMemoryParams params_;
  bool foreign_lines_ = false; // the other socket's lines were ever cached here
  double ps_per_byte_per_channel_;
  std::vector<TimeOrderedServer> channels_;
  Interleave interleave_;
  LastLevelCache llc_;
  HostMemoryStats stats_;
  RememberedTime answer_delay_; // an idle memory answers every access in the same time
};

} // namespace pciesim
