// `pciesim topo`: the enumerated hierarchy as a tree (BDFs, BARs, bridge windows, trained
// links), as Graphviz DOT written with boost::write_graphviz, and the p2pdma verdict of every
// pair of endpoints (`--p2p`) as a matrix or a list.
#pragma once

#include <string>

#include "sim/fabric/enumeration.h"
#include "sim/fabric/pci_view.h"
#include "sim/fabric/topology.h"

namespace pciesim {

std::string format_topology_tree(const TopologyConfig &topology, const Hierarchy &hierarchy,
                                 const Enumeration &enumeration);
std::string topology_dot(const TopologyConfig &topology, const Hierarchy &hierarchy,
                         const Enumeration &enumeration);

// `topo FILE --p2p`: a row per DMA initiator, a column per endpoint memory exposed to peers,
// each cell a short code for the map type (calc_map_type_and_dist, as the runs decide it) and
// where the traffic turns (switch, root complex, inter-socket link), then the legend and the
// kernel's reasons for the pairs it refuses.
std::string p2p_matrix(const TopologyConfig &topology, const Hierarchy &hierarchy);
// `topo FILE --p2p --list`: a line per pair: map type, distance and the kernel's reason.
std::string p2p_list(const TopologyConfig &topology, const Hierarchy &hierarchy);

} // namespace pciesim
