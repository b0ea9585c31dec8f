// `pciesim advise`: the p2pdma verdict of each device pair, what blocks a better one, the
// changes that lift it, and the time each saves, simulated on a variant of the topology.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/doc_section.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

const std::string kAdviseRepo = PCIESIM_SOURCE_DIR;

nlohmann::json advise_json(const std::string &arguments) {
  CommandResult r = run_pciesim("advise " + arguments + " --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out);
}

// The PCI address `pciesim topo` prints for downstream port `dp` of switch `sw`.
std::string topo_port_address(const std::string &topology, const std::string &sw,
                              const std::string &dp) {
  CommandResult r = run_pciesim("topo " + topology);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  bool in_switch = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.find(" (switch) ") != std::string::npos)
      in_switch = line.find("└─ " + sw + " (switch) ") != std::string::npos;
    std::size_t at = line.find(" " + dp + " ");
    if (in_switch && at != std::string::npos &&
        line.find_first_not_of(' ') == line.find(dp + " ")) {
      std::istringstream words(line.substr(at));
      std::string name, bdf;
      words >> name >> bdf;
      return "0000:" + bdf;
    }
  }
  ADD_FAILURE() << "no " << sw << "." << dp << " in\n" << r.out;
  return "";
}

// A library topology with parameter `key` of every root complex set to `value`, written to a
// file of its own.
std::string with_root_complex_param(const std::string &dir, const std::string &name,
                                    const std::string &key, const std::string &value) {
  nlohmann::json t = nlohmann::json::parse(read_repo_file("topologies/" + name + ".json"));
  for (auto &c : t["components"])
    if (c["type"] == "root_complex")
      c["params"][key] = value;
  std::string path = dir + "/" + name + "-" + key + ".json";
  std::ofstream(path) << t.dump(2);
  return path;
}

// hgx-zen4 with its root complexes' IOMMU translating.
std::string zen4_with_iommu(const std::string &dir) {
  return with_root_complex_param(dir, "hgx-zen4", "iommu", "translated");
}

const nlohmann::json &change_of(const nlohmann::json &group, const std::string &kind) {
  for (const auto &c : group["changes"])
    if (c["kind"] == kind)
      return c;
  static const nlohmann::json none;
  ADD_FAILURE() << "no change " << kind << " in " << group.dump(2);
  return none;
}

