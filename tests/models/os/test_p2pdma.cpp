// calc_map_type_and_dist and the kernel's ACS set-up on hand-built PCI trees. Every expected
// value is derived in a comment from the kernel's walk (drivers/pci/p2pdma.c): for each node
// `a` on the provider's upstream chain (dist_a = its position), the client's chain is searched
// for `a` (dist_b = position of the match); distance = dist_a + dist_b. RR|CR|EC on any
// provider-side node up to and including the common bridge, or on any client-side node
// strictly below it, sends the pair to the host-bridge rule.
#include <gtest/gtest.h>

#include "models/os/p2pdma.h"

namespace pciesim {
namespace {

AcsControl redirect_requests() {
  AcsControl acs;
  acs.request_redirect = true;
  return acs;
}

// One root complex (host bridge 0) or two, with:
//   rc0: rp0 - sw0.usp - sw0.dp0 - gpu0.f0, gpu0.f1
//                      - sw0.dp1 - nic0
//        rp1 - nic1      rp2 - nic2      rciep0, rciep1 (on the root bus)
//        rp3 - swA.usp - swA.dp0 - swB.usp - swB.dp0 - epX
//                                          - swB.dp1 - epY
//                      - swA.dp1 - epZ
//   rc1: rp0 - nic3
struct Machine {
  PciTree tree;
  int rp0, usp, dp0, dp1, gpu_f0, gpu_f1, nic0, rp1, nic1, rp2, nic2, rciep0, rciep1;
  int swa_dp0, swb_usp, swb_dp0, swb_dp1, swa_dp1, swa_usp, ep_x, ep_y, ep_z, rp3;
  int rc1_rp0, nic3;

  int add(const std::string &name, int upstream, bool bridge, bool acs_capable = false,
          int host_bridge = 0) {
    PciNode node;
    node.name = name;
    node.upstream = upstream;
    node.host_bridge = host_bridge;
    node.is_bridge = bridge;
    node.has_acs_capability = acs_capable;
    tree.nodes.push_back(node);
    return static_cast<int>(tree.nodes.size()) - 1;
  }
  PciNode &node(int index) { return tree.nodes[static_cast<std::size_t>(index)]; }

