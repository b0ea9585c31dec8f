// The host's last-level cache under device traffic (host_memory's llc_* parameters): a read of
// a warm buffer costs llc_latency instead of the DRAM latency and channel transfer, so warm and
// cold one-at-a-time reads differ by exactly that; DDIO writes allocate into the I/O share alone,
// so a device that wrote more than it holds finds only the last llc_io_size bytes on reading back.
#include <gtest/gtest.h>

#include "tests/support/library_scenario.h"

namespace pciesim {
namespace {

constexpr double kDramNs = 90, kLlcNs = 37;

nlohmann::json cached_topology() {
  nlohmann::json t = test::library_topology("host-dma-gen3x8");
  test::set_param(t, "mem0", "latency", "90 ns");
  test::set_param(t, "mem0", "llc_size", "16 MiB");
  test::set_param(t, "mem0", "llc_io_size", "1 MiB");
  test::set_param(t, "mem0", "llc_latency", "37 ns");
  return t;
}

nlohmann::json read_64B(const char *id, const char *cache) {
  return {{"id", id},           {"initiator", "dma0"}, {"target", "mem0"},    {"direction", "read"},
          {"size", "64 B"},     {"buffer", "8 KiB"},   {"pattern", "random"}, {"count", 500},
          {"host_cache", cache}};
}

TEST(HostCache, WarmReadsSaveTheDramLatencyOverLastLevelCacheLatency) {
  nlohmann::json scenario = {
      {"name", "warm-cold"},
      {"topology", cached_topology()},
      {"transfers", nlohmann::json::array({read_64B("warm", "warm"), read_64B("cold", "cold")})}};
  scenario["transfers"][1]["start_after"] = "warm";
  nlohmann::json r = test::simulate_in_child(scenario);
  double warm = test::transfer(r, "warm")["latency_ns"]["p50"].get<double>();
  double cold = test::transfer(r, "cold")["latency_ns"]["p50"].get<double>();
  // A DRAM read also moves its 64 B through one channel: 100 GB/s over 8 channels, 5.12 ns.
  const double channel_transfer_ns = 64 / (100.0 / 8);
  EXPECT_NEAR(cold - warm, kDramNs + channel_transfer_ns - kLlcNs, 0.01);
  const nlohmann::json &mem = r["components"]["mem0"];
  EXPECT_EQ(mem["llc_read_hits"], 500);
  EXPECT_EQ(mem["llc_read_misses"], 500);
}

TEST(HostCache, DdioKeepsOnlyTheLastIoShareOfWhatADeviceWrote) {
  // 4 MiB written sequentially in 4 KiB DMAs, then read back in 4 KiB DMAs from the start:
  // the I/O share (1 MiB) holds the last quarter, and reads do not allocate, so a quarter of
  // the read-back's memory reads hit, and 3 MiB of dirty lines went back to DRAM.
  nlohmann::json write = {{"id", "write"},        {"initiator", "dma0"}, {"target", "mem0"},
                          {"direction", "write"}, {"size", "4 KiB"},     {"buffer", "4 MiB"},
                          {"count", 1024},        {"concurrency", 8},    {"host_cache", "cold"}};
  nlohmann::json read = {{"id", "read"},        {"initiator", "dma0"}, {"target", "mem0"},
                         {"direction", "read"}, {"size", "4 KiB"},     {"buffer", "4 MiB"},
                         {"count", 1024},       {"concurrency", 8},    {"start_after", "write"}};
  nlohmann::json r = test::simulate_in_child(
      {{"name", "ddio"}, {"topology", cached_topology()}, {"transfers", {write, read}}});
  const nlohmann::json &mem = r["components"]["mem0"];
  EXPECT_EQ(mem["ddio_writes"], mem["writes"]);
  int hits = mem["llc_read_hits"].get<int>(), misses = mem["llc_read_misses"].get<int>();
  EXPECT_EQ(hits + misses, mem["reads"].get<int>());
  EXPECT_GT(hits, 0);
  EXPECT_EQ(misses, 3 * hits);
  EXPECT_EQ(mem["llc_writebacks"], 3 * (1 << 20) / 64);
}

TEST(HostCache, WithoutACacheEveryReadPaysTheDramLatency) {
  nlohmann::json t = test::library_topology("host-dma-gen3x8");
  nlohmann::json r = test::run_one_transfer(t, read_64B("t", "warm"));
  EXPECT_EQ(r["components"]["mem0"]["llc_read_hits"], 0);
  EXPECT_EQ(r["components"]["mem0"]["llc_read_misses"], 0);
}

} // namespace
} // namespace pciesim
