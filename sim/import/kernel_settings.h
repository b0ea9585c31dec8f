// What the machine's kernel was told, as a dump shows it: the IOMMU mode (from IOMMU groups, the
// command line, the default domain type, or ACS redirection in lspci) and the command line's
// `pci=disable_acs_redir=` ports. Every guess is added to the import's list.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/import/pci_inventory.h"

namespace pciesim {

// "off", "passthrough" or "translated". `bridge_port[i]`: function i is a root port or a
// switch downstream port (whose ACS control says whether the kernel asked for redirection).
std::string iommu_mode_of(const PciInventory &inventory, const std::vector<bool> &bridge_port,
                          std::vector<std::string> &guesses);

// The topology's `kernel` object: the `disable_acs_redir` ports of the command line, by the
// component ports (`port_of_function`: function index -> "sw0.dp1") they became; empty when none.
nlohmann::ordered_json kernel_section_of(const PciInventory &inventory,
                                         const std::map<int, std::string> &port_of_function,
                                         std::vector<std::string> &guesses);

} // namespace pciesim
