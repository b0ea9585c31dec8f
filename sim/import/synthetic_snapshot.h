// The snapshot scripts/snapshot-machine.sh would write on a machine built as a topology says:
// `lspci -tvnn` and `lspci -vvvnn` text and each function's sysfs attributes, generated from
// the enumeration (`pciesim topo FILE --snapshot OUT`). Importing it gives the topology back,
// as far as a machine's dump can tell it (tests/sim/import: the round trip); it also shows
// users what a snapshot holds.
#pragma once

#include <nlohmann/json.hpp>

#include "sim/fabric/enumeration.h"
#include "sim/fabric/topology.h"

namespace pciesim {

nlohmann::ordered_json synthetic_snapshot(const TopologyConfig &topology,
                                          const Hierarchy &hierarchy,
                                          const Enumeration &enumeration);

} // namespace pciesim
