// Which platform file a dump's machine gets: from the CPU's family and model numbers, its name,
// or the host bridges' names; without a match, the CPU's P2PDMA rule at least.
#pragma once

#include <string>

#include "sim/import/pci_inventory.h"

namespace pciesim {

struct HostPlatform {
  std::string platform;  // a platform file (platforms/), or "" when none matches
  std::string cpu_param; // the root complexes' `cpu` when no platform file matches, or ""
  std::string guess;     // what was chosen and from what, for the import's guesses
};

// An AMD host: by the CPU's vendor or name, or an AMD host bridge at a root bus.
bool is_amd_host(const PciInventory &inventory);

HostPlatform choose_host_platform(const PciInventory &inventory);

} // namespace pciesim
