// The default comparison and the NIC-reuse crossover on dual-socket boxes with the GPU on one
// socket and the NIC on the other: every mechanism runs across the inter-socket link, or is
// unsupported with Linux's reason. On AMD Zen (P2P between any root ports) all five run; on a
// Xeon E5 host bridge (allow-listed only within one host bridge) the DMA-API peer mapping is
// refused with the kernel's reason and the others degrade as their Linux paths do.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

// A scenario of the repository with its topologies replaced and its expectations (which name
// the original topologies) dropped, run through the CLI; the parsed results.json.
nlohmann::json run_on_two_sockets(const std::string &scenario_file) {
  nlohmann::json s = nlohmann::json::parse(read_repo_file(scenario_file));
  s.erase("expect");
  s["topology"] = nlohmann::json::array();
  for (const char *t : {"gpu-nic-two-sockets-amd", "gpu-nic-two-sockets"})
    s["topology"].push_back(std::string(PCIESIM_SOURCE_DIR) + "/topologies/" + t + ".json");
  std::string dir = make_temp_dir("two-sockets");
  std::ofstream(dir + "/s.json") << s.dump(2);
  CommandResult r = run_pciesim("run " + dir + "/s.json --quiet --out " + dir + "/out");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(read_file(dir + "/out/results.json"));
}

void expect_every_mechanism_runs_or_says_why(const nlohmann::json &results) {
  ASSERT_FALSE(results["mechanisms"].empty());
  for (const auto &m : results["mechanisms"]) {
    std::string where = m["name"].get<std::string>() + "@" + m["topology"].get<std::string>();
    if (m["topology"] == "gpu-nic-two-sockets-amd") {
      EXPECT_EQ(m["status"], "ok") << where << ": " << m["reason"];
      continue;
    }
    EXPECT_TRUE(m["status"] == "ok" || m["status"] == "not_supported")
        << where << ": " << m["status"] << " " << m["reason"];
    if (m["status"] != "ok") {
      EXPECT_NE(m["reason"].get<std::string>().find("allow-list"), std::string::npos)
          << where << ": " << m["reason"];
    }
    if (m["name"] == "p2p_dma_api") {
      EXPECT_EQ(m["status"], "not_supported") << where;
    }
  }
}

TEST(TwoSocketMechanisms, TheDefaultComparisonRunsAcrossSockets) {
  nlohmann::json r = run_on_two_sockets("scenarios/default.json");
  expect_every_mechanism_runs_or_says_why(r);
}

TEST(TwoSocketMechanisms, TheNicReuseCrossoverRunsAcrossSockets) {
  nlohmann::json r = run_on_two_sockets("scenarios/nic-reuse-crossover.json");
  expect_every_mechanism_runs_or_says_why(r);
}

} // namespace
} // namespace pciesim::test
