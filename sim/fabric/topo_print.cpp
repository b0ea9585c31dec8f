#include "sim/fabric/topo_print.h"

#include <algorithm>
#include <set>
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

namespace {

// The endpoints of `--p2p`: every DMA initiator, and every endpoint that exposes memory to
// peers (its data BAR present).
struct P2pPairs {
  PciView view;
  std::vector<int> initiators, targets;
};

P2pPairs p2p_pairs(const TopologyConfig &topo, const Hierarchy &h) {
  P2pPairs p{build_pci_view(topo, h), {}, {}};
  for (std::size_t i = 0; i < topo.components.size(); ++i) {
    const ComponentConfig &c = topo.components[i];
    if (p.view.node_of_endpoint[i] < 0)
      continue;
    if (c.type->initiates_dma)
      p.initiators.push_back(static_cast<int>(i));
    if (c.type->data_bar >= 0 && static_cast<int>(c.type->bars(c.params).size()) > c.type->data_bar)
      p.targets.push_back(static_cast<int>(i));
  }
  return p;
}

std::string p2p_heading(const PciView &view) {
  return fmt::format("P2PDMA map types (calc_map_type_and_dist), ACS {} by the kernel\n",
                     view.acs_requested ? "enabled" : "not enabled");
}

// One cell of the matrix: short enough that eight GPUs fit a terminal's width.
std::string matrix_cell(const TopologyConfig &topo, const Hierarchy &h, const P2pVerdict &v,
                        int initiator, int target) {
  auto id = [&](int c) { return topo.components[static_cast<std::size_t>(c)].id; };
  int root_i = h.root_of[static_cast<std::size_t>(initiator)];
  int root_t = h.root_of[static_cast<std::size_t>(target)];
  switch (v.type) {
  case P2pMapType::BusAddr:
    return "B:" + id(common_upstream(h, initiator, target));
  case P2pMapType::ThruHostBridge:
    if (root_i == root_t)
      return "H:" + id(root_i);
    return fmt::format("H:{}{}{}", id(root_i), topo.sockets_joined(root_i, root_t) ? ">" : "|",
                       id(root_t));
  case P2pMapType::NotSupported:
    return "NO";
  }
  return "?";
}

const char *const kP2pLegend =
    "B:x      BUS_ADDR: peer to peer, the traffic turns at switch x\n"
    "H:r      THRU_HOST_BRIDGE: through root complex r\n"
    "H:r>s    THRU_HOST_BRIDGE: from r over the inter-socket link to s\n"
    "H:r|s    THRU_HOST_BRIDGE, but r and s are not joined: unreachable\n"
    "NO       NOT_SUPPORTED by the kernel (reasons below)\n"
    "-        the initiator's own memory\n";

} // namespace

std::string p2p_matrix(const TopologyConfig &topo, const Hierarchy &h) {
  P2pPairs p = p2p_pairs(topo, h);
  auto id = [&](int c) -> const std::string & {
    return topo.components[static_cast<std::size_t>(c)].id;
  };
  std::vector<std::vector<std::string>> cells(p.initiators.size());
  std::vector<std::size_t> width(p.targets.size() + 1, 0);
  width[0] = std::string("initiator").size();
  std::set<std::string> refusals;
  for (std::size_t r = 0; r < p.initiators.size(); ++r) {
    width[0] = std::max(width[0], id(p.initiators[r]).size());
    for (std::size_t c = 0; c < p.targets.size(); ++c) {
      std::string cell = "-";
      if (p.initiators[r] != p.targets[c]) {
        P2pVerdict v = p2p_verdict(p.view, topo, p.targets[c], p.initiators[r]);
        cell = matrix_cell(topo, h, v, p.initiators[r], p.targets[c]);
        if (v.type == P2pMapType::NotSupported)
          refusals.insert(v.reason);
      }
      width[c + 1] = std::max({width[c + 1], cell.size(), id(p.targets[c]).size()});
      cells[r].push_back(cell);
    }
  }
  std::string out =
      p2p_heading(p.view) + "rows: DMA initiators; columns: their target's memory\n\n";
  auto row = [&](const std::string &first, auto &&cell) {
    std::string line = fmt::format("{:<{}}", first, width[0]);
    for (std::size_t c = 0; c < p.targets.size(); ++c)
      line += fmt::format("  {:<{}}", cell(c), width[c + 1]);
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  };
  row("initiator", [&](std::size_t c) { return id(p.targets[c]); });
  for (std::size_t r = 0; r < p.initiators.size(); ++r)
    row(id(p.initiators[r]), [&](std::size_t c) { return cells[r][c]; });
  out += std::string("\n") + kP2pLegend;
  for (const std::string &reason : refusals)
    out += "NO: " + reason + "\n";
  out += "(--p2p --list: every pair's distance and the kernel's reason)\n";
  return out;
}

std::string p2p_list(const TopologyConfig &topo, const Hierarchy &h) {
  P2pPairs p = p2p_pairs(topo, h);
  std::string out = p2p_heading(p.view);
  out += fmt::format("{:<12} {:<12} {:<17} {:>8}  {}\n", "target", "initiator", "map type",
                     "distance", "why");
  for (int target : p.targets)
    for (int initiator : p.initiators) {
      if (initiator == target)
        continue;
      P2pVerdict v = p2p_verdict(p.view, topo, target, initiator);
      out += fmt::format("{:<12} {:<12} {:<17} {:>8}  {}\n",
                         topo.components[static_cast<std::size_t>(target)].id,
                         topo.components[static_cast<std::size_t>(initiator)].id,
                         map_type_name(v.type), v.distance, v.reason);
    }
  return out;
}

} // namespace pciesim
