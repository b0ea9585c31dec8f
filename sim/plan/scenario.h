// A scenario file: the topology it runs on (a path relative to the scenario, or inline) and
// the transfers to simulate, resolved against the enumerated topology (addresses, regions).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/fabric/enumeration.h"
#include "sim/fabric/topology.h"
#include "sim/plan/transfer.h"
#include "sim/plan/workload.h"

namespace pciesim {

struct ScenarioConfig {
  std::string file;
  std::string name;
  std::string description;
  std::string topology_source; // canonical path of the topology file, or "inline"
  std::shared_ptr<LoadedTopology> topology;
  Enumeration enumeration;
  PciView pci_view; // the PCI tree Linux sees, with the ACS controls the kernel programs
  std::uint64_t seed = 1;
  Duration max_sim_time{1000000000000}; // 1 s
  std::vector<TransferConfig> transfers;
  nlohmann::ordered_json resolved; // the scenario with every default filled in
  nlohmann::ordered_json expect;   // the "expect" array as written (sim/plan/expect.h), or null
  // A workload compares memory mechanisms (sim/plan/workload.h): each (topology, mechanism) pair
  // runs in its own process; `mechanism` is the one this process simulates.
  std::optional<WorkloadConfig> workload;
  Mechanism mechanism = Mechanism::P2pDmaApi;
  std::size_t topology_index = 0, topology_count = 1; // "topology" may list several
};

// Reads a topology file a scenario refers to (disk by default; the bundled default scenario
// reads its topology from the embedded files).
using DocumentReader = std::function<std::shared_ptr<const JsonDocument>(const std::string &path)>;

ScenarioConfig load_scenario_file(const std::string &path, std::size_t topology_index = 0);
ScenarioConfig load_scenario(const Node &root, const std::string &base_dir,
                             DocumentReader read_topology = &load_json_file,
                             std::size_t topology_index = 0);
// The bundled default scenario (scenarios/default.json and its topology, compiled in).
ScenarioConfig load_default_scenario(std::size_t topology_index = 0);
// Its document and the reader of the bundled files it names (its directory is "scenarios").
std::shared_ptr<const JsonDocument> bundled_default_scenario();
std::shared_ptr<const JsonDocument> read_bundled_file(const std::string &path);

// What a file is, judged by its top-level keys: "topology", "scenario", "sweep"
// (it has "axes") or "unknown".
std::string classify_document(const Node &root);

} // namespace pciesim
