#include "sim/import/flat_listing.h"

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include <fmt/format.h>

#include "sim/import/lspci_text.h"
#include "sim/util/input_error.h"

namespace pciesim {
namespace {

const std::regex &group_header() {
  // "IOMMU Group 13:" alone, or "IOMMU Group 13 00:01.0 PCI bridge [0604]: …" on one line.
  static const std::regex header("^IOMMU [Gg]roup ([0-9]+):?(?:[ \t]+(.*))?$");
  return header;
}

std::string without_leading_blanks(const std::string &line) {
  const std::size_t first = line.find_first_not_of(" \t");
  return first == std::string::npos ? std::string() : line.substr(first);
}

constexpr std::uint32_t kPciBridgeClass = 0x0604; // base and sub-class (class_code >> 8)
constexpr std::uint32_t kHostBridgeClass = 0x0600;

std::uint32_t class_of(const PciFunctionInfo &f) { return f.class_code.value_or(0) >> 8; }

// A CPU's uncore registers (system peripherals, performance counters) sit on root buses of
// their own, with nothing else on them and nothing at device 00.
bool is_platform_device(const PciFunctionInfo &f) {
  const std::uint32_t base = class_of(f) >> 8;
  return f.class_code && (base == 0x08 || base == 0x11);
}

struct Walk {
  PciInventory &inventory;
  std::map<std::pair<int, int>, std::vector<int>> bridges_on_bus; // (segment, bus) -> functions
  std::vector<int> orphan_buses;                                  // ascending, per segment walked
  std::size_t next_orphan = 0;
  std::vector<std::string> placed; // "00:02.0 -> 01" for the note

