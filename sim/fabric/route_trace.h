// The components a request crosses, found the way the hardware finds them: with the routing
// tables enumeration programmed into each bridge, the ACS controls the kernel set on their
// ports (PciView), and the very decision the switch model makes (route_at_switch in
// models/pcie/routing.h). So the route a report shows is the path the TLPs take, not a second
// opinion computed from the tree.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/fabric/enumeration.h"
#include "sim/fabric/pci_view.h"
#include "sim/fabric/topology.h"

namespace pciesim {

// The components from `initiator` to the one that completes a memory request to `address`:
// up through the switches until one claims the address (or ACS sends it on up), at the root
// complex down a root port whose window holds it (peer forwarding) or into its host memory,
// or else across the inter-socket link to the other root complex, which routes it the same way.
// `translated`: the requests carry translated addresses (ATS), which ACS Direct Translated
// lets through. Empty when nothing claims it.
std::vector<int> trace_request_route(const TopologyConfig &topology, const Hierarchy &hierarchy,
                                     const Enumeration &enumeration, const PciView &view,
                                     int initiator, std::uint64_t address, bool translated);

} // namespace pciesim
