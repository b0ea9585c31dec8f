#include "models/os/os_kernel.h"

#include <algorithm>
#include <array>
#include <utility>

#include "models/common/sim_time.h"

namespace pciesim {

const StatTable<OsStats> &OsStats::table() {
  using S = OsStats;
  static const StatTable<S> table({
      stat(&S::cpu_faults, {"cpu_faults", "count", "CPU page faults handled"}),
      stat(&S::gpu_faults, {"gpu_faults", "count", "replayable GPU faults serviced"}),
      stat(
          &S::gpu_faults_stale,
          {"gpu_faults_stale", "count",
           "GPU faults fetched on pages an earlier batch had already brought, dropped unserviced"}),
      stat(&S::gpu_prefetched_pages,
           {"gpu_prefetched_pages", "pages",
            "pages UVM's density prefetcher migrated with a fault batch (gpu_prefetch_threshold)"}),
      stat(&S::cpu_prefetched_pages, {"cpu_prefetched_pages", "pages",
                                      "pages UVM's density prefetcher moved to RAM with a CPU "
                                      "fault (gpu_prefetch_threshold)"}),
      stat(&S::gpu_fault_batches,
           {"gpu_fault_batches", "count", "batches the GPU driver fetched and serviced"}),
      stat(&S::odp_faults, {"odp_faults", "count", "NIC on-demand-paging faults"}),
      stat(&S::odp_fault_retries,
           {"odp_fault_retries", "count", "ODP faults retried after an invalidation raced them"}),
      stat(&S::migrate_to_ram_calls,
           {"migrate_to_ram_calls", "count", "migrate_to_ram callbacks (device pages to RAM)"}),
      stat(&S::pages_to_ram, {"pages_to_ram", "pages", "pages migrated to system RAM"}),
      stat(&S::pages_to_device, {"pages_to_device", "pages", "pages migrated to device memory"}),
      stat(&S::invalidations,
           {"invalidations", "count", "notifier callbacks that zapped a device's mappings"}),
      stat(&S::p2p_page_mappings, {"p2p_page_mappings", "pages",
                                   "device-memory pages an ODP fault mapped for the NIC (peer)"}),
      stat(&S::pages_pinned,
           {"pages_pinned", "pages", "pages pinned: memory registrations and staging buffers"}),
      stat(&S::migrations_refused_pinned,
           {"migrations_refused_pinned", "count", "migrations refused because a page was pinned"}),
      stat(&S::remote_mappings, {"remote_mappings", "pages",
                                 "system pages the GPU mapped remotely instead of migrating them"}),
      stat(&S::revocations, {"revocations", "count",
                             "peer mappings revoked by the GPU side (free callback, move_notify, "
                             "eviction)"}),
      stat(&S::accesses_replayed,
           {"accesses_replayed", "count",
            "peer accesses that overlapped a revocation of their mapping and were issued again"}),
      stat(&S::reregistrations,
           {"reregistrations", "count", "memory registrations redone after a revocation"}),
      stat(&S::dmabuf_refaults, {"dmabuf_refaults", "count",
                                 "dynamic DMA-BUF importer faults that mapped the buffer again"}),
      stat(&S::iommu_unmaps,
           {"iommu_unmaps", "count", "dma_unmap calls through a translating IOMMU"}),
      stat(&S::iotlb_flushes,
           {"iotlb_flushes", "count",
            "IOTLB invalidations of unmapped IOVAs (strict, queue full, timer)"}),
      stat(&S::evictions, {"evictions", "count",
                           "eviction units of device memory moved to RAM to make room for a "
                           "migration to the device (GPU memory oversubscribed)"}),
      stat(&S::evicted_bytes,
           {"evicted_bytes", "bytes", "bytes the evictions moved to RAM with the copy engine"}),
      stat(&S::migration_copy_ns,
           {"migration_copy_ns", "ns",
            "the copy engine's transfers of page migrations, summed (first byte issued to last "
            "byte in; not its setup): what a profiler reports as transfer time"}),
      stat(&S::eviction_time_ns,
           {"eviction_time_ns", "ns",
            "summed over the evictions, from each one's start until its unit is in RAM: what the "
            "migrations waiting for room waited (evictions run one at a time)"}),
      stat(&S::thrashing_throttles,
           {"thrashing_throttles", "count",
            "GPU faults held back for thrashing_nap because their page was ping-ponging"}),
      stat(&S::thrashing_pins,
           {"thrashing_pins", "pages", "thrashing pages pinned in system RAM and mapped remotely"}),
  });
  return table;
}

const ParamTable<OsCosts> &OsCosts::table() {
  using P = OsCosts;
  static const ParamTable<P> table(
      field(&P::cpu_fault,
            {"cpu_fault", ParamKind::time, "1 us",
             "CPU page fault entry and exit (estimate: no published figure isolates it)", 0, 1e12}),
      field(&P::hmm_range_fault_page,
            {"hmm_range_fault_page", ParamKind::time, "18 ns",
             "hmm_range_fault per 4 KiB page already present (Xe SVM's get_pages of a 2 MiB "
             "range of 4 KiB pages just migrated: 9 us for 512 pages, their mapping included)",
             0, 1e12}),
      field(&P::migrate_collect_page,
            {"migrate_collect_page", ParamKind::time, "300 ns",
             "migrate_vma_setup collect + unmap, per page that holds data (a never-touched hole "
             "costs none; estimate: with finalize 0.5 us a page, as UVM's 0.85 us per prefetched "
             "4 KiB page less its copy, Allen and Ge, SC'21)",
             0, 1e12}),
      field(&P::tlb_shootdown,
            {"tlb_shootdown", ParamKind::time, "900 ns",
             "CPU TLB shootdown, one per migration batch that unmaps pages the CPU maps (a "
             "single-page MADV_DONTNEED loop on Haswell: 0.78 us more with one other CPU to "
             "flush, 0.91 us with three; Nadav Amit's concurrent TLB flush series, 2019)",
             0, 1e12}),
      field(&P::copy_engine_setup,
            {"copy_engine_setup", ParamKind::time, "1.5 us",
             "GPU copy engine setup per migration batch; the copy itself is PCIe traffic "
             "(GPGPU-Sim UVMSmart's fit of measured GTX 1080 Ti copies: 4 KiB in 1.9 us)",
             0, 1e12}),
      field(&P::migrate_finalize_page,
            {"migrate_finalize_page", ParamKind::time, "200 ns",
             "migrate_vma_finalize per page (estimate, see migrate_collect_page)", 0, 1e12}),
      field(&P::notifier_invalidate,
            {"notifier_invalidate", ParamKind::time, "2 us",
             "mmu_interval_notifier invalidate per subscribed device: NIC MTT zap, GPU TLB "
             "invalidate (estimate)",
             0, 1e12}),
      field(&P::gpu_fault_batch,
            {"gpu_fault_batch", ParamKind::time, "34.1 us",
             "GPU driver service of one batch of replayable faults, fixed part: interrupt, fetch "
             "of the fault buffer, replay (NVIDIA UVM on a Titan V: 30-40 us for the smallest "
             "batches, Allen and Ge, SC'21; 36.5 us less a tlb_shootdown and a "
             "copy_engine_setup)",
             0, 1e12}),
      field(&P::gpu_fault_per_fault,
            {"gpu_fault_per_fault", ParamKind::time, "2 us",
             "GPU driver service per distinct faulting page of a batch, besides the migration's "
             "own per-page costs and copy (Allen and Ge, SC'21: 2.8 us per 4 KiB page in all)",
             0, 1e12}),
      field(&P::gpu_prefetch_threshold,
            {"gpu_prefetch_threshold", ParamKind::integer, 0,
             "NVIDIA UVM's density prefetcher, in percent: a GPU fault batch also migrates the "
             "largest aligned region of a 2 MiB block around a faulted page whose pages are "
             "resident or faulted for more than this share (UVM's uvm_perf_prefetch_threshold: "
             "51), and a CPU fault the same toward RAM; 0: off, as HMM drivers (nouveau) do",
             0, 100}),
      field(&P::gpu_fault_batch_pages,
            {"gpu_fault_batch_pages", ParamKind::integer, 256,
             "faults the GPU driver fetches per batch (NVIDIA UVM: 256)", 1, 65536}),
      field(&P::odp_fault,
            {"odp_fault", ParamKind::time, "220 us",
             "ODP fault fixed part: page-fault EQE, work queue, UMR MTT update, PAGE_FAULT_RESUME "
             "(Lesokhin et al., ASPLOS 2017: a minor network page fault on a 4 KB message takes "
             "220 us on mlx5; hmm_range_fault, migration and DMA mapping are charged apart)",
             0, 1e12}),
      field(&P::dma_map_page,
            {"dma_map_page", ParamKind::time, "100 ns",
             "DMA-API mapping of one page for a device (IOVA link or dma_map_phys; estimate)", 0,
             1e12}),
      field(&P::odp_fault_max,
            {"odp_fault_max", ParamKind::size, "4 MiB",
             "bytes one ODP fault resolves at most (mlx5 MAX_PREFETCH_LEN)", 4096, 0}),
      field(&P::odp_fault_workers,
            {"odp_fault_workers", ParamKind::integer, 32,
             "ODP faults of one NIC on one MR serviced at once: mlx5 queues each page-fault event "
             "as its own work item on an unbound work queue of max_active MLX5_NUM_CMD_EQE (32), "
             "so their fixed parts overlap; their page work (walk, migration, DMA mapping, MTT "
             "update) goes one fault at a time, in the order they reach it; 1: one fault after "
             "the other",
             1, 65536}),
      field(&P::migrate_to_ram_pages,
            {"migrate_to_ram_pages", ParamKind::integer, 1,
             "the aligned range of pages one migrate_to_ram moves around a faulting page, of "
             "those on the device (nouveau: 1; amdgpu SVM's 2 MiB granule of 4 KiB pages: 512)",
             1, 1 << 20}),
      field(&P::register_mr,
            {"register_mr", ParamKind::time, "16 us",
             "memory registration, fixed part per region (UCX's ib_md cost model: 16 us)", 0,
             1e12}),
      field(&P::register_page,
            {"register_page", ParamKind::time, "140 ns",
             "memory registration per resident page: pin_user_pages + DMA map + MTT entry "
             "(NIXL over UCX registering a touched 4 GiB pool on one mlx5 NIC in 0.147 s)",
             0, 1e12}),
      field(&P::register_page_huge,
            {"register_page_huge", ParamKind::time, "54 ns",
             "memory registration per 4 KiB of resident memory in 2 MiB pages: every subpage "
             "still pinned, but one folio pin, DMA segment and MTT entry a huge page (register_"
             "page / 2.59: hipHostRegister of a ROCm host tier 2.47-2.71x faster with THP)",
             0, 1e12}),
      field(&P::first_touch_page,
            {"first_touch_page", ParamKind::time, "310 ns",
             "populating a page of a buffer never touched, on its first access (allocation and "
             "zeroing; Mooncake's ibv_reg_mr of 500 GB untouched against pre-touched)",
             0, 1e12}),
      field(&P::gpu_pin,
            {"gpu_pin", ParamKind::time, "68.5 us",
             "the GPU driver pinning device memory for a peer (nvidia_p2p_get_pages, as "
             "nvidia-peermem's registrations do), fixed part per region (GDRCopy's pin latency "
             "on a V100 PCIe: 68-75 us from 64 KiB to 2 MiB)",
             0, 1e12}),
      field(&P::gpu_pin_page,
            {"gpu_pin_page", ParamKind::time, "197 ns",
             "... and per 64 KiB GPU page (GDRCopy on a V100 PCIe: 74.8 us for 2 MiB, 119.0 us "
             "for 16 MiB); each page is also DMA-mapped (dma_map_page)",
             0, 1e12}),
      field(&P::dmabuf_attach,
            {"dmabuf_attach", ParamKind::time, "10 us",
             "DMA-BUF dynamic attach + map_attachment by the importer (estimate)", 0, 1e12}),
      field(&P::cpu_copy_bandwidth,
            {"cpu_copy_bandwidth", ParamKind::rate, "10 GB/s",
             "rate at which the CPU reads or writes a buffer in system RAM (estimate, one core)",
             1e6, 0}),
      field(&P::qp_recover,
            {"qp_recover", ParamKind::time, "50 us",
             "after a revoked MR fails an access: error completion, ibv_dereg_mr, QP reset to "
             "RTS and reposting, before the MR is registered again (estimate)",
             0, 1e12}),
      field(&P::iommu_unmap,
            {"iommu_unmap", ParamKind::time, "200 ns",
             "one dma_unmap call through a translating IOMMU: IOVA lookup and free (estimate: "
             "with iotlb_flush, a one-page strict unmap's 0.6 us in dma_map_benchmark)",
             0, 1e12}),
      field(&P::iommu_unmap_page,
            {"iommu_unmap_page", ParamKind::time, "80 ns",
             "clearing one page's IOMMU page-table entry in a dma_unmap (dma_map_benchmark, "
             "Arm SMMUv3: 1 MiB unmapped in 21.2 us against 0.6 us for 4 KiB)",
             0, 1e12}),
      field(&P::iotlb_flush,
            {"iotlb_flush", ParamKind::time, "400 ns",
             "IOTLB invalidation of unmapped IOVAs: command and completion wait (a one-page "
             "strict unmap's 0.6 us in dma_map_benchmark, Arm SMMUv3, less the unmap's own "
             "work)",
             0, 1e12}),
      field(&P::iommu_flush, {"iommu_flush",
                              ParamKind::choice,
                              "lazy",
                              "when unmapped IOVAs are flushed from the IOTLB: strict (each unmap "
                              "waits for its flush, iommu.strict=1) or lazy (the flush queue; the "
                              "x86 default, Linux IOMMU_DEFAULT_DMA_LAZY)",
                              0,
                              0,
                              false,
                              false,
                              {"strict", "lazy"}}),
      field(&P::iommu_flush_queue,
            {"iommu_flush_queue", ParamKind::integer, 256,
             "lazy: slots of the flush queue's ring; the unmap that finds N - 1 queued flushes "
             "the IOTLB (Linux IOVA_DEFAULT_FQ_SIZE)",
             1, 1 << 20}),
      field(&P::iommu_flush_timeout,
            {"iommu_flush_timeout", ParamKind::time, "10 ms",
             "lazy: the timer that flushes a queue not yet full, off the unmapper's path (Linux "
             "IOVA_DEFAULT_FQ_TIMEOUT)",
             1, 1e12}),
      field(&P::eviction_unit,
            {"eviction_unit", ParamKind::size, "2 MiB",
             "device memory the GPU driver evicts at once when a migration to the device finds "
             "no free frame, least recently migrated first (NVIDIA UVM: a 2 MiB root chunk; "
             "amdgpu SVM: its 2 MiB range granularity); 0: the driver never evicts and a page "
             "that finds no room stays in RAM, mapped remotely (nouveau)",
             0, 0}),
      field(&P::gpu_fault_policy, {"gpu_fault_policy",
                                   ParamKind::choice,
                                   "migrate",
                                   "what a GPU fault on a page in system RAM does: migrate it to "
                                   "device memory (NVIDIA UVM, amdgpu SVM) or map it remotely "
                                   "through hmm_range_fault (nouveau; it migrates only on an "
                                   "explicit bind)",
                                   0,
                                   0,
                                   false,
                                   false,
                                   {"migrate", "map_remote"}}),
      field(&P::gpu_fault_granularity,
            {"gpu_fault_granularity", ParamKind::size, "4 KiB",
             "the aligned range a GPU fault migrates around its page, at least the buffer's "
             "page (amdgpu SVM: 2 MiB, its svm_range granularity of 2^9 pages)",
             4096, 0}),
      field(&P::eviction_path, {"eviction_path",
                                ParamKind::choice,
                                "migrate_vma",
                                "how evicted device memory leaves: migrate_vma, with per-page "
                                "collect and finalize and a GPU unmap (device-private pages: HMM "
                                "drivers; no CPU TLB shootdown, the CPU maps no device-private "
                                "page), or the driver's own path, one GPU unmap and one copy per "
                                "eviction unit (NVIDIA UVM's root chunks of managed memory)",
                                0,
                                0,
                                false,
                                false,
                                {"migrate_vma", "driver"}}),
      field(&P::thrashing_threshold,
            {"thrashing_threshold", ParamKind::integer, 0,
             "moves of a page, each within thrashing_lapse of the one before, after which its "
             "GPU faults are throttled (NVIDIA UVM uvm_perf_thrashing_threshold: 3); 0: off",
             0, 255}),
      field(&P::thrashing_lapse, {"thrashing_lapse", ParamKind::time, "500 us",
                                  "two moves of a page this close count as thrashing (UVM "
                                  "uvm_perf_thrashing_lapse_usec)",
                                  1, 1e12}),
      field(&P::thrashing_pin_threshold,
            {"thrashing_pin_threshold", ParamKind::integer, 10,
             "throttled faults on a thrashing page before the driver pins it in system RAM and "
             "maps it remotely (UVM uvm_perf_thrashing_pin_threshold)",
             1, 255}),
      field(&P::thrashing_nap, {"thrashing_nap", ParamKind::time, "500 us",
                                "how long a throttled GPU fault waits before it is serviced (UVM "
                                "uvm_perf_thrashing_nap: 1 lapse)",
                                0, 1e12}));
  return table;
}

const char *time_kind_name(TimeKind kind) {
  switch (kind) {
  case TimeKind::FaultHandling:
    return "fault_handling";
  case TimeKind::Invalidation:
    return "invalidation";
  case TimeKind::Shootdown:
    return "shootdown";
  case TimeKind::Copy:
    return "copy";
  case TimeKind::Setup:
    return "setup";
  case TimeKind::Dma:
    return "dma";
  case TimeKind::Count:
    break;
  }
  return "waiting";
}

OsKernel::OsKernel(sc_core::sc_module_name name, const OsCosts &costs, SimContext &context)
    : sc_module(name), calendar_(context.calendar), costs_(costs) {}

void OsKernel::call_at(std::int64_t at_ps, std::function<void()> then) {
  at_ps = std::max(at_ps, now_ps());
  pending_.push(Pending{at_ps, seq_++, std::move(then)});
  calendar_.wake_at(*this, pending_.top().at_ps);
}

void OsKernel::run() {
  while (!pending_.empty() && pending_.top().at_ps <= now_ps()) {
    // Move out before popping: the continuation may schedule more work.
    std::function<void()> then = std::move(const_cast<Pending &>(pending_.top()).then);
    pending_.pop();
    then();
  }
  if (!pending_.empty())
    calendar_.wake_at(*this, pending_.top().at_ps);
}

void OsKernel::record(TimeKind kind, std::int64_t start_ps, std::int64_t end_ps) {
  if (end_ps > start_ps)
    intervals_.push_back(Interval{start_ps, end_ps, kind});
}

namespace {

// Sorts 64-bit keys least significant digit first, 11 bits a pass (a count table that stays in
// the L1 cache), skipping the digits every key shares (the top bits of a run's times): linear
// in the keys where std::sort's comparisons grow as n log n (the largest cost at the end of a
// long workload run). Equal keys are equal integers, so the order is std::sort's exactly.
void sort_keys(std::vector<std::uint64_t> &keys) {
  constexpr int kDigitBits = 11;
  constexpr std::size_t kSmall = 1 << 12, kDigits = std::size_t{1} << kDigitBits;
  if (keys.size() < kSmall) {
    std::sort(keys.begin(), keys.end());
    return;
  }
  std::uint64_t any_set = 0, all_set = ~std::uint64_t{0};
  for (const std::uint64_t key : keys) {
    any_set |= key;
    all_set &= key;
  }
  std::vector<std::uint64_t> spare(keys.size());
  std::vector<std::size_t> start(kDigits);
  for (int shift = 0; shift < 64; shift += kDigitBits) {
    if (((any_set ^ all_set) >> shift & (kDigits - 1)) == 0)
      continue; // every key has the same digit here
    std::fill(start.begin(), start.end(), 0);
    for (const std::uint64_t key : keys)
      ++start[key >> shift & (kDigits - 1)];
    std::size_t at = 0;
    for (std::size_t &count : start)
      at += std::exchange(count, at);
    for (const std::uint64_t key : keys)
      spare[start[key >> shift & (kDigits - 1)]++] = key;
    keys.swap(spare);
  }
}
void sort_keys(std::vector<unsigned __int128> &keys) { std::sort(keys.begin(), keys.end()); }

// The sweep of OsKernel::breakdown_ps over boundary keys of type Key: time relative to the
// window above kind and direction. Boundaries at the same picosecond apply together (the time
// between them is zero), so only the time orders them; one integer per boundary because
// sorting them is most of the cost on a long run. 64-bit keys hold 2^59 ps (6.6 days) of
// window, 128-bit keys any.
template <class Key>
std::vector<std::int64_t> sweep_intervals(const std::vector<OsKernel::Interval> &intervals,
                                          std::int64_t start_ps, std::int64_t end_ps) {
  constexpr int kinds = static_cast<int>(TimeKind::Count);
  constexpr int kind_bits = 3, direction_bits = 1, time_shift = kind_bits + direction_bits;
  static_assert(kinds <= (1 << kind_bits), "TimeKind no longer fits its bits");
  std::vector<Key> edges;
  edges.reserve(intervals.size() * 2);
  for (const OsKernel::Interval &i : intervals) {
    std::int64_t s = std::max(i.start_ps, start_ps), e = std::min(i.end_ps, end_ps);
    if (e <= s)
      continue;
    const Key kind = static_cast<Key>(static_cast<int>(i.kind)) << direction_bits;
    edges.push_back(static_cast<Key>(s - start_ps) << time_shift | kind | 1U);
    edges.push_back(static_cast<Key>(e - start_ps) << time_shift | kind);
  }
  sort_keys(edges);
  // Between two boundaries the highest-ranked open kind wins.
  std::vector<std::int64_t> out(kinds + 1, 0);
  std::array<int, kinds> open{};
  std::int64_t cursor = start_ps;
  auto charge = [&](std::int64_t until) {
    if (until <= cursor)
      return;
    int winner = kinds; // waiting
    for (int k = 0; k < kinds; ++k)
      if (open[static_cast<std::size_t>(k)] > 0) {
        winner = k;
        break;
      }
    out[static_cast<std::size_t>(winner)] += until - cursor;
    cursor = until;
  };
  for (const Key edge : edges) {
    charge(start_ps + static_cast<std::int64_t>(edge >> time_shift));
    const auto kind = static_cast<std::size_t>(edge >> direction_bits) & ((1U << kind_bits) - 1);
    open[kind] += (edge & 1U) ? 1 : -1;
  }
  charge(end_ps);
  return out;
}

} // namespace

std::vector<std::int64_t> OsKernel::breakdown_ps(std::int64_t start_ps, std::int64_t end_ps) const {
  if (end_ps <= start_ps)
    return std::vector<std::int64_t>(static_cast<int>(TimeKind::Count) + 1, 0);
  constexpr std::int64_t longest_64bit_window_ps = std::int64_t{1} << 59;
  if (end_ps - start_ps < longest_64bit_window_ps)
    return sweep_intervals<std::uint64_t>(intervals_, start_ps, end_ps);
  return sweep_intervals<unsigned __int128>(intervals_, start_ps, end_ps);
}

} // namespace pciesim
