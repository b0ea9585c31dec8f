#include "sim/enumeration.h"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

namespace pciesim {
namespace {

constexpr std::uint64_t kWindowGranule = 1ull << 20; // bridge memory windows: 1 MiB

std::uint64_t align_up(std::uint64_t v, std::uint64_t a) { return (v + a - 1) / a * a; }

// A set of resources packed into one range: largest alignment first, then in order.
struct Packing {
  std::uint64_t size = 0;
  std::uint64_t align = 1;
  std::vector<std::uint64_t> offsets; // per resource, in the caller's order
};

struct Resource {
  std::uint64_t size, align;
};

Packing pack(const std::vector<Resource> &items) {
  Packing p;
  p.offsets.assign(items.size(), 0);
  std::vector<std::size_t> order(items.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return items[a].align > items[b].align; });
  std::uint64_t offset = 0;
  for (std::size_t i : order) {
    offset = align_up(offset, items[i].align);
    p.offsets[i] = offset;
    offset += items[i].size;
    p.align = std::max(p.align, items[i].align);
  }
  p.size = offset;
  return p;
}

class Enumerator {
public:
  Enumerator(const TopologyConfig &t, const Hierarchy &h) : topo_(t), h_(h) {
    e_.components.resize(t.components.size());
    for (std::size_t i = 0; i < t.components.size(); ++i) {
      const ComponentConfig &c = t.components[i];
      if (c.type->role != ComponentRole::Memory)
        e_.components[i].ports.resize(static_cast<std::size_t>(c.port_count()));
    }
  }

  Enumeration run() {
    number_buses();
    place_memory_and_mmio();
    return std::move(e_);
  }

private:
  void check_bus(int bus) {
    if (bus > 255)
      throw InputError(topo_.file, topo_.root_pointer + "/components",
                       "the hierarchy needs more than 256 bus numbers", "at most 256 buses");
  }

  void number_buses() {
    for (std::size_t r = 0; r < topo_.components.size(); ++r) {
      if (topo_.components[r].type->role != ComponentRole::RootComplex)
        continue;
      ComponentAddressing &rc = e_.components[r];
      rc.root_bus = next_bus_++;
      check_bus(rc.root_bus);
      rc.bdf = Bdf{static_cast<std::uint8_t>(rc.root_bus), 0, 0};
      for (std::size_t p = 0; p < rc.ports.size(); ++p)
        rc.ports[p].bdf =
            Bdf{static_cast<std::uint8_t>(rc.root_bus), static_cast<std::uint8_t>(p + 1), 0};
      for (int child : h_.children[r])
        bridge_down(
            rc.ports[static_cast<std::size_t>(h_.parent_port[static_cast<std::size_t>(child)])],
            child);
    }
    e_.buses_used = next_bus_;
  }

  // Gives a bridge its secondary bus, numbers everything below it, closes its range.
  void bridge_down(Bridge &bridge, int child) {
    bridge.buses.secondary = next_bus_++;
    check_bus(bridge.buses.secondary);
    number_component(child, bridge.buses.secondary);
    bridge.buses.subordinate = next_bus_ - 1;
  }

  void number_component(int v, int bus) {
    ComponentAddressing &a = e_.components[static_cast<std::size_t>(v)];
    a.bdf = Bdf{static_cast<std::uint8_t>(bus), 0, 0};
    if (topo_.components[static_cast<std::size_t>(v)].type->role != ComponentRole::Switch)
      return;
    // The upstream port's secondary bus is the switch's internal bus; downstream ports are
    // devices 0..N-1 on it.
    Bridge &up = a.ports[0];
    up.bdf = a.bdf;
    up.buses.secondary = next_bus_++;
    check_bus(up.buses.secondary);
    for (std::size_t p = 1; p < a.ports.size(); ++p)
      a.ports[p].bdf =
          Bdf{static_cast<std::uint8_t>(up.buses.secondary), static_cast<std::uint8_t>(p - 1), 0};
    for (int child : h_.children[static_cast<std::size_t>(v)])
      bridge_down(
          a.ports[static_cast<std::size_t>(h_.parent_port[static_cast<std::size_t>(child)])],
          child);
    up.buses.subordinate = next_bus_ - 1;
  }

  // Resources a component asks of the bridge above it: BARs, or its ports' windows.
  std::vector<Resource> resources_of(int v) {
    std::vector<Resource> items;
    const ComponentConfig &c = topo_.components[static_cast<std::size_t>(v)];
    if (c.type->role == ComponentRole::Endpoint) {
      for (Bytes size : c.type->bars(c.params))
        items.push_back({size.count, size.count});
    } else if (c.type->role == ComponentRole::Switch) {
      for (int child : h_.children[static_cast<std::size_t>(v)])
        items.push_back(window_need(child));
    }
    return items;
  }

