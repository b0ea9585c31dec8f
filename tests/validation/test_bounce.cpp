// Bounce buffers: chunks through pinned host memory, the GPU's copy engine on one side and
// the NIC on the other, pipelined over `chunks_in_flight` staging slots.
#include <gtest/gtest.h>

#include "tests/support/sim_harness.h"

namespace pciesim {
namespace {

using test::simulate_in_child;
using test::transfer;

// GPU and NIC on two root ports of a host bridge Linux does not allow P2P through; the GPU's
// link is Gen3 x8 so that the copy-engine path (about 7 GB/s) is slower than the NIC's
// (Gen4 x16, about 25 GB/s).
nlohmann::json topology() {
  nlohmann::json t =
      nlohmann::json::parse(test::read_repo_file("topologies/gpu-nic-root-ports-other.json"));
  for (auto &l : t["links"])
    if (l["between"][1] == "gpu0")
      l["params"] = {{"gen", 3}, {"width", 8}};
  return t;
}

double bounce_gbps(const nlohmann::json &transfer_json) {
  nlohmann::json r =
      simulate_in_child(nlohmann::json{{"name", "b"},
                                       {"topology", topology()},
                                       {"transfers", nlohmann::json::array({transfer_json})}});
  return transfer(r, "t")["bandwidth_GBps"].get<double>();
}

TEST(Bounce, ThroughputIsTheSlowerPathWhenPipelined) {
  // The two paths alone: the copy engine writing host memory, the NIC reading it.
  double copy_engine = bounce_gbps({{"id", "t"},
                                    {"initiator", "gpu0"},
                                    {"target", "mem0"},
                                    {"direction", "write"},
                                    {"size", "256 KiB"},
                                    {"count", 64}});
  double nic = bounce_gbps({{"id", "t"},
                            {"initiator", "nic0"},
                            {"target", "mem0"},
                            {"direction", "read"},
                            {"size", "256 KiB"},
                            {"count", 64}});
  ASSERT_LT(copy_engine, nic);
  auto bounce = [](int in_flight) {
    return bounce_gbps({{"id", "t"},
                        {"initiator", "nic0"},
                        {"target", "gpu0"},
                        {"direction", "read"},
                        {"size", "4 MiB"},
                        {"count", 4},
                        {"fallback", "bounce"},
                        {"chunk", "256 KiB"},
                        {"chunks_in_flight", in_flight}});
  };
  double one = bounce(1), four = bounce(4);
  // One slot: copy then send, strictly in turn: 1 / (1/copy + 1/nic).
  double serial = 1.0 / (1.0 / copy_engine + 1.0 / nic);
  EXPECT_NEAR(one, serial, 0.05 * serial);
  // Four slots: the stages overlap and the slower path bounds the pipeline.
  EXPECT_LE(four, copy_engine * 1.01);
  EXPECT_GE(four, copy_engine * 0.93); // fill and drain of 4 chunks out of 64
  EXPECT_GT(four, 1.2 * one);
}

TEST(Bounce, FallbackOnlyWhenTheMappingIsRefused) {
  nlohmann::json t =
      nlohmann::json::parse(test::read_repo_file("topologies/gpu-nic-shared-switch.json"));
  nlohmann::json r = simulate_in_child(
      nlohmann::json{{"name", "b"},
                     {"topology", t},
                     {"transfers", nlohmann::json::array({{{"id", "t"},
                                                           {"initiator", "nic0"},
                                                           {"target", "gpu0"},
                                                           {"direction", "write"},
                                                           {"size", "1 MiB"},
                                                           {"fallback", "bounce"}}})}});
  EXPECT_EQ(transfer(r, "t")["mechanism"], "p2p_dma_api"); // BUS_ADDR: no need to fall back
  EXPECT_EQ(transfer(r, "t")["route"], "nic0 > sw0 > gpu0");
}

} // namespace
} // namespace pciesim
