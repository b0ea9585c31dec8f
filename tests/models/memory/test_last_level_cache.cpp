// The last-level cache core (models/memory/last_level_cache.h): device reads hit what the CPU
// warmed and never allocate, DDIO writes allocate only into the I/O capacity and push their own
// earlier lines out, and a random read over a warmed window hits as often as the share of the
// window the cache holds.
#include <gtest/gtest.h>

#include "models/common/splitmix64.h"
#include "models/memory/last_level_cache.h"

namespace pciesim {
namespace {

constexpr std::uint64_t kLine = 64;

TEST(LastLevelCache, ReadsHitWarmLinesAndMissesDoNotAllocate) {
  LastLevelCache llc(Bytes{64 * kLine}, Bytes{8 * kLine});
  EXPECT_FALSE(llc.read(0));
  EXPECT_FALSE(llc.read(0)); // a PCIe read that missed left nothing behind
  llc.warm(0, 16 * kLine);
  EXPECT_TRUE(llc.read(0));
  EXPECT_TRUE(llc.read(15 * kLine + 63));
  EXPECT_FALSE(llc.read(16 * kLine));
  llc.flush(0, 8 * kLine);
  EXPECT_FALSE(llc.read(7 * kLine));
  EXPECT_TRUE(llc.read(8 * kLine));
}

TEST(LastLevelCache, WarmingMoreThanTheCapacityKeepsTheLastLines) {
  LastLevelCache llc(Bytes{64 * kLine}, Bytes{8 * kLine});
  llc.warm(0, 1000 * kLine);
  EXPECT_EQ(llc.lines_held(), 64u);
  EXPECT_FALSE(llc.read(935 * kLine));
  EXPECT_TRUE(llc.read(936 * kLine));
  EXPECT_TRUE(llc.read(999 * kLine));
}

TEST(LastLevelCache, DdioWritesAllocateOnlyIntoTheIoWays) {
  LastLevelCache llc(Bytes{64 * kLine}, Bytes{8 * kLine});
  llc.warm(1 << 20, 56 * kLine); // the CPU's lines fill all but the I/O share
  bool written_back = false;
  for (std::uint64_t n = 0; n < 8; ++n)
    EXPECT_TRUE(llc.write(n * kLine, written_back));
  EXPECT_FALSE(written_back);
  // The ninth line evicts the first device line (dirty: written back), not a CPU line.
  EXPECT_TRUE(llc.write(8 * kLine, written_back));
  EXPECT_TRUE(written_back);
  EXPECT_FALSE(llc.read(0));
  EXPECT_TRUE(llc.read(8 * kLine));
  EXPECT_TRUE(llc.read((1 << 20) + 55 * kLine));
  EXPECT_EQ(llc.counts().write_allocations, 9u);
  EXPECT_EQ(llc.counts().dirty_evictions, 1u);
  // A write to a line the CPU holds updates it in place.
  EXPECT_TRUE(llc.write(1 << 20, written_back));
  EXPECT_EQ(llc.counts().write_hits, 1u);
}

TEST(LastLevelCache, WithoutDdioWritesGoToDramAndDropTheLine) {
  LastLevelCache llc(Bytes{64 * kLine}, Bytes{0});
  llc.warm(0, 4 * kLine);
  bool written_back = false;
  EXPECT_FALSE(llc.write(0, written_back));
  EXPECT_FALSE(llc.read(0));
  EXPECT_TRUE(llc.read(kLine));
}

TEST(LastLevelCache, RandomReadsOverAWarmWindowHitInProportionToWhatFits) {
  // A 4096-line cache, a warmed window of 16384 lines: a uniformly random read hits with
  // probability 4096 / 16384 = 1/4 (misses do not allocate, so the held set never changes).
  LastLevelCache llc(Bytes{4096 * kLine}, Bytes{410 * kLine});
  llc.warm(0, 16384 * kLine);
  std::uint64_t state = 7, hits = 0;
  const int reads = 40000;
  for (int i = 0; i < reads; ++i)
    hits += llc.read((splitmix64_next(state) % 16384) * kLine) ? 1 : 0;
  EXPECT_NEAR(static_cast<double>(hits) / reads, 0.25, 0.01); // 4.6 standard errors
}

TEST(LastLevelCache, NoCapacityIsNoCache) {
  LastLevelCache llc(Bytes{0}, Bytes{0});
  llc.warm(0, 1 << 20);
  EXPECT_FALSE(llc.enabled());
  EXPECT_FALSE(llc.read(0));
}

} // namespace
} // namespace pciesim