TEST(Advise, AcsRedirectUnderOneSwitchIsLiftedByTheKernelParameterAndSavesTime) {
  std::string dir = make_temp_dir("advise");
  std::string topology = zen4_with_iommu(dir);
  nlohmann::json a = advise_json(topology + " --pair nic0,gpu0 --size '2 MiB'");
  ASSERT_EQ(a["groups"].size(), 1u);
  const nlohmann::json &g = a["groups"][0];
  EXPECT_EQ(g["map_type"], "THRU_HOST_BRIDGE");
  bool acs = false;
  for (const auto &b : g["blockers"])
    acs = acs || b["kind"] == "acs_redirect";
  EXPECT_TRUE(acs) << g.dump(2);
  // gpu0 sits on sw0.dp0, nic0 on sw0.dp1: the kernel takes their bridges' PCI addresses.
  const nlohmann::json &lift = change_of(g, "disable_acs_redir");
  EXPECT_EQ(lift["kernel_parameter"],
            "pci=disable_acs_redir=" + topo_port_address(topology, "sw0", "dp0") + ";" +
                topo_port_address(topology, "sw0", "dp1"));
  EXPECT_EQ(lift["map_type_after"], "BUS_ADDR");
  ASSERT_TRUE(g["time_now_ns"].is_number()) << g.dump(2);
  ASSERT_TRUE(lift["time_after_ns"].is_number()) << lift.dump(2);
  EXPECT_LT(lift["time_after_ns"].get<double>(), g["time_now_ns"].get<double>());
  EXPECT_GT(lift["saved_ns"].get<double>(), 0.0);
  EXPECT_NEAR(lift["saved_ns"].get<double>(),
              g["time_now_ns"].get<double>() - lift["time_after_ns"].get<double>(), 0.002);
  // iommu=pt keeps the redirect: the kernel still requests ACS for a passthrough IOMMU.
  EXPECT_EQ(change_of(g, "iommu_pt")["map_type_after"], "THRU_HOST_BRIDGE");
  EXPECT_EQ(change_of(g, "iommu_off")["map_type_after"], "BUS_ADDR");

  // "Before" is what `run` gives for the same workload on the same file.
  nlohmann::json scenario = nlohmann::json::parse(read_repo_file("scenarios/default.json"));
  scenario.erase("expect");
  scenario["topology"] = topology;
  scenario["workload"]["mechanisms"] = {"p2p_dma_api"};
  scenario["workload"]["buffers"][0]["size"] = "2 MiB";
  std::string scenario_path = dir + "/scenario.json";
  std::ofstream(scenario_path) << scenario.dump(2);
  CommandResult run = run_pciesim("run " + scenario_path + " --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  nlohmann::json results = nlohmann::json::parse(run.out);
  EXPECT_EQ(results["mechanisms"][0]["total_time_ns"], g["time_now_ns"]);

  // The table says the same.
  CommandResult table = run_pciesim("advise " + topology + " --pair nic0,gpu0 --size '2 MiB'");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find(lift["kernel_parameter"].get<std::string>()), std::string::npos)
      << table.out;
  EXPECT_NE(table.out.find("ACS redirect"), std::string::npos) << table.out;
}

TEST(Advise, IommuOptionAnalysesTheBoxAsIfItsFileSaidSo) {
  std::string dir = make_temp_dir("advise");
  nlohmann::json from_file = advise_json(zen4_with_iommu(dir) + " --no-simulate");
  nlohmann::json from_option =
      advise_json(kAdviseRepo + "/topologies/hgx-zen4.json --iommu translated --no-simulate");
  EXPECT_EQ(from_file["groups"], from_option["groups"]);
  // Every NIC x GPU and GPU x GPU pair of the 8-GPU box is listed once.
  std::size_t nic_gpu = 0, gpu_gpu = 0;
  for (const auto &g : from_option["groups"])
    (g["kind"] == "gpu-nic" ? nic_gpu : gpu_gpu) += g["pairs"].size();
  EXPECT_EQ(nic_gpu, 64u);
  EXPECT_EQ(gpu_gpu, 56u);
}

TEST(Advise, IntelCrossSwitchPairIsRefusedByTheAllowListWithNoKernelParameter) {
  nlohmann::json a =
      advise_json(kAdviseRepo + "/topologies/hgx-spr.json --pair nic2,gpu0 --no-simulate");
  ASSERT_EQ(a["groups"].size(), 1u);
  const nlohmann::json &g = a["groups"][0];
  EXPECT_EQ(g["map_type"], "NOT_SUPPORTED");
  bool allow_list = false;
  for (const auto &b : g["blockers"])
    allow_list = allow_list || b["kind"] == "allow_list";
  EXPECT_TRUE(allow_list) << g.dump(2);
  for (const auto &c : g["changes"])
    EXPECT_TRUE(c["kernel_parameter"].is_null()) << c.dump(2);
  const nlohmann::json &move = change_of(g, "move");
  EXPECT_EQ(move["map_type_after"], "BUS_ADDR");
}

