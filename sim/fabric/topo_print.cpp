#include "sim/fabric/topo_print.h"

#include <sstream>

#include <boost/graph/graphviz.hpp>
#include <fmt/format.h>

namespace pciesim {
namespace {

std::string window_text(const AddressWindow &w) {
  if (!w.open())
    return "window closed";
  return fmt::format("window {:#x}-{:#x} ({})", w.base, w.limit,
                     format_bytes(Bytes{w.limit - w.base + 1}));
}

std::string bus_text(const BusRange &b) {
  if (b.secondary < 0)
    return "no buses";
  return fmt::format("buses {:02x}-{:02x}", b.secondary, b.subordinate);
}

std::string link_text(const TrainedLink &t) {
  return fmt::format("Gen{} x{}", t.shape.generation, t.shape.width);
}

class TreePrinter {
public:
  TreePrinter(const TopologyConfig &t, const Hierarchy &h, const Enumeration &e)
      : t_(t), h_(h), e_(e) {}

  std::string run() {
    out_ += fmt::format("topology {}: MPS {}\n", t_.name.empty() ? "(unnamed)" : t_.name,
                        format_bytes(Bytes{h_.mps_bytes}));
    for (std::size_t r = 0; r < t_.components.size(); ++r) {
      if (t_.components[r].type->role != ComponentRole::RootComplex)
        continue;
      const ComponentAddressing &a = e_.components[r];
      out_ +=
          fmt::format("{} (root_complex) host bridge {}\n", t_.components[r].id, format_bdf(a.bdf));
      for (const ComponentConfig &m : t_.components)
        if (m.memory_of_root == static_cast<int>(r))
          out_ +=
              fmt::format("  memory {} {:#x}-{:#x} ({})\n", m.id, a.memory_base,
                          a.memory_base + a.memory_size - 1, format_bytes(Bytes{a.memory_size}));
      out_ += fmt::format("  mmio {:#x}-{:#x}\n", a.mmio_base, a.mmio_limit);
      if (int link = t_.socket_link_of(static_cast<int>(r)); link >= 0) {
        const ComponentConfig &l = t_.components[static_cast<std::size_t>(link)];
        int other =
            l.joined_roots[0] == static_cast<int>(r) ? l.joined_roots[1] : l.joined_roots[0];
        out_ += fmt::format("  inter-socket link {} to {} ({}, {} a direction)\n", l.id,
                            t_.components[static_cast<std::size_t>(other)].id,
                            format_duration(l.params.duration("latency")),
                            format_bandwidth(l.params.bandwidth("bandwidth")));
      }
      for (std::size_t p = 0; p < a.ports.size(); ++p) {
        const Bridge &rp = a.ports[p];
        int child = child_at(static_cast<int>(r), static_cast<int>(p));
        out_ += fmt::format("  rp{} {} {} {}\n", p, format_bdf(rp.bdf), bus_text(rp.buses),
                            window_text(rp.window));
        if (child >= 0)
          component(child, "    ");
      }
    }
    return out_;
  }

private:
  int child_at(int parent, int port) const {
    for (int c : h_.children[static_cast<std::size_t>(parent)])
      if (h_.parent_port[static_cast<std::size_t>(c)] == port)
        return c;
    return -1;
  }

  void component(int v, const std::string &indent) {
    std::size_t i = static_cast<std::size_t>(v);
    const ComponentConfig &c = t_.components[i];
    const ComponentAddressing &a = e_.components[i];
    std::string link = link_text(h_.trained[static_cast<std::size_t>(h_.parent_link[i])]);
    out_ +=
        fmt::format("{}└─ {} ({}) {} [{}]\n", indent, c.id, c.type->name, format_bdf(a.bdf), link);
    for (const Bar &bar : a.bars)
      out_ += fmt::format("{}     BAR{} {:#x}-{:#x} ({})\n", indent, bar.index, bar.base,
                          bar.base + bar.size - 1, format_bytes(Bytes{bar.size}));
    if (c.type->role != ComponentRole::Switch)
      return;
    out_ += fmt::format("{}     up {} {}\n", indent, bus_text(a.ports[0].buses),
                        window_text(a.ports[0].window));
    for (std::size_t p = 1; p < a.ports.size(); ++p) {
      const Bridge &dp = a.ports[p];
      out_ += fmt::format("{}     dp{} {} {} {}\n", indent, p - 1, format_bdf(dp.bdf),
                          bus_text(dp.buses), window_text(dp.window));
      int child = child_at(v, static_cast<int>(p));
      if (child >= 0)
        component(child, indent + "       ");
    }
  }

  const TopologyConfig &t_;
  const Hierarchy &h_;
  const Enumeration &e_;
  std::string out_;
};

} // namespace

std::string format_topology_tree(const TopologyConfig &t, const Hierarchy &h,
                                 const Enumeration &e) {
  return TreePrinter(t, h, e).run();
}

std::string topology_dot(const TopologyConfig &t, const Hierarchy &h, const Enumeration &e) {
  std::ostringstream out;
  auto vertex_writer = [&](std::ostream &os, std::size_t v) {
    const ComponentConfig &c = t.components[v];
    std::string label = c.id + "\\n" + c.type->name;
    if (has_pcie_ports(c.type->role))
      label += "\\n" + format_bdf(e.components[v].bdf);
    const char *shape = c.type->role == ComponentRole::RootComplex  ? "box3d"
                        : c.type->role == ComponentRole::Switch     ? "box"
                        : c.type->role == ComponentRole::Memory     ? "cylinder"
                        : c.type->role == ComponentRole::SocketLink ? "hexagon"
                                                                    : "ellipse";
    os << "[label=\"" << label << "\", shape=" << shape << "]";
  };
  auto edge_writer = [&](std::ostream &os, const TopologyGraph::edge_descriptor &edge) {
    int l = h.graph[edge].link;
    const LinkConfig &lc = t.links[static_cast<std::size_t>(l)];
    os << "[label=\"" << link_text(h.trained[static_cast<std::size_t>(l)]) << "\\n"
       << t.port_name(lc.a.component, lc.a.port) << " - " << t.port_name(lc.b.component, lc.b.port)
       << "\"]";
  };
  // Host memories hang off their root complex; draw that as a dashed edge in the graph copy.
  TopologyGraph g = h.graph;
  std::vector<std::pair<std::size_t, std::size_t>> memory_edges;
  for (std::size_t i = 0; i < t.components.size(); ++i)
    if (t.components[i].memory_of_root >= 0)
      memory_edges.emplace_back(static_cast<std::size_t>(t.components[i].memory_of_root), i);
  for (auto [a, b] : memory_edges) {
    auto e2 = boost::add_edge(a, b, g);
    g[e2.first].link = -1;
  }
  auto edge_or_memory = [&](std::ostream &os, const TopologyGraph::edge_descriptor &edge) {
    if (g[edge].link < 0)
      os << "[style=dashed, label=\"host bridge\"]";
    else
      edge_writer(os, edge);
  };
  boost::write_graphviz(out, g, vertex_writer, edge_or_memory);
  return out.str();
}

} // namespace pciesim
