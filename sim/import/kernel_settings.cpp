#include "sim/import/kernel_settings.h"

#include <optional>
#include <regex>

#include <fmt/format.h>

namespace pciesim {

std::string iommu_mode_of(const PciInventory &inventory, const std::vector<bool> &bridge_port,
                          std::vector<std::string> &guesses) {
  std::optional<std::string> mode;
  const std::string cmdline = inventory.kernel_cmdline.value_or("");
  auto has = [&](const char *word) {
    static const std::regex space("\\s+");
    for (auto it = std::sregex_token_iterator(cmdline.begin(), cmdline.end(), space, -1);
         it != std::sregex_token_iterator(); ++it)
      if (it->str() == word)
        return true;
    return false;
  };
  if (inventory.iommu_groups) {
    if (*inventory.iommu_groups == 0)
      mode = "off";
    else if (has("iommu=pt") || has("iommu.passthrough=1"))
      mode = "passthrough";
    else if (!inventory.iommu_default_domain.empty())
      mode = inventory.iommu_default_domain == "identity" ? "passthrough" : "translated";
    else {
      mode = "translated";
      guesses.push_back(
          "IOMMU on (IOMMU groups exist) and no iommu=pt: assumed translating (the default "
          "domain type is not in the snapshot)");
    }
  } else {
    // lspci -vvv: the kernel turns on ACS redirection only with an IOMMU.
    bool any_control = false, redirect = false;
    for (std::size_t i = 0; i < inventory.functions.size(); ++i)
      if (inventory.functions[i].acs_control && bridge_port[i]) {
        any_control = true;
        redirect |= inventory.functions[i].acs_control->request_redirect;
      }
    if (any_control && redirect) {
      mode = "translated";
      guesses.push_back("IOMMU: on, as the kernel enabled ACS Request Redirect (ACSCtl ReqRedir+); "
                        "assumed translating, as the dump does not say passthrough");
    } else if (any_control) {
      mode = "off";
      guesses.push_back(
          "IOMMU: off, as no port has ACS Request Redirect enabled (ACSCtl ReqRedir-)");
    } else {
      mode = "off";
      guesses.push_back("IOMMU: not in the dump: assumed off");
    }
  }
  return *mode;
}

nlohmann::ordered_json kernel_section_of(const PciInventory &inventory,
                                         const std::map<int, std::string> &port_of_function,
                                         std::vector<std::string> &guesses) {
  nlohmann::ordered_json kernel = nlohmann::ordered_json::object();
  if (!inventory.kernel_cmdline)
    return kernel;
  static const std::regex parameter("(?:^|\\s)pci=(\\S+)");
  std::smatch m;
  const std::string cmdline = *inventory.kernel_cmdline;
  if (!std::regex_search(cmdline, m, parameter))
    return kernel;
  // pci= takes comma-separated options; disable_acs_redir= takes ';'-separated devices.
  static const std::regex option("disable_acs_redir=([^,]+)");
  std::smatch o;
  const std::string options = m[1].str();
  if (!std::regex_search(options, o, option))
    return kernel;
  nlohmann::ordered_json ports = nlohmann::ordered_json::array();
  std::string list = o[1].str();
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = list.find(';', start);
    const std::string device = list.substr(start, end == std::string::npos ? end : end - start);
    start = end == std::string::npos ? list.size() + 1 : end + 1;
    if (device.empty())
      continue;
    std::optional<PciAddress> address = parse_pci_address(device);
    const int found = address ? inventory.find(*address) : -1;
    auto port = found >= 0 ? port_of_function.find(found) : port_of_function.end();
    if (port == port_of_function.end()) {
      guesses.push_back(
          fmt::format("pci=disable_acs_redir={}: not a modelled port: left out", device));
      continue;
    }
    ports.push_back(port->second);
  }
  if (!ports.empty())
    kernel["disable_acs_redir"] = ports;
  return kernel;
}

} // namespace pciesim
