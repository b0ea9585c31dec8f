// A GPU's device memory shared by the buffers of a workload (models/os/device_memory.h), with
// the HMM drivers that move the pages and a fake copy engine that takes a fixed time: GPU
// faults that find the memory full evict the least recently migrated eviction unit first
// (pages resident from the start before any), through the migration path to RAM (a copy to
// RAM, charged); pinned pages are never evicted; the memory never holds more than its
// capacity; and with nothing left to evict the faulting pages stay in RAM, mapped remotely.
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "models/common/sim_time.h"
#include "models/os/device_memory.h"
#include "models/os/hmm.h"
#include "tests/support/fake_copy_engine.h"
#include "tests/support/probe_endpoint.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

struct Bench {
  std::uint64_t capacity_pages = 8;
  std::uint64_t unit_pages = 2;
  std::uint64_t work_pages = 14; // the buffer the GPU faults in, in system RAM at first
  std::uint64_t other_pages = 0; // a second buffer, on the device from the start
  bool other_pinned = false;
  bool nic_maps_other = false; // a NIC mirrors the other buffer and maps its page 0 (peer)
  // GPU faults of the work buffer, one after the other.
  std::vector<std::vector<std::uint64_t>> faults;
};

// Runs the bench's faults in a child; per fault: which work pages are on the device, the
// memory's use, the copies made; at the end the stats and the page-conservation check.
nlohmann::json run(const Bench &bench) {
  return nlohmann::json::parse(run_in_child([&] {
    sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
    ModelTestContext test;
    OsCosts costs;
    costs.eviction_unit = Bytes{bench.unit_pages * kFakePageBytes};
    OsKernel kernel("os", costs, test.context);
    nlohmann::json j;
    auto make_hooks = [&](const std::string &buffer) {
      HmmHooks hooks;
      hooks.copy = [&, buffer](const std::vector<std::uint64_t> &ram, bool to_ram, Done done) {
        j["copies"].push_back({{"buffer", buffer}, {"pages", ram.size()}, {"to_ram", to_ram}});
        kernel.call_at(now_ps() + kFakeCopyPs, [done] { done(now_ps()); });
      };
      hooks.zap_nic = [&, buffer](int nic, const std::vector<std::uint64_t> &addresses) {
        j["zaps"].push_back({{"buffer", buffer}, {"nic", nic}, {"pages", addresses.size()}});
      };
      return hooks;
    };
    const auto work_frames = static_cast<std::uint32_t>(bench.work_pages);
    PageTable work(bench.work_pages, kFakePageBytes, PageHome::SystemRam, work_frames, work_frames);
    HmmDriver work_driver(kernel, work, 1ull << 40, 0, make_hooks("work"));
    const auto other_frames =
        static_cast<std::uint32_t>(std::max<std::uint64_t>(1, bench.other_pages));
    PageTable other(std::max<std::uint64_t>(1, bench.other_pages), kFakePageBytes, PageHome::Device,
                    other_frames, other_frames);
    HmmDriver other_driver(kernel, other, 2ull << 40, 1ull << 30, make_hooks("other"));
    DeviceMemory memory(bench.capacity_pages * kFakePageBytes, bench.unit_pages * kFakePageBytes,
                        kernel.stats());
    auto evict_with = [](HmmDriver &driver) {
      return [&driver](std::vector<std::uint64_t> pages, Done done) {
        driver.evict(std::move(pages), std::move(done));
      };
    };
    if (bench.nic_maps_other) {
      other.page(0).nic_mapped_by = other.page(0).nic_peer_by = other_driver.add_nic(0);
    }
    if (bench.other_pages > 0) {
      if (bench.other_pinned)
        other.pin_all();
      other_driver.attach(memory, memory.add_buffer(other, true, true, evict_with(other_driver)));
    }
    work_driver.attach(memory, memory.add_buffer(work, false, true, evict_with(work_driver)));
    std::size_t next = 0;
    std::function<void()> fault_next = [&] {
      if (next == bench.faults.size())
        return;
      const std::int64_t start = now_ps();
      work_driver.gpu_fault(bench.faults[next++], [&, start](std::int64_t at_ps) {
        nlohmann::json step;
        step["took_ps"] = at_ps - start;
        for (std::uint64_t p = 0; p < bench.work_pages; ++p)
          if (work.page(p).home == PageHome::Device)
            step["work_on_device"].push_back(p);
        step["other_on_device"] = other.pages_in(PageHome::Device);
        step["used_bytes"] = memory.used_bytes();
        step["resident_bytes"] = memory.resident_bytes();
        j["steps"].push_back(step);
        fault_next();
      });
    };
    AtStart kick("kick", [&] { fault_next(); });
    sc_core::sc_start();
    j["evictions"] = kernel.stats().evictions;
    j["evicted_bytes"] = kernel.stats().evicted_bytes;
    j["remote_mappings"] = kernel.stats().remote_mappings;
    j["pages_to_ram"] = kernel.stats().pages_to_ram;
    j["invalidations"] = kernel.stats().invalidations;
    j["violations"] = work.check();
    for (const std::string &v : other.check())
      j["violations"].push_back(v);
    return j.dump();
  }));
}

