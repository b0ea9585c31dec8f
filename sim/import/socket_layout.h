// How many sockets a dump's machine has and which socket each top-level PCI function is on:
// from --sockets, the snapshot, NCCL's <cpu> elements, NUMA nodes, AMD's four root buses a
// socket or Intel's uncore buses. Every guess is added to the import's list.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/import/pci_inventory.h"

namespace pciesim {

struct SocketLayout {
  int sockets = 1;
  std::vector<int> root_buses;      // every root bus of segment 0000, in order
  std::vector<int> uncore_buses;    // Intel uncore buses (3f, 7f, bf, ff) without bridges
  std::map<int, int> socket_of_top; // top-level function (its index) -> socket
  // The socket of a root bus from the bus number alone (no NUMA node to say).
  int socket_of_bus(int bus) const;
};

// `tops`: the top-level functions the topology keeps, in address order; `children`: each
// function's children. Throws InputError for a machine of more than two sockets.
SocketLayout find_socket_layout(const PciInventory &inventory, const std::vector<int> &tops,
                                const std::vector<std::vector<int>> &children,
                                std::optional<int> forced_sockets,
                                std::vector<std::string> &guesses);

} // namespace pciesim
