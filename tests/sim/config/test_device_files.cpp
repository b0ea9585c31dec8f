// Device files (devices/*.json): a GPU generation's defaults, each value with its source. The
// loader takes sections for endpoint types only; an endpoint that names one starts from its
// values, what the topology sets explicitly winning; a device file on a root complex, one that
// gives nothing for the endpoint's type, or an unknown one is refused at the "device" key.
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

TEST(DeviceFiles, EveryValueHasASourceAndGoesToAnEndpoint) {
  std::vector<std::string> names = device_names();
  for (const char *required : {"nvidia-ampere", "nvidia-ada", "nvidia-blackwell", "amd-vega20"})
    EXPECT_NE(std::find(names.begin(), names.end(), required), names.end()) << required;
  Node nowhere = Node::root(parse_json_text("\"test\"", "<test>"));
  for (const std::string &name : names) {
    auto d = load_device(name, nowhere);
    EXPECT_FALSE(d->description.empty()) << name;
    EXPECT_FALSE(d->values.empty()) << name;
    for (const auto &[section, values] : d->values) {
      EXPECT_EQ(find_component_type(section)->role, ComponentRole::Endpoint) << section;
      for (const auto &[key, value] : values)
        EXPECT_GE(d->sources.at(section).at(key).size(), 10u) << name << "/" << key;
    }
  }
}

std::string device_error(const std::string &text) {
  return profile_error(&load_device_document, text, "devices/bad.json");
}

TEST(DeviceFiles, BadDeviceFilesNameTheFileAndPointer) {
  EXPECT_NE(device_error(R"({"description": "x", "root_complex": {"host_bridge_latency":
              {"value": "1 ns", "source": "somewhere"}}})")
                .find("devices/bad.json:/root_complex: unknown key"),
            std::string::npos);
  EXPECT_NE(device_error(R"({"description": "x", "gpu": {"setup_latency": {"value": "1 us"}}})")
                .find("devices/bad.json:/gpu/setup_latency: the value of \"setup_latency\" has no "
                      "source"),
            std::string::npos);
}

nlohmann::json one_gpu(const nlohmann::json &gpu) {
  return {{"name", "t"},
          {"components",
           {{{"id", "rc0"}, {"type", "root_complex"}},
            {{"id", "mem0"}, {"type", "host_memory"}, {"root_complex", "rc0"}},
            gpu}},
          {"links", {{{"between", {"rc0.rp0", gpu["id"]}}}}}};
}

TopologyConfig load(const nlohmann::json &topology) {
  return load_topology(Node::root(parse_json_text(topology.dump(), "t.json")));
}

TEST(DeviceFiles, AnEndpointStartsFromItsDeviceFileAndItsParamsWin) {
  TopologyConfig plain = load(one_gpu({{"id", "gpu0"}, {"type", "gpu"}}));
  TopologyConfig ada = load(one_gpu({{"id", "gpu0"}, {"type", "gpu"}, {"device", "nvidia-ada"}}));
  TopologyConfig set = load(one_gpu({{"id", "gpu0"},
                                     {"type", "gpu"},
                                     {"device", "nvidia-ada"},
                                     {"params", {{"posted_window", 64}}}}));
  const ParamSet &p0 = plain.components[2].params, &p1 = ada.components[2].params,
                 &p2 = set.components[2].params;
  EXPECT_EQ(p0.integer("posted_window"), 32);
  EXPECT_EQ(p1.integer("posted_window"), 512);
  EXPECT_EQ(p1.duration("setup_latency").ps, 800000);
  EXPECT_EQ(p2.integer("posted_window"), 64);         // the topology's own value wins
  EXPECT_EQ(p2.duration("setup_latency").ps, 800000); // the rest from the device file
  EXPECT_EQ(ada.components[2].device->name, "nvidia-ada");
}

TEST(DeviceFiles, AMisplacedOrUnknownDeviceIsABadInputAtItsKey) {
  auto error = [](const nlohmann::json &topology) {
    try {
      load(topology);
    } catch (const InputError &e) {
      return std::string(e.what());
    }
    return std::string();
  };
  nlohmann::json on_root = one_gpu({{"id", "gpu0"}, {"type", "gpu"}});
  on_root["components"][0]["device"] = "nvidia-ada";
  EXPECT_NE(error(on_root).find("/components/0/device: a device file on a root_complex"),
            std::string::npos)
      << error(on_root);
  std::string unknown = error(one_gpu({{"id", "gpu0"}, {"type", "gpu"}, {"device", "tesla"}}));
  EXPECT_NE(unknown.find("/components/2/device"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("nvidia-ada"), std::string::npos) << unknown; // the list of names
  std::string wrong_type =
      error(one_gpu({{"id", "nic0"}, {"type", "rdma_nic"}, {"device", "nvidia-ada"}}));
  EXPECT_NE(wrong_type.find("device file \"nvidia-ada\" gives no defaults for an rdma_nic"),
            std::string::npos)
      << wrong_type;
}

TEST(DeviceFiles, ReferencesListEverySource) {
  std::string references = read_repo_file("docs/references.md");
  EXPECT_NE(references.find(describe_devices_markdown()), std::string::npos)
      << "paste `pciesim describe --devices` into docs/references.md, Device files";
}

} // namespace
} // namespace pciesim::test
