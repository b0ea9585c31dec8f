// The PCI device tree of a topology as the Linux kernel sees it: one node per root port,
// switch port and endpoint function, each with the ACS controls the kernel programs at boot
// (capabilities from the models' params, policy from the IOMMUs and the topology's `kernel`
// section). The p2pdma verdicts and the switches' ACS routing both come from it, so the map
// type Linux picks and the path the hardware takes cannot disagree.
#pragma once

#include <string>
#include <vector>

#include "models/os/p2pdma.h"
#include "sim/fabric/enumeration.h"
#include "sim/fabric/topology.h"

namespace pciesim {

struct PciView {
  PciTree tree;
  std::vector<std::vector<int>> node_of_port; // [component][port] -> node, -1 if none
  std::vector<int> node_of_endpoint;          // [component] -> node, -1 if not an endpoint
  bool acs_requested = false;                 // the kernel enabled ACS on capable ports
};

PciView build_pci_view(const TopologyConfig &topology, const Hierarchy &hierarchy);

// Copies the ACS controls of a switch's or root complex's downstream ports into its routes.
void apply_acs(const PciView &view, int component, RoutingTable &routes);

// The kernel's verdict for a provider endpoint (e.g. a GPU's BAR) and a client endpoint.
P2pVerdict p2p_verdict(const PciView &view, const TopologyConfig &topology, int provider,
                       int client);

} // namespace pciesim
