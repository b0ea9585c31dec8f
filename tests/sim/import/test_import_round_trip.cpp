// The round trip: every shipped topology, turned into the snapshot snapshot-machine.sh would
// take of such a machine (`pciesim topo --snapshot`) and imported again, gives the same
// topology: the same tree of components with the same addresses, links, BARs and windows
// (`pciesim topo`), and the same p2pdma verdict for every pair (`topo --p2p --list`). Ids may
// differ (the import names devices by type), so both sides name components by type and address.
#include <filesystem>
#include <map>

#include <gtest/gtest.h>

#include "sim/config/json_input.h"
#include "sim/fabric/enumeration.h"
#include "sim/fabric/topo_print.h"
#include "sim/import/snapshot_reader.h"
#include "sim/import/synthetic_snapshot.h"
#include "sim/import/topology_builder.h"

namespace pciesim {
namespace {

struct PrintedTopology {
  std::string tree, pairs;
};

// The topology's tree and p2p list with each id replaced by "<type>@<bus:dev.fn>".
PrintedTopology printed_by_address(const TopologyConfig &t, const Hierarchy &h,
                                   const Enumeration &e) {
  std::map<std::string, std::string> names;
  for (std::size_t i = 0; i < t.components.size(); ++i)
    names[t.components[i].id] = t.components[i].type->name + "@" + format_bdf(e.components[i].bdf);
  auto rename = [&](const std::string &text) {
    std::string out, word;
    auto flush = [&] {
      auto it = names.find(word);
      out += it == names.end() ? word : it->second;
      word.clear();
    };
    for (char c : text) {
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') {
        word += c;
        continue;
      }
      flush();
      out += c;
    }
    flush();
    return out;
  };
  std::string tree = format_topology_tree(t, h, e);
  tree.erase(0, tree.find('\n') + 1); // "topology NAME: ..." names the file
  return {rename(tree), rename(p2p_list(t, h))};
}

TEST(ImportRoundTrip, EveryShippedTopologyComesBackFromItsSnapshot) {
  int checked = 0;
  for (const auto &entry :
       std::filesystem::directory_iterator(std::string(PCIESIM_SOURCE_DIR) + "/topologies")) {
    const std::string path = entry.path().string();
    SCOPED_TRACE(path);
    LoadedTopology original = load_topology_file(path);
    Enumeration original_enumeration = enumerate(original.config, original.hierarchy);
    const std::string snapshot =
        synthetic_snapshot(original.config, original.hierarchy, original_enumeration).dump(2);

    PciInventory inventory = read_snapshot(Node::root(parse_json_text(snapshot, "snapshot.json")));
    ImportOptions options;
    options.name = original.config.name;
    ImportedTopology imported = build_imported_topology(inventory, options);
    TopologyConfig again =
        load_topology(Node::root(parse_json_text(imported.topology.dump(2), "imported.json")));
    Hierarchy again_hierarchy = build_hierarchy(again);
    Enumeration again_enumeration = enumerate(again, again_hierarchy);

    PrintedTopology before =
        printed_by_address(original.config, original.hierarchy, original_enumeration);
    PrintedTopology after = printed_by_address(again, again_hierarchy, again_enumeration);
    EXPECT_EQ(after.tree, before.tree);
    EXPECT_EQ(after.pairs, before.pairs);
    // What a dump tells of each device, parameter by parameter (the tree shows BAR sizes and
    // trained links; these are the rest).
    for (std::size_t i = 0; i < original.config.components.size(); ++i) {
      const ComponentConfig &c = original.config.components[i];
      const std::string name =
          c.type->name + "@" + format_bdf(original_enumeration.components[i].bdf);
      int match = -1;
      for (std::size_t k = 0; k < again.components.size(); ++k)
        if (again.components[k].type == c.type &&
            again_enumeration.components[k].bdf.packed() ==
                original_enumeration.components[i].bdf.packed() &&
            c.type->role != ComponentRole::Memory && c.type->role != ComponentRole::SocketLink)
          match = static_cast<int>(k);
      if (c.type->role == ComponentRole::Memory || c.type->role == ComponentRole::SocketLink)
        continue;
      ASSERT_GE(match, 0) << name;
      const nlohmann::ordered_json now =
          again.components[static_cast<std::size_t>(match)].params.to_json();
      const nlohmann::ordered_json was = c.params.to_json();
      for (const char *key :
           {"cpu", "iommu", "acs", "acs_direct_translated", "max_gen", "memory_size",
            "resizable_bar", "line_rate", "ats", "cmb", "downstream_ports", "root_ports"})
        if (was.contains(key)) {
          EXPECT_EQ(now.at(key), was.at(key)) << name << " " << key;
        }
    }
    ++checked;
  }
  EXPECT_GE(checked, 15);
}

} // namespace
} // namespace pciesim
