// libFuzzer target over everything that reads user input: the unit parsers, the strict JSON
// reader, the JSON Schema check, the topology and scenario loaders (workloads included),
// hierarchy checks and enumeration, the sweep loader with its expansion into points, and
// `pciesim import`'s machine-dump readers with the topology built from what they read. Bad
// input must end as an InputError; anything else escaping (another exception, a crash, a
// sanitizer report, a hang, a memory blow-up) is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "models/common/units.h"
#include "sim/batch/sweep_file.h"
#include "sim/config/embedded_files.h"
#include "sim/config/json_input.h"
#include "sim/config/schema_check.h"
#include "sim/fabric/enumeration.h"
#include "sim/fabric/topology.h"
#include "sim/import/snapshot_reader.h"
#include "sim/import/topology_builder.h"
#include "sim/plan/scenario.h"

namespace {
// Files under fuzzing: only the topologies compiled into the binary, found by their file
// name, so that the shipped workload scenarios (which name them) reach their workload
// section; anything else is refused. No file system access.
const std::string *embedded_topology(const std::string &path) {
  std::string name = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  for (const pciesim::EmbeddedFile &f : pciesim::embedded_files())
    if (f.path == "topologies/" + name)
      return &f.text;
  throw pciesim::InputError(path, "",
                            "files other than the bundled topologies are not read "
                            "while fuzzing");
}

std::shared_ptr<const pciesim::JsonDocument> read_topology(const std::string &path) {
  return pciesim::parse_json_text(*embedded_topology(path), path);
}

// A sweep's points are each checked by the scenario loader: a small limit keeps one input's
// work bounded (the real limit is checked the same way, before any point is built).
constexpr std::size_t kFuzzMaxSweepPoints = 16;
const char *const kSweepFile = "fuzz-sweep.json";
} // namespace

extern "C" int sc_main(int, char **) { return 0; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  pciesim::parse_bytes(text);
  pciesim::parse_duration(text);
  pciesim::parse_bandwidth(text);
  pciesim::parse_generation_rate(text);
  try {
    pciesim::Node root = pciesim::Node::root(pciesim::parse_json_text(text, "fuzz"));
    std::string kind = pciesim::classify_document(root);
    if (kind == "topology") {
      pciesim::validate_against_schema(root, "topology");
      pciesim::TopologyConfig t = pciesim::load_topology(root);
      pciesim::Hierarchy h = pciesim::build_hierarchy(t);
      pciesim::enumerate(t, h);
    } else if (kind == "scenario") {
      pciesim::validate_against_schema(root, "scenario");
      pciesim::load_scenario(root, "scenarios", &read_topology);
    } else if (kind == "sweep") {
      auto read = [&text](const std::string &path) {
        return path == kSweepFile ? text : *embedded_topology(path);
      };
      pciesim::SweepSpec spec = pciesim::load_sweep_file(kSweepFile, read, kFuzzMaxSweepPoints);
      pciesim::sweep_manifest(spec);
      spec.scenario_of(spec.points.back());
    }
  } catch (const pciesim::InputError &) {
  }
  try {
    pciesim::PciInventory inventory = pciesim::read_machine_dump_text(text, "fuzz-dump");
    pciesim::build_imported_topology(inventory, pciesim::ImportOptions{});
  } catch (const pciesim::InputError &) {
  }
  return 0;
}
