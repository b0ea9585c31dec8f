// `--set POINTER=VALUE` on run and check (docs/usage in README and docs/file-formats.md): the
// value is put into the scenario (or, with topology:, its topology files) before loading, so it
// changes the run exactly as the edited file would, and a bad one is a bad input naming the
// file and the pointer.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

const std::string kThrashing = std::string(PCIESIM_SOURCE_DIR) + "/scenarios/uvm-thrashing.json";

nlohmann::json run_json(const std::string &arguments) {
  CommandResult r = run_pciesim("run --json --quiet " + arguments);
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
  return nlohmann::json::parse(r.out);
}

long long pages_to_device(const nlohmann::json &results) {
  return results["mechanisms"][0]["pages_to_device"].get<long long>();
}

TEST(Overrides, SetChangesTheRunAsTheEditedFileWould) {
  EXPECT_EQ(pages_to_device(run_json(kThrashing)), 12);
  // A key the file does not have, in an object it does not have ("costs"): made, then checked.
  EXPECT_EQ(pages_to_device(run_json(kThrashing + " --set /workload/costs/thrashing_threshold=0")),
            20);
  // Several, in order; a JSON value and a plain-text one.
  const nlohmann::json r = run_json(kThrashing + " --set /workload/iterations=4" +
                                    " --set '/workload/costs/thrashing_nap=100 us'" +
                                    " --set /workload/costs/thrashing_threshold=1");
  EXPECT_EQ(r["mechanisms"][0]["phases"].size(), 8u);
  EXPECT_EQ(r["mechanisms"][0]["os"]["thrashing_throttles"], 3);
}

TEST(Overrides, ATopologyFileTakesTopologyOverrides) {
  CommandResult bad =
      run_pciesim("run --quiet " + kThrashing + " --set topology:/links/0/params/gen=7");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(
      bad.err.find("topologies/gpu-nic-shared-switch.json:/links/0/params/gen: 7 is out of range"),
      std::string::npos)
      << bad.err;
  const nlohmann::json gen3 = run_json(kThrashing + " --set topology:/links/0/params/gen=3");
  const nlohmann::json as_is = run_json(kThrashing);
  EXPECT_NE(gen3["mechanisms"][0]["total_time_ns"], as_is["mechanisms"][0]["total_time_ns"]);
}

TEST(Overrides, BadOverridesAreBadInputNamingWhere) {
  auto err = [](const std::string &arguments) {
    CommandResult r = run_pciesim("run --quiet " + kThrashing + " " + arguments);
    EXPECT_EQ(r.exit_code, 2) << arguments;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    return r.err;
  };
  EXPECT_NE(err("--set iterations=4").find("--set:/: \"iterations=4\" is not POINTER=VALUE"),
            std::string::npos);
  EXPECT_NE(err("--set /workload/costs/thrashing_treshold=1")
                .find("uvm-thrashing.json:/workload/costs/thrashing_treshold: unknown key "
                      "\"thrashing_treshold\": did you mean \"thrashing_threshold\"?"),
            std::string::npos);
  EXPECT_NE(err("--set /workload/phases/5/op=read")
                .find("uvm-thrashing.json:/workload/phases/5: --set /workload/phases/5/op: no "
                      "element \"5\""),
            std::string::npos);
  EXPECT_NE(err("--set /name/x=1").find("a string has no members"), std::string::npos);
  EXPECT_NE(err("--set /workload/iterations=0").find("uvm-thrashing.json:/workload/iterations"),
            std::string::npos);
}

TEST(Overrides, CheckPassesThemToEveryScenario) {
  EXPECT_EQ(run_pciesim("check " + kThrashing).exit_code, 0);
  CommandResult r =
      run_pciesim("check " + kThrashing + " --set /workload/costs/thrashing_threshold=0");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(run_pciesim("check " + kThrashing + " --set nonsense").exit_code, 2);
}

} // namespace
} // namespace pciesim::test
