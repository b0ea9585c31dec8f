// Mechanism A (the DMA-API peer mapping): the p2pdma map type and distance Linux computes for
// pairs across the topology library, and the traffic each map type produces.
#include <cmath>
#include <fstream>

#include <gtest/gtest.h>

#include "sim/config/json_input.h"
#include "sim/fabric/pci_view.h"
#include "sim/fabric/topology.h"
#include "tests/support/sim_harness.h"

namespace pciesim {
namespace {

using test::simulate_in_child;
using test::transfer;

// A library topology, optionally edited (a CPU, an IOMMU mode, a kernel option) first.
LoadedTopology library(const std::string &name,
                       const std::function<void(nlohmann::json &)> &edit = nullptr) {
  nlohmann::json j = nlohmann::json::parse(test::read_repo_file("topologies/" + name + ".json"));
  if (edit)
    edit(j);
  LoadedTopology t;
  t.config = load_topology(Node::root(parse_json_text(j.dump(), name)));
  t.hierarchy = build_hierarchy(t.config);
  return t;
}

struct Expected {
  std::string topology, edit, provider, client;
  P2pMapType type;
  int distance;
  std::string why; // the kernel rule that gives it
};

std::function<void(nlohmann::json &)> edit_named(const std::string &edit) {
  return [edit](nlohmann::json &j) {
    if (edit.empty())
      return;
    auto set_all_rc = [&](const char *key, const char *value) {
      for (auto &c : j["components"])
        if (c["type"] == "root_complex")
          c["params"][key] = value;
    };
    if (edit.rfind("cpu=", 0) == 0)
      set_all_rc("cpu", edit.substr(4).c_str());
    else if (edit.rfind("iommu=", 0) == 0)
      set_all_rc("iommu", edit.substr(6).c_str());
    else if (edit == "pt+when_translating") {
      set_all_rc("iommu", "passthrough");
      j["kernel"]["request_acs"] = "when_translating";
    } else if (edit == "pt")
      set_all_rc("iommu", "passthrough");
  };
}

TEST(P2pMapType, MatchesTheKernelRulesAcrossTheTopologyLibrary) {
  using T = P2pMapType;
  // Distances: endpoint -> DSP -> USP is where two devices under one switch meet: 2 + 2 = 4.
  // No common bridge: the full chains (endpoint, root port) = 2 each, 4 in all; behind a
  // switch (endpoint, DSP, USP, root port) = 4 each, 8 in all.
  const std::vector<Expected> table = {
      {"gpu-nic-shared-switch", "", "gpu0", "nic0", T::BusAddr, 4, "common switch, no ACS"},
      {"gpu-nic-shared-switch", "", "nic0", "gpu0", T::BusAddr, 4, "symmetric"},
      {"gpu-nic-shared-switch-iommu", "", "gpu0", "nic0", T::ThruHostBridge, 4,
       "IOMMU on => RR/CR on the DSPs; AMD Zen host bridge allows P2P"},
      {"gpu-nic-shared-switch-iommu", "cpu=other", "gpu0", "nic0", T::NotSupported, 4,
       "redirected through a host bridge not on the allow-list"},
      {"gpu-nic-shared-switch-iommu-acs-off", "", "gpu0", "nic0", T::BusAddr, 4,
       "pci=disable_acs_redir clears RR/CR/EC"},
      {"gpu-nic-shared-switch", "pt", "gpu0", "nic0", T::ThruHostBridge, 4,
       "a passthrough IOMMU still requests ACS (redirect on the DSPs); the Skylake-E host "
       "bridge is allow-listed"},
      {"gpu-nic-shared-switch", "pt+when_translating", "gpu0", "nic0", T::BusAddr, 4,
       "ACS only requested by a translating IOMMU: none here"},
      {"gpu-nic-root-ports-amd", "", "gpu0", "nic0", T::ThruHostBridge, 4,
       "no common bridge; AMD Zen supports P2P between root ports"},
      {"gpu-nic-root-ports-other", "", "gpu0", "nic0", T::NotSupported, 4,
       "no common bridge; host bridge not on the allow-list"},
      {"gpu-nic-root-ports-other", "cpu=intel_xeon_e5", "gpu0", "nic0", T::ThruHostBridge, 4,
       "Xeon E5 host bridge is allow-listed within one host bridge"},
      {"gpu-nic-two-sockets", "", "gpu0", "nic0", T::NotSupported, 4,
       "Xeon E5 entries require the same host bridge; two sockets are two host bridges"},
      {"gpu-nic-two-sockets", "cpu=intel_skylake_e", "gpu0", "nic0", T::ThruHostBridge, 4,
       "Skylake-E entries allow different host bridges when both are listed"},
      {"gpu-nic-two-sockets", "cpu=amd_zen", "nic0", "gpu0", T::ThruHostBridge, 4,
       "AMD Zen: any root ports"},
      {"dgx-like", "", "gpu0", "gpu1", T::BusAddr, 4, "two GPUs under one switch"},
      {"dgx-like", "", "gpu0", "nic0", T::BusAddr, 4, "GPU and NIC under one switch"},
      {"dgx-like", "", "gpu0", "nic1", T::ThruHostBridge, 8,
       "across sockets behind switches: full chains of 4 + 4, AMD Zen"},
      {"dgx-like", "iommu=translated", "gpu0", "nic0", T::ThruHostBridge, 4,
       "IOMMU on => ACS redirect on the switch turns the same-switch pair THRU"},
      {"dgx-like", "cpu=other", "gpu2", "nic0", T::NotSupported, 8,
       "across sockets, host bridges not allow-listed"},
  };
  for (const Expected &e : table) {
    SCOPED_TRACE(e.topology + " [" + e.edit + "] " + e.provider + " -> " + e.client + ": " + e.why);
    LoadedTopology t = library(e.topology, edit_named(e.edit));
    PciView view = build_pci_view(t.config, t.hierarchy);
    P2pVerdict v = p2p_verdict(view, t.config, t.config.find(e.provider), t.config.find(e.client));
    EXPECT_EQ(map_type_name(v.type), map_type_name(e.type)) << v.reason;
    EXPECT_EQ(v.distance, e.distance);
  }
}

// A scenario on a library topology (inline, after `edit`) with the given transfers.
nlohmann::json on(const std::string &topology, const nlohmann::json &transfers,
                  const std::function<void(nlohmann::json &)> &edit = nullptr) {
  nlohmann::json topo =
      nlohmann::json::parse(test::read_repo_file("topologies/" + topology + ".json"));
  if (edit)
    edit(topo);
  return {{"name", topology}, {"topology", topo}, {"transfers", transfers}};
}

nlohmann::json rdma(const std::string &id, const std::string &direction, const std::string &size,
                    int count, int queue_pairs) {
  return {
      {"id", id},     {"initiator", "nic0"}, {"target", "gpu0"},           {"direction", direction},
      {"size", size}, {"count", count},      {"queue_pairs", queue_pairs}, {"buffer", "64 MiB"}};
}

const nlohmann::json &link(const nlohmann::json &result, const std::string &from) {
  for (const nlohmann::json &l : result["links"])
    if (l["from"] == from)
      return l;
  throw std::runtime_error("no link from " + from);
}

// PCIe Base Spec: Gen4 x16, MPS 256 B -> ACK/UpdateFC interval 168 symbols. Usable rate =
// lane rate x width x (1 - 2 x 8/(interval x width) - 4/1538); an MWr carries 24 B of overhead.
double analytic_gen4x16_write_gbps(double bytes) {
  double usable = 16e9 * 128.0 / 130.0 / 8.0 * 16 * (1.0 - 16.0 / (168.0 * 16) - 4.0 / 1538.0);
  double tlps = std::ceil(bytes / 256.0);
  return usable * bytes / (bytes + 24.0 * tlps) / 1e9;
}

TEST(P2pDmaApi, BusAddrWriteThroughSharedSwitchIsLinkBound) {
  nlohmann::json r = simulate_in_child(
      on("gpu-nic-shared-switch", nlohmann::json::array({rdma("w", "write", "1 MiB", 64, 4)})));
  const nlohmann::json &w = transfer(r, "w");
  EXPECT_EQ(w["map_type"], "BUS_ADDR");
  EXPECT_EQ(w["route"], "nic0 > sw0 > gpu0");
  double expected = analytic_gen4x16_write_gbps(1 << 20);
  EXPECT_NEAR(w["bandwidth_GBps"].get<double>(), expected, 0.02 * expected);
  // The data never reaches the root complex: only MTT reads cross the root port.
  EXPECT_LT(link(r, "sw0.up")["payload_bytes"].get<double>(), 0.01 * 64 * (1 << 20));
  EXPECT_EQ(r["components"]["rc0"]["peer_bytes"], 0);
}

TEST(P2pDmaApi, ThruHostBridgePaysTheRootComplexCapAndLatency) {
  auto no_mtt = [](nlohmann::json &t) {
    for (auto &c : t["components"])
      if (c["type"] == "rdma_nic")
        c["params"]["mtt_entries"] = 0; // no MTT reads: compare the data paths alone
  };
  auto cap = [&](nlohmann::json &t) {
    for (const char *direction : {"write", "read"}) {
      t["components"][0]["params"][std::string("p2p_") + direction + "_bandwidth"] = "10 GB/s";
      t["components"][0]["params"][std::string("p2p_") + direction + "_latency"] = "200 ns";
    }
    no_mtt(t);
  };
  nlohmann::json fast = simulate_in_child(on(
      "gpu-nic-root-ports-amd", nlohmann::json::array({rdma("w", "write", "1 MiB", 32, 4)}), cap));
  const nlohmann::json &w = transfer(fast, "w");
  EXPECT_EQ(w["map_type"], "THRU_HOST_BRIDGE");
  EXPECT_EQ(w["route"], "nic0 > rc0 > gpu0");
  EXPECT_NEAR(w["bandwidth_GBps"].get<double>(), 10.0, 0.2); // the configured cap, within 2%
  // Latency of one 64 B RDMA READ: through the root complex it pays the peer-forwarding
  // latency twice (request and completion) instead of the switch's 105 ns cut-through twice.
  nlohmann::json via_rc = simulate_in_child(
      on("gpu-nic-root-ports-amd", nlohmann::json::array({rdma("r", "read", "64 B", 1, 1)}), cap));
  nlohmann::json via_switch = simulate_in_child(on(
      "gpu-nic-shared-switch", nlohmann::json::array({rdma("r", "read", "64 B", 1, 1)}), no_mtt));
  double added = transfer(via_rc, "r")["latency_ns"]["p50"].get<double>() -
                 transfer(via_switch, "r")["latency_ns"]["p50"].get<double>();
  EXPECT_GE(added, 2 * 200.0 - 2 * 105.0);
  EXPECT_GT(via_rc["components"]["rc0"]["peer_bytes"].get<double>(), 0);
}

TEST(P2pDmaApi, AcrossSocketsWithoutAllowListIsUnsupported) {
  nlohmann::json r = simulate_in_child(
      on("gpu-nic-two-sockets", nlohmann::json::array({rdma("w", "write", "1 MiB", 4, 1)})));
  const nlohmann::json &w = transfer(r, "w");
  EXPECT_EQ(w["map_type"], "NOT_SUPPORTED");
  EXPECT_EQ(w["bytes"], 0);
  EXPECT_EQ(w["error"].get<std::string>().rfind("unsupported: p2pdma NOT_SUPPORTED", 0), 0u)
      << w["error"];
  EXPECT_EQ(link(r, "nic0.up")["tlps"]["MWr"], 0);
}

TEST(P2pDmaApi, AcsRedirectSendsSameSwitchTrafficThroughTheIommu) {
  nlohmann::json redirected = simulate_in_child(on(
      "gpu-nic-shared-switch-iommu", nlohmann::json::array({rdma("w", "write", "64 KiB", 16, 1)})));
  EXPECT_EQ(transfer(redirected, "w")["route"], "nic0 > sw0 > rc0 > sw0 > gpu0");
  EXPECT_GT(redirected["components"]["sw0"]["acs_redirected"].get<int>(), 0);
  EXPECT_GE(redirected["components"]["rc0"]["translations"].get<int>(), 16 * 64 * 1024 / 256);
  nlohmann::json direct =
      simulate_in_child(on("gpu-nic-shared-switch-iommu-acs-off",
                           nlohmann::json::array({rdma("w", "write", "64 KiB", 16, 1)})));
  EXPECT_EQ(transfer(direct, "w")["route"], "nic0 > sw0 > gpu0");
  EXPECT_EQ(direct["components"]["sw0"]["acs_redirected"], 0);
  EXPECT_EQ(direct["components"]["rc0"]["peer_bytes"], 0);
}

} // namespace
} // namespace pciesim

