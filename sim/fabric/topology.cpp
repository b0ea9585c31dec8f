#include "sim/fabric/topology.h"

#include <algorithm>

#include <fmt/format.h>

#include "models/iommu/iommu.h"
#include "sim/config/param_loader.h"
#include "sim/config/platform.h"

namespace pciesim {

int ComponentConfig::port_count() const {
  switch (type->role) {
  case ComponentRole::RootComplex:
    return static_cast<int>(params.integer("root_ports"));
  case ComponentRole::Switch:
    return static_cast<int>(params.integer("downstream_ports")) + 1;
  case ComponentRole::Endpoint:
    return 1;
  case ComponentRole::Memory:
  case ComponentRole::SocketLink:
    return 0;
  }
  return 0;
}

int TopologyConfig::find(const std::string &id) const {
  if (indexed_components_ > components.size()) { // components were removed: start again
    index_of_id_.clear();
    indexed_components_ = 0;
  }
  for (; indexed_components_ < components.size(); ++indexed_components_)
    index_of_id_.emplace(components[indexed_components_].id, static_cast<int>(indexed_components_));
  auto it = index_of_id_.find(id);
  return it == index_of_id_.end() ? -1 : it->second;
}

int TopologyConfig::socket_link_of(int root) const {
  for (std::size_t i = 0; i < components.size(); ++i)
    for (int r : components[i].joined_roots)
      if (r == root)
        return static_cast<int>(i);
  return -1;
}

int TopologyConfig::memory_of(int root) const {
  for (std::size_t i = 0; i < components.size(); ++i)
    if (components[i].memory_of_root == root)
      return static_cast<int>(i);
  return -1;
}

bool TopologyConfig::sockets_joined(int a, int b) const {
  int link = socket_link_of(a);
  return a != b && link >= 0 && link == socket_link_of(b);
}

std::string TopologyConfig::port_name(int component, int port) const {
  const ComponentConfig &c = components[static_cast<std::size_t>(component)];
  switch (c.type->role) {
  case ComponentRole::RootComplex:
    return c.id + ".rp" + std::to_string(port);
  case ComponentRole::Switch:
    return port == 0 ? c.id + ".up" : c.id + ".dp" + std::to_string(port - 1);
  default:
    return c.id + ".up";
  }
}

bool ComponentConfig::port_faces_down(int port) const {
  return type->role == ComponentRole::RootComplex ||
         (type->role == ComponentRole::Switch && port > 0);
}

namespace {

// The N of a port name "<prefix>N" written canonically (no leading zero, at most 4 digits), or
// -1: "rp00" or "dp01" would otherwise name the same port as "rp0"/"dp1" under another spelling.
int port_number(const std::string &port, const char *prefix) {
  std::string digits = port.compare(0, 2, prefix) == 0 ? port.substr(2) : "";
  if (digits.empty() || digits.size() > 4 || (digits.size() > 1 && digits[0] == '0') ||
      !std::all_of(digits.begin(), digits.end(), ::isdigit))
    return -1;
  return std::stoi(digits);
}

// Parses "comp.port" (or a bare endpoint id) against the components.
PortRef parse_port_ref(const TopologyConfig &topo, const Node &node) {
  std::string text = node.as_string();
  PortRef ref;
  ref.text = text;
  std::string id = text, port;
  auto dot = text.rfind('.');
  bool has_port = dot != std::string::npos; // "d0." has one, and it is empty: not a port
  if (has_port) {
    id = text.substr(0, dot);
    port = text.substr(dot + 1);
  }
  ref.component = topo.find(id);
  if (ref.component < 0)
    node.fail(fmt::format("\"{}\" names no component", id), "the id of a component in /components");
  const ComponentConfig &c = topo.components[static_cast<std::size_t>(ref.component)];
  int count = c.port_count();
  std::string expected;
  switch (c.type->role) {
  case ComponentRole::RootComplex:
    expected = fmt::format("\"{}.rp0\" .. \"{}.rp{}\"", id, id, count - 1);
    ref.port = port_number(port, "rp");
    break;
  case ComponentRole::Switch:
    expected = fmt::format("\"{}.up\" or \"{}.dp0\" .. \"{}.dp{}\"", id, id, id, count - 2);
    if (port == "up")
      ref.port = 0;
    else if (int dp = port_number(port, "dp"); dp >= 0)
      ref.port = dp + 1;
    break;
  case ComponentRole::Endpoint:
    expected = fmt::format("\"{}\" or \"{}.up\"", id, id);
    if (!has_port || port == "up")
      ref.port = 0;
    break;
  case ComponentRole::Memory:
    node.fail(fmt::format("\"{}\" is host memory, which attaches to its root complex by its "
                          "\"root_complex\" key, not by a link",
                          id),
              "a root complex, switch or endpoint port");
    break;
  case ComponentRole::SocketLink:
    node.fail(fmt::format("\"{}\" is an inter-socket link, which joins root complexes by its "
                          "\"root_complexes\" key, not by a link",
                          id),
              "a root complex, switch or endpoint port");
  }
  if (ref.port < 0 || ref.port >= count)
    node.fail(fmt::format("\"{}\" is not a port of {} \"{}\"", text, c.type->name, id), expected);
  return ref;
}

void load_kernel_config(TopologyConfig &topo, const Node &kernel) {
  kernel.require_object();
  kernel.allow_only({"disable_acs_redir", "request_acs", "description"});
  if (auto r = kernel.get("request_acs"))
    topo.kernel.request_acs =
        r->as_choice({"when_iommu_on", "when_translating", "always", "never"});
  if (auto list = kernel.get("disable_acs_redir")) {
    list->require_array();
    for (const Node &item : list->items()) {
      std::string text = item.as_string();
      int whole = text.find('.') == std::string::npos ? topo.find(text) : -1;
      if (whole >= 0) {
        // A bare id: every downstream-facing port of that switch or root complex.
        const ComponentConfig &c = topo.components[static_cast<std::size_t>(whole)];
        if (c.type->role != ComponentRole::Switch && c.type->role != ComponentRole::RootComplex)
          item.fail(
              fmt::format("\"{}\" is a {}, which has no ACS-capable ports", text, c.type->name),
              "a switch or root complex id, or one of its ports");
        for (int p = c.type->role == ComponentRole::Switch ? 1 : 0; p < c.port_count(); ++p)
          topo.kernel.disable_acs_redir.push_back(PortRef{whole, p, text});
        continue;
      }
      PortRef ref = parse_port_ref(topo, item);
      const ComponentConfig &c = topo.components[static_cast<std::size_t>(ref.component)];
      if (!c.port_faces_down(ref.port))
        item.fail(fmt::format("\"{}\" is not a downstream-facing port", text),
                  "a root port or a switch downstream port");
      topo.kernel.disable_acs_redir.push_back(ref);
    }
  }
}

// `pci_address` and `port_addresses` of a PCIe component (see ComponentConfig).
void load_pci_addresses(ComponentConfig &cc, const Node &c) {
  const bool has_ports =
      cc.type->role == ComponentRole::RootComplex || cc.type->role == ComponentRole::Switch;
  if (auto address = c.get("pci_address")) {
    if (!has_pcie_ports(cc.type->role))
      address->fail(fmt::format("a {} has no PCI address", cc.type->name),
                    "pci_address on a root complex, switch or endpoint");
    cc.pci_address = load_pci_address(*address);
  }
  auto ports = c.get("port_addresses");
  if (!ports)
    return;
  if (!has_ports)
    ports->fail(fmt::format("a {} has no downstream ports", cc.type->name),
                "port_addresses on a root complex or switch");
  ports->require_array();
  const std::size_t expected = static_cast<std::size_t>(
      cc.type->role == ComponentRole::Switch ? cc.port_count() - 1 : cc.port_count());
  if (ports->size() != expected)
    ports->fail(
        fmt::format("{} addresses for {} {}", ports->size(), expected,
                    cc.type->role == ComponentRole::Switch ? "downstream ports" : "root ports"),
        fmt::format("one address per port ({})", expected));
  for (const Node &port : ports->items()) {
    PciAddress address = load_pci_address(port);
    if (cc.type->role == ComponentRole::Switch && !cc.port_addresses.empty() &&
        address.bdf.bus != cc.port_addresses.front().bdf.bus)
      port.fail(fmt::format("downstream port {} is not on bus {:02x} of the ones before it",
                            format_bdf(address.bdf), cc.port_addresses.front().bdf.bus),
                "all downstream ports of a switch on its internal bus");
    for (const PciAddress &other : cc.port_addresses)
      if (other.bdf.packed() == address.bdf.packed())
        port.fail(fmt::format("port address {} is given twice", format_bdf(address.bdf)),
                  "one address per port");
    cc.port_addresses.push_back(address);
  }
}

bool legal_width(std::int64_t w) {
  return std::find(std::begin(kLegalLinkWidths), std::end(kLegalLinkWidths), w) !=
         std::end(kLegalLinkWidths);
}

// The values a platform gives a component's type, or none.
const std::map<std::string, Node> &platform_values(const std::shared_ptr<const PlatformProfile> &p,
                                                   const ComponentConfig &c) {
  static const std::map<std::string, Node> none;
  if (!p)
    return none;
  auto found = p->values.find(c.type->name);
  return found == p->values.end() ? none : found->second;
}

// Inter-socket links name the two root complexes they join; resolved once all ids are known.
// A root complex has at most one: the machines modelled have two sockets.
void resolve_socket_links(TopologyConfig &topo, const Node &components) {
  std::vector<int> link_of_root(topo.components.size(), -1);
  for (std::size_t i = 0; i < topo.components.size(); ++i) {
    ComponentConfig &cc = topo.components[i];
    if (cc.type->role != ComponentRole::SocketLink)
      continue;
    Node roots = components.at(i).at("root_complexes");
    roots.require_array();
    if (roots.size() != 2)
      roots.fail(fmt::format("{} root complexes", roots.size()),
                 "the ids of the two root complexes the link joins");
    for (const Node &root : roots.items()) {
      int r = topo.find(root.as_string());
      if (r < 0 ||
          topo.components[static_cast<std::size_t>(r)].type->role != ComponentRole::RootComplex)
        root.fail(fmt::format("\"{}\" is not a root complex", root.as_string()),
                  "the id of a root_complex component");
      if (!cc.joined_roots.empty() && cc.joined_roots.front() == r)
        root.fail(fmt::format("\"{}\" twice", root.as_string()), "two different root complexes");
      if (int other = link_of_root[static_cast<std::size_t>(r)]; other >= 0)
        root.fail(fmt::format("root complex \"{}\" is already joined by \"{}\"", root.as_string(),
                              topo.components[static_cast<std::size_t>(other)].id),
                  "one inter_socket_link per root complex (two sockets)");
      link_of_root[static_cast<std::size_t>(r)] = static_cast<int>(i);
      cc.joined_roots.push_back(r);
    }
    // Both sockets of a machine are the same platform; the link takes its values.
    const auto &first = topo.components[static_cast<std::size_t>(cc.joined_roots[0])].platform;
    const auto &second = topo.components[static_cast<std::size_t>(cc.joined_roots[1])].platform;
    if (first != second)
      roots.fail(fmt::format("root complexes \"{}\" and \"{}\" name different platforms",
                             topo.components[static_cast<std::size_t>(cc.joined_roots[0])].id,
                             topo.components[static_cast<std::size_t>(cc.joined_roots[1])].id),
                 "the same \"platform\" on both root complexes of a machine");
    cc.platform = first;
    if (cc.platform && !cc.platform->values.count("inter_socket_link"))
      roots.fail(fmt::format("an inter-socket link between root complexes of platform "
                             "\"{}\", a one-socket part",
                             cc.platform->name),
                 "a platform with two sockets");
    if (cc.platform)
      cc.params = resolve_params(cc.type->specs(), components.at(i).get("params"),
                                 platform_values(cc.platform, cc));
  }
}

// [A-Za-z_][A-Za-z0-9_-]{0,63}, tested by hand: std::regex took a fifth of the time to load a
// topology of 100,000 components.
bool is_valid_component_id(const std::string &id) {
  auto letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (id.empty() || id.size() > 64 || !letter(id[0]))
    return false;
  return std::all_of(id.begin() + 1, id.end(),
                     [&letter](char c) { return letter(c) || (c >= '0' && c <= '9') || c == '-'; });
}

} // namespace

TopologyConfig load_topology(const Node &root) {
  ParamSetSharing sharing; // equal parameter sets share one copy
  root.require_object();
  root.allow_only(
      {"$schema", "name", "description", "fabric", "kernel", "components", "links", "import"});
  TopologyConfig topo;
  topo.file = root.file();
  topo.root_pointer = root.pointer();
  if (auto n = root.get("name"))
    topo.name = n->as_string();
  if (auto n = root.get("description"))
    topo.description = n->as_string();
  if (auto fabric = root.get("fabric")) {
    fabric->require_object();
    fabric->allow_only({"mps"});
    if (auto mps = fabric->get("mps")) {
      Bytes b = mps->as_bytes();
      if (b.count < 128 || b.count > 4096 || (b.count & (b.count - 1)))
        mps->fail(fmt::format("{} is not a Max_Payload_Size", mps->json().dump()),
                  "128, 256, 512, 1024, 2048 or 4096 B");
      topo.mps = b;
    }
  }
  // What `pciesim import` read and guessed: for the reader, checked for shape only.
  if (auto imported = root.get("import")) {
    imported->require_object();
    imported->allow_only({"source", "format", "guesses"});
    for (const char *text : {"source", "format"})
      if (auto n = imported->get(text))
        n->as_string();
    if (auto guesses = imported->get("guesses"))
      for (const Node &guess : guesses->require_array().items())
        guess.as_string();
  }
  Node components = root.at("components");
  components.require_array();
  if (components.size() == 0)
    components.fail("no components", "at least one root complex");
  for (const Node &c : components.items()) {
    c.require_object();
    c.allow_only({"id", "type", "params", "root_complex", "root_complexes", "platform", "device",
                  "pci_address", "port_addresses", "description"});
    ComponentConfig cc;
    cc.pointer = c.pointer();
    Node id = c.at("id");
    cc.id = id.as_string();
    if (!is_valid_component_id(cc.id))
      id.fail(fmt::format("\"{}\" is not a valid id", cc.id),
              "letters, digits, '_' or '-', starting with a letter or '_', at most 64");
    if (topo.find(cc.id) >= 0)
      id.fail(fmt::format("duplicate id \"{}\"", cc.id), "unique ids");
    Node type = c.at("type");
    cc.type = find_component_type(type.as_string());
    if (!cc.type)
      type.fail(fmt::format("unknown component type \"{}\"", type.as_string()),
                "one of: " + join(component_type_names(), ", "));
    if (auto platform = c.get("platform")) {
      if (cc.type->role != ComponentRole::RootComplex)
        platform->fail("only a root complex names a platform",
                       "\"platform\" on the root complex: its host memory and inter-socket "
                       "link take their defaults from it");
      cc.platform = load_platform(platform->as_string(), *platform);
    }
    if (auto device = c.get("device")) {
      if (cc.type->role != ComponentRole::Endpoint)
        device->fail(fmt::format("a device file on {} {}", cc.type->article, cc.type->name),
                     "\"device\" on an endpoint (a gpu, an rdma_nic ...); a root complex names "
                     "a \"platform\"");
      cc.device = load_device(device->as_string(), *device);
      if (!cc.device->values.count(cc.type->name)) {
        std::vector<std::string> fitting;
        for (const std::string &name : device_names())
          if (load_device(name, *device)->values.count(cc.type->name))
            fitting.push_back(name);
        device->fail(fmt::format("device file \"{}\" gives no defaults for {} {}",
                                 device->as_string(), cc.type->article, cc.type->name),
                     fitting.empty() ? "no device file: there is none for this type yet"
                                     : "one of: " + join(fitting, ", "));
      }
    }
    cc.params = resolve_params(cc.type->specs(), c.get("params"),
                               platform_values(cc.platform ? cc.platform : cc.device, cc));
    sharing.share(cc.params);
    load_pci_addresses(cc, c);
    if (auto rc = c.get("root_complex")) {
      if (cc.type->role != ComponentRole::Memory)
        rc->fail("only host_memory attaches to a root complex this way",
                 "a link in /links for PCIe components");
    } else if (cc.type->role == ComponentRole::Memory) {
      c.at("root_complex"); // fails: missing key
    }
    if (auto roots = c.get("root_complexes")) {
      if (cc.type->role != ComponentRole::SocketLink)
        roots->fail("only an inter_socket_link joins root complexes this way",
                    "a link in /links for PCIe components");
    } else if (cc.type->role == ComponentRole::SocketLink) {
      c.at("root_complexes"); // fails: missing key
    }
    topo.components.push_back(std::move(cc));
  }
  // Memories name their root complex; resolve after all ids are known.
  std::vector<int> memory_of_root(topo.components.size(), -1);
  for (std::size_t i = 0; i < topo.components.size(); ++i) {
    ComponentConfig &cc = topo.components[i];
    if (cc.type->role != ComponentRole::Memory)
      continue;
    Node rc = components.at(i).at("root_complex");
    int r = topo.find(rc.as_string());
    if (r < 0 ||
        topo.components[static_cast<std::size_t>(r)].type->role != ComponentRole::RootComplex)
      rc.fail(fmt::format("\"{}\" is not a root complex", rc.as_string()),
              "the id of a root_complex component");
    if (int other = memory_of_root[static_cast<std::size_t>(r)]; other >= 0)
      rc.fail(fmt::format("root complex \"{}\" already has host memory \"{}\"", rc.as_string(),
                          topo.components[static_cast<std::size_t>(other)].id),
              "one host_memory per root complex");
    memory_of_root[static_cast<std::size_t>(r)] = static_cast<int>(i);
    cc.memory_of_root = r;
    // The memory of a socket whose root complex names a platform starts from its values.
    cc.platform = topo.components[static_cast<std::size_t>(r)].platform;
    if (cc.platform)
      cc.params = resolve_params(cc.type->specs(), components.at(i).get("params"),
                                 platform_values(cc.platform, cc));
  }
  resolve_socket_links(topo, components);
  Node links = root.at("links");
  links.require_array();
  std::vector<std::vector<bool>> used(topo.components.size());
  for (std::size_t i = 0; i < topo.components.size(); ++i)
    used[i].assign(static_cast<std::size_t>(std::max(0, topo.components[i].port_count())), false);
  for (const Node &l : links.items()) {
    l.require_object();
    l.allow_only({"between", "params", "description"});
    LinkConfig lc;
    lc.pointer = l.pointer();
    Node between = l.at("between");
    between.require_array();
    if (between.size() != 2)
      between.fail("a link joins exactly two ports", "[\"a.port\", \"b.port\"]");
    lc.a = parse_port_ref(topo, between.at(std::size_t{0}));
    lc.b = parse_port_ref(topo, between.at(std::size_t{1}));
    if (lc.a.component == lc.b.component)
      between.fail("a link joins a component to itself", "two different components");
    for (int end = 0; end < 2; ++end) {
      const PortRef &ref = end == 0 ? lc.a : lc.b;
      auto slot = used[static_cast<std::size_t>(ref.component)].begin() + ref.port;
      if (*slot)
        between.at(static_cast<std::size_t>(end))
            .fail(fmt::format("port \"{}\" is already linked", ref.text), "each port in one link");
      *slot = true;
    }
    lc.params = resolve_params(LinkParams::specs(), l.get("params"));
    sharing.share(lc.params);
    if (!legal_width(lc.params.integer("width")))
      l.at("params").at("width").fail(
          fmt::format("x{} is not a PCIe width", lc.params.integer("width")),
          "1, 2, 4, 8, 12, 16 or 32");
    topo.links.push_back(std::move(lc));
  }
  if (auto kernel = root.get("kernel"))
    load_kernel_config(topo, *kernel);
  return topo;
}

LoadedTopology load_topology_file(const std::string &path) {
  LoadedTopology t;
  t.config = load_topology(Node::root(load_json_file(path)));
  t.hierarchy = build_hierarchy(t.config);
  return t;
}

} // namespace pciesim
