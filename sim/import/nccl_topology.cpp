#include "sim/import/nccl_topology.h"

#include <sstream>

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <fmt/format.h>

#include "sim/import/lspci_text.h"
#include "sim/util/input_error.h"

namespace pciesim {
namespace {

using boost::property_tree::ptree;

std::optional<std::string> attribute(const ptree &element, const char *name) {
  if (auto attributes = element.get_child_optional("<xmlattr>"))
    if (auto value = attributes->get_optional<std::string>(name))
      return *value;
  return std::nullopt;
}

std::optional<long long> number_attribute(const ptree &element, const char *name,
                                          const std::string &file, const std::string &where) {
  auto text = attribute(element, name);
  if (!text || text->empty())
    return std::nullopt;
  try {
    std::size_t used = 0;
    long long value = std::stoll(*text, &used, 0); // "0x10de" or "16"
    if (used == text->size())
      return value;
  } catch (const std::exception &) {
  }
  throw InputError(file, where, fmt::format("{}=\"{}\" is not a number", name, *text),
                   "a decimal or 0x-prefixed number");
}

class NcclReader {
public:
  NcclReader(PciInventory &inventory, std::string file)
      : inventory_(inventory), file_(std::move(file)) {}

  void read_cpu(const ptree &cpu, const std::string &where) {
    const int numa = static_cast<int>(number_attribute(cpu, "numaid", file_, where).value_or(-1));
    if (auto vendor = attribute(cpu, "vendor"))
      inventory_.cpu_vendor = *vendor;
    if (auto family = number_attribute(cpu, "familyid", file_, where))
      inventory_.cpu_family = static_cast<int>(*family);
    if (auto model = number_attribute(cpu, "modelid", file_, where))
      inventory_.cpu_model_number = static_cast<int>(*model);
    ++cpus_;
    read_children(cpu, where, -1, numa);
  }

  int cpus() const { return cpus_; }

private:
  void read_children(const ptree &element, const std::string &where, int parent, int numa) {
    int index = 0;
    for (const auto &[tag, child] : element) {
      if (tag == "pci")
        read_pci(child, fmt::format("{}/pci[{}]", where, index++), parent, numa);
    }
  }

  void read_pci(const ptree &pci, const std::string &where, int parent, int numa) {
    auto busid = attribute(pci, "busid");
    if (!busid)
      throw InputError(file_, where, "a <pci> element without busid",
                       "busid=\"SSSS:BB:DD.F\", as NCCL writes it");
    std::optional<PciAddress> address = parse_pci_address(*busid);
    if (!address)
      throw InputError(file_, where, fmt::format("busid=\"{}\" is not a PCI address", *busid),
                       "\"SSSS:BB:DD.F\" in hex");
    if (inventory_.find(*address) >= 0)
      throw InputError(file_, where, fmt::format("busid {} appears twice", *busid),
                       "each PCI function once");
    PciFunctionInfo function;
    function.address = *address;
    function.where = where;
    function.parent = parent;
    function.numa_node = numa >= 0 ? std::optional<int>(numa) : std::nullopt;
    if (auto code = number_attribute(pci, "class", file_, where))
      function.class_code = static_cast<std::uint32_t>(*code);
    if (auto vendor = number_attribute(pci, "vendor", file_, where))
      function.vendor = static_cast<std::uint16_t>(*vendor);
    if (auto device = number_attribute(pci, "device", file_, where))
      function.device = static_cast<std::uint16_t>(*device);
    // NCCL reads the link from the function's own sysfs (current_link_*): what it trained to.
    if (auto speed = attribute(pci, "link_speed"))
      function.link_status.gen = pcie_gen_of_speed(*speed);
    if (auto width = number_attribute(pci, "link_width", file_, where); width && *width > 0)
      function.link_status.width = static_cast<int>(*width);
    for (const auto &[tag, child] : pci) {
      if (tag == "gpu")
        function.name = "GPU " + attribute(child, "dev").value_or("?");
      if (tag == "nic")
        for (const auto &[net_tag, net] : child)
          if (net_tag == "net") {
            function.name = "NIC " + attribute(net, "name").value_or("?");
            if (auto speed = number_attribute(net, "speed", file_, where); speed && *speed > 0)
              function.network_speed_gbps = static_cast<double>(*speed) / 1000.0; // Mb/s
          }
    }
    const bool bridge = function.class_code && (*function.class_code >> 8) == 0x0604;
    if (bridge) {
      function.port_type = PciePortType::UpstreamPort;
      function.secondary_bus = -1; // unknown: NCCL leaves out the switch's internal bus
    }
    inventory_.functions.push_back(std::move(function));
    const int self = static_cast<int>(inventory_.functions.size() - 1);
    read_children(pci, where, self, numa);
  }

  PciInventory &inventory_;
  std::string file_;
  int cpus_ = 0;
};

} // namespace

bool looks_like_nccl_topology(const std::string &text) {
  return text.find("<system") != std::string::npos && text.find("<cpu") != std::string::npos;
}

PciInventory read_nccl_topology(const std::string &text, const std::string &file) {
  PciInventory inventory;
  inventory.source = file;
  inventory.format = "nccl-topology";
  ptree document;
  try {
    std::istringstream stream(text);
    boost::property_tree::read_xml(stream, document);
  } catch (const boost::property_tree::xml_parser_error &error) {
    throw InputError(file, std::to_string(error.line()),
                     fmt::format("not well-formed XML: {}", error.message()),
                     "NCCL's topology dump (NCCL_TOPO_DUMP_FILE)");
  }
  auto system = document.get_child_optional("system");
  if (!system)
    throw InputError(file, "/system", "no <system> element",
                     "NCCL's topology dump (NCCL_TOPO_DUMP_FILE): <system><cpu>…");
  NcclReader reader(inventory, file);
  int index = 0;
  for (const auto &[tag, cpu] : *system)
    if (tag == "cpu")
      reader.read_cpu(cpu, fmt::format("/system/cpu[{}]", index++));
  if (reader.cpus() == 0)
    throw InputError(file, "/system", "no <cpu> element",
                     "a <cpu> per NUMA node holding the <pci> tree");
  if (inventory.functions.empty())
    throw InputError(file, "/system", "no <pci> element", "the PCI devices below each <cpu>");
  return inventory;
}

} // namespace pciesim
