// Reader of NCCL's topology dump (NCCL_TOPO_DUMP_FILE; RCCL writes the same format): <cpu>
// elements per NUMA node holding <pci> elements per PCI switch upstream port and device, with
// their class, ids, link speed and width; <gpu> and <nic><net/></nic> inside devices. NCCL
// leaves out the root ports and switch downstream ports (it climbs two sysfs levels at a time),
// so the inventory has only what the dump names; the topology builder adds the ports.
#pragma once

#include <string>

#include "sim/import/pci_inventory.h"

namespace pciesim {

PciInventory read_nccl_topology(const std::string &text, const std::string &file);

bool looks_like_nccl_topology(const std::string &text);

} // namespace pciesim
