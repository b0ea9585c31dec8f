// Driver profiles (drivers/<name>.json, embedded in the binary): how one GPU driver moves and
// maps memory — NVIDIA UVM, nouveau, amdgpu SVM — as defaults of the workload's OS cost table
// (fault granularity, density prefetch, fault batch size, CPU-fault migration size, eviction
// path, thrashing detection), each value with its source. A workload names one with
// `"driver": "<name>"`; its `costs` then start from the profile's values instead of the
// table's defaults, and whatever `costs` sets explicitly wins.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/config/json_input.h"

namespace pciesim {

struct DriverProfile {
  std::string name;                           // file name without .json, e.g. "nvidia-uvm"
  std::string description;                    // the driver and version it describes
  std::map<std::string, Node> costs;          // cost parameter -> its node in the profile
  std::map<std::string, std::string> sources; // same keys
};

// The embedded driver profiles' names, sorted.
std::vector<std::string> driver_names();
// The profile `name` (`where` is the node naming it, blamed when there is none). Throws
// InputError at the profile's pointer for an unknown key, a value without a source, or a value
// its parameter does not accept.
std::shared_ptr<const DriverProfile> load_driver(const std::string &name, const Node &where);
// Checks and loads a profile document (the file name is the document's).
std::shared_ptr<const DriverProfile> load_driver_document(const Node &root,
                                                          const std::string &name);

} // namespace pciesim
