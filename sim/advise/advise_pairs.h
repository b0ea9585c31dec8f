// pciesim advise, the analysis: a topology as advise reads it, the device pairs of interest and
// how they relate, what blocks a better p2pdma map type, and the changes that would lift it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/iommu/iommu.h"
#include "models/os/p2pdma.h"
#include "sim/config/json_input.h"
#include "sim/fabric/enumeration.h"
#include "sim/fabric/pci_view.h"
#include "sim/fabric/topology.h"

namespace pciesim {

using OJson = nlohmann::ordered_json;

struct AdviseTopology {
  Json json;
  TopologyConfig config;
  Hierarchy hierarchy;
  Enumeration enumeration;
  PciView view;
};

// Loads, enumerates and schema-checks a topology document (InputError when it is bad).
AdviseTopology load_advise_topology(const std::shared_ptr<const JsonDocument> &doc);

// A change to the topology: a `--set topology:POINTER=VALUE` a user could give `run`.
struct AdviseOverride {
  std::string pointer;
  Json value;
};

// `base` with the overrides applied, loaded again (`file` names it in messages).
AdviseTopology topology_variant(const AdviseTopology &base, const std::string &file,
                                const std::vector<AdviseOverride> &overrides);

// The component at `index` of the topology.
const ComponentConfig &component_of(const TopologyConfig &t, int index);

// The kinds of pairs, by the initiator's and the target's component types.
struct AdvisePairKind {
  const char *name; // as --pairs takes it
  const char *initiator_type;
  const char *target_type;
  const char *what; // one phrase for the output
};

// The kind --pairs names, or nullptr.
const AdvisePairKind *pair_kind_named(const std::string &name);

// The kind of an initiator and a target, or nullptr when advise does not look at such a pair.
const AdvisePairKind *pair_kind_of(const TopologyConfig &t, int initiator, int target);

struct AdvisePair {
  const AdvisePairKind *kind = nullptr;
  int initiator = -1, target = -1;
};

// Where the two meet, as a class of path: what the time of a transfer depends on beyond the
// links' shapes.
enum class PairRelation { SameSwitch, SameRootComplex, OtherSocket, Unreachable };

PairRelation relation_of(const AdviseTopology &t, int initiator, int target);

// The components a request crosses in the tree (the ACS redirect aside), e.g.
// "nic4 > sw2 > rc1 > xsock > rc0 > sw0 > gpu0".
std::string tree_path(const AdviseTopology &t, int initiator, int target);

// The trained link of an endpoint to its parent, e.g. "Gen5 x16".
std::string endpoint_link(const AdviseTopology &t, int endpoint);

// The trained links of every hop from each end up to where the two meet: pairs whose hops
// differ (a narrower switch uplink, say) are simulated apart.
std::string path_links(const AdviseTopology &t, int initiator, int target);

// The PCI address of a PCI-tree node (a root port or switch port) as the kernel's pci= options
// take it, and its port name.
struct AdvisePort {
  std::string name;    // "sw0.dp1"
  std::string address; // "0000:03:01.0"
  int component = -1;
  int port = -1;
  // The port belongs to a real machine's component (it has a `pci_address`, as `pciesim import`
  // writes) whose port addresses the dump did not give (NCCL's leaves them out): its address
  // is pciesim's numbering, which may not be the machine's.
  bool address_guessed = false;
};

// The root complexes' component indices, in topology order.
std::vector<int> root_complexes(const TopologyConfig &t);

// The IOMMU mode of root complex `root` (its `iommu` parameter).
IommuMode iommu_of(const TopologyConfig &t, int root);

// A change and its variant of the topology.
struct AdviseChange {
  std::string kind;             // disable_acs_redir, ats_direct_translated, iommu_pt, ...
  std::string label;            // short, for the table
  std::string change;           // what to do, in full
  std::string kernel_parameter; // empty when no kernel parameter does it
  std::string note;             // what it costs or why it works
  std::vector<AdviseOverride> overrides;
  // The mechanism the variant runs instead of the usual one (empty: p2p_dma_api, or bounce where
  // p2pdma refuses the pair): vendor_peer keeps the topology and changes the mapping.
  std::string mechanism;
  // Filled in from the variant:
  std::string map_type_after;
  std::string data_path_after;
  std::size_t sim_job = SIZE_MAX;
  std::string unavailable; // why the variant could not be made
};

struct AdviseBlocker {
  std::string kind, label, detail;
};

struct AdviseGroup {
  std::vector<AdvisePair> pairs; // the first is simulated
  P2pVerdict verdict;
  PairRelation relation = PairRelation::SameSwitch;
  std::string path, links;
  std::vector<AdviseBlocker> blockers;
  std::vector<AdviseChange> changes;
  std::size_t sim_job_now = SIZE_MAX;
  std::string key;
};

// "sw0.dp0, sw0.dp1", or with `addresses` the kernel's "0000:03:00.0;0000:03:01.0" form.
std::string ports_list(const std::vector<AdvisePort> &ports, bool addresses);

// The ports with a redirect on the pair's path.
std::vector<AdvisePort> redirecting_ports(const AdviseTopology &t, const P2pVerdict &v);

// What keeps the pair from a better map type or a shorter path.
std::vector<AdviseBlocker> blockers_of(const AdviseTopology &t, const AdvisePair &p,
                                       const P2pVerdict &v, PairRelation relation);

// Where the pair's data goes under the verdict, in words.
std::string verdict_data_path(const AdviseTopology &t, const AdvisePair &p, const P2pVerdict &v);

// "POINTER=VALUE", as `--set topology:` takes it.
std::string overrides_text(const AdviseOverride &o);

// The changes for a group, from its first pair; the ACS ports are those of every pair.
std::vector<AdviseChange> changes_for(const AdviseTopology &t, AdviseGroup &g,
                                      const std::vector<std::vector<AdvisePort>> &member_ports);

} // namespace pciesim
