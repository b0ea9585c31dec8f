// The pciesim program as users run it: the bundled default, result files, determinism,
// topo output, and exit codes.
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/cli/describe.h"
#include "sim/config/json_input.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

TEST(Cli, NoArgumentsRunsTheBundledDefaultComparison) {
  // The bundled copy (with its table) and the file are the same scenario, and give the same
  // result bytes.
  std::string a = make_temp_dir("cli"), b = make_temp_dir("cli");
  CommandResult r = run_pciesim("run --out " + a);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char *mechanism : {"p2p_dma_api", "hmm_migrate", "hmm_p2p", "dmabuf_p2p", "bounce"})
    EXPECT_NE(r.out.find(mechanism), std::string::npos) << mechanism;
  EXPECT_NE(r.out.find("verdict gpu-nic-shared-switch: fastest"), std::string::npos);
  EXPECT_NE(r.out.find("verdict gpu-nic-root-ports-amd: fastest"), std::string::npos);
  // The README's excerpt of this table is the program's: each line it shows is a whole line of
  // the output, or, ending in "; ...", the start of one.
  const std::string readme = read_file(std::string(PCIESIM_SOURCE_DIR) + "/README.md");
  const std::size_t from = readme.find("```\ntopology gpu-nic-shared-switch\n");
  ASSERT_NE(from, std::string::npos) << "README.md: the default comparison's excerpt";
  const std::size_t to = readme.find("```", from + 3);
  std::istringstream excerpt(readme.substr(from + 4, to - from - 4));
  const std::string output = "\n" + r.out;
  int lines = 0;
  for (std::string line; std::getline(excerpt, line);) {
    if (line.empty() || line == "...")
      continue;
    ++lines;
    const bool cut = line.size() > 5 && line.compare(line.size() - 5, 5, "; ...") == 0;
    const std::string wanted = "\n" + (cut ? line.substr(0, line.size() - 3) : line + "\n");
    EXPECT_NE(output.find(wanted), std::string::npos) << "README.md shows: " << line;
  }
  EXPECT_GE(lines, 4);
  ASSERT_EQ(run_pciesim("run " + std::string(PCIESIM_SOURCE_DIR) +
                        "/scenarios/default.json --quiet --out " + b)
                .exit_code,
            0);
  for (const char *f : {"results.json", "results.csv"}) {
    std::string x = read_file(a + "/" + f), y = read_file(b + "/" + f);
    EXPECT_FALSE(x.empty()) << f;
    EXPECT_EQ(x, y) << f;
  }
  nlohmann::json j = nlohmann::json::parse(read_file(a + "/results.json"));
  EXPECT_EQ(j["mechanisms"].size(), 10u);
  EXPECT_EQ(j["expectations"].size(), 3u);
}

TEST(Cli, RunWritesResultFilesThatAreByteIdenticalAcrossRuns) {
  std::string a = make_temp_dir("cli"), b = make_temp_dir("cli");
  std::string scenario = std::string(PCIESIM_SOURCE_DIR) + "/scenarios/fabric-mix.json";
  ASSERT_EQ(run_pciesim("run " + scenario + " --quiet --out " + a).exit_code, 0);
  ASSERT_EQ(run_pciesim("run " + scenario + " --quiet --out " + b).exit_code, 0);
  for (const char *f : {"results.json", "results.csv", "links.csv"}) {
    std::string x = read_file(a + "/" + f), y = read_file(b + "/" + f);
    EXPECT_FALSE(x.empty()) << f;
    EXPECT_EQ(x, y) << f;
  }
  nlohmann::json j = nlohmann::json::parse(read_file(a + "/results.json"));
  EXPECT_EQ(j["status"], "completed");
  EXPECT_EQ(j["transfers"].size(), 3u);
  EXPECT_TRUE(j["config"].contains("topology")); // the resolved configuration is echoed
  EXPECT_EQ(j["config"]["topology"]["components"][0]["params"]["host_bridge_latency"], "150 ns");
}

TEST(Cli, TopoPrintsBdfsBarsAndWindowsAndDot) {
  std::string topo = std::string(PCIESIM_SOURCE_DIR) + "/topologies/switch-two-dma.json";
  CommandResult tree = run_pciesim("topo " + topo);
  ASSERT_EQ(tree.exit_code, 0) << tree.err;
  EXPECT_NE(tree.out.find("03:00.0"), std::string::npos);
  EXPECT_NE(tree.out.find("BAR0 0x"), std::string::npos);
  EXPECT_NE(tree.out.find("window 0x"), std::string::npos);
  CommandResult dot = run_pciesim("topo " + topo + " --dot");
  ASSERT_EQ(dot.exit_code, 0);
  EXPECT_EQ(dot.out.rfind("graph G {", 0), 0u);
  EXPECT_NE(dot.out.find("Gen3 x8"), std::string::npos);
}

