#include "sim/advise/advise_pairs.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "models/iommu/iommu.h"
#include "models/pcie/root_complex.h"
#include "sim/config/overrides.h"
#include "sim/config/schema_check.h"
#include "sim/util/input_error.h"

namespace pciesim {
namespace {

const AdvisePairKind kAdvisePairKinds[] = {
    {"gpu-nic", "rdma_nic", "gpu", "a NIC reads GPU memory (GPUDirect RDMA)"},
    {"nvme-gpu", "nvme_ssd", "gpu", "an NVMe drive writes into GPU memory (GPUDirect Storage)"},
    {"gpu-gpu", "gpu", "gpu", "a GPU reads a peer GPU's memory"},
};

AdvisePort port_of_node(const AdviseTopology &t, int node) {
  for (std::size_t c = 0; c < t.view.node_of_port.size(); ++c)
    for (std::size_t p = 0; p < t.view.node_of_port[c].size(); ++p)
      if (t.view.node_of_port[c][p] == node) {
        const ComponentAddressing &a = t.enumeration.components[c];
        std::string bdf = p < a.ports.size() ? format_bdf(a.ports[p].bdf) : "?";
        const ComponentConfig &owner = t.config.components[c];
        // Port 0 of a switch is its upstream port; port_addresses lists the downstream ones.
        const bool listed =
            !owner.port_addresses.empty() && (owner.type->role != ComponentRole::Switch || p > 0);
        return {t.config.port_name(static_cast<int>(c), static_cast<int>(p)), "0000:" + bdf,
                static_cast<int>(c), static_cast<int>(p), owner.pci_address.has_value() && !listed};
      }
  return {t.view.tree.nodes[static_cast<std::size_t>(node)].name, "?", -1, -1};
}

// The kernel parameter that turns the IOMMU off on this box's CPU.
std::string iommu_off_parameter(const TopologyConfig &t) {
  for (int r : root_complexes(t)) {
    const ComponentConfig &c = component_of(t, r);
    if (RootComplexParams::from(c.params).cpu == HostCpu::AmdZen ||
        (c.platform && c.platform->name.rfind("amd", 0) == 0))
      return "amd_iommu=off";
    if (c.platform && c.platform->name.rfind("intel", 0) == 0)
      return "intel_iommu=off";
    std::string cpu = host_cpu_name(RootComplexParams::from(c.params).cpu);
    if (cpu.rfind("intel", 0) == 0)
      return "intel_iommu=off";
  }
  return "iommu=off";
}

// Why the kernel enabled ACS, for the blocker's text.
std::string acs_cause(const TopologyConfig &t) {
  if (t.kernel.request_acs == "always")
    return "the topology's kernel.request_acs is \"always\"";
  std::vector<std::string> on;
  for (int r : root_complexes(t))
    if (iommu_of(t, r) != IommuMode::Off)
      on.push_back(fmt::format("{} {}", component_of(t, r).id, iommu_mode_name(iommu_of(t, r))));
  std::string list;
  for (const std::string &s : on)
    list += (list.empty() ? "" : ", ") + s;
  return fmt::format("the IOMMU is on ({}), so the kernel requests ACS (request_acs {})", list,
                     t.kernel.request_acs);
}

// A free downstream port of `sw` ("sw0.dp3"), or the one a downstream_ports one larger adds
// (with the override that makes it); empty when the switch is full at the limit.
std::string free_downstream_port(const AdviseTopology &t, int sw,
                                 std::vector<AdviseOverride> &overrides) {
  const ComponentConfig &c = component_of(t.config, sw);
  std::set<int> used;
  for (int child : t.hierarchy.children[static_cast<std::size_t>(sw)])
    used.insert(t.hierarchy.parent_port[static_cast<std::size_t>(child)]);
  for (int p = 1; p < c.port_count(); ++p)
    if (used.count(p) == 0)
      return t.config.port_name(sw, p);
  const int kMaxDownstreamPorts = 32; // the switch's `downstream_ports` limit
  int downstream = c.port_count() - 1;
  if (downstream >= kMaxDownstreamPorts)
    return "";
  overrides.push_back(
      {fmt::format("/components[id={}]/params/downstream_ports", c.id), Json(downstream + 1)});
  return t.config.port_name(sw, downstream + 1);
}

// The link of `endpoint` in the topology JSON: its index and the two ends as written.
int json_link_of(const Json &topology, const std::string &endpoint,
                 std::vector<std::string> &ends) {
  const Json &links = topology.at("links");
  for (std::size_t i = 0; i < links.size(); ++i) {
    const Json &between = links[i].value("between", Json::array());
    for (const Json &end : between)
      if (end.is_string() && (end.get<std::string>() == endpoint ||
                              end.get<std::string>().rfind(endpoint + ".", 0) == 0)) {
        ends.clear();
        for (const Json &e : between)
          ends.push_back(e.get<std::string>());
        return static_cast<int>(i);
      }
  }
  return -1;
}

// Moving the initiator to a free downstream port of the switch above the target.
bool move_change(const AdviseTopology &t, const AdvisePair &p, AdviseChange &c) {
  int sw = t.hierarchy.parent[static_cast<std::size_t>(p.target)];
  if (sw < 0 || component_of(t.config, sw).type->role != ComponentRole::Switch)
    return false;
  std::vector<std::string> ends;
  const std::string &initiator = component_of(t.config, p.initiator).id;
  if (json_link_of(t.json, initiator, ends) < 0 || ends.size() != 2)
    return false;
  std::vector<AdviseOverride> overrides;
  std::string port = free_downstream_port(t, sw, overrides);
  if (port.empty())
    return false;
  bool first_is_own = ends[0] == initiator || ends[0].rfind(initiator + ".", 0) == 0;
  std::string own_end = first_is_own ? ends[0] : ends[1];
  overrides.push_back({fmt::format("/links[between={},{}]/between", ends[0], ends[1]),
                       Json::array({port, own_end})});
  bool added = overrides.size() > 1;
  c.kind = "move";
  c.label = fmt::format("move {} to {}", initiator, port);
  c.change = fmt::format("move {} into {} of {}'s switch {}{}", initiator, port,
                         component_of(t.config, p.target).id, component_of(t.config, sw).id,
                         added ? " (a downstream port added: every port of it is taken)" : "");
  c.note = "a slot change, not a setting: no kernel parameter gives two cards a common switch";
  c.overrides = overrides;
  return true;
}

} // namespace

AdviseTopology load_advise_topology(const std::shared_ptr<const JsonDocument> &doc) {
  AdviseTopology t;
  t.json = doc->root;
  Node root = Node::root(doc);
  t.config = load_topology(root);
  t.hierarchy = build_hierarchy(t.config);
  t.enumeration = enumerate(t.config, t.hierarchy);
  validate_against_schema(root, "topology");
  t.view = build_pci_view(t.config, t.hierarchy);
  return t;
}

AdviseTopology topology_variant(const AdviseTopology &base, const std::string &file,
                                const std::vector<AdviseOverride> &overrides) {
  auto doc = std::make_shared<JsonDocument>();
  doc->file = file;
  doc->root = base.json;
  for (const AdviseOverride &o : overrides) {
    try {
      set_at_pointer(doc->root, o.pointer, o.value);
    } catch (const PointerProblem &p) {
      throw InputError(file, p.at, "cannot make the variant: " + p.problem, p.expected);
    }
  }
  return load_advise_topology(doc);
}

const ComponentConfig &component_of(const TopologyConfig &t, int index) {
  return t.components[static_cast<std::size_t>(index)];
}

const AdvisePairKind *pair_kind_named(const std::string &name) {
  for (const AdvisePairKind &k : kAdvisePairKinds)
    if (name == k.name)
      return &k;
  return nullptr;
}

const AdvisePairKind *pair_kind_of(const TopologyConfig &t, int initiator, int target) {
  for (const AdvisePairKind &k : kAdvisePairKinds)
    if (component_of(t, initiator).type->name == k.initiator_type &&
        component_of(t, target).type->name == k.target_type)
      return &k;
  return nullptr;
}

PairRelation relation_of(const AdviseTopology &t, int initiator, int target) {
  int common = common_upstream(t.hierarchy, initiator, target);
  if (common >= 0)
    return component_of(t.config, common).type->role == ComponentRole::Switch
               ? PairRelation::SameSwitch
               : PairRelation::SameRootComplex;
  int ra = t.hierarchy.root_of[static_cast<std::size_t>(initiator)];
  int rb = t.hierarchy.root_of[static_cast<std::size_t>(target)];
  return t.config.sockets_joined(ra, rb) ? PairRelation::OtherSocket : PairRelation::Unreachable;
}

std::string tree_path(const AdviseTopology &t, int initiator, int target) {
  const Hierarchy &h = t.hierarchy;
  auto id = [&](int c) { return component_of(t.config, c).id; };
  int common = common_upstream(h, initiator, target);
  std::vector<std::string> up, down;
  for (int x = initiator; x >= 0 && x != common; x = h.parent[static_cast<std::size_t>(x)])
    up.push_back(id(x));
  for (int x = target; x >= 0 && x != common; x = h.parent[static_cast<std::size_t>(x)])
    down.push_back(id(x));
  if (common >= 0) {
    up.push_back(id(common));
  } else {
    int link = t.config.socket_link_of(h.root_of[static_cast<std::size_t>(initiator)]);
    up.push_back(link >= 0 && relation_of(t, initiator, target) == PairRelation::OtherSocket
                     ? id(link)
                     : "(not joined)");
  }
  std::reverse(down.begin(), down.end());
  up.insert(up.end(), down.begin(), down.end());
  std::string text;
  for (const std::string &s : up)
    text += (text.empty() ? "" : " > ") + s;
  return text;
}

std::string endpoint_link(const AdviseTopology &t, int endpoint) {
  const TrainedLink &l = t.hierarchy.trained[static_cast<std::size_t>(
      t.hierarchy.parent_link[static_cast<std::size_t>(endpoint)])];
  return fmt::format("Gen{} x{}", l.shape.generation, l.shape.width);
}

std::string path_links(const AdviseTopology &t, int initiator, int target) {
  const Hierarchy &h = t.hierarchy;
  int common = common_upstream(h, initiator, target);
  std::string text;
  for (int end : {initiator, target}) {
    text += "|";
    for (int x = end; x >= 0 && x != common && h.parent[static_cast<std::size_t>(x)] >= 0;
         x = h.parent[static_cast<std::size_t>(x)])
      text += component_of(t.config, x).type->name + ":" + endpoint_link(t, x) + ">";
  }
  return text;
}

std::vector<int> root_complexes(const TopologyConfig &t) {
  std::vector<int> roots;
  for (std::size_t i = 0; i < t.components.size(); ++i)
    if (t.components[i].type->role == ComponentRole::RootComplex)
      roots.push_back(static_cast<int>(i));
  return roots;
}

IommuMode iommu_of(const TopologyConfig &t, int root) {
  return IommuParams::from(component_of(t, root).params).mode;
}

std::string ports_list(const std::vector<AdvisePort> &ports, bool addresses) {
  std::string text;
  for (const AdvisePort &p : ports)
    text += (text.empty() ? "" : addresses ? ";" : ", ") + (addresses ? p.address : p.name);
  return text;
}

std::vector<AdvisePort> redirecting_ports(const AdviseTopology &t, const P2pVerdict &v) {
  std::vector<AdvisePort> ports;
  for (int node : v.redirecting_nodes)
    ports.push_back(port_of_node(t, node));
  return ports;
}

std::vector<AdviseBlocker> blockers_of(const AdviseTopology &t, const AdvisePair &p,
                                       const P2pVerdict &v, PairRelation relation) {
  std::vector<AdviseBlocker> b;
  if (v.type == P2pMapType::BusAddr)
    return b;
  if (v.acs_redirect) {
    std::vector<AdvisePort> ports = redirecting_ports(t, v);
    std::string named;
    for (const AdvisePort &port : ports)
      named += (named.empty() ? "" : ", ") + port.name + " (" + port.address + ")";
    b.push_back(
        {"acs_redirect",
         t.config.kernel.request_acs == "always" ? "ACS redirect" : "ACS redirect (IOMMU on)",
         fmt::format("ACS redirect at {}: {}; p2pdma then sends the peer traffic up "
                     "through the root complex",
                     named, acs_cause(t.config))});
  }
  int root = t.hierarchy.root_of[static_cast<std::size_t>(p.initiator)];
  if (iommu_of(t.config, root) == IommuMode::Translated)
    b.push_back(
        {"iommu_translation", "IOMMU translates",
         fmt::format("the IOMMU of {} translates {}'s DMA to the peer (IOTLB misses, page "
                     "walks)",
                     component_of(t.config, root).id, component_of(t.config, p.initiator).id)});
  if (v.type == P2pMapType::NotSupported) {
    std::string why =
        v.reason.substr(v.reason.find("; ") == std::string::npos ? 0 : v.reason.find("; ") + 2);
    b.push_back({"allow_list", "host bridge not allow-listed",
                 "the kernel refuses peer DMA through the host bridge: " + why +
                     "; no kernel parameter lifts it"});
  }
  if (relation == PairRelation::OtherSocket || relation == PairRelation::Unreachable)
    b.push_back(
        {"other_socket", relation == PairRelation::OtherSocket ? "other socket" : "no socket link",
         relation == PairRelation::OtherSocket
             ? "the peers sit on different sockets: the traffic crosses the inter-socket link"
             : "the peers sit on sockets that no inter_socket_link joins: they cannot reach "
               "each other"});
  else if (relation == PairRelation::SameRootComplex && !v.acs_redirect)
    b.push_back({"no_common_switch", "no common switch",
                 "the peers share no switch: the traffic turns at the root complex"});
  return b;
}

std::string verdict_data_path(const AdviseTopology &t, const AdvisePair &p, const P2pVerdict &v) {
  if (v.type == P2pMapType::NotSupported)
    return "refused";
  if (v.type == P2pMapType::BusAddr)
    return "switch";
  // ATS: translated requests pass ports with Direct Translated set (sim/plan/transfer.cpp).
  const ComponentConfig &initiator = component_of(t.config, p.initiator);
  bool direct = v.acs_redirect && initiator.type->ats_enabled &&
                initiator.type->ats_enabled(initiator.params);
  for (int node : v.redirecting_nodes)
    direct = direct && t.view.tree.nodes[static_cast<std::size_t>(node)].acs.direct_translated;
  if (direct)
    return "switch (ATS-translated requests)";
  return relation_of(t, p.initiator, p.target) == PairRelation::OtherSocket
             ? "root complexes and the inter-socket link"
             : "root complex";
}

std::string overrides_text(const AdviseOverride &o) { return o.pointer + "=" + o.value.dump(); }

namespace {

// The pair through its root complex by the GPU driver's own peer mapping (nvidia-peermem for a
// NIC, CUDA peer access between GPUs, GPUDirect Storage for a drive), which p2pdma's allow-list
// does not gate: only where the root complex forwards the pair's peer traffic (a NIC or a GPU
// reads the GPU's memory; a drive writes it).
bool vendor_peer_change(const AdviseTopology &t, const AdvisePair &p, AdviseChange &c) {
  int root = t.hierarchy.root_of[static_cast<std::size_t>(p.target)];
  const ComponentConfig &rc = component_of(t.config, root);
  P2pPolicy policy = RootComplexParams::from(rc.params).p2p_policy;
  const std::string kind = p.kind->name;
  bool reads = kind != "nvme-gpu";
  if (policy == P2pPolicy::UnsupportedRequest || (reads && policy == P2pPolicy::WritesOnly))
    return false;
  c.kind = "vendor_peer";
  c.label = "GPU driver's peer mapping";
  c.mechanism = "vendor_peer";
  c.change = fmt::format(
      "map {}'s memory for {} with the GPU driver's own peer mapping ({}), which does not ask "
      "the kernel's P2PDMA allow-list",
      component_of(t.config, p.target).id, component_of(t.config, p.initiator).id,
      kind == "gpu-nic"    ? "nvidia-peermem, GPUDirect RDMA"
      : kind == "nvme-gpu" ? "GPUDirect Storage"
                           : "CUDA peer access");
  c.note = fmt::format("a driver choice, not a setting: the traffic turns at {}, whose peer "
                       "engines (and, on Intel, 64-byte peer TLPs) set its rate; p2pdma still "
                       "refuses the pair",
                       rc.id);
  return true;
}

} // namespace

std::vector<AdviseChange> changes_for(const AdviseTopology &t, AdviseGroup &g,
                                      const std::vector<std::vector<AdvisePort>> &member_ports) {
  std::vector<AdviseChange> changes;
  const AdvisePair &p = g.pairs.front();
  const P2pVerdict &v = g.verdict;
  if (v.type == P2pMapType::BusAddr)
    return changes;
  std::vector<int> roots = root_complexes(t.config);
  bool translated = false, iommu_on = false;
  for (int r : roots) {
    translated = translated || iommu_of(t.config, r) == IommuMode::Translated;
    iommu_on = iommu_on || iommu_of(t.config, r) != IommuMode::Off;
  }
  if (v.acs_redirect) {
    // Every port the group's pairs need, and those the topology already lists.
    std::vector<AdvisePort> ports;
    std::set<std::string> seen;
    for (const auto &list : member_ports)
      for (const AdvisePort &port : list)
        if (seen.insert(port.name).second)
          ports.push_back(port);
    std::sort(ports.begin(), ports.end(),
              [](const AdvisePort &a, const AdvisePort &b) { return a.address < b.address; });
    Json listed = Json::array();
    for (const PortRef &r : t.config.kernel.disable_acs_redir)
      listed.push_back(t.config.port_name(r.component, r.port));
    for (const AdvisePort &port : ports)
      if (std::find(listed.begin(), listed.end(), Json(port.name)) == listed.end())
        listed.push_back(port.name);
    AdviseChange c;
    c.kind = "disable_acs_redir";
    c.kernel_parameter = "pci=disable_acs_redir=" + ports_list(ports, true);
    c.label = ports.size() <= 2 ? c.kernel_parameter
                                : fmt::format("pci=disable_acs_redir=({} ports)", ports.size());
    c.change = fmt::format("boot with {} (ports {})", c.kernel_parameter, ports_list(ports, false));
    c.note = "clears ACS request and completion redirect on those ports: peers under them "
             "reach each other without the IOMMU checking (less isolation between the devices)";
    std::string numbered;
    for (const AdvisePort &port : ports)
      if (port.address_guessed)
        numbered += (numbered.empty() ? "" : ", ") + port.name;
    if (!numbered.empty())
      c.note += fmt::format("; the addresses of {} are pciesim's numbering, not read from the "
                            "machine (the dump had no port addresses): check them with "
                            "lspci -t before booting with it",
                            numbered);
    c.overrides.push_back({"/kernel/disable_acs_redir", listed});
    changes.push_back(c);
    // ATS: the NIC sends translated requests, which ports with Direct Translated pass.
    const ComponentConfig &initiator = component_of(t.config, p.initiator);
    bool switch_ports_only = true;
    std::set<int> switches;
    for (const AdvisePort &port : redirecting_ports(t, v)) {
      bool is_switch = port.component >= 0 &&
                       component_of(t.config, port.component).type->role == ComponentRole::Switch;
      switch_ports_only = switch_ports_only && is_switch;
      if (is_switch)
        switches.insert(port.component);
    }
    int root = t.hierarchy.root_of[static_cast<std::size_t>(p.initiator)];
    if (initiator.type->ats_enabled && iommu_of(t.config, root) == IommuMode::Translated &&
        switch_ports_only) {
      AdviseChange a;
      a.kind = "ats_direct_translated";
      std::string names;
      for (int s : switches) {
        names += (names.empty() ? "" : ", ") + component_of(t.config, s).id;
        a.overrides.push_back({fmt::format("/components[id={}]/params/acs_direct_translated",
                                           component_of(t.config, s).id),
                               Json(true)});
      }
      a.overrides.push_back(
          {fmt::format("/components[id={}]/params/ats", initiator.id), Json(true)});
      a.label = fmt::format("ATS on {} + ACS DT on {}", initiator.id, names);
      a.change = fmt::format("enable ATS on {} and have the firmware of {} set ACS Direct "
                             "Translated P2P on its downstream ports",
                             initiator.id, names);
      a.note = "the kernel still maps THRU_HOST_BRIDGE, but requests the NIC translated through "
               "its ATC pass the switch; the IOMMU keeps checking untranslated ones";
      changes.push_back(a);
    }
  }
  if (translated) {
    AdviseChange c;
    c.kind = "iommu_pt";
    c.kernel_parameter = "iommu=pt";
    c.label = "iommu=pt";
    c.change = "boot with iommu=pt (the IOMMU stays on, DMA of host-owned devices is not "
               "translated)";
    c.note = t.config.kernel.request_acs == "when_iommu_on"
                 ? "lifts the translation cost, not an ACS redirect: a passthrough IOMMU still "
                   "makes the kernel request ACS"
                 : "lifts the translation cost; with request_acs " + t.config.kernel.request_acs +
                       " it may lift the ACS redirect too";
    for (int r : roots)
      if (iommu_of(t.config, r) == IommuMode::Translated)
        c.overrides.push_back(
            {fmt::format("/components[id={}]/params/iommu", component_of(t.config, r).id),
             Json("passthrough")});
    changes.push_back(c);
  }
  if (iommu_on && (v.acs_redirect || translated)) {
    AdviseChange c;
    c.kind = "iommu_off";
    c.kernel_parameter = iommu_off_parameter(t.config);
    c.label = c.kernel_parameter;
    c.change = "boot with " + c.kernel_parameter;
    c.note = "lifts the translation and, unless request_acs is \"always\", the ACS redirect; "
             "the price is no DMA isolation: any device can reach all of memory";
    for (int r : roots)
      if (iommu_of(t.config, r) != IommuMode::Off)
        c.overrides.push_back(
            {fmt::format("/components[id={}]/params/iommu", component_of(t.config, r).id),
             Json("off")});
    changes.push_back(c);
  }
  if (g.relation != PairRelation::SameSwitch) {
    AdviseChange c;
    if (move_change(t, p, c))
      changes.push_back(c);
  }
  if (v.type == P2pMapType::NotSupported && g.relation == PairRelation::SameRootComplex) {
    AdviseChange c;
    if (vendor_peer_change(t, p, c))
      changes.push_back(c);
  }
  return changes;
}

} // namespace pciesim
