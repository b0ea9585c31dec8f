// OsKernel::breakdown_ps: overlapping spans go to the highest-ranked kind, gaps are waiting,
// spans are clipped to the window, and a window beyond 2^59 ps (the reach of its 64-bit sort
// keys) splits exactly as a short one does; a long run's many spans (sorted by radix, not
// std::sort) split as a direct count over every elementary segment does.
#include <algorithm>
#include <random>
#include <vector>

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

// Enough spans that their boundaries take the radix sort, spread over 2^40 ps so that several
// of its digits vary, and clustered so that some spans nest and others overlap in part.
TEST(TimeBreakdown, ManySpansSplitAsADirectCountDoes) {
  ModelTestContext test;
  OsKernel kernel("os", OsCosts{}, test.context);
  std::mt19937_64 random(18);
  struct Span {
    int kind;
    std::int64_t start, end;
  };
  std::vector<Span> spans;
  for (int i = 0; i < 3000; ++i) {
    const std::int64_t start = static_cast<std::int64_t>(random() % (std::uint64_t{1} << 40));
    const std::int64_t length = 1 + static_cast<std::int64_t>(random() % (std::uint64_t{1} << 30));
    spans.push_back({static_cast<int>(random() % kWaiting), start, start + length});
    kernel.record(static_cast<TimeKind>(spans.back().kind), start, start + length);
  }
  const std::int64_t window_end = std::int64_t{1} << 41;
  std::vector<std::int64_t> cuts = {0, window_end};
  for (const Span &s : spans) {
    cuts.push_back(s.start);
    cuts.push_back(s.end);
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  std::vector<std::int64_t> expected(kWaiting + 1, 0);
  for (std::size_t k = 0; k + 1 < cuts.size(); ++k) {
    int winner = kWaiting; // the lowest-numbered kind covering the segment, else waiting
    for (const Span &s : spans)
      if (s.start <= cuts[k] && cuts[k + 1] <= s.end)
        winner = std::min(winner, s.kind);
    expected[static_cast<std::size_t>(winner)] += cuts[k + 1] - cuts[k];
  }
  EXPECT_EQ(kernel.breakdown_ps(0, window_end), expected);
}

} // namespace
} // namespace pciesim::test
