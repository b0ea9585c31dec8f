#include "sim/fabric/enumeration.h"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

namespace pciesim {
namespace {

constexpr std::uint64_t kWindowGranule = 1ull << 20; // bridge memory windows: 1 MiB

std::uint64_t align_up(std::uint64_t v, std::uint64_t a) { return (v + a - 1) / a * a; }

// Address arithmetic on user-sized BARs, apertures and memories can exceed 64 bits (sizes go
// up to 2^63); these return false instead of wrapping around, which would silently overlap.
bool checked_add(std::uint64_t a, std::uint64_t b, std::uint64_t &out) {
  return !__builtin_add_overflow(a, b, &out);
}
bool checked_align_up(std::uint64_t v, std::uint64_t a, std::uint64_t &out) {
  std::uint64_t sum = 0;
  if (!checked_add(v, a - 1, sum))
    return false;
  out = sum / a * a;
  return true;
}

// A set of resources packed into one range: largest alignment first, then in order.
struct Packing {
  std::uint64_t size = 0;
  std::uint64_t align = 1;
  std::vector<std::uint64_t> offsets; // per resource, in the caller's order
  bool overflow = false;              // the packing needs more than 64 bits of address
};

struct Resource {
  std::uint64_t size, align;
  bool overflow = false; // a window whose contents did not fit in 64 bits
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
    if (items[i].overflow || !checked_align_up(offset, items[i].align, offset)) {
      p.overflow = true;
      return p;
    }
    p.offsets[i] = offset;
    if (!checked_add(offset, items[i].size, offset)) {
      p.overflow = true;
      return p;
    }
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
      if (has_pcie_ports(c.type->role))
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

  // The bus a component's `pci_address` (or a switch's `port_addresses`) gives, which firmware
  // numbering depth-first in port order must not have used yet; or the next free bus.
  int take_bus(std::optional<int> given, const std::string &pointer, const std::string &what) {
    if (!given) {
      check_bus(next_bus_);
      return next_bus_++;
    }
    if (*given < next_bus_)
      throw InputError(
          topo_.file, pointer,
          fmt::format("{} is on bus {:02x}, but buses up to {:02x} are already numbered "
                      "before it",
                      what, *given, next_bus_ - 1),
          "bus numbers that grow depth-first in port order, as firmware numbers them");
    next_bus_ = *given + 1;
    return *given;
  }

  static std::optional<int> given_bus(const std::optional<PciAddress> &address) {
    if (!address)
      return std::nullopt;
    return address->bdf.bus;
  }

  void number_buses() {
    for (std::size_t r = 0; r < topo_.components.size(); ++r) {
      if (topo_.components[r].type->role != ComponentRole::RootComplex)
        continue;
      ComponentAddressing &rc = e_.components[r];
      const ComponentConfig &c = topo_.components[r];
      rc.root_bus = take_bus(given_bus(c.pci_address), c.pointer + "/pci_address",
                             "root complex \"" + c.id + "\"");
      rc.bdf =
          c.pci_address ? c.pci_address->bdf : Bdf{static_cast<std::uint8_t>(rc.root_bus), 0, 0};
      for (std::size_t p = 0; p < rc.ports.size(); ++p)
        rc.ports[p].bdf = p < c.port_addresses.size() ? c.port_addresses[p].bdf
                                                      : Bdf{static_cast<std::uint8_t>(rc.root_bus),
                                                            static_cast<std::uint8_t>(p + 1), 0};
      for (int child : h_.children[r])
        bridge_down(
            rc.ports[static_cast<std::size_t>(h_.parent_port[static_cast<std::size_t>(child)])],
            child);
    }
    e_.buses_used = next_bus_;
  }

  // Gives a bridge its secondary bus, numbers everything below it, closes its range.
  void bridge_down(Bridge &bridge, int child) {
    const ComponentConfig &c = topo_.components[static_cast<std::size_t>(child)];
    bridge.buses.secondary =
        take_bus(given_bus(c.pci_address), c.pointer + "/pci_address", "\"" + c.id + "\"");
    number_component(child, bridge.buses.secondary);
    bridge.buses.subordinate = next_bus_ - 1;
  }

