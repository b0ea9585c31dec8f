// The vendor driver's own peer mapping (a transfer's `mechanism: vendor_peer`, and the
// workload mechanism of that name): a GPU driver maps the peer's BAR itself, as CUDA peer
// access and nvidia-peermem do, without asking Linux's p2pdma, so a pair p2pdma refuses still
// moves data, along the route the fabric gives.
#include <gtest/gtest.h>

#include "models/os/os_kernel.h"
#include "tests/support/sim_harness.h"
#include "tests/support/workload_compare.h"

namespace pciesim {
namespace {

using test::simulate_in_child;
using test::transfer;

// Two GPUs on root ports of a host bridge that is not on the P2PDMA allow-list.
nlohmann::json two_gpus_on_root_ports(const std::string &platform) {
  nlohmann::json c = nlohmann::json::array();
  c.push_back({{"id", "rc0"},
               {"type", "root_complex"},
               {"platform", platform},
               {"params", {{"root_ports", 2}}}});
  c.push_back({{"id", "mem0"}, {"type", "host_memory"}, {"root_complex", "rc0"}});
  c.push_back({{"id", "gpu0"},
               {"type", "gpu"},
               {"params", {{"max_gen", 4}, {"dllp_interval_unit", "byte"}}}});
  c.push_back({{"id", "gpu1"},
               {"type", "gpu"},
               {"params", {{"max_gen", 4}, {"dllp_interval_unit", "byte"}}}});
  nlohmann::json l = nlohmann::json::array();
  for (int i = 0; i < 2; ++i)
    l.push_back({{"between", {"rc0.rp" + std::to_string(i), "gpu" + std::to_string(i)}},
                 {"params", {{"gen", 4}, {"width", 16}}}});
  return {{"name", "two-gpus"}, {"fabric", {{"mps", "256 B"}}}, {"components", c}, {"links", l}};
}

nlohmann::json peer_write(const std::string &platform, const std::string &mechanism) {
  return simulate_in_child(nlohmann::json{{"name", "p"},
                                          {"topology", two_gpus_on_root_ports(platform)},
                                          {"transfers", nlohmann::json::array({{
                                                            {"id", "t"},
                                                            {"initiator", "gpu0"},
                                                            {"target", "gpu1"},
                                                            {"direction", "write"},
                                                            {"size", "1 MiB"},
                                                            {"count", 16},
                                                            {"concurrency", 4},
                                                            {"mechanism", mechanism},
                                                        }})}});
}

TEST(VendorPeer, RunsAPairP2pdmaRefusesAlongTheRootComplexRoute) {
  nlohmann::json refused = peer_write("intel-sapphire-rapids", "p2p_dma_api");
  EXPECT_EQ(transfer(refused, "t")["status"], "unsupported");
  nlohmann::json mapped = peer_write("intel-sapphire-rapids", "vendor_peer");
  const nlohmann::json &t = transfer(mapped, "t");
  EXPECT_EQ(t["status"], "completed") << t.dump();
  EXPECT_EQ(t["mechanism"], "vendor_peer");
  EXPECT_EQ(t["map_type"], "NOT_SUPPORTED"); // what p2pdma would have said, unasked
  EXPECT_EQ(t["route"], "gpu0 > rc0 > gpu1");
  EXPECT_EQ(t["bytes"], 16 << 20);
}

TEST(VendorPeer, IntelRootComplexesCarryPeerWritesAtTheRateOfCacheLineWrites) {
  // The same Gen4 x16 pair through a Sapphire Rapids root complex (64-byte writes down the
  // egress port) and through a Zen 4 one (writes as they came, its engine at 25 GB/s): the
  // Intel pair moves 64/88 of the link's bytes as payload against 256/280, about 0.8 of the
  // AMD pair's rate, as RTX 4090s measure (20 against 25 GB/s, tinygrad issue 26).
  // (Ada Lovelace GPUs count their DLLP intervals in bytes, as in their testbeds.)
  const double intel =
      transfer(peer_write("intel-sapphire-rapids", "vendor_peer"), "t")["bandwidth_GBps"];
  const double amd = transfer(peer_write("amd-zen4", "vendor_peer"), "t")["bandwidth_GBps"];
  EXPECT_NEAR(intel / amd, 20.0 / 25.0, 0.05);
  EXPECT_NEAR(intel, 20.0, 0.1 * 20.0);
}

TEST(VendorPeer, AnIntelClientRootComplexPassesPeerWritesButNotPeerReads) {
  // Core Ultra (Arrow Lake-S): a GPU writing its peer's memory works; reading it, every read
  // request comes back Unsupported Request, and the transfer fails saying so.
  nlohmann::json writes = peer_write("intel-arrow-lake-s", "vendor_peer");
  EXPECT_EQ(transfer(writes, "t")["status"], "completed") << transfer(writes, "t").dump();
  nlohmann::json read_scenario{{"name", "p"},
                               {"topology", two_gpus_on_root_ports("intel-arrow-lake-s")},
                               {"transfers", nlohmann::json::array({{
                                                 {"id", "t"},
                                                 {"initiator", "gpu0"},
                                                 {"target", "gpu1"},
                                                 {"direction", "read"},
                                                 {"size", "64 KiB"},
                                                 {"mechanism", "vendor_peer"},
                                             }})}};
  const nlohmann::json result = simulate_in_child(read_scenario);
  const nlohmann::json &read = transfer(result, "t");
  EXPECT_EQ(read["status"], "failed") << read.dump();
  EXPECT_NE(read["error"].get<std::string>().find("Unsupported Request"), std::string::npos)
      << read.dump();
}

// The workload mechanism of the same name: the NIC's MR over the GPU's BAR pages, mapped by
// the GPU driver (nvidia-peermem), pinned and revoked as p2p_dma_api's. Where p2pdma allows
// the pair the two are the same run; where it refuses, p2p_dma_api cannot run and vendor_peer
// reads the BAR through the root complex.
TEST(VendorPeer, TheWorkloadMechanismIsTheDmaApiPathWithoutAskingP2pdma) {
  nlohmann::json workload = {{"mechanisms", {"p2p_dma_api", "vendor_peer"}},
                             {"buffers", {test::buffer("4 MiB")}},
                             {"iterations", 2},
                             {"phases",
                              {test::phase_spec("produce", "gpu0", "write", {{"once", true}}),
                               test::phase_spec("send", "nic0", "read")}}};
  nlohmann::json r = test::compare(
      nlohmann::json::array({"gpu-nic-shared-switch", "gpu-nic-root-ports-other"}), workload);
  const nlohmann::json &a = test::mechanism(r, "p2p_dma_api", "gpu-nic-shared-switch");
  const nlohmann::json &v = test::mechanism(r, "vendor_peer", "gpu-nic-shared-switch");
  ASSERT_EQ(a["status"], "ok");
  ASSERT_EQ(v["status"], "ok");
  // The same traffic; only the registration differs: the GPU driver pins 64 KiB pages (64 of
  // them for 4 MiB, and a fixed gpu_pin) where p2pdma pins 1024 pages of 4 KiB.
  EXPECT_EQ(v["breakdown_ns"]["dma"], a["breakdown_ns"]["dma"]);
  const OsCosts c;
  const double p2pdma_ns = (c.register_mr.ps + 1024 * c.register_page.ps) / 1e3;
  const double gpu_pin_ns =
      (c.register_mr.ps + c.gpu_pin.ps + 64 * (c.gpu_pin_page.ps + c.dma_map_page.ps)) / 1e3;
  EXPECT_NEAR(a["total_time_ns"].get<double>() - v["total_time_ns"].get<double>(),
              p2pdma_ns - gpu_pin_ns, 0.01);
  EXPECT_EQ(v["pages_migrated"], 0);
  EXPECT_EQ(v["reason"], ""); // p2pdma allows the pair: nothing to say
  const nlohmann::json &refused = test::mechanism(r, "p2p_dma_api", "gpu-nic-root-ports-other");
  const nlohmann::json &mapped = test::mechanism(r, "vendor_peer", "gpu-nic-root-ports-other");
  EXPECT_EQ(refused["status"], "not_supported");
  ASSERT_EQ(mapped["status"], "ok") << mapped["reason"];
  EXPECT_NE(mapped["reason"].get<std::string>().find("where p2pdma would refuse"),
            std::string::npos);
  EXPECT_EQ(mapped["pages_migrated"], 0);
  EXPECT_GT(mapped["nic_bytes"].get<double>(), 0);
  // Through the root complex: slower than through the switch.
  EXPECT_GT(mapped["total_time_ns"].get<double>(), v["total_time_ns"].get<double>());
}

} // namespace
} // namespace pciesim
