#include "sim/fabric/pci_address.h"

#include <regex>

#include <fmt/format.h>

namespace pciesim {

std::string format_pci_address(const PciAddress &address) {
  return fmt::format("{:04x}:{}", address.segment, format_bdf(address.bdf));
}

std::optional<PciAddress> parse_pci_address(const std::string &text) {
  static const std::regex pattern(
      "(?:([0-9a-fA-F]{4,8}):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\\.([0-7])");
  std::smatch m;
  if (!std::regex_match(text, m, pattern))
    return std::nullopt;
  PciAddress address;
  if (m[1].matched) {
    unsigned long segment = std::stoul(m[1].str(), nullptr, 16);
    if (segment > 0xffff)
      return std::nullopt;
    address.segment = static_cast<int>(segment);
  }
  unsigned long device = std::stoul(m[3].str(), nullptr, 16);
  if (device > 0x1f)
    return std::nullopt;
  address.bdf = Bdf{static_cast<std::uint8_t>(std::stoul(m[2].str(), nullptr, 16)),
                    static_cast<std::uint8_t>(device),
                    static_cast<std::uint8_t>(std::stoul(m[4].str(), nullptr, 16))};
  return address;
}

PciAddress load_pci_address(const Node &node) {
  std::optional<PciAddress> address = parse_pci_address(node.as_string());
  if (!address)
    node.fail(fmt::format("\"{}\" is not a PCI address", node.as_string()),
              "\"BB:DD.F\" or \"SSSS:BB:DD.F\" in hex, as lspci writes it (device 00-1f, "
              "function 0-7)");
  if (address->segment != 0)
    node.fail(fmt::format("\"{}\" is in PCI segment {:04x}", node.as_string(), address->segment),
              "segment 0000: pciesim numbers the buses of one segment");
  return *address;
}

} // namespace pciesim
