// The Linux paths that move and map the pages of one HMM buffer (Documentation/mm/hmm.rst,
// mm/hmm.c, mm/migrate_device.c, drivers/infiniband/core/umem_odp.c; costs and their sources in
// docs/references.md, "Kernel and driver costs"), as timed steps on the OsKernel clock plus the
// real copy-engine traffic of each migration:
//  - migrate: migrate_vma_setup (collect + unmap per page, one TLB shootdown, an
//    mmu_interval_notifier invalidation to every other mirror that maps a moving page), the
//    owning GPU's copy engine moving the data over PCIe, migrate_vma_finalize per page;
//  - CPU fault on a device-private page: a fault, then migrate_to_ram in batches;
//  - NIC ODP fault: the fixed fault cost, hmm_range_fault per page (which migrates
//    device-private pages to RAM, or with the peer-mapping extension maps their BAR page),
//    a DMA mapping per page, and the notifier sequence check that retries the walk when an
//    invalidation raced with it; a NIC's faults on this buffer are served up to
//    odp_fault_workers at once, their fixed parts overlapping, their page work in turn;
//  - GPU replayable faults on system pages: batches (size and service time params), then
//    migration to device memory (the faulted pages, the driver's granularity around them,
//    UVM's density prefetch), or a remote mapping when the page is pinned, thrashing or the
//    driver maps rather than migrates (nouveau); OsCosts and the driver profiles
//    (drivers/<name>.json) choose.
// The driver knows no engine: copies and MTT zaps go through hooks the runner provides.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>
#include <vector>

#include "models/os/device_memory.h"
#include "models/os/gpu_fault_buffer.h"
#include "models/os/os_kernel.h"
#include "models/os/page_table.h"

namespace pciesim {

struct HmmHooks {
  // Copies pages with the owning GPU's copy engine. `ram_addresses` are the system-RAM side
  // of each page (written when moving to RAM, read when moving to the device); done(at_ps)
  // when the last byte is in.
  std::function<void(const std::vector<std::uint64_t> &ram_addresses, bool to_ram, Done done)> copy;
  // A NIC's mappings of these pages are zapped (MTT entries; the bus addresses it used).
  std::function<void(int nic, const std::vector<std::uint64_t> &bus_addresses)> zap_nic;
  int owner_gpu = -1; // the owning GPU's component: its driver's track in a trace
  // Whether unmapping a NIC's DMA mapping of a page goes through a translating IOMMU (a
  // device page the NIC reaches at its bus address does not); null: never.
  std::function<bool(int nic, bool peer_page)> nic_unmap_translated;
};

class HmmDriver {
public:
  // Device frame f is at bus address device_base + f x page size (the owner's BAR1
  // aperture, where peers reach it); system frame f at ram_base + f x page size.
  HmmDriver(OsKernel &kernel, PageTable &table, std::uint64_t device_base, std::uint64_t ram_base,
            HmmHooks hooks);

  // The owning GPU's memory, shared with its other buffers (this one is `buffer` there):
  // moves are accounted there, and a GPU fault makes room (evicting) before it migrates.
  // Without it the device memory is unbounded.
  void attach(DeviceMemory &memory, int buffer) {
    memory_ = &memory;
    memory_buffer_ = buffer;
  }
  // The owning GPU's fault buffer, shared with its other buffers: their faults wait in one
  // queue and are serviced one batch at a time. Without it the driver has one of its own.
  void attach(GpuFaultBuffer &faults) { fault_buffer_ = &faults; }
  // Eviction of pages to make room on the device: the migration path to RAM, or the driver's
  // own per-unit path (OsCosts::eviction_path).
  void evict(std::vector<std::uint64_t> pages, Done done);

  // Pages moved to the device that held no data (never touched): zero-filled there, nothing
  // copied over PCIe.
  std::uint64_t pages_zero_filled() const { return pages_zero_filled_; }

  // Where a page is now, as a bus address.
  std::uint64_t address_of(std::uint64_t page) const;