TEST(Cli, ValidateAcceptsEveryShippedFile) {
  for (const char *f :
       {"topologies/host-dma-gen3x8.json", "topologies/host-dma-gen4x16.json",
        "topologies/host-dma-gen5x16.json", "topologies/switch-two-dma.json",
        "topologies/default-shared-switch.json", "scenarios/default.json",
        "scenarios/fabric-mix.json", "scenarios/nic-reuse-crossover.json",
        "scenarios/dma-write-size-sweep.json", "scenarios/dma-read-size-sweep.json"}) {
    CommandResult r = run_pciesim(std::string("validate ") + PCIESIM_SOURCE_DIR + "/" + f);
    EXPECT_EQ(r.exit_code, 0) << f << ": " << r.err;
  }
}

// validate checks every file it is given: each bad one gets its own line (file and pointer),
// the good ones their "ok", and the exit code is 2 if any was bad.
TEST(Cli, ValidateReportsEveryBadFileNotOnlyTheFirst) {
  const std::string bad = std::string(PCIESIM_SOURCE_DIR) + "/tests/bad_inputs/";
  CommandResult r =
      run_pciesim("validate " + bad + "scen-workload-costs-unknown.json " + PCIESIM_SOURCE_DIR +
                  "/scenarios/default.json " + bad + "topo-unknown-param.json");
  EXPECT_EQ(r.exit_code, 2);
  std::istringstream lines(r.err);
  std::vector<std::string> errors;
  for (std::string line; std::getline(lines, line);)
    errors.push_back(line);
  ASSERT_EQ(errors.size(), 2u) << r.err;
  EXPECT_EQ(
      errors[0].rfind(bad + "scen-workload-costs-unknown.json:/workload/costs/odp_faults: ", 0), 0u)
      << errors[0];
  EXPECT_EQ(errors[1].rfind(bad + "topo-unknown-param.json:/components/0/params/root_portz: ", 0),
            0u)
      << errors[1];
  EXPECT_NE(r.out.find("scenarios/default.json: ok (scenario)"), std::string::npos) << r.out;
}

// A misspelt key names the key it most likely meant instead of listing every allowed one; a
// word far from all of them gets the list.
TEST(Cli, AMisspeltKeySuggestsTheClosest) {
  EXPECT_EQ(closest_spelling("odp_faults", {"odp_fault", "odp_fault_max", "cpu_fault"}),
            "odp_fault");
  EXPECT_EQ(closest_spelling("Iteration", {"iterations", "phases"}), "iterations");
  EXPECT_EQ(closest_spelling("colour", {"name", "topology", "seed"}), "");
  EXPECT_EQ(closest_spelling("gen", {"gem", "mps"}), "gem");
  EXPECT_EQ(closest_spelling("ab", {"xy"}), "");
}

TEST(Cli, UnknownOptionIsBadInput) {
  EXPECT_EQ(run_pciesim("run --no-such-flag").exit_code, 2);
  EXPECT_EQ(run_pciesim("frobnicate").exit_code, 2);
}

TEST(Cli, StalledRunNamesTheComponentsHoldingWork) {
  // The root port advertises fewer posted data credits than one 256-byte write needs.
  std::string dir = make_temp_dir("cli");
  std::ofstream(dir + "/s.json") << R"({
    "topology": {
      "fabric": {"mps": "256 B"},
      "components": [
        {"id": "rc0", "type": "root_complex", "params": {"root_ports": 1, "rx_credits_pd": 8}},
        {"id": "mem0", "type": "host_memory", "root_complex": "rc0"},
        {"id": "dma0", "type": "dma_engine"}],
      "links": [{"between": ["rc0.rp0", "dma0"], "params": {"gen": 3, "width": 8}}]},
    "transfers": [{"id": "w", "initiator": "dma0", "target": "mem0", "direction": "write", "size": "4 KiB"}]
  })";
  CommandResult r = run_pciesim("run " + dir + "/s.json");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("stalled"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("link dma0.up -> rc0.rp0"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("can never be sent"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("dma0: "), std::string::npos) << r.err;
}

TEST(Docs, FileFormatsReferenceMatchesTheParameterTables) {
  std::string doc = read_repo_file("docs/file-formats.md");
  std::string generated = describe_markdown();
  EXPECT_NE(doc.find(generated), std::string::npos)
      << "docs/file-formats.md is stale: paste the output of `pciesim describe --markdown`";
}

} // namespace
} // namespace pciesim::test