  // Numbers the subtree of the bridges on `bus`; `last` is the highest bus numbered so far in
  // the subtree that `bus` heads.
  void number_below(int segment, int bus, bool root_bus, int &last) {
    auto it = bridges_on_bus.find({segment, bus});
    if (it == bridges_on_bus.end())
      return;
    for (int index : it->second) {
      if (next_orphan == orphan_buses.size())
        return;
      const int candidate = orphan_buses[next_orphan];
      if (candidate <= bus)
        return;
      if (!root_bus && candidate != last + 1)
        return; // a gap: this switch's remaining ports are empty
      PciFunctionInfo &bridge = inventory.functions[static_cast<std::size_t>(index)];
      ++next_orphan;
      bridge.secondary_bus = candidate;
      placed.push_back(fmt::format("{} -> {:02x}", format_bdf(bridge.address.bdf), candidate));
      last = candidate;
      number_below(segment, candidate, false, last);
      bridge.subordinate_bus = last;
    }
  }
};

} // namespace

bool looks_like_iommu_group_listing(const std::vector<std::string> &lines) {
  for (const std::string &line : lines)
    if (!line.empty())
      return std::regex_match(line, group_header());
  return false;
}

PciInventory read_iommu_group_listing(const std::vector<std::string> &lines,
                                      const std::string &file) {
  // The function lines, unindented, at their own line numbers; headers become blank lines.
  std::vector<std::string> functions(lines.size());
  std::set<int> groups;
  for (std::size_t index = 0; index < lines.size(); ++index) {
    std::string line = without_leading_blanks(lines[index]);
    std::smatch m;
    if (std::regex_match(line, m, group_header())) {
      groups.insert(std::stoi(m[1].str().substr(0, 9)));
      line = m[2].matched ? without_leading_blanks(m[2].str()) : std::string();
    }
    functions[index] = line;
  }
  PciInventory inventory;
  inventory.format = "iommu-groups";
  read_lspci_verbose(functions, file, inventory);
  if (inventory.functions.empty())
    throw InputError(file, "1", "an IOMMU-group listing without any PCI function",
                     "\"IOMMU Group N:\" followed by the group's `lspci -nns` lines");
  inventory.iommu_groups = static_cast<int>(groups.size());
  return inventory;
}

void infer_bus_hierarchy(PciInventory &inventory) {
  std::vector<PciFunctionInfo> &functions = inventory.functions;
  const bool any_unnumbered = std::any_of(functions.begin(), functions.end(), [](const auto &f) {
    return class_of(f) == kPciBridgeClass && !f.secondary_bus;
  });
  if (!any_unnumbered)
    return;
  // Buses in use, per segment, and what they hold.
  std::map<std::pair<int, int>, std::vector<int>> on_bus;
  for (std::size_t i = 0; i < functions.size(); ++i)
    on_bus[{functions[i].address.segment, functions[i].address.bdf.bus}].push_back(
        static_cast<int>(i));
  std::set<std::pair<int, int>> root_buses, below_known_bridge;
  std::set<int> lowest_seen_segment;
  for (const auto &[key, members] : on_bus) {
    if (lowest_seen_segment.insert(key.first).second) { // the segment's lowest bus
      root_buses.insert(key);
      continue;
    }
    bool host_bridge = false, platform_only = true, parent_known = false;
    for (int i : members) {
      const PciFunctionInfo &f = functions[static_cast<std::size_t>(i)];
      host_bridge |= class_of(f) == kHostBridgeClass;
      // An add-in card is device 00 of the bus below its port, whatever its class.
      platform_only &= is_platform_device(f) && f.address.bdf.device != 0;
      parent_known |= f.parent >= 0;
    }
    if (host_bridge || platform_only)
      root_buses.insert(key);
    else if (parent_known)
      below_known_bridge.insert(key);
  }
  for (const PciFunctionInfo &f : functions)
    if (f.secondary_bus && *f.secondary_bus >= 0)
      below_known_bridge.insert({f.address.segment, *f.secondary_bus});
  for (int bus : inventory.root_buses)
    root_buses.insert({0, bus});

  Walk walk{inventory, {}, {}, 0, {}};
  for (std::size_t i = 0; i < functions.size(); ++i)
    if (class_of(functions[i]) == kPciBridgeClass && !functions[i].secondary_bus)
      walk.bridges_on_bus[{functions[i].address.segment, functions[i].address.bdf.bus}].push_back(
          static_cast<int>(i));
  for (auto &[key, bridges] : walk.bridges_on_bus)
    std::sort(bridges.begin(), bridges.end(), [&](int a, int b) {
      return functions[static_cast<std::size_t>(a)].address.bdf.packed() <
             functions[static_cast<std::size_t>(b)].address.bdf.packed();
    });
  for (int segment : lowest_seen_segment) {
    std::vector<int> orphans;
    for (const auto &[key, members] : on_bus)
      if (key.first == segment && !root_buses.count(key) && !below_known_bridge.count(key))
        orphans.push_back(key.second);
    // A bridge whose bus numbers a verbose listing gave owns the buses up to its subordinate
    // one: they are numbered below it first (a switch behind a known root port).
    for (const PciFunctionInfo &known : functions) {
      const int secondary = known.secondary_bus.value_or(-1);
      const int subordinate = known.subordinate_bus.value_or(-1);
      if (known.address.segment != segment || secondary < 0 || subordinate <= secondary)
        continue;
      walk.orphan_buses.clear();
      for (int bus : orphans)
        if (bus > secondary && bus <= subordinate)
          walk.orphan_buses.push_back(bus);
      walk.next_orphan = 0;
      int last = secondary;
      walk.number_below(segment, secondary, false, last);
      const std::set<int> taken(walk.orphan_buses.begin(),
                                walk.orphan_buses.begin() +
                                    static_cast<std::ptrdiff_t>(walk.next_orphan));
      orphans.erase(std::remove_if(orphans.begin(), orphans.end(),
                                   [&](int bus) { return taken.count(bus) > 0; }),
                    orphans.end());
    }
    walk.orphan_buses = orphans;
    walk.next_orphan = 0;
    for (const auto &[key, members] : on_bus)
      if (key.first == segment && root_buses.count(key)) {
        int last = key.second;
        walk.number_below(segment, key.second, true, last);
      }
  }
  // Bridges with nothing placed below them: ports with no device (bus number unknown).
  int empty = 0;
  for (PciFunctionInfo &f : functions)
    if (class_of(f) == kPciBridgeClass && !f.secondary_bus) {
      f.secondary_bus = -1;
      ++empty;
    }
  inventory.place_below_numbered_bridges();
  std::string placed;
  for (const std::string &p : walk.placed)
    placed += (placed.empty() ? "" : ", ") + p;
  inventory.notes.push_back(fmt::format(
      "bridges' bus numbers not in the dump (a flat listing): the tree is guessed from a "
      "depth-first numbering, bridge -> bus below it: {}{}",
      placed.empty() ? "none" : placed,
      empty ? fmt::format("; {} bridge(s) with nothing below them", empty) : ""));
}

} // namespace pciesim
