#include "sim/advise/advise.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "models/iommu/iommu.h"
#include "models/pcie/root_complex.h"
#include "sim/batch/comparison.h"
#include "sim/config/overrides.h"
#include "sim/config/schema_check.h"
#include "sim/fabric/enumeration.h"
#include "sim/fabric/pci_view.h"
#include "sim/plan/scenario.h"
#include "sim/report/report.h"
#include "sim/run/simulation.h"
#include "sim/util/file_io.h"
#include "sim/util/input_error.h"

namespace pciesim {

namespace {

using OJson = nlohmann::ordered_json;

// A topology as the analysis needs it: its JSON (to make variants of) and what loading gives.
struct AdviseTopology {
  Json json;
  TopologyConfig config;
  Hierarchy hierarchy;
  Enumeration enumeration;
  PciView view;
};

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

// A change to the topology: a `--set topology:POINTER=VALUE` a user could give `run`.
struct AdviseOverride {
  std::string pointer;
  Json value;
};

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

// The kinds of pairs, by the initiator's and the target's component types.
struct AdvisePairKind {
  const char *name; // as --pairs takes it
  const char *initiator_type;
  const char *target_type;
  const char *what; // one phrase for the output
};
const AdvisePairKind kAdvisePairKinds[] = {
    {"gpu-nic", "rdma_nic", "gpu", "a NIC reads GPU memory (GPUDirect RDMA)"},
    {"nvme-gpu", "nvme_ssd", "gpu", "an NVMe drive writes into GPU memory (GPUDirect Storage)"},
    {"gpu-gpu", "gpu", "gpu", "a GPU reads a peer GPU's memory"},
};

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

struct AdvisePair {
  const AdvisePairKind *kind = nullptr;
  int initiator = -1, target = -1;
};

// Where the two meet, as a class of path: what the time of a transfer depends on beyond the
// links' shapes.
enum class PairRelation { SameSwitch, SameRootComplex, OtherSocket, Unreachable };

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

// The components a request crosses in the tree (the ACS redirect aside), e.g.
// "nic4 > sw2 > rc1 > xsock > rc0 > sw0 > gpu0".
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

// The trained link of an endpoint to its parent, e.g. "Gen5 x16".
std::string endpoint_link(const AdviseTopology &t, int endpoint) {
  const TrainedLink &l = t.hierarchy.trained[static_cast<std::size_t>(
      t.hierarchy.parent_link[static_cast<std::size_t>(endpoint)])];
  return fmt::format("Gen{} x{}", l.shape.generation, l.shape.width);
}

// The trained links of every hop from each end up to where the two meet: pairs whose hops
// differ (a narrower switch uplink, say) are simulated apart.
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

// The PCI address of a PCI-tree node (a root port or switch port) as the kernel's pci= options
// take it, and its port name.
struct AdvisePort {
  std::string name;    // "sw0.dp1"
  std::string address; // "0000:03:01.0"
  int component = -1;
  int port = -1;
  // The port belongs to a real machine's component (it has a `pci_address`, as `pciesim import`
  // writes) whose port addresses the dump did not give (NCCL's leaves them out): its address
  // is pciesim's numbering, which may not be the machine's.
  bool address_guessed = false;
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

// A change and its variant of the topology.
struct AdviseChange {
  std::string kind;             // disable_acs_redir, ats_direct_translated, iommu_pt, ...
  std::string label;            // short, for the table
  std::string change;           // what to do, in full
  std::string kernel_parameter; // empty when no kernel parameter does it
  std::string note;             // what it costs or why it works
  std::vector<AdviseOverride> overrides;
  // Filled in from the variant:
  std::string map_type_after;
  std::string data_path_after;
  std::size_t sim_job = SIZE_MAX;
  std::string unavailable; // why the variant could not be made
};

struct AdviseBlocker {
  std::string kind, label, detail;
};

struct AdviseGroup {
  std::vector<AdvisePair> pairs; // the first is simulated
  P2pVerdict verdict;
  PairRelation relation = PairRelation::SameSwitch;
  std::string path, links;
  std::vector<AdviseBlocker> blockers;
  std::vector<AdviseChange> changes;
  std::size_t sim_job_now = SIZE_MAX;
  std::string key;
};

std::string ports_list(const std::vector<AdvisePort> &ports, bool addresses) {
  std::string text;
  for (const AdvisePort &p : ports)
    text += (text.empty() ? "" : addresses ? ";" : ", ") + (addresses ? p.address : p.name);
  return text;
}

// The ports with a redirect on the pair's path.
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

std::string overrides_text(const AdviseOverride &o) { return o.pointer + "=" + o.value.dump(); }

// The changes for a group, from its first pair; the ACS ports are those of every pair.
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
  return changes;
}

// ---- simulation ----------------------------------------------------------------------------

// The workload of the bundled default comparison: its buffer's size and iterations, and the
// peer's (the NIC's) phase: access size and accesses in flight.
struct AdviseWorkload {
  Json workload;
  std::uint64_t buffer_bytes = 0;
  int iterations = 1;
  std::string access_size = "64 KiB";
  int concurrency = 4;
};

AdviseWorkload default_workload(const std::string &size) {
  AdviseWorkload w;
  w.workload = bundled_default_scenario()->root.at("workload");
  if (!size.empty())
    w.workload["buffers"][0]["size"] = size;
  Parsed<Bytes> bytes = parse_bytes(w.workload["buffers"][0].at("size").get<std::string>());
  if (!bytes.value || bytes.value->count == 0)
    throw InputError("--size", "", fmt::format("\"{}\" is not a size", size),
                     "a size with a unit, e.g. \"4 MiB\"");
  w.buffer_bytes = bytes.value->count;
  w.iterations = w.workload.value("iterations", 1);
  for (const Json &phase : w.workload.at("phases")) {
    if (phase.value("actor", "") == "nic0") {
      w.access_size = phase.value("access_size", w.access_size);
      w.concurrency = phase.value("concurrency", w.concurrency);
    }
    // Every phase covers the buffer in accesses of its size (checked here, so that the error
    // names the option rather than the scenario made from it).
    Parsed<Bytes> access = parse_bytes(phase.value("access_size", "4 KiB"));
    if (access.value && access.value->count > 0 && w.buffer_bytes % access.value->count != 0)
      throw InputError("--size", "",
                       fmt::format("\"{}\" is not a multiple of the workload's access size {}",
                                   size, phase.value("access_size", "")),
                       "a multiple of " + phase.value("access_size", std::string()));
  }
  return w;
}

// Replaces the default's gpu0 and nic0 with the pair's ids.
Json remapped_workload(const AdviseWorkload &w, const std::string &gpu, const std::string &nic,
                       const std::string &mechanism) {
  Json j = w.workload;
  j["mechanisms"] = Json::array({mechanism});
  for (Json &b : j["buffers"])
    if (b.value("gpu", "") == "gpu0")
      b["gpu"] = gpu;
  for (Json &p : j["phases"]) {
    if (p.value("actor", "") == "gpu0")
      p["actor"] = gpu;
    else if (p.value("actor", "") == "nic0")
      p["actor"] = nic;
  }
  if (j.contains("staging_near"))
    j["staging_near"] = j["staging_near"] == "gpu0" ? gpu : nic;
  return j;
}

struct AdviseSimJob {
  std::shared_ptr<ScenarioConfig> loaded;
  bool workload = false;
  OJson result; // {"status", "time_ns", "mechanism", "reason"}
};

// The scenario that runs the pair's workload on a topology variant.
Json pair_scenario(const AdviseWorkload &w, const Json &topology, const AdviseTopology &t,
                   const AdvisePair &p, const P2pVerdict &v) {
  Json s;
  s["name"] = "advise";
  s["topology"] = topology;
  const std::string &initiator = component_of(t.config, p.initiator).id;
  const std::string &target = component_of(t.config, p.target).id;
  bool refused = v.type == P2pMapType::NotSupported;
  if (std::string(p.kind->name) == "gpu-nic") {
    s["workload"] = remapped_workload(w, target, initiator, refused ? "bounce" : "p2p_dma_api");
    return s;
  }
  // No workload actor reaches a peer GPU but a NIC: the send phase's traffic as a transfer,
  // the buffer's bytes once per iteration.
  Parsed<Bytes> access = parse_bytes(w.access_size);
  std::uint64_t access_bytes = access.value ? access.value->count : 65536;
  Json transfer;
  transfer["id"] = "advise";
  transfer["initiator"] = initiator;
  transfer["target"] = target;
  transfer["direction"] = std::string(p.kind->name) == "nvme-gpu" ? "write" : "read";
  transfer["size"] = w.access_size;
  transfer["count"] = w.buffer_bytes * static_cast<std::uint64_t>(w.iterations) / access_bytes;
  transfer["concurrency"] = w.concurrency;
  transfer["fallback"] = "bounce";
  s["transfers"] = Json::array({transfer});
  return s;
}

// Runs one simulation in this (child) process and returns its result line.
OJson simulate_job(const AdviseSimJob &job) {
  RunResult r = simulate(*job.loaded);
  OJson out;
  if (job.workload) {
    OJson m = mechanism_json(r, job.loaded->topology->config.name);
    out["status"] = m.value("status", "failed");
    out["mechanism"] = m.value("name", "");
    if (m.contains("total_time_ns"))
      out["time_ns"] = m["total_time_ns"];
    out["reason"] = m.value("reason", "");
    return out;
  }
  OJson j = result_json(r);
  const OJson &t = j["transfers"][0];
  bool ok =
      j["status"] == "completed" && t.value("status", "") == "completed" && !t["end_ns"].is_null();
  out["status"] = ok ? "ok" : "failed";
  out["mechanism"] = t.value("mechanism", "");
  if (ok)
    out["time_ns"] = t["end_ns"];
  out["reason"] = t.value("error", ok ? "" : j.value("status", std::string()));
  return out;
}

void run_sim_jobs(std::vector<AdviseSimJob> &jobs, const PoolOptions &pool_options) {
  std::vector<CapturedOutput> outputs(jobs.size());
  ChildPool pool(pool_options);
  auto start = [&](std::size_t i) {
    int fd = outputs[i].open();
    return pool.start_function(
        [&jobs, i, fd] {
          std::string text;
          int code = 0;
          try {
            text = simulate_job(jobs[i]).dump();
          } catch (const std::exception &e) {
            text = OJson{{"status", "failed"}, {"reason", e.what()}}.dump();
            code = kExitInternalError;
          }
          write_all(fd, text.data(), text.size());
          return code;
        },
        {});
  };
  auto finished = [&](std::size_t i, const ChildExit &how) {
    OJson j = OJson::parse(outputs[i].text(), nullptr, false);
    outputs[i].close();
    if (how.stopped)
      return;
    if (j.is_discarded() || !how.exited())
      j = OJson{{"status", "failed"}, {"reason", "the simulation was " + how.describe()}};
    jobs[i].result = j;
  };
  ChildPool::End end = pool.run(jobs.size(), start, finished);
  if (end == ChildPool::End::Stopped) {
    int sig = pool.stop_signal();
    std::cerr << fmt::format("pciesim: stopped by signal {} ({}); nothing was written\n", sig,
                             ::strsignal(sig));
    ChildPool::die_of(sig);
  }
  if (end == ChildPool::End::TimedOut)
    throw AdviseTimedOut("the simulations exceeded their --timeout of wall-clock time and "
                         "were stopped; nothing was written");
}

// ---- input ---------------------------------------------------------------------------------

// The topology of `file`: the file itself, or a scenario's first topology.
std::shared_ptr<const JsonDocument> topology_document(const std::string &file) {
  auto doc = load_json_file(file);
  Node root = Node::root(doc);
  std::string kind = classify_document(root);
  if (kind == "topology")
    return doc;
  if (kind != "scenario")
    root.fail("not a topology or a scenario",
              "a topology (with \"components\" and \"links\") or a scenario (with \"topology\")");
  ScenarioConfig s = load_scenario_file(file); // checks the scenario and its topology
  Node topology = root.at("topology");
  if (topology.json().is_array())
    topology = topology.at(0);
  if (topology.json().is_string())
    return load_json_file(path_in_directory(directory_of(file), topology.as_string()));
  auto inline_doc = std::make_shared<JsonDocument>();
  inline_doc->file = file + " (its /topology)";
  inline_doc->root = topology.json();
  return inline_doc;
}

std::vector<AdvisePair> pairs_of_interest(const AdviseTopology &t, const AdviseOptions &o) {
  std::vector<AdvisePair> pairs;
  const TopologyConfig &c = t.config;
  if (!o.pairs.empty()) {
    for (const std::string &text : o.pairs) {
      auto comma = text.find(',');
      std::string a = comma == std::string::npos ? text : text.substr(0, comma);
      std::string b = comma == std::string::npos ? "" : text.substr(comma + 1);
      int i = c.find(a), g = c.find(b);
      if (i < 0 || g < 0 || i == g || !pair_kind_of(c, i, g))
        throw InputError("--pair", "",
                         fmt::format("\"{}\" is not an initiator and a target of {}", text, o.file),
                         "INITIATOR,TARGET: a rdma_nic, nvme_ssd or gpu id, then another "
                         "gpu's id");
      pairs.push_back({pair_kind_of(c, i, g), i, g});
    }
    return pairs;
  }
  for (const std::string &name : o.pair_kinds) {
    const AdvisePairKind *kind = pair_kind_named(name);
    if (!kind)
      throw InputError("--pairs", "", fmt::format("\"{}\" is not a kind of pair", name),
                       "gpu-nic, nvme-gpu or gpu-gpu, comma-separated");
    for (std::size_t i = 0; i < c.components.size(); ++i) {
      if (c.components[i].type->name != kind->initiator_type || t.view.node_of_endpoint[i] < 0)
        continue;
      for (std::size_t g = 0; g < c.components.size(); ++g)
        if (g != i && c.components[g].type->name == kind->target_type &&
            t.view.node_of_endpoint[g] >= 0)
          pairs.push_back({kind, static_cast<int>(i), static_cast<int>(g)});
    }
  }
  return pairs;
}

std::string relation_name(PairRelation r) {
  switch (r) {
  case PairRelation::SameSwitch:
    return "same switch";
  case PairRelation::SameRootComplex:
    return "same root complex";
  case PairRelation::OtherSocket:
    return "other socket";
  case PairRelation::Unreachable:
    return "sockets not joined";
  }
  return "?";
}

OJson time_json(const AdviseSimJob *job) {
  if (!job)
    return nullptr;
  return job->result.contains("time_ns") ? job->result["time_ns"] : OJson(nullptr);
}

double rounded_to(double v, double unit) { return std::round(v / unit) * unit; }

} // namespace

OJson advise(const AdviseOptions &o) {
  auto doc = topology_document(o.file);
  AdviseTopology base = load_advise_topology(doc);
  if (!o.iommu.empty()) {
    std::vector<AdviseOverride> set;
    for (int r : root_complexes(base.config))
      set.push_back(
          {fmt::format("/components[id={}]/params/iommu", component_of(base.config, r).id),
           Json(o.iommu)});
    base = topology_variant(base, doc->file + " (with --iommu " + o.iommu + ")", set);
  }
  AdviseWorkload workload = default_workload(o.size);
  std::vector<AdvisePair> pairs = pairs_of_interest(base, o);

  // Group the pairs: the same kind, verdict, blockers, changes and path shape.
  std::vector<AdviseGroup> groups;
  std::vector<std::vector<std::vector<AdvisePort>>> group_ports;
  std::map<std::string, std::size_t> group_of_key;
  for (const AdvisePair &p : pairs) {
    AdviseGroup g;
    g.pairs.push_back(p);
    g.verdict = p2p_verdict(base.view, base.config, p.target, p.initiator);
    g.relation = relation_of(base, p.initiator, p.target);
    g.path = tree_path(base, p.initiator, p.target);
    g.links = endpoint_link(base, p.initiator) + " / " + endpoint_link(base, p.target);
    g.blockers = blockers_of(base, p, g.verdict, g.relation);
    std::vector<std::vector<AdvisePort>> own{redirecting_ports(base, g.verdict)};
    std::vector<AdviseChange> changes = changes_for(base, g, own);
    g.key =
        fmt::format("{}|{}|{}|{}|{}{}", p.kind->name, map_type_name(g.verdict.type),
                    relation_name(g.relation), g.verdict.distance,
                    g.verdict.redirecting_nodes.size(), path_links(base, p.initiator, p.target));
    for (const AdviseBlocker &b : g.blockers)
      g.key += "|" + b.kind;
    for (const AdviseChange &c : changes)
      g.key += "|" + c.kind;
    auto [it, added] = group_of_key.emplace(g.key, groups.size());
    if (added) {
      groups.push_back(g);
      group_ports.push_back(own);
    } else {
      groups[it->second].pairs.push_back(p);
      group_ports[it->second].push_back(own.front());
    }
  }
  for (std::size_t k = 0; k < groups.size(); ++k)
    groups[k].changes = changes_for(base, groups[k], group_ports[k]);

  // The variants, their verdicts, and the simulations to run.
  std::vector<AdviseSimJob> jobs;
  std::map<std::string, std::size_t> job_of_scenario;
  auto add_job = [&](const AdviseTopology &t, const AdvisePair &p, const P2pVerdict &v,
                     const std::string &label) -> std::size_t {
    if (!o.simulate || relation_of(t, p.initiator, p.target) == PairRelation::Unreachable)
      return SIZE_MAX;
    Json s = pair_scenario(workload, t.json, t, p, v);
    std::string text = s.dump();
    auto found = job_of_scenario.find(text);
    if (found != job_of_scenario.end())
      return found->second;
    AdviseSimJob job;
    job.workload = s.contains("workload");
    auto sdoc = std::make_shared<JsonDocument>();
    sdoc->file = o.file + " (" + label + ")";
    sdoc->root = s;
    job.loaded =
        std::make_shared<ScenarioConfig>(load_scenario(Node::root(sdoc), directory_of(o.file)));
    if (job.loaded->workload) // the one mechanism this scenario lists
      job.loaded->mechanism = job.loaded->workload->mechanisms.front();
    job_of_scenario.emplace(text, jobs.size());
    jobs.push_back(std::move(job));
    return jobs.size() - 1;
  };
  for (AdviseGroup &g : groups) {
    const AdvisePair &p = g.pairs.front();
    std::string pair_name =
        component_of(base.config, p.initiator).id + ">" + component_of(base.config, p.target).id;
    g.sim_job_now = add_job(base, p, g.verdict, pair_name + " as written");
    for (AdviseChange &c : g.changes) {
      AdviseTopology variant;
      try {
        variant = topology_variant(base, doc->file + " (variant " + c.kind + ")", c.overrides);
      } catch (const InputError &e) {
        // A move can overfill a root complex's MMIO aperture, say: the change is shown with
        // why it cannot be simulated as written.
        c.unavailable = "the variant does not load: " + e.problem();
        continue;
      }
      P2pVerdict after = p2p_verdict(variant.view, variant.config, p.target, p.initiator);
      if (c.kind == "move" && after.acs_redirect) {
        // Under the new switch the redirect still sends the traffic up: lift it too.
        std::vector<AdvisePort> ports = redirecting_ports(variant, after);
        Json listed = Json::array();
        for (const PortRef &r : variant.config.kernel.disable_acs_redir)
          listed.push_back(variant.config.port_name(r.component, r.port));
        for (const AdvisePort &port : ports)
          listed.push_back(port.name);
        c.overrides.push_back({"/kernel/disable_acs_redir", listed});
        c.kernel_parameter = "pci=disable_acs_redir=" + ports_list(ports, true);
        c.change += " and boot with " + c.kernel_parameter + " (the addresses after the move)";
        c.label += " + disable_acs_redir";
        variant = topology_variant(base, doc->file + " (variant move)", c.overrides);
        after = p2p_verdict(variant.view, variant.config, p.target, p.initiator);
      }
      c.map_type_after = map_type_name(after.type);
      c.data_path_after = verdict_data_path(variant, p, after);
      c.sim_job = add_job(variant, p, after, pair_name + " variant " + c.kind);
    }
  }
  if (!jobs.empty())
    run_sim_jobs(jobs, o.pool);

  OJson out;
  out["pciesim_version"] = PCIESIM_VERSION;
  out["file"] = o.file;
  out["topology"] = base.config.name;
  OJson iommu = OJson::object();
  for (int r : root_complexes(base.config))
    iommu[component_of(base.config, r).id] = iommu_mode_name(iommu_of(base.config, r));
  out["iommu"] = iommu;
  out["acs_enabled"] = base.view.acs_requested;
  out["workload"] = {
      {"source", "scenarios/default.json"},
      {"buffer_bytes", workload.buffer_bytes},
      {"iterations", workload.iterations},
      {"gpu-nic", "the default comparison's workload, gpu0 and nic0 replaced by the pair; "
                  "mechanism p2p_dma_api (bounce where p2pdma refuses the pair)"},
      {"other pairs",
       fmt::format("one transfer of the buffer's bytes per iteration in {} accesses, {} in "
                   "flight (an NVMe drive writes, a GPU reads); p2p_dma_api, falling back to "
                   "bounce where p2pdma refuses the pair",
                   workload.access_size, workload.concurrency)}};
  out["simulated"] = o.simulate;
  out["groups"] = OJson::array();
  for (const AdviseGroup &g : groups) {
    const AdvisePair &p = g.pairs.front();
    auto id = [&](int c) { return component_of(base.config, c).id; };
    OJson gj;
    gj["kind"] = p.kind->name;
    gj["what"] = p.kind->what;
    gj["pairs"] = OJson::array();
    for (const AdvisePair &m : g.pairs)
      gj["pairs"].push_back({{"initiator", id(m.initiator)}, {"target", id(m.target)}});
    gj["simulated_pair"] = {{"initiator", id(p.initiator)}, {"target", id(p.target)}};
    gj["relation"] = relation_name(g.relation);
    gj["path"] = g.path;
    gj["links"] = g.links;
    gj["map_type"] = map_type_name(g.verdict.type);
    gj["distance"] = g.verdict.distance;
    gj["reason"] = g.verdict.reason;
    gj["data_path"] = verdict_data_path(base, p, g.verdict);
    gj["blockers"] = OJson::array();
    for (const AdviseBlocker &b : g.blockers)
      gj["blockers"].push_back({{"kind", b.kind}, {"label", b.label}, {"detail", b.detail}});
    const AdviseSimJob *now = g.sim_job_now < jobs.size() ? &jobs[g.sim_job_now] : nullptr;
    gj["time_now_ns"] = time_json(now);
    gj["mechanism_now"] = now ? now->result.value("mechanism", "") : "";
    const char *kApart = "the two sit on sockets that no inter_socket_link joins";
    if (now && !now->result.contains("time_ns"))
      gj["not_simulated"] = now->result.value("reason", "");
    else if (!now && o.simulate)
      gj["not_simulated"] = kApart;
    gj["changes"] = OJson::array();
    for (const AdviseChange &c : g.changes) {
      OJson cj;
      cj["kind"] = c.kind;
      cj["label"] = c.label;
      cj["change"] = c.change;
      cj["kernel_parameter"] =
          c.kernel_parameter.empty() ? OJson(nullptr) : OJson(c.kernel_parameter);
      cj["note"] = c.note;
      cj["overrides"] = OJson::array();
      for (const AdviseOverride &ov : c.overrides)
        cj["overrides"].push_back("topology:" + overrides_text(ov));
      cj["map_type_after"] = c.map_type_after.empty() ? OJson(nullptr) : OJson(c.map_type_after);
      cj["data_path_after"] = c.data_path_after;
      const AdviseSimJob *after = c.sim_job < jobs.size() ? &jobs[c.sim_job] : nullptr;
      cj["time_after_ns"] = time_json(after);
      cj["mechanism_after"] = after ? after->result.value("mechanism", "") : "";
      OJson before_ns = time_json(now), after_ns = time_json(after);
      if (before_ns.is_number() && after_ns.is_number()) {
        double b = before_ns.get<double>(), a = after_ns.get<double>();
        cj["saved_ns"] = rounded_to(b - a, 0.001);
        cj["saved_percent"] = b > 0 ? rounded_to((b - a) / b * 100.0, 0.01) : 0.0;
      } else {
        cj["saved_ns"] = nullptr;
        cj["saved_percent"] = nullptr;
        if (!c.unavailable.empty())
          cj["not_simulated"] = c.unavailable;
        else if (after && !after->result.contains("time_ns"))
          cj["not_simulated"] = after->result.value("reason", "");
        else if (!after && o.simulate)
          cj["not_simulated"] = kApart;
      }
      gj["changes"].push_back(cj);
    }
    out["groups"].push_back(gj);
  }
  return out;
}

namespace {

std::string advise_time_text(const OJson &ns) {
  if (!ns.is_number())
    return "-";
  double v = ns.get<double>();
  return std::fabs(v) >= 1e6 ? fmt::format("{:.3f} ms", v / 1e6)
                             : fmt::format("{:.1f} us", v / 1e3);
}

} // namespace

std::string format_advice(const OJson &a) {
  std::string out =
      fmt::format("advice for {} ({}): IOMMU", a.value("topology", ""), a.value("file", ""));
  for (const auto &[rc, mode] : a["iommu"].items())
    out += fmt::format(" {} {}", rc, mode.get<std::string>());
  out += fmt::format("; ACS {} by the kernel\n",
                     a.value("acs_enabled", false) ? "enabled" : "not enabled");
  if (a.value("simulated", false))
    out += fmt::format("simulated: the default workload with a {} buffer, {} iterations; the first "
                       "pair of each group stands for the group\n\n",
                       format_bytes(Bytes{a["workload"].value("buffer_bytes", std::uint64_t{0})}),
                       a["workload"].value("iterations", 0));
  else
    out += "not simulated (--no-simulate)\n\n";
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"pair", "map type now", "blocked by", "change", "map type after", "time now",
                  "time after", "saved"});
  std::vector<std::string> notes, why, members;
  for (const auto &g : a["groups"]) {
    std::string pair =
        g["simulated_pair"].value("initiator", "") + ">" + g["simulated_pair"].value("target", "");
    std::size_t count = g["pairs"].size();
    std::string pair_cell = count > 1 ? fmt::format("{} +{}", pair, count - 1) : pair;
    if (count > 1) {
      std::string list;
      for (const auto &m : g["pairs"])
        list += (list.empty() ? "" : " ") + m.value("initiator", "") + ">" + m.value("target", "");
      members.push_back(fmt::format("{} stands for {} pairs ({}, {}): {}", pair, count,
                                    g.value("relation", ""), g.value("links", ""), list));
    }
    std::string blocked;
    for (const auto &b : g["blockers"])
      blocked += (blocked.empty() ? "" : ", ") + b.value("label", "");
    if (blocked.empty())
      blocked = "nothing";
    for (const auto &b : g["blockers"])
      why.push_back(fmt::format("{}: {}", pair, b.value("detail", "")));
    std::string time_now = advise_time_text(g["time_now_ns"]);
    if (g.value("mechanism_now", "") == "bounce")
      time_now += " (bounce)";
    if (g["changes"].empty())
      rows.push_back({pair_cell, g.value("map_type", ""), blocked, "-", "-", time_now, "-", "-"});
    for (const auto &c : g["changes"]) {
      std::string unsimulated =
          c.contains("not_simulated")
              ? " (not simulated: " + c["not_simulated"].get<std::string>() + ")"
              : "";
      notes.push_back(fmt::format("[{}] {}: {}; {}{}", notes.size() + 1, pair,
                                  c.value("change", ""), c.value("note", ""), unsimulated));
      std::string saved = "-";
      if (c["saved_ns"].is_number())
        saved = fmt::format("{} ({:.1f}%)", advise_time_text(c["saved_ns"]),
                            c["saved_percent"].get<double>());
      std::string after = advise_time_text(c["time_after_ns"]);
      if (c.value("mechanism_after", "") == "bounce")
        after += " (bounce)";
      std::string map_after =
          c["map_type_after"].is_string() ? c["map_type_after"].get<std::string>() : "-";
      if (c.value("data_path_after", "").rfind("switch (", 0) == 0)
        map_after += " (ATS direct)";
      rows.push_back({pair_cell, g.value("map_type", ""), blocked,
                      fmt::format("{} [{}]", c.value("label", ""), notes.size()), map_after,
                      time_now, after, saved});
    }
  }
  std::vector<std::size_t> width(rows.front().size(), 0);
  for (const auto &r : rows)
    for (std::size_t k = 0; k < r.size(); ++k)
      width[k] = std::max(width[k], r[k].size());
  for (const auto &r : rows) {
    std::string line;
    for (std::size_t k = 0; k < r.size(); ++k)
      line += fmt::format(k >= 5 ? "{:>{}}" : "{:<{}}", r[k], width[k]) +
              (k + 1 < r.size() ? "  " : "");
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  if (!members.empty()) {
    out += "\ngroups:\n";
    for (const std::string &m : members)
      out += m + "\n";
  }
  if (!why.empty()) {
    out += "\nwhy:\n";
    for (const std::string &w : why)
      out += w + "\n";
  }
  if (!notes.empty()) {
    out += "\nchanges:\n";
    for (const std::string &n : notes)
      out += n + "\n";
  }
  return out;
}

int command_advise(const AdviseOptions &o) {
  if (!o.out.empty())
    check_output_file(o.out, "--out");
  OJson advice;
  try {
    advice = advise(o);
  } catch (const AdviseTimedOut &e) {
    std::cerr << "pciesim: " << e.what() << "\n";
    return kExitSimulationError;
  }
  if (!o.out.empty())
    write_file_atomically(o.out, advice.dump(2) + "\n");
  std::cout << (o.json ? advice.dump(2) + "\n" : format_advice(advice));
  return kExitOk;
}

} // namespace pciesim
