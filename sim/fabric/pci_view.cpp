#include "sim/fabric/pci_view.h"

#include <algorithm>

#include <fmt/format.h>

#include "models/pcie/pcie_switch.h"
#include "models/pcie/root_complex.h"

namespace pciesim {

namespace {

AcsCapability full_acs(bool direct_translated) {
  AcsCapability c;
  c.source_validation = c.request_redirect = c.completion_redirect = true;
  c.upstream_forwarding = c.egress_control = true;
  c.direct_translated = direct_translated;
  return c;
}

bool acs_requested(const TopologyConfig &topo) {
  const std::string &when = topo.kernel.request_acs;
  if (when == "always" || when == "never")
    return when == "always";
  for (const ComponentConfig &c : topo.components) {
    if (c.type->role != ComponentRole::RootComplex)
      continue;
    IommuMode mode = IommuParams::from(c.params).mode;
    if (mode == IommuMode::Translated ||
        (mode == IommuMode::Passthrough && when == "when_iommu_on"))
      return true;
  }
  return false;
}

bool redirect_disabled(const TopologyConfig &topo, int component, int port) {
  for (const PortRef &r : topo.kernel.disable_acs_redir)
    if (r.component == component && r.port == port)
      return true;
  return false;
}

} // namespace

PciView build_pci_view(const TopologyConfig &topo, const Hierarchy &h) {
  PciView v;
  std::size_t n = topo.components.size();
  v.node_of_port.resize(n);
  v.node_of_endpoint.assign(n, -1);
  v.acs_requested = acs_requested(topo);
  std::vector<int> host_bridge_of(n, -1);
  for (std::size_t i = 0; i < n; ++i) {
    const ComponentConfig &c = topo.components[i];
    if (c.type->role != ComponentRole::RootComplex)
      continue;
    host_bridge_of[i] = static_cast<int>(v.tree.host_bridges.size());
    v.tree.host_bridges.push_back({c.id, RootComplexParams::from(c.params).cpu});
  }
  auto add_node = [&](std::string name, int upstream, int component, bool bridge, bool acs_capable,
                      bool direct_translated, int port) {
    PciNode node;
    node.name = std::move(name);
    node.upstream = upstream;
    node.host_bridge = host_bridge_of[static_cast<std::size_t>(h.root_of[component])];
    node.is_bridge = bridge;
    node.has_acs_capability = acs_capable;
    if (acs_capable) {
      KernelAcsPolicy policy;
      policy.iommu_enabled = v.acs_requested;
      policy.disabled_redirect = redirect_disabled(topo, component, port);
      policy.firmware_direct_translated = direct_translated;
      node.acs = kernel_acs_control(full_acs(direct_translated), policy);
    }
    v.tree.nodes.push_back(node);
    return static_cast<int>(v.tree.nodes.size()) - 1;
  };
  // Parents before children: walk the hierarchy breadth-first from each root complex.
  std::vector<int> order;
  for (std::size_t i = 0; i < n; ++i)
    if (topo.components[i].type->role == ComponentRole::RootComplex)
      order.push_back(static_cast<int>(i));
  for (std::size_t k = 0; k < order.size(); ++k)
    for (int child : h.children[static_cast<std::size_t>(order[k])])
      order.push_back(child);
  for (int i : order) {
    const ComponentConfig &c = topo.components[static_cast<std::size_t>(i)];
    std::vector<int> &ports = v.node_of_port[static_cast<std::size_t>(i)];
    ports.assign(static_cast<std::size_t>(std::max(0, c.port_count())), -1);
    int above = -1;
    if (h.parent[static_cast<std::size_t>(i)] >= 0)
      above = v.node_of_port[static_cast<std::size_t>(h.parent[static_cast<std::size_t>(i)])]
                            [static_cast<std::size_t>(h.parent_port[static_cast<std::size_t>(i)])];
    switch (c.type->role) {
    case ComponentRole::RootComplex: {
      bool acs = RootComplexParams::from(c.params).acs;
      for (int p = 0; p < c.port_count(); ++p)
        ports[static_cast<std::size_t>(p)] =
            add_node(topo.port_name(i, p), -1, i, true, acs, false, p);
      break;
    }
    case ComponentRole::Switch: {
      SwitchParams sp = SwitchParams::from(c.params);
      int up = add_node(topo.port_name(i, 0), above, i, true, false, false, 0);
      ports[0] = up;
      for (int p = 1; p < c.port_count(); ++p)
        ports[static_cast<std::size_t>(p)] =
            add_node(topo.port_name(i, p), up, i, true, sp.acs, sp.acs_direct_translated, p);
      break;
    }
    case ComponentRole::Endpoint:
      v.node_of_endpoint[static_cast<std::size_t>(i)] =
          add_node(c.id, above, i, false, false, false, 0);
      ports[0] = v.node_of_endpoint[static_cast<std::size_t>(i)];
      break;
    case ComponentRole::Memory:
    case ComponentRole::SocketLink:
      break;
    }
  }
  return v;
}

void apply_acs(const PciView &view, int component, RoutingTable &routes) {
  const std::vector<int> &ports = view.node_of_port[static_cast<std::size_t>(component)];
  for (std::size_t p = 0; p < ports.size(); ++p)
    if (PortRoute *r = routes.of_port(static_cast<int>(p)); r && ports[p] >= 0)
      r->acs = view.tree.nodes[static_cast<std::size_t>(ports[p])].acs;
}

P2pVerdict p2p_verdict(const PciView &view, const TopologyConfig &, int provider, int client) {
  return calc_map_type_and_dist(view.tree,
                                view.node_of_endpoint[static_cast<std::size_t>(provider)],
                                view.node_of_endpoint[static_cast<std::size_t>(client)]);
}

} // namespace pciesim
