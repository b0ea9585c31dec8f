// PCI addresses as lspci writes them ("0000:41:00.0" or "41:00.0"): where firmware put a
// component on a real machine, so that an imported topology enumerates as the machine did.
#pragma once

#include <optional>
#include <string>

#include "models/pcie/tlp.h"
#include "sim/config/json_input.h"

namespace pciesim {

struct PciAddress {
  int segment = 0;
  Bdf bdf;
};
std::string format_pci_address(const PciAddress &address); // "0000:41:00.0"
// Parses "[SSSS:]BB:DD.F" (hex; device 0..1f, function 0..7); nullopt if malformed.
std::optional<PciAddress> parse_pci_address(const std::string &text);
// A topology file's address: well formed and in segment 0000, else an InputError at `node`.
PciAddress load_pci_address(const Node &node);

} // namespace pciesim
