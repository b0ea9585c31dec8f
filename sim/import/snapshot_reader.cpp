#include "sim/import/snapshot_reader.h"

#include <map>
#include <regex>
#include <stdexcept>

#include <fmt/format.h>

#include "sim/import/flat_listing.h"
#include "sim/import/lspci_text.h"
#include "sim/import/nccl_topology.h"
#include "sim/util/file_io.h"

namespace pciesim {
namespace {

std::vector<std::string> lines_of(const Node &array) {
  std::vector<std::string> lines;
  for (const Node &line : array.require_array().items())
    lines.push_back(line.as_string());
  return lines;
}

// A command's output, if it ran and succeeded.
std::optional<Node> command_output(const Node &commands, const char *name) {
  auto command = commands.get(name);
  if (!command)
    return std::nullopt;
  command->require_object();
  command->allow_only({"command", "exit_code", "output"});
  if (command->at("exit_code").as_int(-1000, 1000) != 0)
    return std::nullopt;
  return command->at("output");
}

std::optional<std::uint64_t> hex_number(const Node &node) {
  const std::string text = node.as_string();
  try {
    std::size_t used = 0;
    std::uint64_t value = std::stoull(text, &used, 16);
    if (used == text.size() && !text.empty())
      return value;
  } catch (const std::exception &) {
  }
  node.fail(fmt::format("\"{}\" is not a hexadecimal number", text), "e.g. \"0x10de\"");
}

int decimal_number(const Node &node, int min, int max) {
  const std::string text = node.as_string();
  try {
    std::size_t used = 0;
    long value = std::stol(text, &used, 10);
    if (used == text.size() && value >= min && value <= max)
      return static_cast<int>(value);
  } catch (const std::exception &) {
  }
  node.fail(fmt::format("\"{}\" is not a number from {} to {}", text, min, max));
}

// A function's parent as its sysfs path names it, resolved once every function is known.
struct SysfsParent {
  std::size_t function;
  PciAddress parent;
  std::string pointer; // of the sysfs_path attribute
};

void read_sysfs_function(const std::string &key, const Node &attributes, PciInventory &inventory,
                         std::vector<SysfsParent> &parents) {
  std::optional<PciAddress> address = parse_pci_address(key);
  if (!address)
    attributes.fail(fmt::format("\"{}\" is not a PCI address", key),
                    "sysfs names such as \"0000:41:00.0\"");
  attributes.require_object();
  int index = inventory.find(*address);
  if (index < 0) {
    inventory.functions.emplace_back();
    index = static_cast<int>(inventory.functions.size() - 1);
    inventory.functions.back().address = *address;
    inventory.functions.back().where = attributes.pointer();
  }
  PciFunctionInfo &f = inventory.functions[static_cast<std::size_t>(index)];
  if (f.where.empty())
    f.where = attributes.pointer();
  if (auto n = attributes.get("class"))
    f.class_code = static_cast<std::uint32_t>(*hex_number(*n));
  if (auto n = attributes.get("vendor"))
    f.vendor = static_cast<std::uint16_t>(*hex_number(*n));
  if (auto n = attributes.get("device"))
    f.device = static_cast<std::uint16_t>(*hex_number(*n));
  if (auto n = attributes.get("numa_node"); n && n->as_string() != "-1")
    f.numa_node = decimal_number(*n, 0, 4095);
  // sysfs's link attributes are what the device's own registers say (LnkSta, LnkCap).
  if (auto n = attributes.get("current_link_speed"))
    f.link_status.gen = pcie_gen_of_speed(n->as_string());
  if (auto n = attributes.get("current_link_width"); n && n->as_string() != "0")
    f.link_status.width = decimal_number(*n, 1, 32);
  if (auto n = attributes.get("max_link_speed"))
    f.link_capability.gen = pcie_gen_of_speed(n->as_string());
  if (auto n = attributes.get("max_link_width"); n && n->as_string() != "0")
    f.link_capability.width = decimal_number(*n, 1, 32);
  if (auto resource = attributes.get("resource")) {
    // A line per resource: start, end, flags; the first six are the BARs.
    std::vector<Node> lines = resource->require_array().items();
    std::vector<std::uint64_t> sizes;
    static const std::regex fields("(0x[0-9a-f]+) (0x[0-9a-f]+) (0x[0-9a-f]+)");
    for (std::size_t bar = 0; bar < lines.size() && bar < 6; ++bar) {
      std::smatch m;
      const std::string text = lines[bar].as_string();
      if (!std::regex_match(text, m, fields))
        lines[bar].fail(fmt::format("\"{}\" is not a sysfs resource line", text),
                        "\"0x<start> 0x<end> 0x<flags>\"");
      std::uint64_t start = 0, end = 0, flags = 0;
      try {
        start = std::stoull(m[1].str(), nullptr, 16);
        end = std::stoull(m[2].str(), nullptr, 16);
        flags = std::stoull(m[3].str(), nullptr, 16);
      } catch (const std::out_of_range &) {
        lines[bar].fail(fmt::format("\"{}\" holds a number over 64 bits", text),
                        "\"0x<start> 0x<end> 0x<flags>\"");
      }
      const bool memory = flags & 0x200; // IORESOURCE_MEM
      sizes.push_back(memory && end > start ? end - start + 1 : 0);
    }
    if (f.bar_sizes_bytes.empty())
      f.bar_sizes_bytes = sizes;
  }
  if (auto n = attributes.get("infiniband_rate")) { // "400 Gb/sec (4X NDR)"
    static const std::regex rate("([0-9]+(?:\\.[0-9]+)?) Gb/sec.*");
    std::smatch m;
    const std::string text = n->as_string();
    if (!std::regex_match(text, m, rate))
      n->fail(fmt::format("\"{}\" is not an RDMA port rate", text), "e.g. \"400 Gb/sec (4X NDR)\"");
    try {
      f.network_speed_gbps = std::stod(m[1].str());
    } catch (const std::out_of_range &) {
      n->fail(fmt::format("\"{}\" is out of range", text), "e.g. \"400 Gb/sec (4X NDR)\"");
    }
  } else if (auto speed = attributes.get("net_speed"); speed && speed->as_string() != "-1") {
    f.network_speed_gbps = decimal_number(*speed, 1, 100000000) / 1000.0; // Mb/s
  }
  if (auto n = attributes.get("infiniband_link_layer")) {
    f.network_link_layer = n->as_string();
    if (f.network_link_layer != "InfiniBand" && f.network_link_layer != "Ethernet")
      n->fail(fmt::format("\"{}\" is not an RDMA link layer", f.network_link_layer),
              "\"InfiniBand\" or \"Ethernet\"");
  }
  if (auto n = attributes.get("net_mtu"))
    f.net_mtu_bytes = static_cast<int>(decimal_number(*n, 68, 65535));
  if (auto n = attributes.get("driver"))
    f.driver = n->as_string();
  if (auto n = attributes.get("sysfs_path")) {
    // devices/pci0000:00/0000:00:01.1/0000:01:00.0: the parent is the previous address.
    const std::string path = n->as_string();
    std::size_t last = path.rfind('/');
    std::size_t before = last == std::string::npos ? std::string::npos : path.rfind('/', last - 1);
    if (last != std::string::npos) {
      std::string parent = path.substr(before == std::string::npos ? 0 : before + 1,
                                       last - (before == std::string::npos ? 0 : before + 1));
      if (auto parent_address = parse_pci_address(parent))
        parents.push_back({static_cast<std::size_t>(index), *parent_address, n->pointer()});
    }
  }
}

} // namespace

PciInventory read_snapshot(const Node &root) {
  root.require_object();
  auto format = root.get("format");
  if (!format || format->as_string() != "pciesim-snapshot")
    root.fail("not a pciesim snapshot", "\"format\": \"pciesim-snapshot\", as "
                                        "scripts/snapshot-machine.sh writes");
  if (root.at("version").as_int(1, 1000) != 1)
    root.at("version").fail("a snapshot version this pciesim does not read", "version 1");
  root.allow_only({"format", "version", "host", "kernel", "cmdline", "cpu_model", "sockets",
                   "iommu", "commands", "pci_functions", "missing"});
  Node commands = root.at("commands");
  commands.require_object();
  commands.allow_only({"lspci_tree", "lspci_verbose", "lspci_numeric", "lscpu", "nvidia_smi_topo"});
  PciInventory inventory;
  if (auto tree = command_output(commands, "lspci_tree"))
    inventory = read_lspci_tree(lines_of(*tree), root.file(), tree->pointer() + "/");
  if (auto verbose = command_output(commands, "lspci_verbose"))
    read_lspci_verbose(lines_of(*verbose), root.file(), inventory, verbose->pointer() + "/");
  inventory.source = root.file();
  inventory.format = "pciesim-snapshot";
  Node functions = root.at("pci_functions");
  functions.require_object();
  if (functions.keys().empty())
    functions.fail("no PCI function", "the functions of /sys/bus/pci/devices");
  std::vector<SysfsParent> parents;
  for (const std::string &key : functions.keys())
    read_sysfs_function(key, functions.at(key), inventory, parents);
  for (const SysfsParent &p : parents) {
    const int parent = inventory.find(p.parent);
    if (parent < 0)
      throw InputError(root.file(), p.pointer,
                       fmt::format("the bridge above, {}, is not among pci_functions",
                                   format_pci_address(p.parent)),
                       "every function of the tree");
    inventory.functions[p.function].parent = parent;
  }
  // A bridge sysfs placed but no lspci described is still a bridge.
  for (const PciFunctionInfo &f : inventory.functions)
    if (f.parent >= 0) {
      PciFunctionInfo &bridge = inventory.functions[static_cast<std::size_t>(f.parent)];
      if (!bridge.secondary_bus)
        bridge.secondary_bus = f.address.bdf.bus;
    }
  if (auto n = root.get("cpu_model"))
    inventory.cpu_model = n->as_string();
  if (auto n = root.get("sockets"); n && n->json().is_number_integer() && n->json() != 0)
    inventory.sockets = static_cast<int>(n->as_int(1, 64));
  if (auto n = root.get("cmdline"))
    inventory.kernel_cmdline = n->as_string();
  if (auto iommu = root.get("iommu")) {
    iommu->require_object();
    iommu->allow_only({"devices", "groups", "default_domain"});
    inventory.iommu_groups = static_cast<int>(iommu->at("groups").as_int(0, 1 << 24));
    if (auto domain = iommu->get("default_domain"))
      inventory.iommu_default_domain = domain->as_string();
  }
  if (inventory.cpu_model.find("AMD") != std::string::npos)
    inventory.cpu_vendor = "AuthenticAMD";
  else if (inventory.cpu_model.find("Intel") != std::string::npos)
    inventory.cpu_vendor = "GenuineIntel";
  return inventory;
}

namespace {

std::vector<std::string> lines_of_text(const std::string &text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    std::string line = text.substr(start, end == std::string::npos ? end : end - start);
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    lines.push_back(line);
    start = end == std::string::npos ? text.size() : end + 1;
  }
  return lines;
}

std::string shown_name(const std::string &path) { return path == "-" ? "<stdin>" : path; }

// One dump's text, its format told by content; a flat listing's tree is not guessed yet.
PciInventory read_dump_text(const std::string &text, const std::string &file) {
  std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{')
    return read_snapshot(Node::root(parse_json_text(text, file)));
  if (first != std::string::npos && text[first] == '<') {
    if (!looks_like_nccl_topology(text))
      throw InputError(file, "1", "an XML file that is not NCCL's topology dump",
                       "<system><cpu …><pci busid=…>, as NCCL_TOPO_DUMP_FILE writes");
    return read_nccl_topology(text, file);
  }
  const std::vector<std::string> lines = lines_of_text(text);
  if (looks_like_lspci_tree(lines))
    return read_lspci_tree(lines, file);
  if (looks_like_iommu_group_listing(lines))
    return read_iommu_group_listing(lines, file);
  if (looks_like_lspci_verbose(lines)) {
    PciInventory inventory;
    read_lspci_verbose(lines, file, inventory);
    return inventory;
  }
  throw InputError(file, "1", "not a machine dump pciesim reads",
                   "a snapshot (scripts/snapshot-machine.sh), `lspci -tvnn`, `lspci -vvv` or "
                   "`lspci -nn` text, an IOMMU-group listing, or NCCL's topology XML "
                   "(NCCL_TOPO_DUMP_FILE)");
}

// Flat listings name no bridge's buses: their tree is guessed, with every bus number the
// files did give.
void guess_tree_of_flat_listing(PciInventory &inventory) {
  if (inventory.format == "iommu-groups" || inventory.format == "lspci-verbose")
    infer_bus_hierarchy(inventory);
}

} // namespace

PciInventory read_machine_dump_text(const std::string &text, const std::string &file) {
  PciInventory inventory = read_dump_text(text, file);
  guess_tree_of_flat_listing(inventory);
  return inventory;
}

PciInventory read_machine_dumps(const std::vector<std::string> &paths) {
  PciInventory inventory =
      read_dump_text(read_input_file(paths.at(0), kMaxInputFileBytes), shown_name(paths.at(0)));
  for (std::size_t i = 1; i < paths.size(); ++i) {
    const std::string file = shown_name(paths[i]);
    const std::vector<std::string> lines =
        lines_of_text(read_input_file(paths[i], kMaxInputFileBytes));
    if (!looks_like_lspci_verbose(lines))
      throw InputError(file, "1", "only `lspci -vvv` text adds to the first dump",
                       "lspci -vvv output, starting with \"BB:DD.F class: name\"");
    read_lspci_verbose(lines, file, inventory);
  }
  guess_tree_of_flat_listing(inventory);
  return inventory;
}

} // namespace pciesim
