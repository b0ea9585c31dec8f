// OsKernel::breakdown_ps: overlapping spans go to the highest-ranked kind, gaps are waiting,
// spans are clipped to the window, and a window beyond 2^59 ps (the reach of its 64-bit sort
// keys) splits exactly as a short one does.
#include <gtest/gtest.h>

#include "models/os/os_kernel.h"
#include "tests/support/probe_endpoint.h"

namespace pciesim::test {
namespace {

constexpr int kWaiting = static_cast<int>(TimeKind::Count);

std::int64_t of(const std::vector<std::int64_t> &breakdown, TimeKind kind) {
  return breakdown[static_cast<std::size_t>(kind)];
}

// The same pattern of spans from `origin` on: fault handling 0-100 inside DMA 50-300, copy
// 250-400 (DMA outranks copy from 250 to 300), nothing 400-500, invalidation 500-600 twice.
void record_pattern(OsKernel &kernel, std::int64_t origin) {
  kernel.record(TimeKind::Dma, origin + 50, origin + 300);
  kernel.record(TimeKind::FaultHandling, origin + 0, origin + 100);
  kernel.record(TimeKind::Copy, origin + 250, origin + 400);
  kernel.record(TimeKind::Invalidation, origin + 500, origin + 600);
  kernel.record(TimeKind::Invalidation, origin + 500, origin + 600);
}

void expect_pattern(const std::vector<std::int64_t> &b) {
  EXPECT_EQ(of(b, TimeKind::FaultHandling), 100);
  EXPECT_EQ(of(b, TimeKind::Dma), 200);  // 100-300
  EXPECT_EQ(of(b, TimeKind::Copy), 100); // 300-400
  EXPECT_EQ(of(b, TimeKind::Invalidation), 100);
  EXPECT_EQ(b[kWaiting], 100 + 400); // 400-500 and 600-1000
}

TEST(TimeBreakdown, HighestRankedKindWinsAndGapsAreWaiting) {
  ModelTestContext test;
  OsKernel kernel("os", OsCosts{}, test.context);
  record_pattern(kernel, 0);
  expect_pattern(kernel.breakdown_ps(0, 1000));
}

TEST(TimeBreakdown, SpansAreClippedToTheWindow) {
  ModelTestContext test;
  OsKernel kernel("os", OsCosts{}, test.context);
  record_pattern(kernel, 0);
  const std::vector<std::int64_t> b = kernel.breakdown_ps(80, 350);
  EXPECT_EQ(of(b, TimeKind::FaultHandling), 20);
  EXPECT_EQ(of(b, TimeKind::Dma), 200);
  EXPECT_EQ(of(b, TimeKind::Copy), 50);
  EXPECT_EQ(b[kWaiting], 0);
}

TEST(TimeBreakdown, AWindowBeyondTheShortKeysSplitsTheSame) {
  ModelTestContext test;
  OsKernel kernel("os", OsCosts{}, test.context);
  const std::int64_t far_ps = (std::int64_t{1} << 60) + 12345; // about 13 days in
  record_pattern(kernel, far_ps);
  // A window from 0: over 2^59 ps long, so the sweep takes its 128-bit keys.
  std::vector<std::int64_t> b = kernel.breakdown_ps(0, far_ps + 1000);
  b[kWaiting] -= far_ps;
  expect_pattern(b);
}

} // namespace
} // namespace pciesim::test