// Where p2pdma refuses a pair that one root complex joins, the GPU driver's own mapping
// (nvidia-peermem) still reaches the GPU through it: advise offers it, simulated with the
// vendor_peer mechanism on the unchanged topology; a root complex that forwards no peer
// reads (an Intel client part) gets no such offer for a NIC reading GPU memory.
TEST(Advise, TheGpuDriversPeerMappingIsOfferedWhereTheRootComplexForwardsPeerTraffic) {
  nlohmann::json a = advise_json(kAdviseRepo + "/topologies/hgx-spr.json --pair nic2,gpu0");
  ASSERT_EQ(a["groups"].size(), 1u);
  const nlohmann::json &g = a["groups"][0];
  ASSERT_EQ(g["relation"], "same root complex");
  const nlohmann::json &c = change_of(g, "vendor_peer");
  EXPECT_EQ(c["map_type_after"], "NOT_SUPPORTED"); // p2pdma's verdict does not change
  EXPECT_EQ(c["data_path_after"], "root complex");
  EXPECT_TRUE(c["overrides"].empty());
  EXPECT_EQ(c["mechanism_after"], "vendor_peer");
  ASSERT_TRUE(c["time_after_ns"].is_number()) << c.dump(2);
  EXPECT_NE(c["time_after_ns"], g["time_now_ns"]); // bounce now, the peer path after

  std::string writes_only =
      with_root_complex_param(make_temp_dir("advise"), "hgx-spr", "p2p_policy", "writes_only");
  nlohmann::json w = advise_json(writes_only + " --pair nic2,gpu0 --no-simulate");
  for (const auto &change : w["groups"][0]["changes"])
    EXPECT_NE(change["kind"], "vendor_peer");
}

TEST(Advise, JsonHasTheDocumentedKeys) {
  nlohmann::json a =
      advise_json(kAdviseRepo + "/topologies/hgx-spr.json --pairs gpu-nic --size '1 MiB' -j 2");
  std::string doc = read_repo_file("docs/file-formats.md");
  std::size_t section = doc.find("### Advice output");
  ASSERT_NE(section, std::string::npos);
  std::string text = doc.substr(section, doc.find("\n## ", section) - section);
  // A key is named in the table as `key`, `key[]` or after its parent: `groups[].key`.
  auto documented = [&](const std::string &key) {
    bool found = false;
    for (const char *before : {"`", "."})
      for (const char *after : {"`", "[]`"})
        found = found || text.find(before + key + after) != std::string::npos;
    EXPECT_TRUE(found) << key << " is not documented";
  };
  for (const auto &item : a.items())
    documented(item.key());
  ASSERT_FALSE(a["groups"].empty());
  bool simulated_change = false;
  for (const auto &g : a["groups"]) {
    for (const auto &item : g.items())
      documented(item.key());
    for (const auto &c : g["changes"]) {
      for (const auto &item : c.items())
        documented(item.key());
      simulated_change = simulated_change || c["time_after_ns"].is_number();
    }
  }
  EXPECT_TRUE(simulated_change);
}

TEST(Advise, BadInputIsOneLineAndExitCode2) {
  std::string dir = make_temp_dir("advise");
  std::string broken = dir + "/broken.json";
  std::ofstream(broken) << "{\"components\": [";
  for (const std::string &arguments :
       {dir + "/missing.json", broken, kAdviseRepo + "/topologies/hgx-zen4.json --pair nic0,nic1",
        kAdviseRepo + "/topologies/hgx-zen4.json --pairs gpu-cpu",
        kAdviseRepo + "/topologies/hgx-zen4.json --size big"}) {
    CommandResult r = run_pciesim("advise " + arguments);
    EXPECT_EQ(r.exit_code, 2) << arguments << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << arguments;
    ASSERT_FALSE(r.err.empty()) << arguments;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << arguments << ": " << r.err;
  }
}

TEST(Advise, WorkedExampleInTheDocsIsTheProgramsOutput) {
  const std::string command = "advise topologies/hgx-zen4.json --iommu translated --pairs gpu-nic";
  CommandResult r = run_command("cd " + kAdviseRepo + " && " + PCIESIM_BINARY + " " + command);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_doc_section("docs/import.md", "advise-example",
                     "```text\n$ build/pciesim " + command + "\n" + r.out + "```\n");
}

} // namespace
} // namespace pciesim::test