  // The window a bridge needs to hold `child` and everything below it.
  Resource window_need(int child) {
    Packing p = pack(resources_of(child));
    if (p.size == 0)
      return {0, kWindowGranule};
    return {align_up(p.size, kWindowGranule), std::max(p.align, kWindowGranule)};
  }

  void place(int v, std::uint64_t base) {
    std::vector<Resource> items = resources_of(v);
    Packing p = pack(items);
    ComponentAddressing &a = e_.components[static_cast<std::size_t>(v)];
    const ComponentConfig &c = topo_.components[static_cast<std::size_t>(v)];
    if (c.type->role == ComponentRole::Endpoint) {
      for (std::size_t i = 0; i < items.size(); ++i)
        a.bars.push_back(Bar{static_cast<int>(i), base + p.offsets[i], items[i].size});
      return;
    }
    if (c.type->role != ComponentRole::Switch)
      return;
    if (p.size)
      a.ports[0].window = AddressWindow{base, base + align_up(p.size, kWindowGranule) - 1};
    const auto &kids = h_.children[static_cast<std::size_t>(v)];
    for (std::size_t i = 0; i < kids.size(); ++i) {
      Bridge &port =
          a.ports[static_cast<std::size_t>(h_.parent_port[static_cast<std::size_t>(kids[i])])];
      if (items[i].size == 0)
        continue;
      port.window = AddressWindow{base + p.offsets[i], base + p.offsets[i] + items[i].size - 1};
      place(kids[i], base + p.offsets[i]);
    }
  }

  void place_memory_and_mmio() {
    std::uint64_t memory_top = 0;
    for (std::size_t r = 0; r < topo_.components.size(); ++r) {
      if (topo_.components[r].type->role != ComponentRole::RootComplex)
        continue;
      ComponentAddressing &rc = e_.components[r];
      rc.memory_base = memory_top;
      for (const ComponentConfig &m : topo_.components)
        if (m.memory_of_root == static_cast<int>(r))
          rc.memory_size = m.params.bytes("size").count;
      memory_top += rc.memory_size;
    }
    std::uint64_t cursor = memory_top;
    for (std::size_t r = 0; r < topo_.components.size(); ++r) {
      const ComponentConfig &c = topo_.components[r];
      if (c.type->role != ComponentRole::RootComplex)
        continue;
      ComponentAddressing &rc = e_.components[r];
      std::uint64_t aperture = c.params.bytes("mmio_size").count;
      rc.mmio_base = align_up(std::max<std::uint64_t>(cursor, 1), aperture);
      rc.mmio_limit = rc.mmio_base + aperture - 1;
      cursor = rc.mmio_limit + 1;
      std::vector<Resource> windows;
      const auto &kids = h_.children[r];
      for (int child : kids)
        windows.push_back(window_need(child));
      Packing p = pack(windows);
      if (p.size > aperture)
        throw InputError(topo_.file, c.pointer + "/params/mmio_size",
                         fmt::format("the BARs below root complex \"{}\" need {} of MMIO space "
                                     "but its aperture is {}",
                                     c.id, format_bytes(Bytes{p.size}),
                                     format_bytes(Bytes{aperture})),
                         fmt::format("an mmio_size of at least {}", format_bytes(Bytes{p.size})));
      for (std::size_t i = 0; i < kids.size(); ++i) {
        if (windows[i].size == 0)
          continue;
        Bridge &port =
            rc.ports[static_cast<std::size_t>(h_.parent_port[static_cast<std::size_t>(kids[i])])];
        std::uint64_t base = rc.mmio_base + p.offsets[i];
        port.window = AddressWindow{base, base + windows[i].size - 1};
        place(kids[i], base);
      }
    }
  }

  const TopologyConfig &topo_;
  const Hierarchy &h_;
  Enumeration e_;
  int next_bus_ = 0;
};

} // namespace

Enumeration enumerate(const TopologyConfig &topology, const Hierarchy &hierarchy) {
  return Enumerator(topology, hierarchy).run();
}

RoutingTable routing_for(const Enumeration &e, const TopologyConfig &topology, int component) {
  RoutingTable table;
  const ComponentConfig &c = topology.components[static_cast<std::size_t>(component)];
  const ComponentAddressing &a = e.components[static_cast<std::size_t>(component)];
  std::size_t first = c.type->role == ComponentRole::Switch ? 1 : 0;
  for (std::size_t p = first; p < a.ports.size(); ++p)
    table.add(PortRoute{static_cast<int>(p), a.ports[p].window, a.ports[p].buses});
  return table;
}

std::string format_bdf(const Bdf &bdf) {
  return fmt::format("{:02x}:{:02x}.{}", bdf.bus, bdf.device, bdf.function);
}

} // namespace pciesim
