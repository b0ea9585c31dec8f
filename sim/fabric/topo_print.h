// `pciesim topo`: the enumerated hierarchy as a tree (BDFs, BARs, bridge windows, trained
// links) and as Graphviz DOT written with boost::write_graphviz.
#pragma once

#include <string>

#include "sim/fabric/enumeration.h"
#include "sim/fabric/topology.h"

namespace pciesim {

std::string format_topology_tree(const TopologyConfig &topology, const Hierarchy &hierarchy,
                                 const Enumeration &enumeration);
std::string topology_dot(const TopologyConfig &topology, const Hierarchy &hierarchy,
                         const Enumeration &enumeration);

} // namespace pciesim
