// Reader of the one-file snapshot scripts/snapshot-machine.sh writes (format
// "pciesim-snapshot", version 1): the lspci tree and verbose listing it embeds, each PCI
// function's sysfs attributes (class, ids, NUMA node, links, BARs, place in the tree), the
// CPU, sockets, IOMMU and kernel command line.
#pragma once

#include "sim/config/json_input.h"
#include "sim/import/pci_inventory.h"

namespace pciesim {

PciInventory read_snapshot(const Node &root);

// The input formats `pciesim import` reads, told apart by content: the first file any of them,
// the others `lspci -vvv` text of the same machine, whose details are added to the first's
// (a tree and a verbose listing kept apart, or a flat listing and a few ports' `lspci -vvv`).
// A flat listing's tree is guessed after all files are read (flat_listing.h).
PciInventory read_machine_dumps(const std::vector<std::string> &paths);
// One dump given as text (`file` names it in messages).
PciInventory read_machine_dump_text(const std::string &text, const std::string &file);

} // namespace pciesim
