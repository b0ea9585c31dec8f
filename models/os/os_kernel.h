// The host's software side as a SystemC module: the clock that kernel code runs on. Fault
// handlers, migrations and notifier invalidations are sequences of timed steps (their costs
// from MODELING.md §6, each overridable from a scenario's workload "costs") interleaved with
// real PCIe traffic; this module runs the steps' continuations at their simulated times, keeps
// the counters of what the kernel did (faults by kind, pages migrated, invalidations) and the
// intervals each kind of work occupied, from which the run's time breakdown is computed.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <string>
#include <vector>

#include <systemc>

#include "models/common/event_calendar.h"
#include "models/common/params.h"
#include "models/common/sim_context.h"
#include "models/common/stats.h"

namespace pciesim {

// Software costs of the Linux paths (MODELING.md §6; estimates unless stated there).
struct OsCosts {
  Duration cpu_fault{1000000};            // CPU page fault entry and exit
  Duration hmm_range_fault_page{100000};  // hmm_range_fault, per page already present
  Duration migrate_collect_page{300000};  // migrate_vma_setup: collect + unmap, per page
  Duration tlb_shootdown{5000000};        // one per migrate_vma_setup batch
  Duration copy_engine_setup{5000000};    // GPU copy engine, per migration batch
  Duration migrate_finalize_page{200000}; // migrate_vma_finalize, per page
  Duration notifier_invalidate{2000000};  // per subscribed device (NIC MTT zap, GPU TLB)
  Duration gpu_fault_batch{45000000};     // replayable GPU fault batch service
  int gpu_fault_batch_pages = 256;        // faults the GPU driver fetches per batch
  Duration odp_fault{10000000};           // ODP: EQE, work queue, UMR MTT update, resume
  Duration dma_map_page{100000};          // DMA-API mapping of one page (IOVA link)
  Bytes odp_fault_max{4ull << 20};        // pages one ODP fault resolves (mlx5 prefetch cap)
  int migrate_to_ram_pages = 1;           // pages one migrate_to_ram moves (nouveau, UVM: 1)
  Duration register_page{200000};         // MR registration: pin + DMA map, per page
  Duration dmabuf_attach{10000000};       // dma_buf_dynamic_attach + map_attachment
  Bandwidth cpu_copy_bandwidth{10e9};     // a CPU reading or writing a buffer in RAM
  Bytes eviction_unit{2ull << 20};        // device memory evicted at once (UVM: 2 MiB); 0: none

  static const ParamTable<OsCosts> &table();
  static const std::vector<ParamSpec> &specs() { return table().specs(); }
  static OsCosts from(const ParamSet &params) { return table().from(params); }
};

struct OsStats {
  std::uint64_t cpu_faults = 0;
  std::uint64_t gpu_faults = 0, gpu_fault_batches = 0;
  std::uint64_t odp_faults = 0, odp_fault_retries = 0;
  std::uint64_t migrate_to_ram_calls = 0;
  std::uint64_t pages_to_ram = 0, pages_to_device = 0;
  std::uint64_t invalidations = 0; // notifier callbacks that zapped a device's mappings
  std::uint64_t p2p_page_mappings = 0;
  std::uint64_t pages_pinned = 0;
  std::uint64_t migrations_refused_pinned = 0;
  std::uint64_t remote_mappings = 0; // GPU mapped a system page remotely instead of moving it
  std::uint64_t evictions = 0;       // eviction units of device memory evicted to make room
  std::uint64_t evicted_bytes = 0;   // bytes those evictions moved to system RAM
  static const StatTable<OsStats> &table();
  template <class F> void for_each(F &&f) const { table().for_each(*this, f); }
};

// What a stretch of simulated time was spent on. When kinds overlap, the earlier one in this
// list is charged: kernel work first (a fault that waits on its migration copy counts as
// fault handling), then the actors' own DMA, and copies only where no actor was moving data
// (a bounce pipeline's copy hidden behind the NIC's transfer of the previous chunk is not a
// cost; its first chunk is).
enum class TimeKind { FaultHandling, Invalidation, Setup, Dma, Copy, Count };
const char *time_kind_name(TimeKind kind);

class OsKernel : public sc_core::sc_module, private CalendarProcess {
public:
  OsKernel(sc_core::sc_module_name name, const OsCosts &costs, SimContext &context);

  const OsCosts &costs() const { return costs_; }
  OsStats &stats() { return stats_; }
  const OsStats &stats() const { return stats_; }

  // Runs `then` at simulated time `at_ps` (not before now), after earlier calls at that time.
  void call_at(std::int64_t at_ps, std::function<void()> then);
  // Charges [start_ps, end_ps) to `kind` in the breakdown.
  void record(TimeKind kind, std::int64_t start_ps, std::int64_t end_ps);
  // The span [start_ps, end_ps) split by kind (highest-ranked active kind wins); the last
  // entry is the time nothing was recorded ("waiting").
  std::vector<std::int64_t> breakdown_ps(std::int64_t start_ps, std::int64_t end_ps) const;
  bool idle() const { return pending_.empty(); }

private:
  struct Pending {
    std::int64_t at_ps;
    std::uint64_t seq;
    std::function<void()> then;
    bool operator>(const Pending &o) const {
      return at_ps != o.at_ps ? at_ps > o.at_ps : seq > o.seq;
    }
  };
  struct Interval {
    std::int64_t start_ps, end_ps;
    TimeKind kind;
  };
  void run() override;

  EventCalendar &calendar_;
  OsCosts costs_;
  OsStats stats_;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<Pending>> pending_;
  std::uint64_t seq_ = 0;
  std::vector<Interval> intervals_;
};

} // namespace pciesim
