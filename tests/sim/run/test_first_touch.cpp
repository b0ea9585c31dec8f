// Memory a program allocated and never touched ("populated": false; docs/mechanisms.md, "What
// each path charges"): each page is faulted in by its first access, whoever makes it, at
// first_touch_page a page; a registration pays it on top of register_page, the CPU also takes
// the exception, and a GPU fault migrating such a page zero-fills it on the device without
// copying anything over PCIe.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "models/os/page_table.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
// A named namespace: the tests build as unity chunks, where anonymous namespaces merge.
namespace first_touch {

constexpr std::uint64_t kMiB = 1 << 20;
constexpr std::uint64_t kPages = 4 * kMiB / 4096; // the buffer of every run below
constexpr double kFirstTouchNs = 310;             // first_touch_page default
constexpr double kCpuFaultNs = 1000;              // cpu_fault default

// One 4 MiB managed buffer in system RAM, touched or not, and one phase over it.
nlohmann::json scenario(bool populated, const std::string &mechanism, const std::string &actor,
                        const std::string &op, const std::string &nic_mr) {
  nlohmann::json workload = {
      {"mechanisms", {mechanism}},
      {"nic_mr", nic_mr},
      {"buffers",
       {{{"id", "data"},
         {"gpu", "gpu0"},
         {"size", "4 MiB"},
         {"placement", "system"},
         {"managed", true},
         {"populated", populated}}}},
      {"phases", {{{"id", "touch"}, {"actor", actor}, {"op", op}, {"buffer", "data"}}}}};
  return {
      {"name", "first-touch"},
      {"topology", nlohmann::json::parse(read_repo_file("topologies/gpu-nic-shared-switch.json"))},
      {"workload", workload}};
}

nlohmann::json run(const nlohmann::json &s) {
  const ScenarioRun r = run_scenario_file(s, "touch");
  EXPECT_EQ(r.command.exit_code, 0) << r.command.err;
  return r.results["mechanisms"][0];
}

double phase_ns(const nlohmann::json &m) {
  const nlohmann::json &p = m["phases"][0];
  return p["end_ns"].get<double>() - p["start_ns"].get<double>();
}

TEST(FirstTouch, APageTableFaultsEachPageInOnce) {
  PageTable table(1024, 4096, PageHome::SystemRam, 1024, 1024);
  table.start_unpopulated();
  EXPECT_EQ(table.unpopulated_pages(), 1024u);
  EXPECT_FALSE(table.populated(7));
  EXPECT_TRUE(table.populate(7));
  EXPECT_FALSE(table.populate(7));
  EXPECT_TRUE(table.populated(7));
  EXPECT_EQ(table.populate_all(), 1023u);
  EXPECT_EQ(table.populate_all(), 0u);
  EXPECT_TRUE(table.populated(900));
  EXPECT_FALSE(table.populate(900));
  // Faulting the whole buffer in keeps no state per page: a sparse table stays sparse.
  EXPECT_EQ(table.pages_touched(), 512u);
}

// ibv_reg_mr over memory never touched: pin_user_pages faults each page in first.
TEST(FirstTouch, ARegistrationOfMemoryNeverTouchedFaultsEveryPageIn) {
  const nlohmann::json touched = run(scenario(true, "hmm_migrate", "nic0", "read", "pinned"));
  const nlohmann::json fresh = run(scenario(false, "hmm_migrate", "nic0", "read", "pinned"));
  ASSERT_EQ(fresh["status"], "ok") << fresh["reason"];
  const double setup_touched = touched["breakdown_ns"]["setup"].get<double>();
  EXPECT_DOUBLE_EQ(fresh["breakdown_ns"]["setup"].get<double>() - setup_touched,
                   kPages * kFirstTouchNs);
  // What is read afterwards is the same either way: every page was resident by then.
  EXPECT_EQ(fresh["nic_bytes"], touched["nic_bytes"]);
  EXPECT_DOUBLE_EQ(phase_ns(fresh), phase_ns(touched));
}

// An ODP MR: the NIC's faults walk the pages with hmm_range_fault, which faults them in.
TEST(FirstTouch, AnOdpFaultFaultsThePagesItWalksIn) {
  // One fault at a time, so that no fault's fixed part hides another's page work.
  auto one_at_a_time = [](nlohmann::json s) {
    s["workload"]["costs"] = {{"odp_fault_workers", 1}};
    return s;
  };
  const nlohmann::json touched =
      run(one_at_a_time(scenario(true, "hmm_migrate", "nic0", "read", "odp")));
  const nlohmann::json fresh =
      run(one_at_a_time(scenario(false, "hmm_migrate", "nic0", "read", "odp")));
  ASSERT_EQ(fresh["status"], "ok") << fresh["reason"];
  EXPECT_EQ(fresh["os"]["odp_faults"], touched["os"]["odp_faults"]);
  // The faults are served one at a time and the NIC waits for each: the phase is longer by
  // every page's first touch.
  EXPECT_NEAR(phase_ns(fresh) - phase_ns(touched), kPages * kFirstTouchNs, 1.0);
}

// A GPU fault on a page never touched: the page is zero-filled on the device, nothing crosses
// PCIe, though the batch still pays its per-page bookkeeping.
TEST(FirstTouch, AGpuFaultOnMemoryNeverTouchedCopiesNothing) {
  const nlohmann::json touched = run(scenario(true, "hmm_migrate", "gpu0", "read", "odp"));
  const nlohmann::json fresh = run(scenario(false, "hmm_migrate", "gpu0", "read", "odp"));
  ASSERT_EQ(fresh["status"], "ok") << fresh["reason"];
  EXPECT_EQ(fresh["pages_to_device"], kPages);
  EXPECT_EQ(fresh["pages_to_device"], touched["pages_to_device"]);
  EXPECT_GT(touched["os"]["migration_copy_ns"].get<double>(), 0.0);
  EXPECT_EQ(fresh["os"]["migration_copy_ns"], 0);
  // The copy engine reads RAM for a migration in: its completions come down the switch port
  // to the GPU. Without data to move, none do.
  EXPECT_GT(payload_from(touched, "sw0.dp0"), 0u);
  EXPECT_EQ(payload_from(fresh, "sw0.dp0"), 0u);
  EXPECT_LT(phase_ns(fresh), phase_ns(touched));
}

// Pages zero-filled by the GPU's first touch, then moved back and forth with their data: the
// run's end-of-run invariant (bytes migrated = pages copied x page size) leaves out the
// zero-filled pages, which crossed nothing (it failed the run when it counted them).
TEST(FirstTouch, ZeroFilledPagesThenMovedWithTheirDataKeepTheRunsInvariant) {
  nlohmann::json s = scenario(false, "hmm_migrate", "gpu0", "write", "odp");
  s["workload"]["phases"].push_back(
      {{"id", "check"}, {"actor", "cpu"}, {"op", "read"}, {"buffer", "data"}});
  s["workload"]["phases"].push_back(
      {{"id", "again"}, {"actor", "gpu0"}, {"op", "write"}, {"buffer", "data"}});
  const nlohmann::json m = run(s);
  ASSERT_EQ(m["status"], "ok") << m["reason"];
  // In with no data, out with it, in again with it.
  EXPECT_EQ(m["pages_to_device"], 2 * kPages);
  EXPECT_EQ(m["pages_to_ram"], kPages);
  EXPECT_EQ(m["bytes_migrated"], 2 * kPages * 4096);
}

// The CPU's first store to each page takes the exception and populates the page.
TEST(FirstTouch, TheCpusFirstStoresFaultThePagesIn) {
  const nlohmann::json touched = run(scenario(true, "p2p_dma_api", "cpu", "write", "odp"));
  const nlohmann::json fresh = run(scenario(false, "p2p_dma_api", "cpu", "write", "odp"));
  ASSERT_EQ(fresh["status"], "ok") << fresh["reason"];
  EXPECT_NEAR(phase_ns(fresh) - phase_ns(touched), kPages * (kCpuFaultNs + kFirstTouchNs), 1.0);
}

// Only memory the program allocated itself can be untouched.
TEST(FirstTouch, OnlyManagedSystemMemoryMayBeUntouched) {
  for (const auto &[placement, managed] :
       std::vector<std::pair<std::string, bool>>{{"device", true}, {"system", false}}) {
    nlohmann::json s = scenario(false, "hmm_migrate", "nic0", "read", "pinned");
    s["workload"]["buffers"][0]["placement"] = placement;
    s["workload"]["buffers"][0]["managed"] = managed;
    std::string dir = make_temp_dir("touch");
    std::ofstream(dir + "/s.json") << s.dump(2);
    CommandResult r = run_pciesim("run " + dir + "/s.json --quiet --out " + dir + "/out");
    EXPECT_EQ(r.exit_code, 2) << placement;
    EXPECT_NE(r.err.find("/workload/buffers/0/populated"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err; // one line
  }
}

} // namespace first_touch
} // namespace pciesim::test
