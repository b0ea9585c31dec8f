// Reader of the one-file snapshot scripts/snapshot-machine.sh writes (format
// "pciesim-snapshot", version 1): the lspci tree and verbose listing it embeds, each PCI
// function's sysfs attributes (class, ids, NUMA node, links, BARs, place in the tree), the
// CPU, sockets, IOMMU and kernel command line.
#pragma once

#include "sim/config/json_input.h"
#include "sim/import/pci_inventory.h"

namespace pciesim {

PciInventory read_snapshot(const Node &root);

// The input formats `pciesim import` reads, told apart by content.
PciInventory read_machine_dump(const std::string &path);

} // namespace pciesim