  Machine(HostCpu cpu0, HostCpu cpu1 = HostCpu::Other) {
    tree.host_bridges = {{"rc0", cpu0}, {"rc1", cpu1}};
    rp0 = add("rc0.rp0", -1, true, true);
    usp = add("sw0.usp", rp0, true);
    dp0 = add("sw0.dp0", usp, true, true);
    dp1 = add("sw0.dp1", usp, true, true);
    gpu_f0 = add("gpu0.f0", dp0, false);
    gpu_f1 = add("gpu0.f1", dp0, false);
    nic0 = add("nic0", dp1, false);
    rp1 = add("rc0.rp1", -1, true, true);
    nic1 = add("nic1", rp1, false);
    rp2 = add("rc0.rp2", -1, true, true);
    nic2 = add("nic2", rp2, false);
    rciep0 = add("rciep0", -1, false);
    rciep1 = add("rciep1", -1, false);
    rp3 = add("rc0.rp3", -1, true, true);
    swa_usp = add("swA.usp", rp3, true);
    swa_dp0 = add("swA.dp0", swa_usp, true, true);
    swb_usp = add("swB.usp", swa_dp0, true);
    swb_dp0 = add("swB.dp0", swb_usp, true, true);
    swb_dp1 = add("swB.dp1", swb_usp, true, true);
    ep_x = add("epX", swb_dp0, false);
    ep_y = add("epY", swb_dp1, false);
    swa_dp1 = add("swA.dp1", swa_usp, true, true);
    ep_z = add("epZ", swa_dp1, false);
    rc1_rp0 = add("rc1.rp0", -1, true, true, 1);
    nic3 = add("nic3", rc1_rp0, false, false, 1);
  }
};

TEST(P2pdma, SameFunctionIsDistanceZero) {
  // a = provider at dist_a 0; the client chain starts with the same node: dist_b 0. No node
  // has redirect bits -> BUS_ADDR, 0 + 0.
  Machine m(HostCpu::Other);
  P2pVerdict v = calc_map_type_and_dist(m.tree, m.gpu_f0, m.gpu_f0);
  EXPECT_EQ(v.type, P2pMapType::BusAddr);
  EXPECT_EQ(v.distance, 0);
  EXPECT_EQ(v.reason, "same function");
}

TEST(P2pdma, SiblingFunctionsUnderOneDownstreamPort) {
  // a = gpu0.f0 (0): client chain f1, dp0, usp, rp0 has no f0. a = dp0 (1): found at
  // client position 1 (f1 -> dp0). 1 + 1 = 2; dp0 has ACS but no bits set -> BUS_ADDR.
  Machine m(HostCpu::Other);
  P2pVerdict v = calc_map_type_and_dist(m.tree, m.gpu_f0, m.gpu_f1);
  EXPECT_EQ(v.type, P2pMapType::BusAddr);
  EXPECT_EQ(v.distance, 2);
}

TEST(P2pdma, TwoDownstreamPortsOfOneSwitchWithoutAcs) {
  // Provider chain gpu0.f0(0) dp0(1) usp(2); client chain nic0(0) dp1(1) usp(2). usp is the
  // first provider-side node on the client chain: 2 + 2 = 4 (A->DSP0->USP->DSP1->B). No
  // redirect bits -> BUS_ADDR even on a CPU that is not allow-listed.
  Machine m(HostCpu::Other);
  P2pVerdict v = calc_map_type_and_dist(m.tree, m.gpu_f0, m.nic0);
  EXPECT_EQ(v.type, P2pMapType::BusAddr);
  EXPECT_EQ(v.distance, 4);
  EXPECT_FALSE(v.acs_redirect);
  EXPECT_EQ(v.reason, "common upstream sw0.usp at distance 4; no ACS redirect on the path");
}

TEST(P2pdma, RequestRedirectOnClientDownstreamPortGoesToHostBridge) {
  // Same walk as above (distance 4, common sw0.usp); dp1 is on the client side strictly below
  // usp and has RR -> acs_redirects, host-bridge rule. AMD Zen: cpu_supports_p2pdma() ->
  // THRU_HOST_BRIDGE. Other: not listed -> NOT_SUPPORTED. The distance is kept in both.
  Machine amd(HostCpu::AmdZen);
  amd.node(amd.dp1).acs = redirect_requests();
  P2pVerdict v = calc_map_type_and_dist(amd.tree, amd.gpu_f0, amd.nic0);
  EXPECT_EQ(v.type, P2pMapType::ThruHostBridge);
  EXPECT_EQ(v.distance, 4);
  EXPECT_TRUE(v.acs_redirect);
  EXPECT_EQ(v.redirecting_nodes, std::vector<int>{amd.dp1});
  EXPECT_EQ(v.reason,
            "ACS redirect at sw0.dp1; host bridge rc0 (amd_zen) supports P2P (AMD Zen or later)");

  Machine other(HostCpu::Other);
  other.node(other.dp1).acs = redirect_requests();
  v = calc_map_type_and_dist(other.tree, other.gpu_f0, other.nic0);
  EXPECT_EQ(v.type, P2pMapType::NotSupported);
  EXPECT_EQ(p2pdma_distance(v), -1);
  EXPECT_EQ(v.reason,
            "ACS redirect at sw0.dp1; host bridge rc0 (other) is not on the P2PDMA allow-list");
}

TEST(P2pdma, CompletionRedirectOrEgressControlOnProviderSideCountToo) {
  // dp0 is provider-side below the common usp; CR alone, or EC alone, is a redirect bit.
  for (int which = 0; which < 2; ++which) {
    Machine m(HostCpu::Other);
    m.node(m.dp0).acs.completion_redirect = which == 0;
    m.node(m.dp0).acs.egress_control = which == 1;
    P2pVerdict v = calc_map_type_and_dist(m.tree, m.gpu_f0, m.nic0);
    EXPECT_EQ(v.type, P2pMapType::NotSupported);
    EXPECT_EQ(v.redirecting_nodes, std::vector<int>{m.dp0});
  }
}

TEST(P2pdma, UpstreamForwardingAndDirectTranslatedAreNotRedirects) {
  // pci_bridge_has_acs_redir() masks RR|CR|EC only: SV, UF and DT on both downstream ports
  // leave the same-switch pair at BUS_ADDR, distance 4.
  Machine m(HostCpu::Other);
  for (int port : {m.dp0, m.dp1}) {
    m.node(port).acs.source_validation = true;
    m.node(port).acs.upstream_forwarding = true;
    m.node(port).acs.direct_translated = true;
  }
  P2pVerdict v = calc_map_type_and_dist(m.tree, m.gpu_f0, m.nic0);
  EXPECT_EQ(v.type, P2pMapType::BusAddr);
  EXPECT_EQ(v.distance, 4);
}

TEST(P2pdma, ControlBitsWithoutAcsCapabilityAreIgnored) {
  // The kernel reads ACS Control only at pdev->acs_cap; without the capability it returns 0.
  Machine m(HostCpu::Other);
  m.node(m.dp1).has_acs_capability = false;
  m.node(m.dp1).acs = redirect_requests();
  EXPECT_EQ(calc_map_type_and_dist(m.tree, m.gpu_f0, m.nic0).type, P2pMapType::BusAddr);
}

TEST(P2pdma, RedirectOnCommonBridgeCountsButNotAboveIt) {
  // The provider-side check runs on `a` before the inner search, so the common bridge itself
  // (sw0.usp) is checked; nodes above it (rc0.rp0) never are, on either side.
  Machine m(HostCpu::Other);
  m.node(m.usp).has_acs_capability = true;
  m.node(m.usp).acs = redirect_requests();
  P2pVerdict v = calc_map_type_and_dist(m.tree, m.gpu_f0, m.nic0);
  EXPECT_EQ(v.type, P2pMapType::NotSupported);
  EXPECT_EQ(v.redirecting_nodes, std::vector<int>{m.usp});

  Machine above(HostCpu::Other);
  above.node(above.rp0).acs = redirect_requests();
  EXPECT_EQ(calc_map_type_and_dist(above.tree, above.gpu_f0, above.nic0).type, P2pMapType::BusAddr);
}

TEST(P2pdma, RedirectOnClientSideBelowAncestorOnlyInNestedSwitches) {
  // epX -> epZ: provider chain epX(0) swB.dp0(1) swB.usp(2) swA.dp0(3) swA.usp(4); client
  // chain epZ(0) swA.dp1(1) swA.usp(2). Common swA.usp: 4 + 2 = 6. RR on swA.dp1 (client side,
  // below the ancestor) redirects; RR on swB.dp1 (not on this path) does not.
  Machine m(HostCpu::Other);
  P2pVerdict v = calc_map_type_and_dist(m.tree, m.ep_x, m.ep_z);
  EXPECT_EQ(v.type, P2pMapType::BusAddr);
  EXPECT_EQ(v.distance, 6);

  m.node(m.swb_dp1).acs = redirect_requests();
  EXPECT_EQ(calc_map_type_and_dist(m.tree, m.ep_x, m.ep_z).type, P2pMapType::BusAddr);
  m.node(m.swa_dp1).acs = redirect_requests();
  v = calc_map_type_and_dist(m.tree, m.ep_x, m.ep_z);
  EXPECT_EQ(v.type, P2pMapType::NotSupported);
  EXPECT_EQ(v.redirecting_nodes, std::vector<int>{m.swa_dp1});
}

TEST(P2pdma, NestedSwitchSiblingsMeetAtInnerSwitch) {
  // epX(0) swB.dp0(1) swB.usp(2); epY(0) swB.dp1(1) swB.usp(2): 2 + 2 = 4, inner switch.
  Machine m(HostCpu::Other);
  P2pVerdict v = calc_map_type_and_dist(m.tree, m.ep_x, m.ep_y);
  EXPECT_EQ(v.type, P2pMapType::BusAddr);
  EXPECT_EQ(v.distance, 4);
}

struct RootPortCase {
  HostCpu cpu;
  P2pMapType expected;
};

class TwoRootPortsOfOneComplex : public ::testing::TestWithParam<RootPortCase> {};

TEST_P(TwoRootPortsOfOneComplex, HostBridgeRuleDecides) {
  // nic1 -> nic2: provider chain nic1(0) rp1(1) ends (rp1 is on the root bus); neither node
  // is on the client chain nic2, rp2. The outer loop ends with dist_a = 2 and dist_b = 2
  // (the last inner walk's full length): distance 4. Same host bridge rc0, so AMD passes by
  // CPU, and any listed entry passes (REQ_SAME_HOST_BRIDGE is satisfied); Other is unlisted.
  Machine m(GetParam().cpu);
  P2pVerdict v = calc_map_type_and_dist(m.tree, m.nic1, m.nic2);
  EXPECT_EQ(v.type, GetParam().expected) << host_cpu_name(GetParam().cpu);
  EXPECT_EQ(v.distance, 4);
  EXPECT_FALSE(v.acs_redirect);
}

INSTANTIATE_TEST_SUITE_P(
    P2pdma, TwoRootPortsOfOneComplex,
    ::testing::Values(RootPortCase{HostCpu::AmdZen, P2pMapType::ThruHostBridge},
                      RootPortCase{HostCpu::IntelXeonE5, P2pMapType::ThruHostBridge},
                      RootPortCase{HostCpu::IntelXeonE5v3, P2pMapType::ThruHostBridge},
                      RootPortCase{HostCpu::IntelSkylakeE, P2pMapType::ThruHostBridge},
                      RootPortCase{HostCpu::Google, P2pMapType::ThruHostBridge},
                      RootPortCase{HostCpu::Other, P2pMapType::NotSupported}),
    [](const ::testing::TestParamInfo<RootPortCase> &info) {
      return host_cpu_name(info.param.cpu);
    });

TEST(P2pdma, DeepEndpointToRootPortEndpointCountsBothFullChains) {
  // gpu0.f0 chain f0, dp0, usp, rp0 (4); nic1 chain nic1, rp1 (2); no common: 4 + 2 = 6.
  Machine m(HostCpu::IntelSkylakeE);
  P2pVerdict v = calc_map_type_and_dist(m.tree, m.gpu_f0, m.nic1);
  EXPECT_EQ(v.type, P2pMapType::ThruHostBridge);
  EXPECT_EQ(v.distance, 6);
  EXPECT_EQ(v.reason,
            "no common upstream bridge; host bridge rc0 (intel_skylake_e) is on the P2PDMA "
            "allow-list");
}

TEST(P2pdma, RootComplexIntegratedEndpointsHaveChainsOfOne) {
  // rciep0 and rciep1 sit on the root bus: pci_upstream_bridge() is NULL for both, chains of
  // length 1, no match: 1 + 1 = 2, then the host-bridge rule.
  Machine m(HostCpu::Other);
  P2pVerdict v = calc_map_type_and_dist(m.tree, m.rciep0, m.rciep1);
  EXPECT_EQ(v.type, P2pMapType::NotSupported);
  EXPECT_EQ(v.distance, 2);
}

struct TwoComplexCase {
  HostCpu cpu0, cpu1;
  P2pMapType expected;
};

class TwoRootComplexes : public ::testing::TestWithParam<TwoComplexCase> {};

TEST_P(TwoRootComplexes, BothBridgesListedWithoutSameBridgeRequirement) {
  // nic1 (rc0.rp1) -> nic3 (rc1.rp0): chains of 2 each, no common bridge, distance 4.
  // Different host bridges: AMD passes by CPU (the provider's CPU stands for the machine's);
  // otherwise both entries must be listed and neither REQ_SAME_HOST_BRIDGE.
  Machine m(GetParam().cpu0, GetParam().cpu1);
  P2pVerdict v = calc_map_type_and_dist(m.tree, m.nic1, m.nic3);
  EXPECT_EQ(v.type, GetParam().expected)
      << host_cpu_name(GetParam().cpu0) << " + " << host_cpu_name(GetParam().cpu1);
  EXPECT_EQ(v.distance, 4);
}

INSTANTIATE_TEST_SUITE_P(
    P2pdma, TwoRootComplexes,
    ::testing::Values(
        // Both listed, but the E5 entries require the same host bridge.
        TwoComplexCase{HostCpu::IntelXeonE5, HostCpu::IntelXeonE5, P2pMapType::NotSupported},
        TwoComplexCase{HostCpu::IntelXeonE5v3, HostCpu::IntelXeonE5v3, P2pMapType::NotSupported},
        TwoComplexCase{HostCpu::IntelSkylakeE, HostCpu::IntelSkylakeE, P2pMapType::ThruHostBridge},
        TwoComplexCase{HostCpu::AmdZen, HostCpu::AmdZen, P2pMapType::ThruHostBridge},
        TwoComplexCase{HostCpu::Google, HostCpu::Google, P2pMapType::ThruHostBridge},
        TwoComplexCase{HostCpu::Other, HostCpu::Other, P2pMapType::NotSupported},
        // One side unlisted, or one side REQ_SAME_HOST_BRIDGE: not both acceptable.
        TwoComplexCase{HostCpu::IntelSkylakeE, HostCpu::Other, P2pMapType::NotSupported},
        TwoComplexCase{HostCpu::IntelSkylakeE, HostCpu::IntelXeonE5, P2pMapType::NotSupported}),
    [](const ::testing::TestParamInfo<TwoComplexCase> &info) {
      return host_cpu_name(info.param.cpu0) + "_and_" + host_cpu_name(info.param.cpu1);
    });

TEST(P2pdma, TwoRootComplexesReasonNamesBothBridges) {
  Machine m(HostCpu::Other, HostCpu::Other);
  EXPECT_EQ(calc_map_type_and_dist(m.tree, m.nic1, m.nic3).reason,
            "no common upstream bridge; host bridges rc0 (other), rc1 (other) are not both on "
            "the P2PDMA allow-list");
}

TEST(P2pdma, KernelAcsControlWithIommuSetsSvRrCrUfOnly) {
  AcsCapability everything{true, true, true, true, true, true};
  AcsControl c = kernel_acs_control(everything, {true, false, false});
  EXPECT_TRUE(c.source_validation && c.request_redirect && c.completion_redirect &&
              c.upstream_forwarding);
  EXPECT_FALSE(c.egress_control); // pci_std_enable_acs never sets EC
  EXPECT_FALSE(c.direct_translated);

  // Only what the port implements.
  AcsCapability some{true, false, false, true, false, false};
  c = kernel_acs_control(some, {true, false, false});
  EXPECT_TRUE(c.source_validation && c.upstream_forwarding);
  EXPECT_FALSE(c.request_redirect || c.completion_redirect);
}

TEST(P2pdma, KernelAcsControlWithoutIommuAndWithDisableAcsRedir) {
  AcsCapability everything{true, true, true, true, true, true};
  // No IOMMU: pci_std_enable_acs does not run; firmware's DT stays if implemented.
  AcsControl c = kernel_acs_control(everything, {false, false, true});
  EXPECT_FALSE(c.source_validation || c.request_redirect || c.completion_redirect ||
               c.upstream_forwarding || c.egress_control);
  EXPECT_TRUE(c.direct_translated);
  AcsCapability no_dt{true, true, true, true, true, false};
  EXPECT_FALSE(kernel_acs_control(no_dt, {false, false, true}).direct_translated);

  // IOMMU + disable_acs_redir: RR, CR (and EC) cleared, SV and UF stay.
  c = kernel_acs_control(everything, {true, true, false});
  EXPECT_TRUE(c.source_validation && c.upstream_forwarding);
  EXPECT_FALSE(c.request_redirect || c.completion_redirect || c.egress_control);
}

TEST(P2pdma, IommuTurnsSameSwitchPairIntoThruHostBridgeUnlessRedirDisabled) {
  // Linux pci_std_enable_acs (drivers/pci/pci.c): with an IOMMU the DSPs get RR|CR, so gpu0.f0 ->
  // nic0 (distance 4) goes to the host-bridge rule (AMD: THRU_HOST_BRIDGE); disable_acs_redir
  // restores BUS_ADDR.
  AcsCapability dsp{true, true, true, true, false, false};
  for (bool disable_redirect : {false, true}) {
    Machine m(HostCpu::AmdZen);
    for (int port : {m.dp0, m.dp1})
      m.node(port).acs = kernel_acs_control(dsp, {true, disable_redirect, false});
    P2pVerdict v = calc_map_type_and_dist(m.tree, m.gpu_f0, m.nic0);
    EXPECT_EQ(v.type, disable_redirect ? P2pMapType::BusAddr : P2pMapType::ThruHostBridge);
    EXPECT_EQ(v.distance, 4);
    if (!disable_redirect) {
      EXPECT_EQ(v.redirecting_nodes, (std::vector<int>{m.dp0, m.dp1}));
    }
  }
}

TEST(P2pdma, CacheComputesEachOrderedPairOnce) {
  Machine m(HostCpu::Other);
  P2pDistanceCache cache(m.tree);
  EXPECT_EQ(cache.get(m.gpu_f0, m.nic0).distance, 4);
  EXPECT_EQ(cache.get(m.gpu_f0, m.nic0).distance, 4);
  EXPECT_EQ(cache.computations(), 1u);
  cache.get(m.nic0, m.gpu_f0); // keyed by (provider, client), like the per-provider xarray
  EXPECT_EQ(cache.computations(), 2u);
  m.node(m.dp1).acs = redirect_requests();
  EXPECT_EQ(cache.get(m.gpu_f0, m.nic0).type, P2pMapType::BusAddr); // stale until cleared
  cache.clear();
  EXPECT_EQ(cache.get(m.gpu_f0, m.nic0).type, P2pMapType::NotSupported);
  EXPECT_EQ(cache.computations(), 3u);
}

TEST(P2pdma, NamesRoundTrip) {
  EXPECT_EQ(map_type_name(P2pMapType::BusAddr), "BUS_ADDR");
  EXPECT_EQ(map_type_name(P2pMapType::ThruHostBridge), "THRU_HOST_BRIDGE");
  EXPECT_EQ(map_type_name(P2pMapType::NotSupported), "NOT_SUPPORTED");
  for (const std::string &name : host_cpu_names())
    EXPECT_EQ(host_cpu_name(*parse_host_cpu(name)), name);
  EXPECT_FALSE(parse_host_cpu("intel").has_value());
}

TEST(P2pdma, MalformedTreesThrow) {
  Machine m(HostCpu::Other);
  EXPECT_THROW(calc_map_type_and_dist(m.tree, m.nic0, 999), std::out_of_range);
  m.node(m.rp0).upstream = m.nic0; // nic0 -> dp1 -> usp -> rp0 -> nic0
  EXPECT_THROW(calc_map_type_and_dist(m.tree, m.nic0, m.gpu_f0), std::logic_error);
}

} // namespace
} // namespace pciesim
