// Linux's PCI peer-to-peer DMA decision (drivers/pci/p2pdma.c, calc_map_type_and_dist) as a
// pure function of a PCI tree, its ACS control bits and the host bridges' CPU identity; plus
// what the kernel programs into a port's ACS Control register. No SystemC: the topology
// builder describes the tree as the kernel would see it after enumeration, and the models use
// the verdict to decide whether peer traffic stays in a switch or goes to the root complex.
// Sources: Linux drivers/pci/p2pdma.c (calc_map_type_and_dist, cpu_supports_p2pdma,
// pci_p2pdma_whitelist) and drivers/pci/pci.c (pci_std_enable_acs); docs/models.md, "ACS and
// the p2pdma decision".
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "models/pcie/host_bridge.h"
#include "models/pcie/routing.h"

namespace pciesim {

// enum pci_p2pdma_map_type, without the kernel-internal UNKNOWN and NONE.
enum class P2pMapType {
  BusAddr,        // peers talk through a switch; DMA uses PCI bus addresses, bypasses the IOMMU
  ThruHostBridge, // traffic goes up to the root complex; normal (IOVA or physical) mapping
  NotSupported,   // dma_map fails with -EREMOTEIO
};
std::string map_type_name(P2pMapType type); // "BUS_ADDR", "THRU_HOST_BRIDGE", "NOT_SUPPORTED"

// The ACS Capability register: which of the controls a port implements.
struct AcsCapability {
  bool source_validation = false;
  bool request_redirect = false;
  bool completion_redirect = false;
  bool upstream_forwarding = false;
  bool egress_control = false;
  bool direct_translated = false;
};

// Inputs of the kernel's ACS set-up for one port (pci_enable_acs and the pci= options).
struct KernelAcsPolicy {
  bool iommu_enabled = false;              // pci_request_acs() was called
  bool disabled_redirect = false;          // port listed in pci=disable_acs_redir=
  bool firmware_direct_translated = false; // firmware left DT set (the kernel never sets it)
};

// ACS Control after boot: an IOMMU makes pci_std_enable_acs set SV, RR, CR and UF where the
// port implements them (never EC or DT); disable_acs_redir then clears RR, CR and EC; DT is
// whatever firmware left, if implemented. Translation Blocking (external-facing, untrusted
// or pci=noats ports) is not modelled.
AcsControl kernel_acs_control(const AcsCapability &capability, const KernelAcsPolicy &policy);

// A PCI function or bridge as the kernel sees it. `upstream` is the index of
// pci_upstream_bridge(): -1 when the node sits on a root bus (root ports, root-complex
// integrated endpoints). `host_bridge` indexes PciTree::host_bridges. `is_bridge` is for
// the reader only: the kernel checks the ACS of every function on the path, bridge or not
// (an endpoint function may implement ACS too).
struct PciNode {
  std::string name;
  int upstream = -1;
  int host_bridge = 0;
  bool is_bridge = false;
  bool has_acs_capability = false;
  AcsControl acs;
};

struct HostBridge {
  std::string name;
  HostCpu cpu = HostCpu::Other;
};

struct PciTree {
  std::vector<PciNode> nodes;
  std::vector<HostBridge> host_bridges;
};

struct P2pVerdict {
  P2pMapType type = P2pMapType::NotSupported;
  int distance = 0;          // dist_a + dist_b, as the kernel computes it for every type
  bool acs_redirect = false; // a common upstream bridge exists but a redirect bit is on the path
  std::vector<int> redirecting_nodes; // nodes with RR|CR|EC, provider side first
  std::string reason;                 // one line for reports and logs
};

// pci_p2pdma_distance(): the distance, or -1 when the pair cannot do P2P.
inline int p2pdma_distance(const P2pVerdict &verdict) {
  return verdict.type == P2pMapType::NotSupported ? -1 : verdict.distance;
}

// The kernel's pci_bridge_has_acs_redir(): RR, CR or EC enabled (UF and DT are not checked).
bool has_acs_redirect(const PciNode &node);

// calc_map_type_and_dist(provider, client). Throws std::out_of_range for a bad index and
// std::logic_error for an upstream cycle.
P2pVerdict calc_map_type_and_dist(const PciTree &tree, int provider, int client);

// The per-provider xarray of map types: a verdict is computed on first use of a pair and kept.
// The tree must outlive the cache; call clear() after changing its ACS bits.
class P2pDistanceCache {
public:
  explicit P2pDistanceCache(const PciTree &tree) : tree_(&tree) {}

  const P2pVerdict &get(int provider, int client);
  std::size_t computations() const { return computations_; }
  void clear() { verdicts_.clear(); }

private:
  const PciTree *tree_;
  std::map<std::pair<int, int>, P2pVerdict> verdicts_;
  std::size_t computations_ = 0;
};

} // namespace pciesim
