// Turns a PciInventory into a pciesim topology: a root complex per socket with the platform
// file matching the CPU, the PCIe switches, GPUs, RDMA NICs, NVMe drives and DMA engines with
// their links as trained, ACS and the IOMMU as configured, and every function's address from
// the dump (so that `pciesim topo` enumerates the same bus numbers). What the dump did not say
// is guessed, and every guess is listed, in the topology's "import" object and for the user.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/import/known_devices.h"
#include "sim/import/pci_inventory.h"

namespace pciesim {

struct ImportOptions {
  std::optional<int> sockets; // --sockets: overrides what the dump says or the guess
  std::string name;           // the topology's name; default: from the file name
};

struct ImportedTopology {
  nlohmann::ordered_json topology;
  std::vector<std::string> guesses;
  // Component id -> the PCI address it came from (for checks and messages).
  std::vector<std::pair<std::string, PciAddress>> addresses;
};

// Throws InputError (naming the source and the function's place in it) for a dump that cannot
// become a topology: no modelled device, more ports than the model has, a bus loop.
ImportedTopology build_imported_topology(const PciInventory &inventory,
                                         const ImportOptions &options);

} // namespace pciesim
