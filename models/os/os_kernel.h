// The host's software side as a SystemC module: the clock that kernel code runs on. Fault
// handlers, migrations and notifier invalidations are sequences of timed steps (their costs
// in OsCosts, each overridable from a scenario's workload "costs") interleaved with
// real PCIe traffic; this module runs the steps' continuations at their simulated times, keeps
// the counters of what the kernel did (faults by kind, pages migrated, invalidations) and the
// intervals each kind of work occupied, from which the run's time breakdown is computed.
// Each charged step can also be reported, with its actor and name, to a step observer (the
// run's trace); without one that costs a pointer test.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include <systemc>

#include "models/common/event_calendar.h"
#include "models/common/params.h"
#include "models/common/sim_context.h"
#include "models/common/stats.h"

namespace pciesim {

// Software costs of the Linux paths and drivers; each default's source is in
// docs/references.md ("Kernel and driver costs"), or it is marked an estimate there.
struct OsCosts {
  Duration cpu_fault{1000000};            // CPU page fault entry and exit
  Duration hmm_range_fault_page{18000};   // hmm_range_fault, per page already present
  Duration migrate_collect_page{300000};  // migrate_vma_setup: collect + unmap, per page with data
  Duration tlb_shootdown{900000};         // one per migrate_vma_setup batch
  Duration copy_engine_setup{1500000};    // GPU copy engine, per migration batch
  Duration migrate_finalize_page{200000}; // migrate_vma_finalize, per page
  Duration notifier_invalidate{2000000};  // per subscribed device (NIC MTT zap, GPU TLB)
  Duration gpu_fault_batch{34100000};     // replayable GPU fault batch: fixed part
  Duration gpu_fault_per_fault{2000000};  // ... and per distinct faulting page in it
  int gpu_fault_batch_pages = 256;        // faults the GPU driver fetches per batch
  int gpu_prefetch_threshold = 0;         // UVM density prefetch, percent; 0: off (HMM)
  Duration odp_fault{220000000};          // ODP: EQE, work queue, UMR MTT update, resume
  Duration dma_map_page{100000};          // DMA-API mapping of one page (IOVA link)
  Bytes odp_fault_max{4ull << 20};        // pages one ODP fault resolves (mlx5 prefetch cap)
  int odp_fault_workers = 32;             // a NIC's ODP faults serviced at once (mlx5)
  int migrate_to_ram_pages = 1;           // pages one migrate_to_ram moves (nouveau, UVM: 1)
  Duration register_mr{16000000};         // MR registration: fixed part per region
  Duration register_page{140000};         // ... and per resident page: pin + DMA map + MTT
  Duration register_page_huge{54000};     // ... per 4 KiB of memory in 2 MiB pages
  Duration first_touch_page{310000};      // populating a page never touched: allocate + zero
  Duration gpu_pin{68500000};             // GPU driver pinning device memory: fixed part
  Duration gpu_pin_page{197000};          // ... and per 64 KiB GPU page (nvidia_p2p_get_pages)
  Duration dmabuf_attach{10000000};       // dma_buf_dynamic_attach + map_attachment
  Bandwidth cpu_copy_bandwidth{10e9};     // a CPU reading or writing a buffer in RAM
  // Revocation and IOMMU unmap (models/os/iommu_unmap.cpp, docs/mechanisms.md "Revocation").
  Duration qp_recover{50000000};          // a revoked MR's QP: error CQE to reposted (estimate)
  Duration iommu_unmap{200000};           // one dma_unmap call through a translating IOMMU
  Duration iommu_unmap_page{80000};       // clearing one page's IOMMU PTE
  Duration iotlb_flush{400000};           // IOTLB invalidation command + completion wait
  enum class IommuFlush { Strict, Lazy }; // iommu.strict=1 / the flush queue
  IommuFlush iommu_flush = IommuFlush::Lazy;
  int iommu_flush_queue = 256;               // unmaps a lazy flush batches (IOVA_DEFAULT_FQ_SIZE)
  Duration iommu_flush_timeout{10000000000}; // lazy: the flush timer (IOVA_DEFAULT_FQ_TIMEOUT)
  Bytes eviction_unit{2ull << 20};           // device memory evicted at once (UVM: 2 MiB); 0: none
  // How a driver moves memory (its profile, drivers/<name>.json, sets these).
  enum class GpuFaultPolicy { Migrate, MapRemote }; // a GPU fault on a system page
  GpuFaultPolicy gpu_fault_policy = GpuFaultPolicy::Migrate;
  Bytes gpu_fault_granularity{4096};              // migrated around each faulted page
  enum class EvictionPath { MigrateVma, Driver }; // device-private pages, or UVM's chunks
  EvictionPath eviction_path = EvictionPath::MigrateVma;
  int thrashing_threshold = 0;         // ping-pong moves before a page thrashes; 0: off
  Duration thrashing_lapse{500000000}; // moves this close count as ping-pong
  int thrashing_pin_threshold = 10;    // throttled faults before the page is pinned in RAM
  Duration thrashing_nap{500000000};   // a throttled GPU fault waits this long

