#include "sim/import/pci_inventory.h"

namespace pciesim {

int PciInventory::find(const PciAddress &address) const {
  for (std::size_t i = 0; i < functions.size(); ++i)
    if (functions[i].address.segment == address.segment &&
        functions[i].address.bdf.packed() == address.bdf.packed())
      return static_cast<int>(i);
  return -1;
}

} // namespace pciesim
