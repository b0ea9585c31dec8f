#include "models/os/os_kernel.h"

#include <algorithm>
#include <array>

#include "models/common/sim_time.h"

namespace pciesim {

const std::vector<ParamSpec> &OsCosts::specs() {
  static const std::vector<ParamSpec> specs = {
      {"cpu_fault", ParamKind::time, "1 us", "CPU page fault entry and exit (MODELING.md §6)", 0,
       1e12},
      {"hmm_range_fault_page", ParamKind::time, "100 ns",
       "hmm_range_fault per 4 KiB page already present (MODELING.md §6)", 0, 1e12},
      {"migrate_collect_page", ParamKind::time, "300 ns",
       "migrate_vma_setup collect + unmap, per page (MODELING.md §6)", 0, 1e12},
      {"tlb_shootdown", ParamKind::time, "5 us",
       "TLB shootdown, one per migration batch (MODELING.md §6)", 0, 1e12},
      {"copy_engine_setup", ParamKind::time, "5 us",
       "GPU copy engine setup per migration batch; the copy itself is PCIe traffic "
       "(MODELING.md §6)",
       0, 1e12},
      {"migrate_finalize_page", ParamKind::time, "200 ns",
       "migrate_vma_finalize per page (MODELING.md §6)", 0, 1e12},
      {"notifier_invalidate", ParamKind::time, "2 us",
       "mmu_interval_notifier invalidate per subscribed device: NIC MTT zap, GPU TLB "
       "invalidate (MODELING.md §6)",
       0, 1e12},
      {"gpu_fault_batch", ParamKind::time, "45 us",
       "GPU driver service of one batch of replayable faults (MODELING.md §6: GPGPU-Sim UVM "
       "default, 20-50 us published)",
       0, 1e12},
      {"gpu_fault_batch_pages", ParamKind::integer, 256,
       "faults the GPU driver fetches per batch (NVIDIA UVM: 256)", 1, 65536},
      {"odp_fault", ParamKind::time, "10 us",
       "ODP fault fixed part: page-fault EQE, work queue, UMR MTT update, PAGE_FAULT_RESUME "
       "(estimate, low end of the 10-100 us of MODELING.md §6; hmm_range_fault, migration and "
       "DMA mapping are charged apart)",
       0, 1e12},
      {"dma_map_page", ParamKind::time, "100 ns",
       "DMA-API mapping of one page for a device (IOVA link or dma_map_phys; estimate)", 0, 1e12},
      {"odp_fault_max", ParamKind::size, "4 MiB",
       "bytes one ODP fault resolves at most (mlx5 MAX_PREFETCH_LEN)", 4096, 0},
      {"migrate_to_ram_pages", ParamKind::integer, 1,
       "pages one migrate_to_ram moves (nouveau and NVIDIA UVM remote faults: 1; a 2 MiB "
       "block of 4 KiB pages: 512)",
       1, 1 << 20},
      {"register_page", ParamKind::time, "200 ns",
       "memory registration per page: pin_user_pages + DMA map (estimate)", 0, 1e12},
      {"dmabuf_attach", ParamKind::time, "10 us",
       "DMA-BUF dynamic attach + map_attachment by the importer (estimate)", 0, 1e12},
      {"cpu_copy_bandwidth", ParamKind::rate, "10 GB/s",
       "rate at which the CPU reads or writes a buffer in system RAM (estimate, one core)", 1e6, 0},
  };
  return specs;
}

OsCosts OsCosts::from(const ParamSet &p) {
  OsCosts c;
  c.cpu_fault = p.duration("cpu_fault");
  c.hmm_range_fault_page = p.duration("hmm_range_fault_page");
  c.migrate_collect_page = p.duration("migrate_collect_page");
  c.tlb_shootdown = p.duration("tlb_shootdown");
  c.copy_engine_setup = p.duration("copy_engine_setup");
  c.migrate_finalize_page = p.duration("migrate_finalize_page");
  c.notifier_invalidate = p.duration("notifier_invalidate");
  c.gpu_fault_batch = p.duration("gpu_fault_batch");
  c.gpu_fault_batch_pages = static_cast<int>(p.integer("gpu_fault_batch_pages"));
  c.odp_fault = p.duration("odp_fault");
  c.dma_map_page = p.duration("dma_map_page");
  c.odp_fault_max = p.bytes("odp_fault_max");
  c.migrate_to_ram_pages = static_cast<int>(p.integer("migrate_to_ram_pages"));
  c.register_page = p.duration("register_page");
  c.dmabuf_attach = p.duration("dmabuf_attach");
  c.cpu_copy_bandwidth = p.bandwidth("cpu_copy_bandwidth");
  return c;
}

const char *time_kind_name(TimeKind kind) {
  switch (kind) {
  case TimeKind::FaultHandling:
    return "fault_handling";
  case TimeKind::Invalidation:
    return "invalidation";
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

std::vector<std::int64_t> OsKernel::breakdown_ps(std::int64_t start_ps, std::int64_t end_ps) const {
  constexpr int kinds = static_cast<int>(TimeKind::Count);
  std::vector<std::int64_t> out(kinds + 1, 0);
  if (end_ps <= start_ps)
    return out;
  // Sweep the interval boundaries; between two boundaries the highest-ranked open kind wins.
  struct Edge {
    std::int64_t at_ps;
    int kind;
    int delta;
  };
  std::vector<Edge> edges;
  edges.reserve(intervals_.size() * 2);
  for (const Interval &i : intervals_) {
    std::int64_t s = std::max(i.start_ps, start_ps), e = std::min(i.end_ps, end_ps);
    if (e <= s)
      continue;
    edges.push_back(Edge{s, static_cast<int>(i.kind), +1});
    edges.push_back(Edge{e, static_cast<int>(i.kind), -1});
  }
  std::sort(edges.begin(), edges.end(), [](const Edge &a, const Edge &b) {
    return a.at_ps != b.at_ps ? a.at_ps < b.at_ps : a.delta < b.delta;
  });
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
  for (const Edge &e : edges) {
    charge(e.at_ps);
    open[static_cast<std::size_t>(e.kind)] += e.delta;
  }
  charge(end_ps);
  return out;
}

} // namespace pciesim