  static const ParamTable<OsCosts> &table();
  static const std::vector<ParamSpec> &specs() { return table().specs(); }
  static OsCosts from(const ParamSet &params) { return table().from(params); }
};

struct OsStats {
  std::uint64_t cpu_faults = 0;
  std::uint64_t gpu_faults = 0, gpu_fault_batches = 0;
  std::uint64_t gpu_faults_stale = 0;     // faults on pages already brought, fetched and dropped
  std::uint64_t gpu_prefetched_pages = 0; // pages the density prefetcher added to fault batches
  std::uint64_t cpu_prefetched_pages = 0; // ... and to CPU faults' migrations to RAM
  std::uint64_t odp_faults = 0, odp_fault_retries = 0;
  std::uint64_t migrate_to_ram_calls = 0;
  std::uint64_t pages_to_ram = 0, pages_to_device = 0;
  std::uint64_t pages_migrated() const { return pages_to_ram + pages_to_device; }
  std::uint64_t invalidations = 0; // notifier callbacks that zapped a device's mappings
  std::uint64_t p2p_page_mappings = 0;
  std::uint64_t pages_pinned = 0;
  std::uint64_t migrations_refused_pinned = 0;
  std::uint64_t remote_mappings = 0;   // GPU mapped a system page remotely instead of moving it
  std::uint64_t revocations = 0;       // peer mappings the GPU side revoked
  std::uint64_t accesses_replayed = 0; // peer accesses that overlapped a revocation, issued again
  std::uint64_t reregistrations = 0;   // MRs registered again after a revocation
  std::uint64_t dmabuf_refaults = 0;   // dynamic DMA-BUF importer faults that re-mapped
  std::uint64_t iommu_unmaps = 0, iotlb_flushes = 0;
  std::uint64_t evictions = 0;           // eviction units of device memory evicted to make room
  std::uint64_t evicted_bytes = 0;       // bytes those evictions moved to system RAM
  std::uint64_t migration_copy_ns = 0;   // copy-engine transfers of migrations, summed
  std::uint64_t eviction_time_ns = 0;    // from each eviction's start until its unit is in RAM
  std::uint64_t thrashing_throttles = 0; // GPU faults held back because their page thrashed
  std::uint64_t thrashing_pins = 0;      // thrashing pages pinned in RAM, mapped remotely
  static const StatTable<OsStats> &table();
  template <class F> void for_each(F &&f) const { table().for_each(*this, f); }
};

// What a stretch of simulated time was spent on. When kinds overlap, the earlier one in this
// list is charged: kernel work first (a fault that waits on its migration copy counts as
// fault handling), then the actors' own DMA, and copies only where no actor was moving data
// (a bounce pipeline's copy hidden behind the NIC's transfer of the previous chunk is not a
// cost; its first chunk is). Invalidation is the notifier callbacks that zap a device's
// mappings (what OsStats::invalidations counts); Shootdown is the CPU TLB shootdowns of
// migrations, kept apart so that each name measures one thing.
enum class TimeKind { FaultHandling, Invalidation, Shootdown, Setup, Dma, Copy, Count };
const char *time_kind_name(TimeKind kind);

// Who did a step, for the trace: the host kernel on a CPU, the driver of a GPU, or the
// kernel's work for a NIC (its ODP fault queue, its notifier callback, its registrations).
// `component` is the GPU's or NIC's index in the topology.
struct StepActor {
  enum class Kind { Kernel, GpuDriver, Nic };
  Kind kind = Kind::Kernel;
  int component = -1;
  static StepActor kernel() { return {}; }
  static StepActor gpu_driver(int gpu) { return {Kind::GpuDriver, gpu}; }
  static StepActor nic(int nic) { return {Kind::Nic, nic}; }
};

// Numbers a step carries into the trace ({"pages", 16}, {"faults", 256}); on the stack.
using StepArgs = std::initializer_list<std::pair<const char *, std::int64_t>>;

// Receives every traced step (sim/run/trace.h). `kind` is what the step was charged to, or
// TimeKind::Count for a step the breakdown does not see (only traced).
class StepObserver {
public:
  virtual ~StepObserver() = default;
  virtual void kernel_step(StepActor actor, const char *name, TimeKind kind, std::int64_t start_ps,
                           std::int64_t end_ps, StepArgs args) = 0;
};

class OsKernel : public sc_core::sc_module, private CalendarProcess {
public:
  OsKernel(sc_core::sc_module_name name, const OsCosts &costs, SimContext &context);

