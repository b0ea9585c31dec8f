// TranslationCache (IOTLB / PWC / ATC) and the IOMMU timing model, with a fake host memory
// whose page-table reads take a fixed time and are recorded.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "models/iommu/iommu.h"
#include "sim/config/param_loader.h"

namespace pciesim {
namespace {

constexpr std::int64_t kNs = 1000; // ps
constexpr std::uint64_t k4K = 4096;
constexpr std::uint64_t k2M = 2ull << 20;
constexpr std::int64_t kReadPs = 80 * kNs;

TEST(TranslationCache, HitAfterMiss) {
  TranslationCache c(4, 0, Bytes{k4K});
  EXPECT_FALSE(c.lookup(c.page_of(0x5123)));
  c.insert(c.page_of(0x5123));
  EXPECT_TRUE(c.lookup(c.page_of(0x5fff))); // same 4 KiB page
  EXPECT_FALSE(c.lookup(c.page_of(0x6000)));
  EXPECT_EQ(c.stats().hits, 1u);
  EXPECT_EQ(c.stats().misses, 2u);
}

TEST(TranslationCache, FullyAssociativeEvictsLeastRecentlyUsed) {
  for (std::size_t ways : {std::size_t{0}, std::size_t{4}, std::size_t{100}}) {
    TranslationCache c(4, ways, Bytes{k4K});
    EXPECT_EQ(c.ways(), 4u);
    for (std::uint64_t page : {1, 2, 3, 4})
      c.insert(page);
    EXPECT_TRUE(c.lookup(1)); // 1 becomes most recent: LRU order now 2, 3, 4, 1
    c.insert(5);              // evicts 2
    EXPECT_FALSE(c.contains(2));
    c.insert(6); // evicts 3
    EXPECT_FALSE(c.contains(3));
    EXPECT_TRUE(c.contains(1) && c.contains(4) && c.contains(5) && c.contains(6));
    EXPECT_EQ(c.stats().evictions, 2u);
  }
}

TEST(TranslationCache, SetAssociativeEvictsWithinTheSet) {
  // 4 entries, 2 ways: 2 sets; even pages in set 0, odd pages in set 1.
  TranslationCache c(4, 2, Bytes{k4K});
  c.insert(1);
  c.insert(0);
  c.insert(2);
  c.insert(4); // set 0 full with {0, 2}: evicts 0, the LRU of set 0; page 1 is untouched
  EXPECT_FALSE(c.contains(0));
  EXPECT_TRUE(c.contains(1) && c.contains(2) && c.contains(4));
  EXPECT_TRUE(c.lookup(2));
  c.insert(6); // evicts 4 (2 was just used)
  EXPECT_FALSE(c.contains(4));
  EXPECT_TRUE(c.contains(2));
  EXPECT_THROW(TranslationCache(6, 4, Bytes{k4K}), std::invalid_argument);
}

TEST(TranslationCache, InvalidateRangeAndAll) {
  TranslationCache c(16, 0, Bytes{k4K});
  for (std::uint64_t page = 0; page < 10; ++page)
    c.insert(page);
  // [2 pages + 100 B, + 4 KiB) touches pages 2 and 3.
  EXPECT_EQ(c.invalidate(2 * k4K + 100, k4K), 2u);
  EXPECT_FALSE(c.contains(2) || c.contains(3));
  EXPECT_TRUE(c.contains(1) && c.contains(4));
  EXPECT_EQ(c.invalidate_pages(8, 1000), 2u); // range larger than the contents
  EXPECT_EQ(c.invalidate_all(), 6u);          // 0, 1, 4, 5, 6, 7
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.stats().invalidations, 10u);
  EXPECT_EQ(c.stats().evictions, 0u);
}

// Random lookups, inserts and invalidations of a few pages (so that one page is often asked
// for twice in a row, the case the cache answers from its most recent page) against a plain
// per-set LRU list: every answer and count the same.
TEST(TranslationCache, RepeatedPagesKeepTheOrderOfAPlainLruList) {
  for (std::size_t ways : {std::size_t{1}, std::size_t{2}, std::size_t{0}}) {
    constexpr std::size_t kEntries = 4;
    TranslationCache cache(kEntries, ways, Bytes{k4K});
    const std::size_t sets = kEntries / cache.ways();
    std::vector<std::vector<std::uint64_t>> lru(sets); // most recent first
    std::uint64_t hits = 0, misses = 0;
    std::uint64_t state = 12345;
    auto draw = [&state](std::uint64_t n) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      return (state >> 33) % n;
    };
    for (int step = 0; step < 20000; ++step) {
      const std::uint64_t page = draw(7);
      std::vector<std::uint64_t> &set = lru[page % sets];
      auto at = std::find(set.begin(), set.end(), page);
      const std::uint64_t op = draw(10);
      if (op < 6) { // lookup
        const bool hit = at != set.end();
        if (hit)
          std::rotate(set.begin(), at, at + 1);
        ++(hit ? hits : misses);
        ASSERT_EQ(cache.lookup(page), hit) << "step " << step;
      } else if (op < 9) { // insert
        if (at != set.end())
          std::rotate(set.begin(), at, at + 1);
        else {
          if (set.size() == cache.ways())
            set.pop_back();
          set.insert(set.begin(), page);
        }
        cache.insert(page);
      } else if (draw(4) == 0) {
        for (auto &each : lru)
          each.clear();
        cache.invalidate_all();
      } else {
        if (at != set.end())
          set.erase(at);
        cache.invalidate_pages(page, page);
      }
      for (std::uint64_t p = 0; p < 7; ++p) {
        const auto &s = lru[p % sets];
        ASSERT_EQ(cache.contains(p), std::find(s.begin(), s.end(), p) != s.end())
            << "step " << step << " page " << p;
      }
    }
    EXPECT_EQ(cache.stats().hits, hits);
    EXPECT_EQ(cache.stats().misses, misses);
  }
}

