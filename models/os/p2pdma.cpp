#include "models/os/p2pdma.h"

#include <stdexcept>

#include <fmt/format.h>

namespace pciesim {
namespace {

// One entry of pci_p2pdma_whitelist[], or none.
struct AllowListEntry {
  bool listed = false;
  bool requires_same_host_bridge = false; // REQ_SAME_HOST_BRIDGE
};

AllowListEntry allow_list_entry(HostCpu cpu) {
  switch (cpu) {
  case HostCpu::IntelXeonE5:
  case HostCpu::IntelXeonE5v3:
    return {true, true};
  case HostCpu::IntelSkylakeE:
  case HostCpu::Google:
    return {true, false};
  case HostCpu::AmdZen: // AMD host bridges are not listed; the CPU check covers them
  case HostCpu::Other:
    return {false, false};
  }
  return {false, false};
}

const PciNode &node_at(const PciTree &tree, int index) {
  if (index < 0 || static_cast<std::size_t>(index) >= tree.nodes.size())
    throw std::out_of_range(fmt::format("PCI node index {} out of range", index));
  return tree.nodes[static_cast<std::size_t>(index)];
}

const HostBridge &host_bridge_of(const PciTree &tree, int node) {
  int index = node_at(tree, node).host_bridge;
  if (index < 0 || static_cast<std::size_t>(index) >= tree.host_bridges.size())
    throw std::out_of_range(fmt::format("host bridge index {} of PCI node {} out of range", index,
                                        node_at(tree, node).name));
  return tree.host_bridges[static_cast<std::size_t>(index)];
}

// The node and its pci_upstream_bridge() ancestors, nearest first. A chain longer than the
// tree means a malformed (cyclic) tree, which would make the kernel's walk loop forever.
std::vector<int> upstream_chain(const PciTree &tree, int node) {
  std::vector<int> chain;
  for (int n = node; n >= 0; n = node_at(tree, n).upstream) {
    if (chain.size() == tree.nodes.size())
      throw std::logic_error("PCI tree has an upstream cycle through " + node_at(tree, n).name);
    chain.push_back(n);
  }
  return chain;
}

std::string describe_bridge(const HostBridge &hb) {
  return fmt::format("{} ({})", hb.name, host_cpu_name(hb.cpu));
}

// cpu_supports_p2pdma() || host_bridge_whitelist(provider, client), with the reason.
// The kernel asks the boot CPU (cpu_data(0)); all root complexes of a machine share one CPU
// family, so the provider's host bridge stands for it.
bool host_bridge_allows(const PciTree &tree, int provider, int client, std::string &why) {
  const HostBridge &hb_provider = host_bridge_of(tree, provider);
  const HostBridge &hb_client = host_bridge_of(tree, client);
  if (hb_provider.cpu == HostCpu::AmdZen) {
    why =
        fmt::format("host bridge {} supports P2P (AMD Zen or later)", describe_bridge(hb_provider));
    return true;
  }
  AllowListEntry entry_provider = allow_list_entry(hb_provider.cpu);
  if (&hb_provider == &hb_client) {
    // Same host bridge: any listed entry passes, REQ_SAME_HOST_BRIDGE included.
    if (entry_provider.listed) {
      why = fmt::format("host bridge {} is on the P2PDMA allow-list", describe_bridge(hb_provider));
      return true;
    }
    why =
        fmt::format("host bridge {} is not on the P2PDMA allow-list", describe_bridge(hb_provider));
    return false;
  }
  AllowListEntry entry_client = allow_list_entry(hb_client.cpu);
  std::string both =
      fmt::format("host bridges {}, {}", describe_bridge(hb_provider), describe_bridge(hb_client));
  if (!entry_provider.listed || !entry_client.listed) {
    why = both + " are not both on the P2PDMA allow-list";
    return false;
  }
  if (entry_provider.requires_same_host_bridge || entry_client.requires_same_host_bridge) {
    why = both + " are allow-listed only within one host bridge";
    return false;
  }
  why = both + " are on the P2PDMA allow-list";
  return true;
}

std::string node_names(const PciTree &tree, const std::vector<int> &nodes) {
  std::string out;
  for (int n : nodes)
    out += (out.empty() ? "" : ", ") + node_at(tree, n).name;
  return out;
}

} // namespace

std::string map_type_name(P2pMapType type) {
  switch (type) {
  case P2pMapType::BusAddr:
    return "BUS_ADDR";
  case P2pMapType::ThruHostBridge:
    return "THRU_HOST_BRIDGE";
  case P2pMapType::NotSupported:
    return "NOT_SUPPORTED";
  }
  return "NOT_SUPPORTED";
}

AcsControl kernel_acs_control(const AcsCapability &capability, const KernelAcsPolicy &policy) {
  AcsControl control;
  // pci_std_enable_acs() only runs when an IOMMU asked for ACS; it never touches EC or DT.
  if (policy.iommu_enabled) {
    control.source_validation = capability.source_validation;
    control.request_redirect = capability.request_redirect;
    control.completion_redirect = capability.completion_redirect;
    control.upstream_forwarding = capability.upstream_forwarding;
  }
  control.direct_translated = policy.firmware_direct_translated && capability.direct_translated;
  // pci=disable_acs_redir applies after, with or without an IOMMU.
  if (policy.disabled_redirect) {
    control.request_redirect = false;
    control.completion_redirect = false;
    control.egress_control = false;
  }
  return control;
}

bool has_acs_redirect(const PciNode &node) {
  return node.has_acs_capability &&
         (node.acs.request_redirect || node.acs.completion_redirect || node.acs.egress_control);
}

P2pVerdict calc_map_type_and_dist(const PciTree &tree, int provider, int client) {
  const std::vector<int> chain_a = upstream_chain(tree, provider);
  const std::vector<int> chain_b = upstream_chain(tree, client);
  const int length_a = static_cast<int>(chain_a.size());
  const int length_b = static_cast<int>(chain_b.size());
  P2pVerdict verdict;
  int dist_a = 0;
  int dist_b = 0;
  int common = -1;
  std::vector<int> provider_side_redirects;
  // Provider chain outward; for each node `a` (the common bridge included), search the whole
  // client chain for it.
  for (dist_a = 0; dist_a < length_a; ++dist_a) {
    int a = chain_a[static_cast<std::size_t>(dist_a)];
    if (has_acs_redirect(node_at(tree, a)))
      provider_side_redirects.push_back(a);
    for (dist_b = 0; dist_b < length_b; ++dist_b)
      if (chain_b[static_cast<std::size_t>(dist_b)] == a)
        break;
    if (dist_b < length_b) {
      common = a;
      break;
    }
  }
  // The kernel sets *dist in both outcomes; without a common bridge, dist_a and dist_b are
  // the full chain lengths (dist_b left over from the last inner walk).
  verdict.distance = dist_a + dist_b;

  std::string why;
  if (common >= 0) {
    // Client-side nodes strictly below the common upstream bridge are checked too.
    verdict.redirecting_nodes = provider_side_redirects;
    for (int i = 0; i < dist_b; ++i)
      if (has_acs_redirect(node_at(tree, chain_b[static_cast<std::size_t>(i)])))
        verdict.redirecting_nodes.push_back(chain_b[static_cast<std::size_t>(i)]);
    if (verdict.redirecting_nodes.empty()) {
      verdict.type = P2pMapType::BusAddr;
      verdict.reason =
          provider == client
              ? std::string("same function")
              : fmt::format("common upstream {} at distance {}; no ACS redirect on the path",
                            node_at(tree, common).name, verdict.distance);
      return verdict;
    }
    verdict.acs_redirect = true;
    why = fmt::format("ACS redirect at {}; ", node_names(tree, verdict.redirecting_nodes));
  } else {
    why = "no common upstream bridge; ";
  }
  std::string bridge_why;
  verdict.type = host_bridge_allows(tree, provider, client, bridge_why) ? P2pMapType::ThruHostBridge
                                                                        : P2pMapType::NotSupported;
  verdict.reason = why + bridge_why;
  return verdict;
}

const P2pVerdict &P2pDistanceCache::get(int provider, int client) {
  auto key = std::make_pair(provider, client);
  auto found = verdicts_.find(key);
  if (found != verdicts_.end())
    return found->second;
  ++computations_;
  return verdicts_.emplace(key, calc_map_type_and_dist(*tree_, provider, client)).first->second;
}

} // namespace pciesim
