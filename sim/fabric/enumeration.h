// Enumeration as firmware does it: depth-first bus numbering below each root complex, BARs
// placed in naturally aligned slots, bridge memory windows (1 MiB granular) sized bottom-up
// and placed top-down in the root complex's MMIO aperture, host memory at the bottom of the
// physical address space. Routing tables for switches and root complexes derive from it.
#pragma once

#include <cstdint>
#include <vector>

#include "models/pcie/routing.h"
#include "models/pcie/tlp.h"
#include "sim/fabric/topology.h"

namespace pciesim {

struct Bar {
  int index = 0;
  std::uint64_t base = 0;
  std::uint64_t size = 0;
};

struct Bridge {
  Bdf bdf;
  BusRange buses;
  AddressWindow window{1, 0}; // closed until placed
};

struct ComponentAddressing {
  Bdf bdf;                   // endpoint function, switch upstream port, host bridge
  std::vector<Bar> bars;     // endpoints
  std::vector<Bridge> ports; // root ports (by index) or switch ports (0 = upstream port)
  // Root complexes only:
  std::uint64_t memory_base = 0, memory_size = 0;
  std::uint64_t mmio_base = 0, mmio_limit = 0;
  int root_bus = -1;
};

struct Enumeration {
  std::vector<ComponentAddressing> components;
  int buses_used = 0;
};

Enumeration enumerate(const TopologyConfig &topology, const Hierarchy &hierarchy);

// Routing table of the downstream-facing ports of a switch or root complex.
RoutingTable routing_for(const Enumeration &enumeration, const TopologyConfig &topology,
                         int component);

} // namespace pciesim
