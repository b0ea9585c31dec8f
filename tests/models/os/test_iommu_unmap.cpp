// The IOMMU unmap charge (models/os/iommu_unmap.cpp) against its formulas: strict mode pays
// one IOTLB flush per unmap; lazy mode pays the flush only when the unmapper finds the flush
// queue's ring full (a ring of N slots holds N - 1 unmaps), and a timer empties a queue that
// never fills without charging anyone.
#include <gtest/gtest.h>

#include "models/os/os_kernel.h"
#include "tests/support/probe_endpoint.h"

namespace pciesim::test {
namespace {

struct UnmapBench {
  explicit UnmapBench(OsCosts costs) : kernel("os", costs, test.context) {}
  // `count` unmaps of `pages` pages, each starting when the previous one returned (from
  // `start_ps`, `gap_ps` apart); the time the last one returned.
  std::int64_t unmap_serially(int count, std::uint64_t pages, std::int64_t start_ps = 0,
                              std::int64_t gap_ps = 0) {
    std::int64_t t = start_ps;
    for (int i = 0; i < count; ++i)
      t = kernel.iommu_unmap(t, pages) + gap_ps;
    return t - gap_ps;
  }
  ModelTestContext test;
  OsKernel kernel;
};

OsCosts with_flush(OsCosts::IommuFlush mode, int queue = 256) {
  OsCosts c;
  c.iommu_flush = mode;
  c.iommu_flush_queue = queue;
  return c;
}

TEST(IommuUnmap, StrictPaysOneFlushPerUnmap) {
  const OsCosts c = with_flush(OsCosts::IommuFlush::Strict);
  UnmapBench bench(c);
  const int unmaps = 300;
  const std::uint64_t pages = 16;
  std::int64_t end = bench.unmap_serially(unmaps, pages);
  EXPECT_EQ(end, unmaps * (c.iommu_unmap.ps + 16 * c.iommu_unmap_page.ps + c.iotlb_flush.ps));
  EXPECT_EQ(bench.kernel.stats().iotlb_flushes, 300u);
  EXPECT_EQ(bench.kernel.stats().iommu_unmaps, 300u);
  // All of it is invalidation time.
  EXPECT_EQ(bench.kernel.breakdown_ps(0, end)[static_cast<int>(TimeKind::Invalidation)], end);
}

TEST(IommuUnmap, LazyPaysAFlushEachTimeTheRingIsFull) {
  for (int queue : {2, 16, 256}) {
    SCOPED_TRACE(queue);
    const OsCosts c = with_flush(OsCosts::IommuFlush::Lazy, queue);
    UnmapBench bench(c);
    const int unmaps = 1000;
    std::int64_t end = bench.unmap_serially(unmaps, 1);
    // Flushes at unmaps N, 2N - 1, 3N - 2, ...: floor((U - 1) / (N - 1)).
    const std::int64_t flushes = (unmaps - 1) / (queue - 1);
    EXPECT_EQ(end,
              unmaps * (c.iommu_unmap.ps + c.iommu_unmap_page.ps) + flushes * c.iotlb_flush.ps);
    EXPECT_EQ(bench.kernel.stats().iotlb_flushes, static_cast<std::uint64_t>(flushes));
  }
}

TEST(IommuUnmap, LazyWithAOneSlotRingIsStrict) {
  const OsCosts c = with_flush(OsCosts::IommuFlush::Lazy, 1);
  UnmapBench lazy(c); // one calendar per process: the strict formula stands for strict
  EXPECT_EQ(lazy.unmap_serially(10, 4),
            10 * (c.iommu_unmap.ps + 4 * c.iommu_unmap_page.ps + c.iotlb_flush.ps));
  EXPECT_EQ(lazy.kernel.stats().iotlb_flushes, 10u);
}

TEST(IommuUnmap, TheTimerFlushesAQueueThatNeverFillsOffThePath) {
  const OsCosts c = with_flush(OsCosts::IommuFlush::Lazy, 256);
  UnmapBench bench(c);
  // 300 unmaps, each 11 ms after the previous: the 10 ms timer empties the queue every time,
  // so no unmapper ever finds it full.
  const std::int64_t gap = 11000000000;
  std::int64_t end = bench.unmap_serially(300, 1, 0, gap);
  const std::int64_t unmap_ps = c.iommu_unmap.ps + c.iommu_unmap_page.ps;
  EXPECT_EQ(end, 299 * (unmap_ps + gap) + unmap_ps);
  EXPECT_EQ(bench.kernel.stats().iotlb_flushes, 299u) << "one timer flush before each later unmap";
  EXPECT_EQ(bench.kernel.breakdown_ps(0, end)[static_cast<int>(TimeKind::Invalidation)],
            300 * unmap_ps);
}

} // namespace
} // namespace pciesim::test
