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

// Runs one transfer (id "t") on `topology_json` and returns its result.
nlohmann::json run_one(const nlohmann::json &topology_json, const nlohmann::json &transfer_json) {
  nlohmann::json r =
      simulate_in_child(nlohmann::json{{"name", "b"},
                                       {"topology", topology_json},
                                       {"transfers", nlohmann::json::array({transfer_json})}});
  return transfer(r, "t");
}

// `topology_json` with every GPU's semaphore_wait set to `wait`.
nlohmann::json with_semaphore_wait(nlohmann::json topology_json, const std::string &wait) {
  for (auto &c : topology_json["components"])
    if (c["type"] == "gpu")
      c["params"]["semaphore_wait"] = wait;
  return topology_json;
}

double bounce_gbps(const nlohmann::json &transfer_json) {
  return run_one(topology(), transfer_json)["bandwidth_GBps"].get<double>();
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
  nlohmann::json r = run_one(t, {{"id", "t"},
                                 {"initiator", "nic0"},
                                 {"target", "gpu0"},
                                 {"direction", "write"},
                                 {"size", "1 MiB"},
                                 {"fallback", "bounce"}});
  EXPECT_EQ(r["mechanism"], "p2p_dma_api"); // BUS_ADDR: no need to fall back
  EXPECT_EQ(r["route"], "nic0 > sw0 > gpu0");
}

// Two GPUs staging a peer copy through host memory hand each chunk over through semaphores:
// a stream of 16 B copies pays, per copy, the copy into staging, the copy out of it and two
// waits of `semaphore_wait` (the second GPU's on the first, then the first's on the second
// before the stream's next copy).
TEST(Bounce, GpuToGpuStagedCopiesPayTwoSemaphoreWaitsEach) {
  nlohmann::json t = nlohmann::json::parse(
      test::read_repo_file("validation/hardware/testbeds/zen4-rtx6000ada-p2p.json"));
  auto p50_us = [&t](const std::string &wait, const nlohmann::json &transfer_json) {
    nlohmann::json spec = transfer_json;
    spec.update({{"id", "t"}, {"size", "16 B"}, {"count", 20}, {"concurrency", 1}});
    return run_one(with_semaphore_wait(t, wait), spec)["latency_ns"]["p50"].get<double>() / 1000.0;
  };
  const nlohmann::json into_staging = {
      {"initiator", "gpu0"}, {"target", "mem0"}, {"direction", "write"}};
  const nlohmann::json out_of_staging = {
      {"initiator", "gpu1"}, {"target", "mem0"}, {"direction", "read"}};
  const nlohmann::json staged = {
      {"initiator", "gpu0"}, {"target", "gpu1"}, {"direction", "write"}, {"mechanism", "bounce"}};
  double copies = p50_us("0 ns", into_staging) + p50_us("0 ns", out_of_staging);
  EXPECT_NEAR(p50_us("0 ns", staged), copies, 0.02 * copies);
  for (double wait_us : {2.0, 5.0}) {
    double expected = copies + 2 * wait_us;
    EXPECT_NEAR(p50_us(std::to_string(wait_us) + " us", staged), expected, 0.02 * expected)
        << wait_us;
  }
}

// A NIC's stages are handed over by the host: the GPU's semaphore_wait does not touch them.
TEST(Bounce, NicPipelinesDoNotPayTheGpusSemaphoreWait) {
  auto gbps = [](const std::string &wait) {
    return run_one(with_semaphore_wait(topology(), wait), {{"id", "t"},
                                                           {"initiator", "nic0"},
                                                           {"target", "gpu0"},
                                                           {"direction", "read"},
                                                           {"size", "1 MiB"},
                                                           {"count", 8},
                                                           {"concurrency", 4},
                                                           {"fallback", "bounce"},
                                                           {"chunk", "256 KiB"}})["bandwidth_GBps"]
        .get<double>();
  };
  EXPECT_EQ(gbps("0 ns"), gbps("50 us"));
}

} // namespace
} // namespace pciesim