namespace pciesim {
namespace {

// NIC reads of GPU memory redirected up to the root complex (ACS redirect under a switch, so
// requests and completions enter the root complex by the same root port), on the HGX-like Zen 4
// box (Gen5, 400 Gb/s NICs). A read request carries no data: it must not queue behind the
// completion data of earlier reads in the root complex's peer engine (non-posted requests and
// completions are separate flow-control classes). Translation only adds latency to the same
// traffic, so the passthrough IOMMU must read at least as fast as the translating one; when
// requests queued behind completions, the translated reads were 12% faster, their requests
// spread out by the walks.
TEST(P2pDmaApi, RedirectedReadRequestsDoNotWaitBehindCompletionData) {
  const std::string dir = test::make_temp_dir("redirected-reads");
  auto dma_ns = [&](const std::string &mode) {
    nlohmann::json topology =
        nlohmann::json::parse(test::read_repo_file("topologies/hgx-zen4.json"));
    for (auto &c : topology["components"])
      if (c["type"] == "root_complex")
        c["params"]["iommu"] = mode;
    std::ofstream(dir + "/" + mode + ".json") << topology.dump();
    // The default comparison's workload (the GPU writes 16 MiB, nic0 reads it three times)
    // with the DMA-API peer mapping only.
    nlohmann::json scenario = nlohmann::json::parse(test::read_repo_file("scenarios/default.json"));
    scenario.erase("expect");
    scenario["topology"] = nlohmann::json::array({dir + "/" + mode + ".json"});
    scenario["workload"]["mechanisms"] = nlohmann::json::array({"p2p_dma_api"});
    std::ofstream(dir + "/run-" + mode + ".json") << scenario.dump();
    test::CommandResult r = test::run_pciesim("run " + dir + "/run-" + mode + ".json --out " + dir +
                                              "/out-" + mode + " --quiet");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    nlohmann::json results =
        nlohmann::json::parse(test::read_file(dir + "/out-" + mode + "/results.json"));
    return results["mechanisms"][0]["breakdown_ns"]["dma"].get<double>();
  };
  const double passthrough = dma_ns("passthrough"), translated = dma_ns("translated"),
               off = dma_ns("off");
  EXPECT_LT(passthrough, translated);
  EXPECT_LT(off, passthrough); // no redirect: the switch turns the traffic
}

// Two switch levels between the peers and the root complex, as on the HGX A100 baseboard: the
// NIC and the GPU under switch sw3, itself below sw0. With the IOMMU on, sw3 redirects the
// NIC's reads and the GPU's completions up to sw0, whose port towards sw3 would route them
// straight back; ACS Upstream Forwarding sends both on up to the root complex (PCIe Base Spec
// 6.12.1.1). The completions were once answered as Unsupported Requests there, and every read
// waited for them forever.
TEST(P2pDmaApi, RedirectedCompletionsClimbPastAnUpperSwitch) {
  nlohmann::json topology = {
      {"name", "nested-switches-iommu"},
      {"components",
       {{{"id", "rc0"},
         {"type", "root_complex"},
         {"params", {{"root_ports", 1}, {"iommu", "translated"}, {"cpu", "intel_skylake_e"}}}},
        {{"id", "mem0"}, {"type", "host_memory"}, {"root_complex", "rc0"}},
        {{"id", "sw0"}, {"type", "switch"}, {"params", {{"downstream_ports", 2}}}},
        {{"id", "sw3"}, {"type", "switch"}, {"params", {{"downstream_ports", 2}}}},
        {{"id", "gpu0"}, {"type", "gpu"}, {"params", {{"resizable_bar", true}}}},
        {{"id", "nic0"}, {"type", "rdma_nic"}, {"params", {{"mtt_entries", 0}}}}}},
      {"links",
       {{{"between", {"rc0.rp0", "sw0.up"}}},
        {{"between", {"sw0.dp1", "sw3.up"}}},
        {{"between", {"sw3.dp0", "gpu0"}}},
        {{"between", {"sw3.dp1", "nic0"}}}}}};
  nlohmann::json r = simulate_in_child(
      {{"name", "nested"},
       {"topology", topology},
       {"transfers", nlohmann::json::array({rdma("r", "read", "64 KiB", 16, 4)})}});
  const nlohmann::json &read = transfer(r, "r");
  EXPECT_EQ(read["route"], "nic0 > sw3 > sw0 > rc0 > sw0 > sw3 > gpu0");
  EXPECT_EQ(read["transfers_done"], 16) << read.dump();
  EXPECT_EQ(read["bytes"], 16 * 65536);
  EXPECT_EQ(r["components"]["sw0"]["unsupported_requests"], 0);
  // sw0 forwarded up both the 16 x 128 read requests (512 B each) and their completions.
  EXPECT_GE(r["components"]["sw0"]["acs_redirected"].get<int>(), 2 * 16 * 128);
}

} // namespace
} // namespace pciesim
