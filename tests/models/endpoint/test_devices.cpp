// The GPU and RDMA NIC endpoints: device memory, copy engines, kernels, line rate, MTT.
#include <gtest/gtest.h>

#include "sim/config/json_input.h"
#include "sim/fabric/enumeration.h"
#include "sim/fabric/topology.h"
#include "tests/support/sim_harness.h"

namespace pciesim {
namespace {

using test::simulate_in_child;
using test::transfer;

nlohmann::json library(const std::string &name) {
  return nlohmann::json::parse(test::read_repo_file("topologies/" + name + ".json"));
}

void set_param(nlohmann::json &topology, const std::string &id, const std::string &key,
               const nlohmann::json &value) {
  for (auto &c : topology["components"])
    if (c["id"] == id)
      c["params"][key] = value;
}

nlohmann::json run(const nlohmann::json &topology, const nlohmann::json &transfer) {
  return simulate_in_child(nlohmann::json{
      {"name", "t"}, {"topology", topology}, {"transfers", nlohmann::json::array({transfer})}});
}

double gbps(const nlohmann::json &r, const char *id = "t") {
  return transfer(r, id)["bandwidth_GBps"].get<double>();
}

TEST(Gpu, BarApertureIsBar1AndResizableBarCoversAllMemory) {
  nlohmann::json t = library("gpu-nic-shared-switch");
  set_param(t, "gpu0", "resizable_bar", false);
  auto bars = [](const nlohmann::json &topology) {
    TopologyConfig c = load_topology(Node::root(parse_json_text(topology.dump(), "t")));
    Hierarchy h = build_hierarchy(c);
    return enumerate(c, h).components[static_cast<std::size_t>(c.find("gpu0"))].bars;
  };
  auto small = bars(t);
  ASSERT_EQ(small.size(), 2u);
  EXPECT_EQ(small[0].size, 16ull << 20);  // registers
  EXPECT_EQ(small[1].size, 256ull << 20); // default aperture
  set_param(t, "gpu0", "resizable_bar", true);
  set_param(t, "gpu0", "memory_size", "40 GiB");
  EXPECT_EQ(bars(t)[1].size, 64ull << 30); // next power of two above 40 GiB
}

TEST(Gpu, KernelTrafficRunsAtItsRateOrAtMemoryBandwidth) {
  nlohmann::json t = library("gpu-nic-shared-switch");
  nlohmann::json kernel = {{"id", "t"},           {"initiator", "gpu0"}, {"target", "gpu0"},
                           {"direction", "read"}, {"size", "64 MiB"},    {"rate", "500 GB/s"}};
  EXPECT_NEAR(gbps(run(t, kernel)), 500.0, 5.0);
  kernel.erase("rate");
  // Unpaced: 64 accesses of 4 KiB in flight (256 KiB, more than 2000 GB/s x 100 ns of
  // latency), so the memory bandwidth bounds it.
  EXPECT_NEAR(gbps(run(t, kernel)), 2000.0, 40.0);
}

TEST(Gpu, CopyEngineTagsBoundReadsFromHostMemory) {
  nlohmann::json t = library("gpu-nic-shared-switch");
  nlohmann::json copy = {{"id", "t"},           {"initiator", "gpu0"}, {"target", "mem0"},
                         {"direction", "read"}, {"size", "1 MiB"},     {"count", 4}};
  double many = gbps(run(t, copy));
  set_param(t, "gpu0", "copy_engine_tags", 1);
  double one = gbps(run(t, copy));
  // One 512 B read per round trip (~1 us) is about 0.5 GB/s; 64 tags fill the link.
  EXPECT_LT(one, 1.0);
  EXPECT_GT(many, 10 * one);
}

TEST(RdmaNic, LineRatePacesRdmaWritesAndReads) {
  nlohmann::json t = library("gpu-nic-shared-switch");
  set_param(t, "nic0", "line_rate", "10 Gb/s"); // 1.25 GB/s
  for (const char *direction : {"write", "read"}) {
    SCOPED_TRACE(direction);
    nlohmann::json x = {
        {"id", "t"},       {"initiator", "nic0"}, {"target", "gpu0"}, {"direction", direction},
        {"size", "1 MiB"}, {"count", 8},          {"queue_pairs", 2}};
    EXPECT_NEAR(gbps(run(t, x)), 1.25, 0.0125);
  }
}

TEST(RdmaNic, MttMissesReadHostMemoryAndPrefetchHidesSequentialOnes) {
  nlohmann::json t = library("gpu-nic-shared-switch");
  set_param(t, "nic0", "mtt_page_size", "4 KiB");
  nlohmann::json x = {
      {"id", "t"},       {"initiator", "nic0"}, {"target", "gpu0"}, {"direction", "write"},
      {"size", "1 MiB"}, {"count", 4},          {"buffer", "4 MiB"}};
  nlohmann::json r = run(t, x);
  const nlohmann::json &nic = r["components"]["nic0"];
  // 4 MiB of 4 KiB pages = 1024 pages = 128 MTT lines of 8 entries, each read once, plus
  // at most one line prefetched past the end of the buffer.
  int fetches = nic["fetches_sent"].get<int>();
  EXPECT_EQ(nic["mtt_misses"].get<int>() + nic["mtt_prefetches"].get<int>(), fetches);
  EXPECT_GE(fetches, 128);
  EXPECT_LE(fetches, 129);
  EXPECT_GT(nic["mtt_prefetches"].get<int>(), 100); // sequential: almost all prefetched
  // The MTT reads are real PCIe reads of host memory.
  EXPECT_EQ(r["components"]["rc0"]["memory_reads"], fetches);
}

TEST(PcieSwitch, DirectTranslatedLetsTranslatedPeerRequestsStayInTheSwitch) {
  test::CommandResult r = test::run_pciesim("run --json " + std::string(PCIESIM_SOURCE_DIR) +
                                            "/scenarios/nic-gpu-rdma-ats.json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  // ACS RR is on (IOMMU), but DT passes the NIC's translated MWr straight to the GPU: no MWr
  // goes up to the root complex.
  for (const nlohmann::json &l : j["links"]) {
    if (l["from"] == "sw0.up") {
      EXPECT_EQ(l["tlps"]["MWr"], 0);
    }
  }
  EXPECT_EQ(j["components"]["sw0"]["acs_redirected"], 0);
}

} // namespace
} // namespace pciesim
