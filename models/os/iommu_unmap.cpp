// The cost of tearing down a DMA mapping through a translating IOMMU (drivers/iommu/dma-iommu.c,
// iommu_dma_unmap_page / __iommu_dma_unmap): each dma_unmap call frees its IOVA range and clears
// its page-table entries, then the IOTLB must forget them. In strict mode (iommu.strict=1) the
// unmapper waits for that invalidation every time; in lazy mode (the x86 default) the range goes
// to a flush queue (a ring of iommu_flush_queue slots), and the unmapper that finds the ring
// full flushes it synchronously (queue_iova: fq_full -> fq_flush_iotlb), while a queue that never
// fills is flushed by a timer iommu_flush_timeout after its first entry, off the unmappers' path.
// Without an IOMMU, or with a passthrough domain, dma_unmap is dma-direct and costs nothing here:
// callers only come here for a device whose DMA is translated.
#include <algorithm>

#include "models/os/os_kernel.h"

namespace pciesim {

std::int64_t OsKernel::iommu_unmap(std::int64_t at_ps, std::uint64_t pages) {
  const OsCosts &c = costs_;
  ++stats_.iommu_unmaps;
  std::int64_t end_ps =
      at_ps + c.iommu_unmap.ps + static_cast<std::int64_t>(pages) * c.iommu_unmap_page.ps;
  bool flush_now = c.iommu_flush == OsCosts::IommuFlush::Strict;
  if (!flush_now) {
    // The timer armed by the queue's first entry fired before this unmap: the queue is empty.
    if (flush_queue_entries_ > 0 && at_ps >= flush_queue_since_ps_ + c.iommu_flush_timeout.ps) {
      ++stats_.iotlb_flushes;
      flush_queue_entries_ = 0;
    }
    // A ring of N slots holds N - 1 entries (fq_full); the unmap that finds it full flushes
    // it, then queues its own range: a flush every N - 1 unmaps after the first N - 1.
    const std::uint64_t slots = static_cast<std::uint64_t>(c.iommu_flush_queue);
    flush_now = flush_queue_entries_ + 1 >= slots;
    if (flush_now)
      flush_queue_entries_ = 0;
    if (slots > 1 && flush_queue_entries_++ == 0)
      flush_queue_since_ps_ = at_ps;
  }
  if (flush_now) {
    ++stats_.iotlb_flushes;
    end_ps += c.iotlb_flush.ps;
  }
  record(TimeKind::Invalidation, at_ps, end_ps);
  return end_ps;
}

} // namespace pciesim
