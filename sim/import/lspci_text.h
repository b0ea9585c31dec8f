// Readers of lspci's text output: the tree (`lspci -t`, with -v names and -nn ids when given)
// and the verbose listing (`lspci -vvv`, with or without -nn and -D). Both fill a PciInventory;
// anything they cannot read is an InputError naming the file and line.
#pragma once

#include <string>
#include <vector>

#include "sim/import/pci_inventory.h"

namespace pciesim {

// `lines` of `lspci -t[v][nn]`; `first_line` is the number of lines[0] in the file (a snapshot
// embeds the text), `where_prefix` names the place in messages ("" for a text file, where the
// pointer is the line number; a JSON pointer such as "/commands/lspci_tree/output/" otherwise).
PciInventory read_lspci_tree(const std::vector<std::string> &lines, const std::string &file,
                             const std::string &where_prefix = "");

// `lines` of `lspci -vvv[nn][D]`: adds to `inventory` (or fills an empty one) every function's
// class, ids, port type, bridge buses, link capability and status, ACS, ATS, BAR sizes,
// MPS/MRRS, NUMA node and driver. Functions missing from a tree read before are added.
void read_lspci_verbose(const std::vector<std::string> &lines, const std::string &file,
                        PciInventory &inventory, const std::string &where_prefix = "");

// Whether text looks like the tree or the verbose listing (for `import` without a format).
bool looks_like_lspci_tree(const std::vector<std::string> &lines);
bool looks_like_lspci_verbose(const std::vector<std::string> &lines);

// "16GT/s", "16.0 GT/s PCIe", "2.5 GT/s" -> 4, 4, 1; nullopt if not a PCIe rate.
std::optional<int> pcie_gen_of_speed(const std::string &text);

} // namespace pciesim