TEST(TranslationCache, NoEntriesAlwaysMisses) {
  TranslationCache c(0, 0, Bytes{k4K});
  c.insert(7);
  EXPECT_FALSE(c.lookup(7));
}

// Host memory stand-in: every 8-byte read takes kReadPs; issue times and addresses recorded.
struct FakeMemory {
  std::vector<std::pair<std::uint64_t, std::int64_t>> reads;
  PageTableReader reader() {
    return [this](std::uint64_t address, std::int64_t at_ps) {
      reads.emplace_back(address, at_ps);
      return at_ps + kReadPs;
    };
  }
};

IommuParams translated(Bytes page_size = Bytes{k4K}) {
  IommuParams p;
  p.mode = IommuMode::Translated;
  p.page_size = page_size;
  return p;
}

constexpr std::uint64_t kTableBase = 0x10'0000'0000;

TEST(Iommu, OffAndPassthroughAddNothing) {
  for (IommuMode mode : {IommuMode::Off, IommuMode::Passthrough}) {
    FakeMemory memory;
    IommuParams p;
    p.mode = mode;
    Iommu iommu(p, memory.reader(), kTableBase);
    EXPECT_EQ(iommu.enabled(), mode == IommuMode::Passthrough);
    EXPECT_FALSE(iommu.translates());
    EXPECT_EQ(iommu.translate(0x1234, 777), 777);
    EXPECT_EQ(iommu.translation_request(0x1234, 778), 778);
    EXPECT_EQ(iommu.invalidate(0, 1 << 20, 779), 779);
    EXPECT_TRUE(memory.reads.empty());
    iommu.stats().for_each(
        [](const char *name, std::uint64_t value) { EXPECT_EQ(value, 0u) << name; });
  }
}

TEST(Iommu, ColdWalkIsLookupPlusOverheadPlusSerialReads) {
  for (int levels : {4, 5}) {
    FakeMemory memory;
    IommuParams p = translated();
    p.levels = levels;
    Iommu iommu(p, memory.reader(), kTableBase);
    const std::int64_t start = 1000 * kNs;
    // Lookup 5 ns, then the walker's 200 ns, then `levels` dependent reads of 80 ns.
    std::int64_t expected = start + p.lookup_latency.ps + p.walk_overhead.ps + levels * kReadPs;
    EXPECT_EQ(iommu.translate(0x7654'3210'1000, start), expected);
    ASSERT_EQ(memory.reads.size(), static_cast<std::size_t>(levels));
    for (std::size_t i = 1; i < memory.reads.size(); ++i) // each read waits for the previous
      EXPECT_EQ(memory.reads[i].second, memory.reads[i - 1].second + kReadPs);
    EXPECT_EQ(memory.reads[0].first, iommu.entry_address(levels, 0x7654'3210'1000));
    EXPECT_EQ(memory.reads[0].first >> 12, kTableBase >> 12); // the root table
    // Hit afterwards: the lookup latency only.
    EXPECT_EQ(iommu.translate(0x7654'3210'1ff8, 2 * start), 2 * start + p.lookup_latency.ps);
    EXPECT_EQ(iommu.stats().iotlb_hits, 1u);
    EXPECT_EQ(iommu.stats().iotlb_misses, 1u);
    EXPECT_EQ(iommu.stats().walk_memory_reads, static_cast<std::uint64_t>(levels));
  }
}

