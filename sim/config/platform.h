// Platform files (platforms/<name>.json, embedded in the binary): the defaults of one host
// (a CPU generation) for its root complex, its host memory and its inter-socket link, each
// value with its published source. A root complex names one with `"platform": "<name>"`;
// its params, its host memory's and its inter-socket link's then start from the platform's
// values instead of the models' defaults, and whatever the topology sets explicitly wins.
// Names are data: a platform section maps JSON parameter names to values, checked against
// the component type's parameter table when loaded.
//
// Device files (devices/<name>.json, also embedded) have the same shape for the endpoints: the
// defaults of one device generation (a GPU architecture: its copy engines' fixed time, their
// queues), a section per component type. An endpoint names one with `"device": "<name>"`; its
// params start from the device file's values, and what the topology sets wins.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/config/json_input.h"

namespace pciesim {

struct PlatformProfile {
  std::string name;        // file name without .json, e.g. "intel-skylake-sp"
  std::string description; // the host it describes
  // Component type name ("root_complex", "host_memory", "inter_socket_link") -> parameter
  // name -> the value's node in the platform file (so errors name that file and pointer).
  std::map<std::string, std::map<std::string, Node>> values;
  std::map<std::string, std::map<std::string, std::string>> sources; // same keys
};

// The embedded platform files' names, sorted.
std::vector<std::string> platform_names();
// The platform `name` (`where` is the node naming it, blamed when no such platform exists).
// Throws InputError at the platform file's pointer for an unknown section or key, a value
// without a source, or a value its parameter does not accept.
std::shared_ptr<const PlatformProfile> load_platform(const std::string &name, const Node &where);
// Checks and loads a platform document (the file name is the document's).
std::shared_ptr<const PlatformProfile> load_platform_document(const Node &root,
                                                              const std::string &name);

// The embedded device files' names, sorted; one of them, as load_platform does; and the
// check and load of a device document.
std::vector<std::string> device_names();
std::shared_ptr<const PlatformProfile> load_device(const std::string &name, const Node &where);
std::shared_ptr<const PlatformProfile> load_device_document(const Node &root,
                                                            const std::string &name);

} // namespace pciesim
