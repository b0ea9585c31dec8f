// The HMM driver on its own, its copies made by a fake copy engine that takes a fixed time:
// a migration charges its steps (collect and unmap per page, one TLB shootdown, notifier
// invalidations, copy-engine setup, the copy, finalize per page) to the OS kernel's time
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

// Migrates pages 0..2 of an 8-page device-resident buffer to system RAM at time 0, with
// default OS costs. `nic_maps_page_1`: NIC 0 mirrors the range and maps page 1.
nlohmann::json run_migration(bool nic_maps_page_1) {
  return nlohmann::json::parse(run_in_child([&] {
    sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
    ModelTestContext test;
    OsKernel kernel("os", OsCosts{}, test.context);
    PageTable table(8, 4096, PageHome::Device, 8, 8);
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
      hmm.migrate({0, 1, 2}, PageHome::SystemRam, [&](std::int64_t at_ps) { done_ps = at_ps; });
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
  EXPECT_EQ(j["done_ps"],
            collect + c.tlb_shootdown.ps + c.copy_engine_setup.ps + kHmmCopyPs + finalize);
  EXPECT_EQ(j["breakdown"]["fault_handling"], collect + finalize) << j["breakdown"].dump();
  // No device maps a moving page: the shootdown is all, and no notifier invalidation.
  EXPECT_EQ(j["breakdown"]["shootdown"], c.tlb_shootdown.ps);
  EXPECT_EQ(j["breakdown"]["invalidation"], 0);
  EXPECT_EQ(j["invalidations"], 0);
  EXPECT_EQ(j["breakdown"]["copy"], c.copy_engine_setup.ps + kHmmCopyPs);
  EXPECT_EQ(j["pages_to_ram"], 3);
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
  EXPECT_EQ(j["breakdown"]["shootdown"], c.tlb_shootdown.ps);
  EXPECT_EQ(j["done_ps"], 3 * c.migrate_collect_page.ps + c.tlb_shootdown.ps +
                              c.notifier_invalidate.ps + c.copy_engine_setup.ps + kHmmCopyPs +
                              3 * c.migrate_finalize_page.ps);
}

} // namespace
} // namespace pciesim::test