std::vector<std::uint64_t> on_device(const nlohmann::json &step) {
  std::vector<std::uint64_t> pages;
  if (step.contains("work_on_device"))
    pages = step["work_on_device"].get<std::vector<std::uint64_t>>();
  return pages;
}

// Units of two pages; eight pages fit. Unit 2 (pages 4, 5) gets its second page after units
// 0, 1 and 3 came in, so it is more recent than unit 3: LRU evicts 0, 1, then 3 — a FIFO of
// first arrival would evict 2 third.
TEST(DeviceMemory, EvictsTheLeastRecentlyMigratedUnitFirst) {
  Bench bench;
  bench.faults = {{0, 1}, {2, 3}, {4}, {6, 7}, {5}, {8, 9}, {10, 11}, {12, 13}};
  nlohmann::json j = run(bench);
  ASSERT_EQ(j["steps"].size(), bench.faults.size());
  using Pages = std::vector<std::uint64_t>;
  EXPECT_EQ(on_device(j["steps"][4]), (Pages{0, 1, 2, 3, 4, 5, 6, 7})); // full, nothing evicted
  EXPECT_EQ(on_device(j["steps"][5]), (Pages{2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(on_device(j["steps"][6]), (Pages{4, 5, 6, 7, 8, 9, 10, 11}));
  EXPECT_EQ(on_device(j["steps"][7]), (Pages{4, 5, 8, 9, 10, 11, 12, 13}));
  EXPECT_EQ(j["evictions"], 3);
  EXPECT_EQ(j["evicted_bytes"], 3 * 2 * kFakePageBytes);
  EXPECT_EQ(j["pages_to_ram"], 6); // evictions are migrations to RAM
  EXPECT_TRUE(j["violations"].empty()) << j["violations"].dump();
}

TEST(DeviceMemory, NeverHoldsMoreThanItsCapacity) {
  Bench bench;
  bench.work_pages = 40;
  for (std::uint64_t p = 0; p < 40; p += 3)
    bench.faults.push_back(
        {p, std::min<std::uint64_t>(p + 1, 39), std::min<std::uint64_t>(p + 2, 39)});
  nlohmann::json j = run(bench);
  ASSERT_EQ(j["steps"].size(), bench.faults.size());
  for (const auto &step : j["steps"]) {
    EXPECT_LE(step["used_bytes"].get<std::uint64_t>(), bench.capacity_pages * kFakePageBytes);
    // What the memory counts is what the page table holds.
    EXPECT_EQ(step["resident_bytes"].get<std::uint64_t>(), on_device(step).size() * kFakePageBytes);
  }
  EXPECT_EQ(j["remote_mappings"], 0) << "there was always something to evict";
  EXPECT_TRUE(j["violations"].empty()) << j["violations"].dump();
}

// Each eviction is a migration to RAM before the faulting pages come in: collect and unmap,
// the GPU's unmap of the unit (no CPU TLB to flush: the CPU maps no device page), copy-engine
// setup, the copy of the unit to RAM, finalize. The faulting pages, which the CPU maps, cost
// a CPU TLB shootdown instead.
TEST(DeviceMemory, AnEvictionIsChargedAsAMigrationToRamBeforeTheFaultingPagesMove) {
  Bench bench;
  bench.faults = {{0, 1, 2, 3, 4, 5, 6, 7}, {8, 9}};
  nlohmann::json j = run(bench);
  const OsCosts c;
  auto migration_ps = [&](std::int64_t pages, bool to_ram) {
    return pages * c.migrate_collect_page.ps +
           (to_ram ? c.notifier_invalidate.ps : c.tlb_shootdown.ps) + c.copy_engine_setup.ps +
           kFakeCopyPs + pages * c.migrate_finalize_page.ps;
  };
  EXPECT_EQ(j["steps"][0]["took_ps"],
            c.gpu_fault_batch.ps + 8 * c.gpu_fault_per_fault.ps + migration_ps(8, false));
  EXPECT_EQ(j["steps"][1]["took_ps"], c.gpu_fault_batch.ps + 2 * c.gpu_fault_per_fault.ps +
                                          migration_ps(2, true) + migration_ps(2, false));
  // The copies: 8 pages in, then the evicted unit out, then 2 pages in.
  ASSERT_EQ(j["copies"].size(), 3u);
  EXPECT_EQ(j["copies"][1], (nlohmann::json{{"buffer", "work"}, {"pages", 2}, {"to_ram", true}}));
  EXPECT_EQ(j["copies"][2]["to_ram"], false);
}

// Another buffer resident from the start: unpinned, it is older than anything migrated and
// goes first (a NIC mapping one of its pages peer-to-peer has it zapped); pinned, it is never
// evicted and the work buffer has only what is left.
TEST(DeviceMemory, PinnedPagesAreNeverEvictedAndShrinkWhatIsLeft) {
  Bench bench;
  bench.other_pages = 4;
  bench.nic_maps_other = true;
  bench.faults = {{0, 1}, {2, 3}, {4, 5}, {6, 7}};
  nlohmann::json unpinned = run(bench);
  EXPECT_EQ(unpinned["steps"].back()["other_on_device"], 0);
  EXPECT_EQ(on_device(unpinned["steps"].back()).size(), 8u);
  EXPECT_EQ(unpinned["evictions"], 2);
  // The NIC's peer mapping of an evicted page is invalidated through its notifier.
  EXPECT_EQ(unpinned["zaps"], (nlohmann::json{{{"buffer", "other"}, {"nic", 0}, {"pages", 1}}}));
  EXPECT_EQ(unpinned["invalidations"], 1);

  bench.other_pinned = true;
  nlohmann::json pinned = run(bench);
  for (const auto &step : pinned["steps"])
    EXPECT_EQ(step["other_on_device"], 4);
  using Pages = std::vector<std::uint64_t>;
  EXPECT_EQ(on_device(pinned["steps"].back()), (Pages{4, 5, 6, 7}));
  EXPECT_EQ(pinned["evictions"], 2);
  EXPECT_EQ(pinned["evicted_bytes"], 4 * kFakePageBytes);
  EXPECT_TRUE(pinned["violations"].empty()) << pinned["violations"].dump();
}

// Everything resident pinned: no victim, so the faulting pages stay in RAM and the GPU maps
// them remotely (as nouveau when its device memory is exhausted); so does a driver that
// never evicts (eviction_unit 0).
TEST(DeviceMemory, WithNothingToEvictTheFaultingPagesAreMappedRemotely) {
  Bench bench;
  bench.capacity_pages = 6;
  bench.other_pages = 4;
  bench.other_pinned = true;
  bench.faults = {{0, 1, 2, 3, 4}};
  nlohmann::json j = run(bench);
  using Pages = std::vector<std::uint64_t>;
  EXPECT_EQ(on_device(j["steps"].back()), (Pages{0, 1}));
  EXPECT_EQ(j["remote_mappings"], 3);
  EXPECT_EQ(j["evictions"], 0);

  bench.other_pinned = false;
  bench.unit_pages = 0;
  nlohmann::json never = run(bench);
  EXPECT_EQ(on_device(never["steps"].back()), (Pages{0, 1}));
  EXPECT_EQ(never["steps"].back()["other_on_device"], 4);
  EXPECT_EQ(never["remote_mappings"], 3);
  EXPECT_EQ(never["evictions"], 0);
}

} // namespace
} // namespace pciesim::test