  // A NIC mirroring the range through an MR: subscribes an interval notifier (once per NIC);
  // returns the NIC's bit in the pages' masks (PageState::nic_mapped_by).
  std::uint16_t add_nic(int nic);
  // That bit, or 0 for a NIC that does not mirror the range (no page is mapped by it).
  std::uint16_t nic_bit(int nic) const {
    auto it = nics_.find(nic);
    return it == nics_.end() ? 0 : it->second.bit;
  }
  // Long-term pin (a non-ODP MR): pages may no longer migrate.
  void pin(std::uint64_t page) { ++table_.page(page).pins; }

  // The one step every page move takes (HMM migrations, a DMA-BUF exporter's eviction):
  // new frames at `to`, the owning GPU's copy engine moving the data, the copy's time
  // charged; moved(at_ps) when the last byte is in. The caller charges what surrounds it.
  void move_pages(const std::vector<std::uint64_t> &pages, PageHome to, Done moved);
  // Moves pages (all elsewhere than `to`, none pinned or migrating) to `to`.
  // All these run at the current simulated time.
  void migrate(std::vector<std::uint64_t> pages, PageHome to, Done done);
  // The CPU touches pages: faults bring device-private ones to RAM; then they are mapped.
  void cpu_fault(std::vector<std::uint64_t> pages, Done done);
  // get_user_pages (a pinned MR's registration): device-private pages come to RAM through
  // the fault handler, called directly (no CPU exception).
  void get_user_pages(std::vector<std::uint64_t> pages, Done done);
  // A NIC touches pages its MTT lacks. `peer_map`: map device-private pages peer-to-peer
  // (the hmm_p2p extension) instead of migrating them.
  void nic_fault(int nic, std::vector<std::uint64_t> pages, bool peer_map, Done done);
  // The owning GPU touches system pages it has not mapped.
  void gpu_fault(std::vector<std::uint64_t> pages, Done done);
  // For the fault buffer: whether a fault on `page` finds it brought already (by an earlier
  // batch), whether the GPU reaches it now, and this buffer's share of a batch serviced.
  bool fault_is_stale(std::uint64_t page);
  bool gpu_reachable(std::uint64_t page);
  void service_gpu_faults(std::vector<std::uint64_t> batch, Done done);

  // Runs `then` once none of `pages` is migrating.
  void when_settled(const std::vector<std::uint64_t> &pages, std::function<void()> then);

