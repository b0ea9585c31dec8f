// The tree of a loaded topology: each component's parent, ports and root complex found by a
// walk down from every root complex, the fabric's MPS, and each link's trained shape.
#include <algorithm>
#include <queue>

#include <fmt/format.h>

#include "sim/fabric/topology.h"
#include "sim/util/input_error.h"

namespace pciesim {

int common_upstream(const Hierarchy &h, int a, int b) {
  for (int x = h.parent[static_cast<std::size_t>(a)]; x >= 0;
       x = h.parent[static_cast<std::size_t>(x)])
    for (int y = h.parent[static_cast<std::size_t>(b)]; y >= 0;
         y = h.parent[static_cast<std::size_t>(y)])
      if (x == y)
        return x;
  return -1;
}

Hierarchy build_hierarchy(const TopologyConfig &topo) {
  const std::size_t n = topo.components.size();
  Hierarchy h;
  h.graph = TopologyGraph(n);
  for (std::size_t i = 0; i < n; ++i)
    h.graph[i].component = static_cast<int>(i);
  for (std::size_t l = 0; l < topo.links.size(); ++l) {
    auto e = boost::add_edge(static_cast<std::size_t>(topo.links[l].a.component),
                             static_cast<std::size_t>(topo.links[l].b.component), h.graph);
    h.graph[e.first].link = static_cast<int>(l);
  }
  h.parent.assign(n, -1);
  h.parent_link.assign(n, -1);
  h.upstream_port.assign(n, -1);
  h.parent_port.assign(n, -1);
  h.root_of.assign(n, -1);
  h.children.assign(n, {});
  std::vector<bool> seen(n, false);
  std::vector<bool> link_seen(topo.links.size(), false);
  auto fail_at = [&](const std::string &pointer, const std::string &problem,
                     const std::string &expected) {
    throw InputError(topo.file, pointer, problem, expected);
  };
  bool any_root = false;
  for (std::size_t r = 0; r < n; ++r) {
    if (topo.components[r].type->role != ComponentRole::RootComplex)
      continue;
    any_root = true;
    seen[r] = true;
    h.root_of[r] = static_cast<int>(r);
    std::queue<std::size_t> frontier;
    frontier.push(r);
    while (!frontier.empty()) {
      std::size_t v = frontier.front();
      frontier.pop();
      // Visit links in file order so numbering is deterministic.
      std::vector<int> incident;
      for (auto [it, end] = boost::out_edges(v, h.graph); it != end; ++it)
        incident.push_back(h.graph[*it].link);
      std::sort(incident.begin(), incident.end());
      for (int l : incident) {
        if (link_seen[static_cast<std::size_t>(l)])
          continue;
        link_seen[static_cast<std::size_t>(l)] = true;
        const LinkConfig &link = topo.links[static_cast<std::size_t>(l)];
        bool v_is_a = link.a.component == static_cast<int>(v);
        const PortRef &here = v_is_a ? link.a : link.b;
        const PortRef &there = v_is_a ? link.b : link.a;
        std::size_t child = static_cast<std::size_t>(there.component);
        const ComponentConfig &parent_c = topo.components[v];
        const ComponentConfig &child_c = topo.components[child];
        if (child_c.type->role == ComponentRole::RootComplex)
          fail_at(link.pointer,
                  fmt::format("the link joins root complex \"{}\" below \"{}\"", child_c.id,
                              parent_c.id),
                  "root complexes only at the top of a hierarchy");
        if (seen[child])
          fail_at(link.pointer,
                  fmt::format("the link {} - {} closes a cycle (\"{}\" is already reached)",
                              link.a.text, link.b.text, child_c.id),
                  "a tree below each root complex");
        if (!parent_c.port_faces_down(here.port))
          fail_at(link.pointer,
                  fmt::format("\"{}\" faces its root complex but links down to \"{}\"", here.text,
                              child_c.id),
                  "a switch reaches its root complex through its \"up\" port");
        if (child_c.port_faces_down(there.port))
          fail_at(link.pointer,
                  fmt::format("\"{}\" is a downstream port but faces the root complex", there.text),
                  "the child end of a link to be an \"up\" port");
        seen[child] = true;
        h.parent[child] = static_cast<int>(v);
        h.parent_link[child] = l;
        h.upstream_port[child] = there.port;
        h.parent_port[child] = here.port;
        h.root_of[child] = static_cast<int>(r);
        h.children[v].push_back(static_cast<int>(child));
        frontier.push(child);
      }
    }
  }
  if (!any_root)
    fail_at(topo.root_pointer + "/components", "no root_complex", "at least one root complex");
  for (std::size_t i = 0; i < n; ++i) {
    const ComponentConfig &c = topo.components[i];
    if (c.type->role == ComponentRole::Memory) {
      h.root_of[i] = c.memory_of_root;
      continue;
    }
    if (c.type->role == ComponentRole::SocketLink)
      continue; // above both of its root complexes
    if (!seen[i])
      fail_at(c.pointer,
              fmt::format("{} \"{}\" is not reachable from any root complex", c.type->name, c.id),
              "a path of links up to a root complex");
  }
  for (std::size_t i = 0; i < n; ++i) {
    std::sort(h.children[i].begin(), h.children[i].end(), [&](int x, int y) {
      return h.parent_port[static_cast<std::size_t>(x)] <
             h.parent_port[static_cast<std::size_t>(y)];
    });
  }
  // MPS: the configured value, which every component must support, or the lowest supported.
  std::uint32_t lowest = 4096;
  for (const ComponentConfig &c : topo.components)
    if (has_pcie_ports(c.type->role))
      lowest = std::min<std::uint32_t>(
          lowest, static_cast<std::uint32_t>(c.params.bytes("max_payload_supported").count));
  h.mps_bytes = lowest;
  if (topo.mps) {
    for (const ComponentConfig &c : topo.components)
      if (has_pcie_ports(c.type->role) &&
          c.params.bytes("max_payload_supported").count < topo.mps->count)
        fail_at(topo.root_pointer + "/fabric/mps",
                fmt::format("MPS {} exceeds what \"{}\" supports ({})", format_bytes(*topo.mps),
                            c.id, format_bytes(c.params.bytes("max_payload_supported"))),
                "an MPS every component supports");
    h.mps_bytes = static_cast<std::uint32_t>(topo.mps->count);
  }
  // A root complex's completion_max (0 = MPS) can only be checked once the MPS is known: a
  // completion over MPS is malformed, and one that is not a multiple of the RCB would end
  // between RCB boundaries mid-transfer.
  for (const ComponentConfig &c : topo.components) {
    if (c.type->role != ComponentRole::RootComplex)
      continue;
    Bytes cmax = c.params.bytes("completion_max");
    Bytes rcb = c.params.bytes("read_completion_boundary");
    std::string expected = fmt::format("0 B (= MPS) or a multiple of {} up to {}",
                                       format_bytes(rcb), format_bytes(Bytes{h.mps_bytes}));
    if (cmax.count > h.mps_bytes)
      fail_at(c.pointer + "/params/completion_max",
              fmt::format("completion_max {} exceeds the fabric's MPS ({})", format_bytes(cmax),
                          format_bytes(Bytes{h.mps_bytes})),
              expected);
    if (cmax.count % rcb.count != 0)
      fail_at(
          c.pointer + "/params/completion_max",
          fmt::format("completion_max {} is not a multiple of the read_completion_boundary ({})",
                      format_bytes(cmax), format_bytes(rcb)),
          expected);
  }
  // Training: each link settles on the lowest generation and narrowest width of both ends.
  for (const LinkConfig &link : topo.links) {
    LinkParams lp = LinkParams::from(link.params);
    const ParamSet &a = topo.components[static_cast<std::size_t>(link.a.component)].params;
    const ParamSet &b = topo.components[static_cast<std::size_t>(link.b.component)].params;
    TrainedLink t;
    t.shape.generation = static_cast<int>(std::min(
        {static_cast<std::int64_t>(lp.generation), a.integer("max_gen"), b.integer("max_gen")}));
    std::int64_t width = std::min(
        {static_cast<std::int64_t>(lp.width), a.integer("max_width"), b.integer("max_width")});
    // A link trains to the widest legal width not above every end's limit.
    std::int64_t legal = 1;
    for (int w : kLegalLinkWidths)
      if (w <= width)
        legal = w;
    t.shape.width = static_cast<int>(legal);
    t.shape.mps_bytes = h.mps_bytes;
    t.flight_latency = lp.flight_latency;
    t.overheads = lp.overheads;
    // A link loses what its costlier end's data link layer sends.
    if (a.choice("dllp_interval_unit") == "byte" || b.choice("dllp_interval_unit") == "byte")
      t.overheads.dllp_interval_unit = DllpIntervalUnit::byte;
    h.trained.push_back(t);
  }
  return h;
}

} // namespace pciesim
