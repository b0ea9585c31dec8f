// Platform files (platforms/*.json): every value has its source, the loader rejects unknown
// platforms, sections, keys and values without a source at the platform file's pointer, and
// a root complex's platform fills the defaults of the root complex, its host memory and its
// inter-socket link, with what the topology sets explicitly winning.
#include <algorithm>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/cli/describe.h"
#include "sim/config/platform.h"
#include "sim/fabric/topology.h"
#include "tests/support/profile_error.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

TEST(Platform, TheIssuesHostsAreThereAndEveryValueHasASource) {
  std::vector<std::string> names = platform_names();
  for (const char *required : {"intel-sandybridge-ep", "intel-ivybridge-ep", "intel-haswell-ep",
                               "intel-broadwell-ep", "intel-skylake-sp", "intel-icelake-sp",
                               "intel-sapphire-rapids", "amd-zen2", "amd-zen3", "amd-zen4"})
    EXPECT_NE(std::find(names.begin(), names.end(), required), names.end()) << required;
  Node nowhere = Node::root(parse_json_text("\"test\"", "<test>"));
  for (const std::string &name : names) {
    auto p = load_platform(name, nowhere);
    EXPECT_FALSE(p->description.empty()) << name;
    // A one-socket part (a desktop CPU) has no inter-socket link; every other section is there.
    for (const char *section : {"root_complex", "host_memory", "inter_socket_link"}) {
      if (std::string(section) == "inter_socket_link" &&
          p->description.find("a one-socket part") != std::string::npos)
        continue;
      ASSERT_TRUE(p->values.count(section)) << name << " has no " << section;
      for (const auto &[key, value] : p->values.at(section)) {
        const std::string &source = p->sources.at(section).at(key);
        EXPECT_GE(source.size(), 10u) << name << "/" << section << "/" << key;
      }
    }
  }
}

std::string platform_error(const std::string &text) {
  return profile_error(&load_platform_document, text, "platforms/bad.json");
}

TEST(Platform, BadPlatformFilesNameTheFileAndPointer) {
  EXPECT_NE(platform_error(R"({"description": "x", "root_complex": {"host_bridge_latncy":
              {"value": "1 ns", "source": "somewhere"}}})")
                .find("platforms/bad.json:/root_complex/host_bridge_latncy"),
            std::string::npos);
  EXPECT_NE(
      platform_error(R"({"description": "x", "host_memory": {"latency": {"value": "80 ns"}}})")
          .find("platforms/bad.json:/host_memory/latency: the value of \"latency\" has no "
                "source"),
      std::string::npos);
  EXPECT_NE(platform_error(R"({"description": "x", "pcie_switch": {}})")
                .find("platforms/bad.json:/pcie_switch"),
            std::string::npos);
  EXPECT_NE(platform_error(R"({"description": "x", "host_memory": {"latency":
              {"value": "80 parsecs", "source": "s"}}})")
                .find("platforms/bad.json:/host_memory/latency/value"),
            std::string::npos);
}

TEST(Platform, AnUnknownPlatformIsBadInputAtItsPointer) {
  std::string dir = make_temp_dir("platform");
  nlohmann::json topo = nlohmann::json::parse(read_repo_file("topologies/dgx-like.json"));
  topo["components"][0]["platform"] = "intel-nehalem";
  std::string path = dir + "/t.json";
  FILE *f = fopen(path.c_str(), "w");
  fputs(topo.dump().c_str(), f);
  fclose(f);
  CommandResult r = run_pciesim("topo " + path);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(path + ":/components/0/platform: unknown platform \"intel-nehalem\""),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("amd-zen4"), std::string::npos) << "lists the platforms: " << r.err;
}

LoadedTopology with_platform(const std::function<void(nlohmann::json &)> &edit) {
  nlohmann::json j = nlohmann::json::parse(read_repo_file("topologies/dgx-like.json"));
  for (auto &c : j["components"])
    if (c["type"] == "root_complex") {
      c["platform"] = "intel-skylake-sp";
      c["params"].erase("cpu"); // the platform's
    }
  edit(j);
  LoadedTopology t;
  t.config = load_topology(Node::root(parse_json_text(j.dump(), "t.json")));
  return t;
}

const ComponentConfig &component(const LoadedTopology &t, const std::string &id) {
  return t.config.components[static_cast<std::size_t>(t.config.find(id))];
}

TEST(Platform, FillsTheDefaultsOfTheRootComplexItsMemoryAndItsLinkExplicitValuesWin) {
  LoadedTopology t = with_platform([](nlohmann::json &j) {
    j["components"][0]["params"]["iotlb_entries"] = 128;   // rc0 sets one value itself
    j["components"][1]["params"] = {{"latency", "70 ns"}}; // and mem0
  });
  EXPECT_EQ(component(t, "rc0").params.choice("cpu"), "intel_skylake_e");
  EXPECT_EQ(component(t, "rc1").params.integer("iotlb_entries"), 64);
  EXPECT_EQ(component(t, "rc0").params.integer("iotlb_entries"), 128);
  EXPECT_EQ(component(t, "mem1").params.duration("latency").ps, 80000);
  EXPECT_EQ(component(t, "mem0").params.duration("latency").ps, 70000);
  EXPECT_DOUBLE_EQ(component(t, "mem1").params.bandwidth("bandwidth").bytes_per_second, 111e9);
  EXPECT_DOUBLE_EQ(component(t, "xsock").params.bandwidth("bandwidth").bytes_per_second, 34.4e9);
  EXPECT_EQ(component(t, "xsock").params.duration("latency").ps, 52000);
  // Without a platform: the models' defaults.
  nlohmann::json plain = nlohmann::json::parse(read_repo_file("topologies/dgx-like.json"));
  TopologyConfig p = load_topology(Node::root(parse_json_text(plain.dump(), "p.json")));
  EXPECT_EQ(p.components[static_cast<std::size_t>(p.find("mem1"))].params.duration("latency").ps,
            80000);
  EXPECT_EQ(p.components[static_cast<std::size_t>(p.find("xsock"))].params.duration("latency").ps,
            53500);
}

TEST(Platform, OnlyARootComplexNamesOneAndBothSocketsNameTheSame) {
  auto error = [](const std::function<void(nlohmann::json &)> &edit) {
    try {
      with_platform(edit);
    } catch (const InputError &e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error([](nlohmann::json &j) {
              j["components"][1]["platform"] = "amd-zen4";
            }).find("/components/1/platform: only a root complex names a platform"),
            std::string::npos);
  EXPECT_NE(error([](nlohmann::json &j) {
              j["components"][2]["platform"] = "amd-zen4";
            }).find("name different platforms"),
            std::string::npos);
}

TEST(Platform, ReferencesListEverySource) {
  std::string references = read_repo_file("docs/references.md");
  EXPECT_NE(references.find(describe_platforms_markdown()), std::string::npos)
      << "paste `pciesim describe --platforms` into docs/references.md, Platform files";
}

} // namespace
} // namespace pciesim::test
