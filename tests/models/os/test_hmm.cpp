// The HMM driver on its own, its copies made by a fake copy engine that takes a fixed time:
// a migration charges its steps (collect and unmap per page, a CPU TLB shootdown if the CPU
// mapped a moving page, the GPU's unmap of pages leaving it, notifier invalidations,
// copy-engine setup, the copy, finalize per page) to the OS kernel's time
// breakdown, moves the pages and maps them on their new side; a NIC that maps a moving page
// has its mapping zapped.
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "models/common/sim_time.h"
#include "models/os/hmm.h"
#include "tests/support/probe_endpoint.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

constexpr std::uint64_t kDeviceBase = 0x200000000;
constexpr std::uint64_t kRamBase = 0x100000000;
constexpr std::int64_t kHmmCopyPs = 10000000; // the fake copy engine: 10 us a copy

// Migrates pages 0..2 of an 8-page buffer at time 0, with default OS costs: from the device to
// system RAM, or (`from_ram`) the other way, of pages the CPU wrote or (`!populated`) never
// touched. `nic_maps_page_1`: NIC 0 mirrors the range and maps page 1.
nlohmann::json run_migration(bool nic_maps_page_1, bool from_ram = false, bool populated = true) {
  return nlohmann::json::parse(run_in_child([&] {
    sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
    ModelTestContext test;
    OsKernel kernel("os", OsCosts{}, test.context);
    PageTable table(8, 4096, from_ram ? PageHome::SystemRam : PageHome::Device, 8, 8);
    if (!populated)
      table.start_unpopulated();
    nlohmann::json j;
    HmmHooks hooks;
    hooks.copy = [&](const std::vector<std::uint64_t> &ram_addresses, bool to_ram, Done done) {
      j["copies"].push_back({{"ram_addresses", ram_addresses}, {"to_ram", to_ram}});
      kernel.call_at(now_ps() + kHmmCopyPs, [done] { done(now_ps()); });
    };
    hooks.zap_nic = [&](int nic, const std::vector<std::uint64_t> &bus_addresses) {
      j["zaps"].push_back({{"nic", nic}, {"bus_addresses", bus_addresses}});
    };
    HmmDriver hmm(kernel, table, kDeviceBase, kRamBase, hooks);
    if (nic_maps_page_1) {
      table.page(1).nic_mapped_by = hmm.add_nic(0);
    }
    std::int64_t done_ps = -1;
    AtStart kick("kick", [&] {
      hmm.migrate({0, 1, 2}, from_ram ? PageHome::Device : PageHome::SystemRam,
                  [&](std::int64_t at_ps) { done_ps = at_ps; });
    });
    sc_core::sc_start();
    j["done_ps"] = done_ps;
    std::vector<std::int64_t> breakdown = kernel.breakdown_ps(0, done_ps);
    for (int k = 0; k < static_cast<int>(TimeKind::Count); ++k)
      j["breakdown"][time_kind_name(static_cast<TimeKind>(k))] =
          breakdown[static_cast<std::size_t>(k)];
    j["pages_to_ram"] = kernel.stats().pages_to_ram;
    j["invalidations"] = kernel.stats().invalidations;
    for (std::uint64_t p = 0; p < 4; ++p) {
      const PageState s = table.page(p);
      j["pages"].push_back({{"in_ram", s.home == PageHome::SystemRam},
                            {"cpu_mapped", s.cpu_mapped},
                            {"gpu_mapped", s.gpu_mapped},
                            {"nic_mapped", s.nic_mapped_by != 0},
                            {"migrating", s.migrating},
                            {"address", hmm.address_of(p)}});
    }
    j["violations"] = table.check();
    return j.dump();
  }));
}

TEST(Hmm, MigrationChargesEachStepToTheKernelBreakdown) {
  nlohmann::json j = run_migration(false);
  const OsCosts c;
  const std::int64_t collect = 3 * c.migrate_collect_page.ps;
  const std::int64_t finalize = 3 * c.migrate_finalize_page.ps;
  // Device-private pages are swap entries for the CPU: unmapping them flushes no CPU TLB
  // (migrate_vma_collect_pmd counts only present PTEs); the owning GPU drops its own mappings,
  // one page-table update and TLB invalidate (notifier_invalidate, charged to the driver).
  const std::int64_t gpu_unmap = c.notifier_invalidate.ps;
  EXPECT_EQ(j["done_ps"], collect + gpu_unmap + c.copy_engine_setup.ps + kHmmCopyPs + finalize);
  EXPECT_EQ(j["breakdown"]["fault_handling"], collect + gpu_unmap + finalize)
      << j["breakdown"].dump();
  EXPECT_EQ(j["breakdown"]["shootdown"], 0);
  // No NIC maps a moving page: no notifier invalidation.
  EXPECT_EQ(j["breakdown"]["invalidation"], 0);
  EXPECT_EQ(j["invalidations"], 0);
  EXPECT_EQ(j["breakdown"]["copy"], c.copy_engine_setup.ps + kHmmCopyPs);
  EXPECT_EQ(j["pages_to_ram"], 3);
}

