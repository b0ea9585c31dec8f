// `pciesim advise`: for every initiator and target memory of interest (a NIC reading a GPU's
// memory, an NVMe drive writing into it, a GPU reading a peer GPU's), the p2pdma map type Linux
// picks, what keeps it from a better one (ACS redirect because an IOMMU is on, a host bridge
// off the allow-list, another socket, no common switch), the changes that would lift it (a
// kernel parameter, an IOMMU mode, ATS with ACS Direct Translated, moving a card) and, by
// simulating each change as a variant of the topology with the default comparison's
// workload, the time it saves. Pairs alike (same verdict, blockers, changes and path shape)
// form a group; one pair of each group is simulated.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/batch/child_pool.h"

namespace pciesim {

struct AdviseOptions {
  std::string file; // a topology, or a scenario (its first topology)
  bool json = false;
  std::vector<std::string> pair_kinds{"gpu-nic", "nvme-gpu", "gpu-gpu"};
  std::vector<std::string> pairs; // "INITIATOR,TARGET": only these pairs
  bool simulate = true;
  std::string out;   // also write the JSON here
  std::string size;  // the workload's buffer size, e.g. "4 MiB"; empty: the default's
  std::string iommu; // every root complex's IOMMU mode for the analysis; empty: as written
  PoolOptions pool{2, 0};
};

// The simulations ran past --timeout and were stopped.
struct AdviseTimedOut : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The advice as `--json` prints it (docs/file-formats.md, "Advice output"). Throws InputError
// for a bad file or option.
nlohmann::ordered_json advise(const AdviseOptions &options);
// The table and its notes.
std::string format_advice(const nlohmann::ordered_json &advice);
// Runs `pciesim advise`; returns the exit code.
int command_advise(const AdviseOptions &options);

} // namespace pciesim
