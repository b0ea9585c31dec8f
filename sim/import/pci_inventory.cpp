#include "sim/import/pci_inventory.h"

#include <map>

namespace pciesim {

int PciInventory::find(const PciAddress &address) const {
  for (std::size_t i = 0; i < functions.size(); ++i)
    if (functions[i].address.segment == address.segment &&
        functions[i].address.bdf.packed() == address.bdf.packed())
      return static_cast<int>(i);
  return -1;
}

void PciInventory::place_below_numbered_bridges() {
  std::map<std::pair<int, int>, int> bridge_of_bus; // (segment, bus) -> function
  for (std::size_t i = 0; i < functions.size(); ++i)
    if (const PciFunctionInfo &f = functions[i];
        f.secondary_bus && *f.secondary_bus > f.address.bdf.bus)
      bridge_of_bus[{f.address.segment, *f.secondary_bus}] = static_cast<int>(i);
  for (PciFunctionInfo &f : functions)
    if (f.parent < 0)
      if (auto it = bridge_of_bus.find({f.address.segment, f.address.bdf.bus});
          it != bridge_of_bus.end())
        f.parent = it->second;
}

} // namespace pciesim