TEST(Hmm, OnlyPagesTheCpuMapsCostACollectionAndACpuTlbShootdown) {
  const OsCosts c;
  const std::int64_t fixed = c.copy_engine_setup.ps + 3 * c.migrate_finalize_page.ps;
  // Written by the CPU: their present PTEs are collected and unmapped, and the CPU's TLBs
  // flushed once.
  nlohmann::json mapped = run_migration(false, true, true);
  EXPECT_EQ(mapped["breakdown"]["shootdown"], c.tlb_shootdown.ps);
  EXPECT_EQ(mapped["done_ps"],
            3 * c.migrate_collect_page.ps + fixed + c.tlb_shootdown.ps + kHmmCopyPs);
  // Never touched: holes with no PTE (migrate_vma_collect_hole only marks them), no flush,
  // nothing to copy; the driver still fills and installs each page (finalize).
  nlohmann::json untouched = run_migration(false, true, false);
  EXPECT_EQ(untouched["breakdown"]["shootdown"], 0);
  EXPECT_EQ(untouched["done_ps"], fixed);
  EXPECT_TRUE(mapped["violations"].empty()) << mapped["violations"].dump();
  EXPECT_TRUE(untouched["violations"].empty()) << untouched["violations"].dump();
}

TEST(Hmm, MigrationCopiesOnceIntoNewRamFramesAndMapsThePagesForTheCpu) {
  nlohmann::json j = run_migration(false);
  ASSERT_EQ(j["copies"].size(), 1u);
  EXPECT_TRUE(j["copies"][0]["to_ram"].get<bool>());
  EXPECT_EQ(j["copies"][0]["ram_addresses"],
            nlohmann::json({kRamBase, kRamBase + 4096, kRamBase + 8192}));
  for (int p = 0; p < 3; ++p) {
    SCOPED_TRACE(p);
    const nlohmann::json &page = j["pages"][static_cast<std::size_t>(p)];
    EXPECT_TRUE(page["in_ram"].get<bool>());
    EXPECT_TRUE(page["cpu_mapped"].get<bool>());
    EXPECT_FALSE(page["gpu_mapped"].get<bool>());
    EXPECT_FALSE(page["migrating"].get<bool>());
    EXPECT_EQ(page["address"], kRamBase + 4096 * static_cast<std::uint64_t>(p));
  }
  // Page 3 did not move: still on the device, mapped by the GPU.
  EXPECT_FALSE(j["pages"][3]["in_ram"].get<bool>());
  EXPECT_TRUE(j["pages"][3]["gpu_mapped"].get<bool>());
  EXPECT_EQ(j["pages"][3]["address"], kDeviceBase + 3 * 4096);
  EXPECT_TRUE(j["violations"].empty()) << j["violations"].dump();
  EXPECT_FALSE(j.contains("zaps"));
}

TEST(Hmm, AMovingPageMappedByANicIsZappedAndCostsANotifierInvalidation) {
  nlohmann::json j = run_migration(true);
  ASSERT_EQ(j["zaps"].size(), 1u);
  EXPECT_EQ(j["zaps"][0]["nic"], 0);
  // The bus address the NIC used: the page's device frame, before it moved.
  EXPECT_EQ(j["zaps"][0]["bus_addresses"], nlohmann::json({kDeviceBase + 4096}));
  EXPECT_EQ(j["invalidations"], 1);
  EXPECT_FALSE(j["pages"][1]["nic_mapped"].get<bool>());
  const OsCosts c;
  // "invalidation" is the time of what "invalidations" counts; the shootdown is apart.
  EXPECT_EQ(j["breakdown"]["invalidation"], c.notifier_invalidate.ps);
  EXPECT_EQ(j["breakdown"]["shootdown"], 0);
  // The GPU's unmap of its pages and the NIC's invalidation, one after the other.
  EXPECT_EQ(j["done_ps"], 3 * c.migrate_collect_page.ps + 2 * c.notifier_invalidate.ps +
                              c.copy_engine_setup.ps + kHmmCopyPs + 3 * c.migrate_finalize_page.ps);
}

} // namespace
} // namespace pciesim::test