  // Told, during a migration, when a NIC's mappings of the moving pages are gone (MTT zapped
  // and DMA-unmapped), with that time: a revocation's policy (sim/run/mechanisms/) listens.
  std::function<void(int nic, std::int64_t gone_ps)> nic_mappings_gone;

private:
  // One NIC's ODP faults on this buffer's MR: up to odp_fault_workers in service at once (the
  // driver's page-fault work items), the rest waiting in order. Their fixed parts overlap; the
  // page work (walk, any migration, DMA mapping, MTT update) goes one fault at a time, in the
  // order the faults reached it (the MR's lock).
  struct FaultQueue {
    struct Request {
      std::vector<std::uint64_t> pages;
      bool peer_map = false;
      Done done;
    };
    std::deque<Request> waiting;
    int in_service = 0;
    bool page_work_busy = false;
    std::deque<std::function<void()>> page_work_waiting;
  };
  void start_page_work(int nic, std::function<void()> work);
  void end_page_work(int nic);
  void serve_nic(int nic);
  void nic_fault_chunk(int nic, FaultQueue::Request request);
  void resolve_nic(int nic, FaultQueue::Request request, std::uint64_t seq);
  void map_nic(int nic, FaultQueue::Request request, std::uint64_t seq);
  // migrate() with or without migrate_vma's per-page steps (collect, shootdown, finalize).
  void migrate_pages(std::vector<std::uint64_t> pages, PageHome to, bool per_page_steps, Done done);
  // A GPU fault's system pages mapped where they are (nouveau), and one page so mapped.
  void map_remote(std::vector<std::uint64_t> pages, Done done);
  void remote_map(std::uint64_t page);
  // Whether a page not faulted may ride with a fault batch's migration.
  bool may_join_migration(std::uint64_t page);
  // The driver's fault granularity: each faulted page's aligned range joins the batch.
  void add_fault_granule(std::vector<std::uint64_t> &movable);
  // Thrashing detection: each move of a page noted; faults on thrashing pages held back.
  void note_moves(const std::vector<std::uint64_t> &pages, std::int64_t at_ps);
  std::vector<std::uint64_t> hold_thrashing(std::vector<std::uint64_t> &movable);
  // NVIDIA UVM's density prefetch: adds to `movable` (a fault batch's pages to migrate).
  void add_density_prefetch(std::vector<std::uint64_t> &movable);
  // The same prefetcher on a CPU fault: adds device pages to `device` (a CPU fault's pages to
  // move to RAM, in address order, which it keeps).
  void add_density_prefetch_to_ram(std::vector<std::uint64_t> &device);
  // Base pages of a 2 MiB VA block (UVM's unit of fault service and prefetch).
  std::uint64_t va_block_pages() const {
    return std::max<std::uint64_t>(1, (2ull << 20) / table_.page_bytes());
  }
  // Migrates a GPU fault batch's movable pages to the device, as many as it has room for; the
  // rest stay in RAM, mapped remotely.
  void migrate_in(std::vector<std::uint64_t> movable, Done done);
  // migrate_to_ram of `pages` (in address order), one aligned range of `batch` pages at a
  // time, one after the other; `with_cpu_fault`
  // charges a CPU fault before each (a CPU access; hmm_range_fault calls the fault handler
  // directly).
  void migrate_batches(std::vector<std::uint64_t> pages, std::size_t batch, bool with_cpu_fault,
                       Done done);
  void migrate_batches_from(std::shared_ptr<const std::vector<std::uint64_t>> pages,
                            std::size_t from, std::size_t batch, bool with_cpu_fault, Done done);
  std::size_t migrate_to_ram_pages() const {
    return static_cast<std::size_t>(kernel_.costs().migrate_to_ram_pages);
  }
  std::vector<std::uint64_t> device_pages_around(const std::vector<std::uint64_t> &touched);
  // Device-private `pages` to RAM by migrate_to_ram batches, after a CPU exception each or not.
  void to_ram(std::vector<std::uint64_t> pages, bool cpu_exception, Done done);
  void settled();
  StepActor driver() const { return StepActor::gpu_driver(hooks_.owner_gpu); }

  OsKernel &kernel_;
  PageTable &table_;
  std::uint64_t device_base_, ram_base_;
  HmmHooks hooks_;
  DeviceMemory *memory_ = nullptr;
  int memory_buffer_ = -1;
  std::uint64_t pages_zero_filled_ = 0;
  struct NicMirror {
    int subscription = -1; // its interval notifier
    std::uint16_t bit = 0; // its bit in the pages' NIC masks
  };
  std::map<int, NicMirror> nics_; // NIC component -> its mirror of the range
  std::map<int, FaultQueue> nic_faults_;
  GpuFaultBuffer own_fault_buffer_;
  GpuFaultBuffer *fault_buffer_ = &own_fault_buffer_;
  std::vector<std::pair<std::vector<std::uint64_t>, std::function<void()>>> settle_waiters_;
  // Per page that moved while thrashing detection is on: its ping-pong history.
  struct Thrashing {
    bool moved = false;
    std::int64_t last_move_ps = 0;
    int events = 0;    // consecutive moves, each within the lapse of the one before
    int throttles = 0; // GPU faults held back on it
  };
  std::unordered_map<std::uint64_t, Thrashing> thrashing_;
  // Whether a page moved back and forth thrashing_threshold times, each within the lapse.
  bool thrashing_now(const Thrashing &history) const;
  bool thrashing_now(std::uint64_t page) const;
};

} // namespace pciesim
