// Readers of flat PCI listings, which name every function but not the bridges' bus numbers:
// `lspci -nn` (one line per function) and the IOMMU-group listings that VFIO users post (the
// ls-iommu script of the Arch wiki and its variants: "IOMMU Group 13:" headers, or the group
// in front of each line, followed by the function's `lspci -nns` line).
//
// Without bus numbers the tree has to be guessed. Firmware numbers buses depth first, so a
// bridge's subtree is a contiguous run of buses; infer_bus_hierarchy gives each bus that has
// functions but no known bridge above it to the bridges in that order, and says so in the
// inventory's notes (each guess reaches the imported topology's guess list).
#pragma once

#include <string>
#include <vector>

#include "sim/import/pci_inventory.h"

namespace pciesim {

bool looks_like_iommu_group_listing(const std::vector<std::string> &lines);

// An IOMMU-group listing: every function with its class and ids, and the number of groups
// (the IOMMU is on: a machine without one has no groups to list). The tree is left to
// infer_bus_hierarchy, once any `lspci -vvv` of the same machine has added its bus numbers.
PciInventory read_iommu_group_listing(const std::vector<std::string> &lines,
                                      const std::string &file);

// Gives every PCI-to-PCI bridge (class 0604) without bus numbers a place in a depth-first
// numbering consistent with the buses its listing shows:
// - root buses: the lowest bus, buses with a host bridge (class 0600), and buses that hold
//   only platform devices (classes 08xx, 11xx, none at device 00: a CPU's uncore registers,
//   on a root bus of their own on Intel servers and workstations; a card is device 00);
// - each other bus with functions goes, in ascending order, to the next bridge of a depth-first
//   walk (bridges of one bus in device order). A root bus's bridges take any such bus, since
//   empty root ports may hold bus numbers firmware gave them; a switch's downstream bridge
//   takes only the bus right after the last one its switch numbered (a gap means its remaining
//   ports are empty);
// - buses within a bridge's known range (a verbose listing added its "Bus:" line) go first to
//   the bridges below it, the same way;
// - bridges left over have nothing below them (secondary bus unknown).
// Does nothing when every bridge already has its bus numbers.
void infer_bus_hierarchy(PciInventory &inventory);

} // namespace pciesim
