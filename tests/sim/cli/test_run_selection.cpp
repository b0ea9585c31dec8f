// `pciesim run` on a workload scenario that compares several mechanisms on several topologies:
// `--topology NAME` and `--mechanism NAME` pick one run (a name not among them is exit 2 naming
// the choices), a trace records one run (the first topology's when none is named, so the
// commands the docs show work as written), and `-j N` runs the comparison's mechanism runs at
// once without changing a byte of what is printed or written.
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

const std::string kDefaultScenarioPath =
    std::string(PCIESIM_SOURCE_DIR) + "/scenarios/default.json";

TEST(RunSelection, TopologyPicksOneOfTheScenariosTopologies) {
  for (const char *name : {"gpu-nic-shared-switch", "gpu-nic-root-ports-amd"}) {
    CommandResult r =
        run_pciesim("run " + kDefaultScenarioPath + " --json --mechanism p2p_dma_api --topology " +
                    std::string(name));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    nlohmann::json j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j["mechanisms"].size(), 1u) << name;
    EXPECT_EQ(j["mechanisms"][0]["topology"], name);
    EXPECT_EQ(j["mechanisms"][0]["name"], "p2p_dma_api");
  }
  // Every mechanism of the one topology.
  CommandResult all =
      run_pciesim("run " + kDefaultScenarioPath + " --json --topology gpu-nic-root-ports-amd");
  ASSERT_EQ(all.exit_code, 0) << all.err;
  nlohmann::json j = nlohmann::json::parse(all.out);
  EXPECT_EQ(j["mechanisms"].size(), 5u);
  for (const auto &m : j["mechanisms"])
    EXPECT_EQ(m["topology"], "gpu-nic-root-ports-amd");
}

TEST(RunSelection, AMechanismOutsideTheDefaultSetRunsWhenNamed) {
  // The default scenario without its list of mechanisms runs the default set, Linux's five;
  // --mechanism vendor_peer asks for the vendor's path, which then runs alone. Where the
  // scenario lists its mechanisms, --mechanism must name one of them.
  nlohmann::json scenario = nlohmann::json::parse(read_repo_file("scenarios/default.json"));
  scenario["workload"].erase("mechanisms");
  for (auto &t : scenario["topology"])
    t = std::string(PCIESIM_SOURCE_DIR) + "/scenarios/" + t.get<std::string>();
  const std::string dir = make_temp_dir("vendor-peer");
  std::ofstream(dir + "/s.json") << scenario.dump(2);
  CommandResult r = run_pciesim("run " + dir +
                                "/s.json --json --mechanism vendor_peer --topology "
                                "gpu-nic-shared-switch");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["mechanisms"].size(), 1u);
  EXPECT_EQ(j["mechanisms"][0]["name"], "vendor_peer");
  EXPECT_EQ(j["mechanisms"][0]["status"], "ok");
  CommandResult listed = run_pciesim("run " + kDefaultScenarioPath + " --mechanism vendor_peer");
  EXPECT_EQ(listed.exit_code, 2);
  EXPECT_NE(listed.err.find("--mechanism vendor_peer is not among the mechanisms"),
            std::string::npos)
      << listed.err;
}

TEST(RunSelection, AnUnknownTopologyIsBadInputNamingTheChoices) {
  CommandResult r = run_pciesim("run " + kDefaultScenarioPath + " --topology gpu-nic-nowhere");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("gpu-nic-nowhere"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("gpu-nic-shared-switch, gpu-nic-root-ports-amd"), std::string::npos)
      << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  // A scenario without a workload has no topologies to choose among.
  CommandResult plain = run_pciesim("run " + std::string(PCIESIM_SOURCE_DIR) +
                                    "/scenarios/fabric-mix.json --topology x");
  EXPECT_EQ(plain.exit_code, 2);
  EXPECT_NE(plain.err.find("--topology for a scenario without a workload"), std::string::npos)
      << plain.err;
}

TEST(RunSelection, ATraceWithoutTopologyRecordsTheFirstAndSaysSo) {
  std::string dir = make_temp_dir("select");
  // The command of issue 17, as first written in docs/mechanisms.md.
  CommandResult r = run_pciesim("run " + kDefaultScenarioPath +
                                " --quiet --mechanism hmm_migrate --trace " + dir + "/hmm.json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("recording the run on gpu-nic-shared-switch, the first of the scenario's 2 "
                       "topologies"),
            std::string::npos)
      << r.err;
  nlohmann::json trace = nlohmann::json::parse(read_file(dir + "/hmm.json"));
  EXPECT_FALSE(trace["traceEvents"].empty());
  // Several mechanisms still make a trace ambiguous.
  CommandResult several =
      run_pciesim("run " + kDefaultScenarioPath + " --trace " + dir + "/all.json");
  EXPECT_EQ(several.exit_code, 2);
  EXPECT_NE(several.err.find("--mechanism NAME"), std::string::npos) << several.err;
}

// Every `build/pciesim run ... --trace FILE` in the shell blocks of these pages, run as written
// (continuation lines joined, the trace written into a temporary directory).
TEST(RunSelection, TheTracedRunsTheDocsShowWork) {
  std::string dir = make_temp_dir("select");
  int commands = 0;
  for (const char *page : {"docs/mechanisms.md", "README.md", "docs/reports.md"}) {
    std::string text = read_repo_file(page);
    text = std::regex_replace(text, std::regex("\\\\\\n\\s*"), "");
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      std::smatch m;
      if (!std::regex_search(line, m, std::regex("^build/pciesim (run [^#]*--trace [^#]*)")))
        continue;
      std::string arguments =
          std::regex_replace(m[1].str(), std::regex("--trace (\\S+)"), "--trace " + dir + "/$1");
      arguments = std::regex_replace(arguments, std::regex("--out (\\S+)"), "--out " + dir + "/$1");
      ++commands;
      CommandResult r = run_command("cd " + std::string(PCIESIM_SOURCE_DIR) + " && " +
                                    PCIESIM_BINARY + " " + arguments + " --quiet");
      EXPECT_EQ(r.exit_code, 0) << page << ": " << arguments << "\n" << r.err;
    }
  }
  EXPECT_GE(commands, 2);
}

TEST(RunSelection, JobsChangeNoByteOfTheComparison) {
  std::string one = make_temp_dir("select"), two = make_temp_dir("select");
  const std::string scenario =
      std::string(PCIESIM_SOURCE_DIR) + "/scenarios/nic-reuse-crossover.json";
  CommandResult a = run_pciesim("run " + scenario + " -j 1 --out " + one);
  CommandResult b = run_pciesim("run " + scenario + " -j 3 --out " + two);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(a.out, b.out);
  for (const char *f : {"results.json", "results.csv"}) {
    std::string x = read_file(one + "/" + f), y = read_file(two + "/" + f);
    EXPECT_FALSE(x.empty()) << f;
    EXPECT_EQ(x, y) << f;
  }
  EXPECT_GE(nlohmann::json::parse(read_file(one + "/results.json"))["mechanisms"].size(), 2u);
  // -j is checked as on check and sweep.
  EXPECT_EQ(run_pciesim("run " + scenario + " -j 0").exit_code, 2);
}

} // namespace
} // namespace pciesim::test
