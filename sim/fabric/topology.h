// A topology file loaded, checked and shaped as a hierarchy: plain structs with every
// parameter resolved, plus a Boost.Graph of components (vertices) and links (edges) oriented
// from each root complex downwards.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/graph/adjacency_list.hpp>

#include "models/pcie/link.h"
#include "sim/config/component_catalog.h"
#include "sim/config/json_input.h"
#include "sim/config/platform.h"
#include "sim/fabric/pci_address.h"

namespace pciesim {

struct ComponentConfig {
  std::string id;
  const ComponentType *type = nullptr;
  ParamSet params;
  std::string pointer;           // of the component object
  int memory_of_root = -1;       // host_memory: index of its root complex
  std::vector<int> joined_roots; // inter_socket_link: the two root complexes it joins
  // The platform whose values replaced the defaults: a root complex's `platform`, inherited
  // by its host memory and inter-socket link.
  std::shared_ptr<const PlatformProfile> platform;
  // An endpoint's `device` file, whose values replaced its type's defaults.
  std::shared_ptr<const PlatformProfile> device;
  // Optional addresses from a real machine (`pci_address`, `port_addresses`): the host bridge,
  // switch upstream port or endpoint function, and each root port or downstream port in order.
  // The enumeration takes their bus, device and function numbers instead of numbering freely.
  std::optional<PciAddress> pci_address;
  std::vector<PciAddress> port_addresses;
  int port_count() const;
  // A port that links down, away from the root complex: every root port and switch downstream
  // port (a switch's port 0 is its upstream port).
  bool port_faces_down(int port) const;
};

// The lane counts a PCIe link may train to.
inline constexpr int kLegalLinkWidths[] = {1, 2, 4, 8, 12, 16, 32};

struct PortRef {
  int component = -1;
  int port = -1;
  std::string text; // as written, e.g. "sw0.dp1"
};

struct LinkConfig {
  PortRef a, b;
  ParamSet params;
  std::string pointer;
};

// What the topology says about the kernel's PCI set-up (Linux drivers/pci/pci.c,
// pci_enable_acs; the pci=disable_acs_redir= kernel parameter).
struct KernelConfig {
  // pci=disable_acs_redir=...: ports whose ACS RR, CR and EC the kernel clears.
  std::vector<PortRef> disable_acs_redir;
  // When the kernel enables ACS on capable ports: "when_iommu_on" (upstream: an IOMMU
  // driver calls pci_request_acs), "when_translating" (only a translating IOMMU), "always",
  // "never".
  std::string request_acs = "when_iommu_on";
};

struct TopologyConfig {
  std::string file;
  // JSON pointer of the topology object within `file`: "" for a topology file, "/topology"
  // for one inline in a scenario. Errors found after loading (hierarchy, enumeration) put it
  // in front of their pointers so that they name the place in the file the user wrote.
  std::string root_pointer;
  std::string name;
  std::string description;
  std::optional<Bytes> mps; // fabric-wide Max_Payload_Size; default: lowest supported
  std::vector<ComponentConfig> components;
  std::vector<LinkConfig> links;
  KernelConfig kernel;

  int find(const std::string &id) const; // -1 if absent; O(1) on average
  // The inter_socket_link joining root complex `root` to another, or -1.
  int socket_link_of(int root) const;
  // The host_memory of root complex `root` (at most one: loading refuses a second), or -1.
  int memory_of(int root) const;
  // Whether root complexes `a` and `b` are the two ends of one inter_socket_link.
  bool sockets_joined(int a, int b) const;
  std::string port_name(int component, int port) const;

private:
  // id -> index of the first component with that id, extended with the components added since
  // the last lookup: ids are looked up once per component, link end and reference, so a linear
  // scan made loading quadratic in the component count.
  mutable std::unordered_map<std::string, int> index_of_id_;
  mutable std::size_t indexed_components_ = 0;
};

// Vertex = component, edge = link (index into TopologyConfig::links).
struct VertexProps {
  int component = -1;
};
struct EdgeProps {
  int link = -1;
};
using TopologyGraph =
    boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, VertexProps, EdgeProps>;

// The checked hierarchy: for every component its parent and the ports that join them.
struct Hierarchy {
  TopologyGraph graph;
  std::vector<int> parent;                // component index, -1 for root complexes and memories
  std::vector<int> parent_link;           // link index to the parent
  std::vector<int> upstream_port;         // this component's port toward the parent
  std::vector<int> parent_port;           // the parent's port toward this component
  std::vector<int> root_of;               // the root complex above (itself for a root complex)
  std::vector<std::vector<int>> children; // ordered by the parent's port index
  std::vector<TrainedLink> trained;       // per link
  std::uint32_t mps_bytes = 256;
};

// Loads and checks a topology document; throws InputError.
TopologyConfig load_topology(const Node &root);
Hierarchy build_hierarchy(const TopologyConfig &topology);
// The lowest component above both `a` and `b` (a switch or root complex), or -1.
int common_upstream(const Hierarchy &hierarchy, int a, int b);

// A topology given as a path (relative to `base_dir`) or inline object.
struct LoadedTopology {
  TopologyConfig config;
  Hierarchy hierarchy;
};
LoadedTopology load_topology_file(const std::string &path);

} // namespace pciesim