TEST(Iommu, PageWalkCacheCutsReadsForNeighbourPages) {
  FakeMemory memory;
  Iommu iommu(translated(), memory.reader(), kTableBase);
  const std::uint64_t base = 0x40'0000'0000; // 256 GiB: 1 GiB and 512 GiB aligned
  iommu.translate(base, 0);
  EXPECT_EQ(iommu.stats().walk_memory_reads, 4u);
  // Next 4 KiB page, same 2 MiB region: the level-2 entry (PDE) is cached -> leaf read only.
  std::int64_t at = 10'000 * kNs;
  std::int64_t looked_up = at + 5 * kNs;
  EXPECT_EQ(iommu.translate(base + k4K, at), looked_up + 200 * kNs + 1 * kReadPs);
  EXPECT_EQ(iommu.stats().walk_memory_reads, 5u);
  // Default arithmetic (docs/references.md, "IOMMU"): a warm-PWC miss adds 200 + 80 = 280 ns.
  EXPECT_EQ(iommu.translate(base + 2 * k4K, at) - looked_up, 280 * kNs);
  // Same 1 GiB, next 2 MiB: level-3 entry cached -> levels 2 and 1 read.
  iommu.translate(base + k2M, at);
  EXPECT_EQ(iommu.stats().walk_memory_reads, 8u);
  // Same 512 GiB, next 1 GiB: level-4 entry cached -> 3 reads.
  iommu.translate(base + (1ull << 30), at);
  EXPECT_EQ(iommu.stats().walk_memory_reads, 11u);
  EXPECT_EQ(iommu.stats().pwc_hits, 4u);
  // Neighbouring pages share their upper tables; leaf entries are 8 bytes apart.
  EXPECT_EQ(iommu.entry_address(2, base), iommu.entry_address(2, base + k4K));
  EXPECT_EQ(iommu.entry_address(1, base) + 8, iommu.entry_address(1, base + k4K));
}

TEST(Iommu, TwoMegabytePagesWalkOneLevelLess) {
  FakeMemory memory;
  IommuParams p = translated(Bytes{k2M});
  Iommu iommu(p, memory.reader(), kTableBase);
  EXPECT_EQ(iommu.walk_levels(), 3);
  EXPECT_EQ(iommu.translate(0, 0), 5 * kNs + 200 * kNs + 3 * kReadPs);
  EXPECT_EQ(iommu.translate(k2M - 64, 0), 0 + 5 * kNs + 200 * kNs + 3 * kReadPs); // in flight
  EXPECT_EQ(iommu.stats().walks, 1u);
}