  const OsCosts &costs() const { return costs_; }
  // A memory registration of `pages` resident pages of `page_bytes`: its fixed part and its
  // per-page part. pin_user_pages hands back every 4 KiB subpage of a huge page, but its folio
  // pin, DMA segment and MTT entry come once per huge page: memory in 2 MiB pages costs
  // register_page_huge per 4 KiB, not register_page per huge page.
  std::int64_t registration_ps(std::uint64_t pages, std::uint64_t page_bytes = kBasePage) const {
    const std::int64_t per_page =
        page_bytes <= kBasePage
            ? costs_.register_page.ps
            : static_cast<std::int64_t>(page_bytes / kBasePage) * costs_.register_page_huge.ps;
    return costs_.register_mr.ps + static_cast<std::int64_t>(pages) * per_page;
  }
  // Populating `pages` pages of `page_bytes` never touched (an anonymous fault's allocation and
  // zeroing, whoever faults them in: pin_user_pages, hmm_range_fault, a CPU's first store):
  // zeroing goes by the byte, so a huge page costs its 4 KiB pages' worth.
  std::int64_t first_touch_ps(std::uint64_t pages, std::uint64_t page_bytes) const {
    return static_cast<std::int64_t>(pages * std::max<std::uint64_t>(1, page_bytes / kBasePage)) *
           costs_.first_touch_page.ps;
  }
  static constexpr std::uint64_t kBasePage = 4096;
  // A registration of `bytes` of GPU memory the GPU driver pins itself (a peer-memory client:
  // nvidia-peermem's nvidia_p2p_get_pages), in 64 KiB GPU pages, each also DMA-mapped.
  std::int64_t gpu_memory_registration_ps(std::uint64_t bytes) const {
    const std::int64_t gpu_pages =
        static_cast<std::int64_t>((bytes + kGpuPinPage - 1) / kGpuPinPage);
    return costs_.register_mr.ps + costs_.gpu_pin.ps +
           gpu_pages * (costs_.gpu_pin_page.ps + costs_.dma_map_page.ps);
  }
  static constexpr std::uint64_t kGpuPinPage = 64 * 1024; // NVIDIA_P2P_PAGE_SIZE_64KB
  OsStats &stats() { return stats_; }
  const OsStats &stats() const { return stats_; }

  // Runs `then` at simulated time `at_ps` (not before now), after earlier calls at that time.
  void call_at(std::int64_t at_ps, std::function<void()> then);
  // Charges [start_ps, end_ps) to `kind` in the breakdown.
  void record(TimeKind kind, std::int64_t start_ps, std::int64_t end_ps);
  // The same, and a slice `step` on the actor's track of the trace (when one is recorded).
  void record(TimeKind kind, std::int64_t start_ps, std::int64_t end_ps, StepActor actor,
              const char *step, StepArgs args = {}) {
    record(kind, start_ps, end_ps);
    if (steps_)
      steps_->kernel_step(actor, step, kind, start_ps, end_ps, args);
  }
  // A step that is traced but not charged (revocation, eviction bookkeeping, a whole that its
  // charged parts already cover). Records nothing without a trace.
  void trace_step(StepActor actor, const char *step, std::int64_t start_ps, std::int64_t end_ps,
                  StepArgs args = {}) {
    if (steps_)
      steps_->kernel_step(actor, step, TimeKind::Count, start_ps, end_ps, args);
  }
  // The trace that receives the steps; null (the default) records none.
  void set_step_observer(StepObserver *observer) { steps_ = observer; }
  // A span of time charged to one kind.
  struct Interval {
    std::int64_t start_ps, end_ps;
    TimeKind kind;
  };
  // The span [start_ps, end_ps) split by kind (highest-ranked active kind wins); the last
  // entry is the time nothing was recorded ("waiting").
  std::vector<std::int64_t> breakdown_ps(std::int64_t start_ps, std::int64_t end_ps) const;
  bool idle() const { return pending_.empty(); }
  // One dma_unmap of `pages` pages by a device behind a translating IOMMU, starting at `at_ps`
  // (models/os/iommu_unmap.cpp): charged as invalidation; returns when the caller goes on.
  std::int64_t iommu_unmap(std::int64_t at_ps, std::uint64_t pages);

private:
  struct Pending {
    std::int64_t at_ps;
    std::uint64_t seq;
    std::function<void()> then;
    bool operator>(const Pending &o) const {
      return at_ps != o.at_ps ? at_ps > o.at_ps : seq > o.seq;
    }
  };
  void run() override;

  EventCalendar &calendar_;
  OsCosts costs_;
  OsStats stats_;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<Pending>> pending_;
  std::uint64_t seq_ = 0;
  std::vector<Interval> intervals_;
  StepObserver *steps_ = nullptr;
  // The lazy flush queue: unmaps whose IOTLB invalidation is still deferred, since when.
  std::uint64_t flush_queue_entries_ = 0;
  std::int64_t flush_queue_since_ps_ = 0;
};

} // namespace pciesim