  void number_component(int v, int bus) {
    ComponentAddressing &a = e_.components[static_cast<std::size_t>(v)];
    const ComponentConfig &c = topo_.components[static_cast<std::size_t>(v)];
    a.bdf = Bdf{static_cast<std::uint8_t>(bus), 0, 0};
    if (c.pci_address)
      a.bdf = Bdf{static_cast<std::uint8_t>(bus), c.pci_address->bdf.device,
                  c.pci_address->bdf.function};
    if (c.type->role != ComponentRole::Switch)
      return;
    // The upstream port's secondary bus is the switch's internal bus; downstream ports are
    // devices 0..N-1 on it unless `port_addresses` says otherwise.
    Bridge &up = a.ports[0];
    up.bdf = a.bdf;
    std::optional<int> internal;
    if (!c.port_addresses.empty())
      internal = c.port_addresses.front().bdf.bus;
    up.buses.secondary = take_bus(internal, c.pointer + "/port_addresses/0",
                                  "the internal bus of switch \"" + c.id + "\"");
    for (std::size_t p = 1; p < a.ports.size(); ++p)
      a.ports[p].bdf = p - 1 < c.port_addresses.size()
                           ? c.port_addresses[p - 1].bdf
                           : Bdf{static_cast<std::uint8_t>(up.buses.secondary),
                                 static_cast<std::uint8_t>(p - 1), 0};
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
    std::uint64_t size = 0;
    if (p.overflow || !checked_align_up(p.size, kWindowGranule, size))
      return {0, kWindowGranule, true};
    if (p.size == 0)
      return {0, kWindowGranule};
    return {size, std::max(p.align, kWindowGranule)};
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

  // Where to point when the BARs below root complex `root` overflow 64 bits: the size
  // parameter of its largest BAR, the one that most needs to shrink.
  std::string largest_bar_pointer(int root) const {
    const ComponentConfig *owner = nullptr;
    std::uint64_t largest = 0;
    for (std::size_t i = 0; i < topo_.components.size(); ++i) {
      const ComponentConfig &c = topo_.components[i];
      if (h_.root_of[i] != root || c.type->role != ComponentRole::Endpoint)
        continue;
      for (Bytes size : c.type->bars(c.params))
        if (size.count > largest) {
          largest = size.count;
          owner = &c;
        }
    }
    if (!owner)
      return topo_.components[static_cast<std::size_t>(root)].pointer;
    // ComponentType::bars derives BAR sizes from the endpoint's own "bar*" size parameters.
    for (const ParamSpec &spec : owner->params.specs())
      if (spec.kind == ParamKind::size && spec.name.compare(0, 3, "bar") == 0 &&
          owner->params.bytes(spec.name).count == largest)
        return owner->pointer + "/params/" + spec.name;
    return owner->pointer + "/params";
  }

  void place_memory_and_mmio() {
    std::uint64_t memory_top = 0;
    for (std::size_t r = 0; r < topo_.components.size(); ++r) {
      if (topo_.components[r].type->role != ComponentRole::RootComplex)
        continue;
      ComponentAddressing &rc = e_.components[r];
      rc.memory_base = memory_top;
      for (const ComponentConfig &m : topo_.components) {
        if (m.memory_of_root != static_cast<int>(r))
          continue;
        rc.memory_size = m.params.bytes("size").count;
        if (!checked_add(memory_top, rc.memory_size, memory_top))
          throw InputError(topo_.file, m.pointer + "/params/size",
                           fmt::format("host memory \"{}\" of {} does not fit in the 64-bit "
                                       "address space above the {} of host memory before it",
                                       m.id, format_bytes(Bytes{rc.memory_size}),
                                       format_bytes(Bytes{rc.memory_base})),
                           "host memories that together fit in 64-bit addresses");
      }
    }
    std::uint64_t cursor = memory_top;
    bool address_space_left = true; // false once an aperture ends at the top of 64 bits
    for (std::size_t r = 0; r < topo_.components.size(); ++r) {
      const ComponentConfig &c = topo_.components[r];
      if (c.type->role != ComponentRole::RootComplex)
        continue;
      ComponentAddressing &rc = e_.components[r];
      std::uint64_t aperture = c.params.bytes("mmio_size").count;
      if (!address_space_left ||
          !checked_align_up(std::max<std::uint64_t>(cursor, 1), aperture, rc.mmio_base) ||
          rc.mmio_base > UINT64_MAX - (aperture - 1))
        throw InputError(
            topo_.file, c.pointer + "/params/mmio_size",
            fmt::format("the MMIO aperture of root complex \"{}\" ({}) does not fit in the "
                        "64-bit address space above host memory and earlier apertures{}",
                        c.id, format_bytes(Bytes{aperture}),
                        address_space_left ? fmt::format(" (which end at {:#x})", cursor)
                                           : std::string(" (which fill it)")),
            "host memory and MMIO apertures that together fit in 64-bit addresses");
      rc.mmio_limit = rc.mmio_base + (aperture - 1);
      address_space_left = rc.mmio_limit != UINT64_MAX;
      cursor = rc.mmio_limit + 1;
      std::vector<Resource> windows;
      const auto &kids = h_.children[r];
      for (int child : kids)
        windows.push_back(window_need(child));
      Packing p = pack(windows);
      if (p.overflow)
        throw InputError(topo_.file, largest_bar_pointer(static_cast<int>(r)),
                         fmt::format("the BARs and bridge windows below root complex \"{}\" need "
                                     "more than the 64-bit address space",
                                     c.id),
                         "BARs that together fit in 64-bit addresses");
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
    table.add(PortRoute{static_cast<int>(p), a.ports[p].window, a.ports[p].buses, AcsControl{}});
  return table;
}

} // namespace pciesim
