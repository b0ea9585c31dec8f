#include "sim/fabric/route_trace.h"

#include "sim/config/component_catalog.h"

namespace pciesim {

namespace {

// The component on the far side of `component`'s port `port`, or -1.
int neighbour_at(const Hierarchy &h, int component, int port) {
  for (int child : h.children[static_cast<std::size_t>(component)])
    if (h.parent_port[static_cast<std::size_t>(child)] == port)
      return child;
  return -1;
}

// Ends `path` at the host memory of root complex `root`.
std::vector<int> append_memory_of(const TopologyConfig &topology, int root, std::vector<int> path) {
  int memory = topology.memory_of(root);
  if (memory < 0)
    return {};
  path.push_back(memory);
  return path;
}

} // namespace

std::vector<int> trace_request_route(const TopologyConfig &topology, const Hierarchy &h,
                                     const Enumeration &enumeration, const PciView &view,
                                     int initiator, std::uint64_t address, bool translated) {
  RouteQuery query;
  query.address = address;
  query.translated = translated;
  std::vector<int> path{initiator};
  bool crossed_sockets = false;
  int at = h.parent[static_cast<std::size_t>(initiator)];
  int ingress = h.parent_port[static_cast<std::size_t>(initiator)];
  // Each step moves one link; a route longer than the components cannot be (a loop guard).
  for (std::size_t steps = 0; at >= 0 && steps <= topology.components.size(); ++steps) {
    path.push_back(at);
    const ComponentConfig &c = topology.components[static_cast<std::size_t>(at)];
    RoutingTable table = routing_for(enumeration, topology, at);
    apply_acs(view, at, table);
    if (c.type->role == ComponentRole::Switch) {
      bool redirected = false;
      int egress = route_at_switch(table, 0, ingress, query, redirected);
      if (egress < 0)
        return {};
      int next = egress == 0 ? h.parent[static_cast<std::size_t>(at)] : neighbour_at(h, at, egress);
      if (next < 0)
        return {};
      ingress = egress == 0 ? h.parent_port[static_cast<std::size_t>(at)]
                            : h.upstream_port[static_cast<std::size_t>(next)];
      at = next;
      continue;
    }
    if (c.type->role == ComponentRole::RootComplex) {
      if (int port = table.port_for_address(address); port >= 0) {
        int next = neighbour_at(h, at, port);
        if (next < 0)
          return {};
        ingress = h.upstream_port[static_cast<std::size_t>(next)];
        at = next;
        continue;
      }
      const ComponentAddressing &rc = enumeration.components[static_cast<std::size_t>(at)];
      if (address < rc.memory_base || address - rc.memory_base >= rc.memory_size) {
        // Not this socket's: across the inter-socket link to the other root complex, once.
        int link = topology.socket_link_of(at);
        if (link < 0 || crossed_sockets)
          return {};
        crossed_sockets = true;
        path.push_back(link);
        const int from = at;
        for (int other : topology.components[static_cast<std::size_t>(link)].joined_roots)
          if (other != from)
            at = other;
        // The far socket's memory is reached from the link directly (its home agent), not
        // through that root complex's PCIe host bridge.
        const ComponentAddressing &far = enumeration.components[static_cast<std::size_t>(at)];
        if (address >= far.memory_base && address - far.memory_base < far.memory_size)
          return append_memory_of(topology, at, path);
        continue;
      }
      return append_memory_of(topology, at, path);
    }
    // An endpoint: the request has arrived at the BAR that claimed it.
    return path;
  }
  return {};
}

} // namespace pciesim
