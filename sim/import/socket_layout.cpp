#include "sim/import/socket_layout.h"

#include <algorithm>
#include <iterator>
#include <set>

#include <fmt/format.h>

#include "sim/import/host_platform.h"
#include "sim/util/input_error.h"

namespace pciesim {
namespace {

// The NUMA node of a function, or of the first function below it that has one.
std::optional<int> numa_below(const PciInventory &inventory,
                              const std::vector<std::vector<int>> &children, int i) {
  const PciFunctionInfo &f = inventory.functions[static_cast<std::size_t>(i)];
  if (f.numa_node && *f.numa_node >= 0)
    return f.numa_node;
  for (int child : children[static_cast<std::size_t>(i)])
    if (auto n = numa_below(inventory, children, child))
      return n;
  return std::nullopt;
}

std::string hex_list(const std::vector<int> &buses) {
  std::string text;
  for (int bus : buses)
    text += fmt::format("{}{:02x}", text.empty() ? "" : ", ", bus);
  return text;
}

} // namespace

int SocketLayout::socket_of_bus(int bus) const {
  if (uncore_buses.size() == 2)
    return bus <= uncore_buses[0] ? 0 : 1;
  const auto rank = std::distance(root_buses.begin(),
                                  std::upper_bound(root_buses.begin(), root_buses.end(), bus)) -
                    1;
  return static_cast<int>(std::max<long>(0, rank) * 2 /
                          std::max<long>(1, static_cast<long>(root_buses.size())));
}

SocketLayout find_socket_layout(const PciInventory &inventory, const std::vector<int> &tops,
                                const std::vector<std::vector<int>> &children,
                                std::optional<int> forced_sockets,
                                std::vector<std::string> &guesses) {
  SocketLayout layout;
  const bool nccl = inventory.format == "nccl-topology";
  bool warned_socket_by_bus = false;
  // NUMA nodes the dump names, in order.
  std::set<int> nodes;
  for (const PciFunctionInfo &f : inventory.functions)
    if (f.numa_node && *f.numa_node >= 0)
      nodes.insert(*f.numa_node);
  std::vector<int> root_buses = inventory.root_buses;
  for (const PciFunctionInfo &f : inventory.functions)
    if (f.parent < 0 && f.address.segment == 0)
      root_buses.push_back(f.address.bdf.bus);
  std::sort(root_buses.begin(), root_buses.end());
  root_buses.erase(std::unique(root_buses.begin(), root_buses.end()), root_buses.end());
  layout.root_buses = root_buses;

  std::string how;
  if (forced_sockets) {
    layout.sockets = *forced_sockets;
    how = "given by --sockets";
  } else if (inventory.sockets) {
    layout.sockets = *inventory.sockets;
    how = "";
  } else if (nccl && !nodes.empty()) {
    layout.sockets = std::min<int>(2, static_cast<int>(nodes.size()));
    if (nodes.size() > 2)
      guesses.push_back(
          fmt::format("the dump has {} NUMA nodes (<cpu> elements): assumed 2 sockets with "
                      "the nodes split in order (pass --sockets to change)",
                      nodes.size()));
    else
      how = "one per <cpu> (NUMA node) of the dump";
  } else if (is_amd_host(inventory)) {
    layout.sockets = root_buses.size() >= 8 ? 2 : 1;
    guesses.push_back(
        fmt::format("sockets: {}, as AMD EPYC and Threadripper have 4 root buses per socket "
                    "and the dump has {} (a snapshot records them; or pass --sockets)",
                    layout.sockets, root_buses.size()));
  } else {
    // Intel Xeon E5 (and Core i7 -E) put each socket's uncore on a root bus of its own, the
    // last bus of the socket's range (3f, 7f, bf or ff) with no bridge on it.
    for (int bus : root_buses) {
      if ((bus & 0x3f) != 0x3f)
        continue;
      bool bridge = false;
      for (const PciFunctionInfo &f : inventory.functions)
        bridge |= f.parent < 0 && f.address.bdf.bus == bus && f.is_bridge();
      if (!bridge)
        layout.uncore_buses.push_back(bus);
    }
    layout.sockets = std::max<int>(1, static_cast<int>(layout.uncore_buses.size()));
    guesses.push_back(
        fmt::format("sockets: {}, {} (a snapshot records them; or pass --sockets)", layout.sockets,
                    layout.uncore_buses.size() >= 2
                        ? "one per Intel uncore bus (" + hex_list(layout.uncore_buses) + ")"
                        : std::string("as the dump names no second socket")));
  }
  if (layout.sockets < 1 || layout.sockets > 2)
    throw InputError(inventory.source, "",
                     fmt::format("the machine has {} sockets", layout.sockets),
                     "one or two sockets: pciesim joins at most two by an inter-socket link");
  if (!how.empty() && layout.sockets == 2)
    guesses.push_back(fmt::format("sockets: 2, {}", how));
  // Socket of each top-level port.
  for (int top : tops) {
    int socket = 0;
    if (layout.sockets == 2) {
      if (auto node = numa_below(inventory, children, top); node && !nodes.empty()) {
        const int rank = static_cast<int>(std::distance(nodes.begin(), nodes.find(*node)));
        socket = rank * 2 / static_cast<int>(nodes.size());
      } else {
        socket = layout.socket_of_bus(
            inventory.functions[static_cast<std::size_t>(top)].address.bdf.bus);
        if (!warned_socket_by_bus) {
          warned_socket_by_bus = true;
          guesses.push_back(
              layout.uncore_buses.size() == 2
                  ? "which socket each root port is on: the dump has no NUMA nodes, so "
                    "each socket's buses are those up to its uncore bus"
                  : "which socket each root port is on: the dump has no NUMA nodes, so the "
                    "lower half of the root buses is taken as socket 0");
        }
      }
    }
    layout.socket_of_top[top] = socket;
  }
  return layout;
}

} // namespace pciesim
