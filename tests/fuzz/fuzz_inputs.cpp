// libFuzzer target over everything that reads user input: the unit parsers, the strict JSON
// reader, the JSON Schema check, the topology and scenario loaders, hierarchy checks and
// enumeration. Bad input must end as an InputError; anything else escaping (another
// exception, a crash, a sanitizer report, a hang) is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "models/common/units.h"
#include "sim/enumeration.h"
#include "sim/json_input.h"
#include "sim/scenario.h"
#include "sim/schema_check.h"
#include "sim/topology.h"

namespace {
// Scenarios under fuzzing may only use inline topologies: no file system access.
std::shared_ptr<const pciesim::JsonDocument> refuse_files(const std::string &path) {
  throw pciesim::InputError(path, "", "files are not read while fuzzing");
}
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
      pciesim::load_scenario(root, "/nonexistent", &refuse_files);
    }
  } catch (const pciesim::InputError &) {
  }
  return 0;
}