// Sweeps `bytes` twice with 256-byte requests, far enough apart that no walk is in flight;
// returns the IOTLB misses of the second sweep.
std::uint64_t second_sweep_misses(Bytes page_size, std::uint64_t bytes) {
  FakeMemory memory;
  Iommu iommu(translated(page_size), memory.reader(), kTableBase);
  std::int64_t at = 0;
  for (int sweep = 0; sweep < 2; ++sweep) {
    if (sweep == 1)
      at += 1000 * kNs;
    std::uint64_t before = iommu.stats().iotlb_misses;
    for (std::uint64_t offset = 0; offset < bytes; offset += 256)
      at = iommu.translate(0x1000'0000 + offset, at) + 10 * kNs;
    if (sweep == 1)
      return iommu.stats().iotlb_misses - before;
  }
  return 0;
}

TEST(Iommu, WorkingSetBeyondReachMissesOnEveryPage) {
  // Reach = 64 entries x 4 KiB = 256 KiB. A 512 KiB sweep evicts each page (LRU) before it
  // comes round again: every one of its 128 pages misses on the second sweep too.
  EXPECT_EQ(second_sweep_misses(Bytes{k4K}, 512 << 10), 128u);
  // Within reach, the second sweep only hits.
  EXPECT_EQ(second_sweep_misses(Bytes{k4K}, 256 << 10), 0u);
  // With 2 MiB pages the 512 KiB buffer is one page (0x1000'0000 is 2 MiB aligned).
  EXPECT_EQ(second_sweep_misses(Bytes{k2M}, 512 << 10), 0u);
}

TEST(Iommu, WalkerLimitSerialisesMisses) {
  for (int walkers : {1, 2}) {
    FakeMemory memory;
    IommuParams p = translated();
    p.walkers = walkers;
    p.pwc_entries = 0; // every walk reads all 4 levels
    Iommu iommu(p, memory.reader(), kTableBase);
    const std::int64_t one_walk = 200 * kNs + 4 * kReadPs;
    EXPECT_EQ(iommu.translate(0x0000'0000, 0), 5 * kNs + one_walk);
    std::int64_t second = iommu.translate(0x4000'0000, 0);
    if (walkers == 1) {
      // The only walker frees at 5 + 520 ns; the second walk starts then.
      EXPECT_EQ(second, 5 * kNs + 2 * one_walk);
      EXPECT_EQ(iommu.stats().walker_waits, 1u);
    } else {
      EXPECT_EQ(second, 5 * kNs + one_walk);
      EXPECT_EQ(iommu.stats().walker_waits, 0u);
    }
  }
}

TEST(Iommu, ASerialStageSpacesWalkStartsButNotALoneWalk) {
  // Eight walkers, a serial stage of 50 ns: a walk alone takes what it did (the stage is part
  // of its overhead); misses arriving together start 50 ns apart, so past the IOTLB's reach
  // the miss rate is 1 / 50 ns however long a walk takes, not walkers / walk time.
  FakeMemory memory;
  IommuParams p = translated();
  p.walkers = 8;
  p.pwc_entries = 0;
  p.walk_serial = Duration{50 * kNs};
  Iommu iommu(p, memory.reader(), kTableBase);
  const std::int64_t one_walk = 200 * kNs + 4 * kReadPs;
  EXPECT_EQ(iommu.translate(0, 0), 5 * kNs + one_walk);
  for (std::int64_t i = 1; i < 6; ++i)
    EXPECT_EQ(iommu.translate(static_cast<std::uint64_t>(i) << 30, 0),
              5 * kNs + i * 50 * kNs + one_walk)
        << i;
  EXPECT_EQ(iommu.stats().walker_waits, 5u);
  // Once the stage is free again, a walk starts at once.
  EXPECT_EQ(iommu.translate(std::uint64_t{7} << 30, 10'000 * kNs), 10'005 * kNs + one_walk);
}

TEST(Iommu, AWalkDueSoonerIsNotQueuedBehindOneBookedEarlierButDueLater) {
  // One walker. An ATS Translation Request books a walk due at 1000 ns first; a translation
  // due at 0 books its walk second. In time order the walker takes the one due at 0 first, at
  // once, and it ends (5 + 520 ns) before the other starts. (Served in booking order it would
  // wait for the later walk: 5 + 2 x 520 + 1000 - 5 ns.)
  FakeMemory memory;
  IommuParams p = translated();
  p.walkers = 1;
  p.pwc_entries = 0;
  Iommu iommu(p, memory.reader(), kTableBase);
  const std::int64_t one_walk = 200 * kNs + 4 * kReadPs;
  EXPECT_EQ(iommu.translation_request(0x4000'0000, 1000 * kNs), 1005 * kNs + one_walk);
  EXPECT_EQ(iommu.translate(0x0000'0000, 0), 5 * kNs + one_walk);
  EXPECT_EQ(iommu.stats().walker_waits, 0u);
  // A third walk due at 10 ns waits for the walker, behind the one due at 0.
  EXPECT_EQ(iommu.translate(0x8000'0000, 10 * kNs), 5 * kNs + 2 * one_walk);
  EXPECT_EQ(iommu.stats().walker_waits, 1u);
}

TEST(Iommu, ConcurrentMissesToOnePageShareTheWalk) {
  FakeMemory memory;
  Iommu iommu(translated(), memory.reader(), kTableBase);
  std::int64_t first = iommu.translate(0x9000, 0);
  EXPECT_EQ(iommu.translate(0x9040, 10 * kNs), first);
  EXPECT_EQ(iommu.stats().walks, 1u);
  EXPECT_EQ(iommu.stats().coalesced_misses, 1u);
  EXPECT_EQ(iommu.stats().iotlb_misses, 2u);
  // After the walk, a plain hit.
  EXPECT_EQ(iommu.translate(0x9080, first), first + 5 * kNs);
}

TEST(Iommu, InvalidationDropsEntriesAndTakesItsLatency) {
  FakeMemory memory;
  Iommu iommu(translated(), memory.reader(), kTableBase);
  iommu.translate(0x20'0000, 0);
  iommu.translate(0x80'0000, 0);
  EXPECT_EQ(iommu.invalidate(0x20'0000, k4K, 5000 * kNs), 5000 * kNs + 2000 * kNs);
  EXPECT_FALSE(iommu.iotlb().contains(0x20'0000 / k4K));
  EXPECT_TRUE(iommu.iotlb().contains(0x80'0000 / k4K));
  // The page-walk-cache entries above the range went too: the next walk reads all 4 levels.
  std::uint64_t reads = iommu.stats().walk_memory_reads;
  std::int64_t at = 10'000 * kNs;
  EXPECT_EQ(iommu.translate(0x20'0000, at), at + 5 * kNs + 200 * kNs + 4 * kReadPs);
  EXPECT_EQ(iommu.stats().walk_memory_reads, reads + 4);
  EXPECT_EQ(iommu.translate(0x80'0000, at), at + 5 * kNs); // untouched entry still hits
  iommu.invalidate_all(at);
  EXPECT_EQ(iommu.iotlb().size(), 0u);
  EXPECT_EQ(iommu.stats().invalidations, 2u);
}

TEST(Iommu, AtsTranslationRequestsShareTheIotlb) {
  FakeMemory memory;
  Iommu iommu(translated(), memory.reader(), kTableBase);
  std::int64_t ready = iommu.translation_request(0x3000, 0);
  EXPECT_EQ(ready, 5 * kNs + 200 * kNs + 4 * kReadPs);
  EXPECT_EQ(iommu.translate(0x3000, ready), ready + 5 * kNs);
  EXPECT_EQ(iommu.stats().ats_translation_requests, 1u);
  EXPECT_EQ(iommu.stats().translations, 1u);
}

// Struct defaults against the table: tests/sim/config/test_param_drift.cpp, for every table.
TEST(Iommu, ParamRulesBlameTheParameterTheyCheck) {
  std::vector<ParamSpec> specs;
  for (const ParamField<IommuParams> &row : iommu_fields())
    specs.push_back(row.spec);
  ParamSet set = resolve_params(specs, std::nullopt);
  auto problem = [&](const std::string &name) {
    for (const ParamSpec &s : specs)
      if (s.name == name)
        return s.check.problem(set);
    return std::string("no such parameter");
  };
  EXPECT_EQ(problem("iommu_page_size"), "");
  EXPECT_EQ(problem("iotlb_ways"), "");

  set.set("iommu", std::string("translated"));
  set.set("iommu_page_size", Bytes{k2M});
  EXPECT_EQ(IommuParams::from(set).mode, IommuMode::Translated);
  EXPECT_EQ(IommuParams::from(set).page_size, Bytes{k2M});
  set.set("iommu_page_size", Bytes{8192}); // a power of two, but no x86 page size
  EXPECT_NE(problem("iommu_page_size").find("8 KiB"), std::string::npos);
  set.set("iommu_page_size", Bytes{k4K});
  set.set("iotlb_ways", std::int64_t{3});
  EXPECT_EQ(problem("iotlb_ways"), "iotlb_ways 3 does not divide iotlb_entries 64");
  EXPECT_EQ(problem("iommu_walk_serial"), "");
  set.set("iommu_walk_serial", Duration{201 * kNs}); // longer than the 200 ns it is part of
  EXPECT_EQ(problem("iommu_walk_serial"),
            "iommu_walk_serial is longer than iommu_walk_overhead, of which it is a part");
}

} // namespace
} // namespace pciesim
