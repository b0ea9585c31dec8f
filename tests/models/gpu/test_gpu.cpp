// The GPU endpoint in a system: its BAR1 aperture (with and without Resizable BAR), kernels
// moving data in device memory at their rate or at the memory's bandwidth, copy engines
// bounded by their own tag pools and paying their setup once a copy, and the BAR completer: peers'
// reads of GPU memory through the aperture at the BAR path's own read rate and slots, writes at the
// link's rate; and a host-to-device copy's reads queued behind the writes at its port.
#include <array>

#include <gtest/gtest.h>

#include "sim/config/json_input.h"
#include "sim/fabric/enumeration.h"
#include "sim/fabric/topology.h"
#include "tests/support/library_scenario.h"

namespace pciesim::test {
namespace {

TEST(Gpu, BarApertureIsBar1AndResizableBarCoversAllMemory) {
  nlohmann::json t = library_topology("gpu-nic-shared-switch");
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
  nlohmann::json t = library_topology("gpu-nic-shared-switch");
  nlohmann::json kernel = {{"id", "t"},           {"initiator", "gpu0"}, {"target", "gpu0"},
                           {"direction", "read"}, {"size", "64 MiB"},    {"rate", "500 GB/s"}};
  EXPECT_NEAR(bandwidth_gbps(run_one_transfer(t, kernel)), 500.0, 5.0);
  kernel.erase("rate");
  // Unpaced: 64 accesses of 4 KiB in flight (256 KiB, more than 2000 GB/s x 100 ns of
  // latency), so the memory bandwidth bounds it.
  EXPECT_NEAR(bandwidth_gbps(run_one_transfer(t, kernel)), 2000.0, 40.0);
}

TEST(Gpu, CopyEngineTagsBoundReadsFromHostMemory) {
  nlohmann::json t = library_topology("gpu-nic-shared-switch");
  nlohmann::json copy = {{"id", "t"},           {"initiator", "gpu0"}, {"target", "mem0"},
                         {"direction", "read"}, {"size", "1 MiB"},     {"count", 4}};
  double many = bandwidth_gbps(run_one_transfer(t, copy));
  set_param(t, "gpu0", "copy_engine_tags", 1);
  double one = bandwidth_gbps(run_one_transfer(t, copy));
  // One 512 B read per round trip (~1 us) is about 0.5 GB/s; 64 tags fill the link.
  EXPECT_LT(one, 1.0);
  EXPECT_GT(many, 10 * one);
}

// A copy the GPU starts takes the copy engine's setup_latency (1.5 us by default) before its
// first TLP, once per copy: copies back to back in one stream each wait for it.
TEST(Gpu, EachCopyTakesTheCopyEngineSetupBeforeItsFirstTlp) {
  nlohmann::json t = library_topology("gpu-nic-shared-switch");
  nlohmann::json copy = {{"id", "t"},        {"initiator", "gpu0"},
                         {"target", "mem0"}, {"direction", "write"},
                         {"size", "4 KiB"},  {"count", 20}};
  nlohmann::json with_setup = transfer(run_one_transfer(t, copy), "t");
  set_param(t, "gpu0", "setup_latency", "0 ns");
  nlohmann::json without = transfer(run_one_transfer(t, copy), "t");
  EXPECT_NEAR(with_setup["latency_ns"]["mean"].get<double>() -
                  without["latency_ns"]["mean"].get<double>(),
              1500.0, 0.01);
  EXPECT_NEAR(with_setup["end_ns"].get<double>() - without["end_ns"].get<double>(), 20 * 1500.0,
              0.01);
}

TEST(Gpu, PeerReadsThroughTheBarRunAtTheBarReadRateWritesAtTheLinks) {
  nlohmann::json t = library_topology("gpu-nic-shared-switch");
  nlohmann::json peer = {{"id", "t"},           {"initiator", "nic0"}, {"target", "gpu0"},
                         {"direction", "read"}, {"size", "1 MiB"},     {"count", 16}};
  // The Gen4 x16 links carry about 25 GB/s, below the BAR path's 50 GB/s default; a slower
  // BAR path sets the rate.
  EXPECT_GT(bandwidth_gbps(run_one_transfer(t, peer)), 20.0);
  set_param(t, "gpu0", "bar_read_bandwidth", "3 GB/s");
  EXPECT_NEAR(bandwidth_gbps(run_one_transfer(t, peer)), 3.0, 0.03 * 3.0);
  peer["direction"] = "write";
  EXPECT_GT(bandwidth_gbps(run_one_transfer(t, peer)), 20.0);
}

TEST(Gpu, BarReadSlotsBoundPeerReads) {
  nlohmann::json t = library_topology("gpu-nic-shared-switch");
  set_param(t, "gpu0", "bar_read_bandwidth", "100 GB/s");
  set_param(t, "gpu0", "bar_read_outstanding", 1);
  set_param(t, "gpu0", "bar_read_latency", "1 us");
  nlohmann::json peer = {{"id", "t"},           {"initiator", "nic0"}, {"target", "gpu0"},
                         {"direction", "read"}, {"size", "1 MiB"},     {"count", 4}};
  nlohmann::json r = run_one_transfer(t, peer);
  // One 512 B read (the NIC's MRRS) at a time, each holding the slot for the BAR latency,
  // the memory's 100 ns and its bytes: 512 B / ~1.1 us, about 0.46 GB/s.
  double expected = 512.0 / (1000.0 + 100.0 + 512.0 / 100.0 + 512.0 / 2000.0);
  EXPECT_NEAR(bandwidth_gbps(r), expected, 0.03 * expected);
  EXPECT_GT(r["components"]["gpu0"]["bar_read_waits"].get<double>(), 0);
}

TEST(Gpu, ACopyOfHostMemoryWaitsForTheReadPipelineOnceAndKeepsTheLinksRate) {
  nlohmann::json t = library_topology("gpu-nic-shared-switch");
  // One 512 B read (the copy engines' MRRS): its data arrive the pipeline's 950 ns later.
  nlohmann::json small = {{"id", "t"},           {"initiator", "gpu0"}, {"target", "mem0"},
                          {"direction", "read"}, {"size", "512 B"},     {"count", 10}};
  nlohmann::json large = small;
  large["size"] = "8 MiB";
  large["count"] = 4;
  const nlohmann::json with_pipeline = run_one_transfer(t, small);
  const double with_rate = bandwidth_gbps(run_one_transfer(t, large));
  set_param(t, "gpu0", "read_pipeline_latency", "0 ns");
  const nlohmann::json without = run_one_transfer(t, small);
  EXPECT_NEAR(transfer(with_pipeline, "t")["latency_ns"]["mean"].get<double>() -
                  transfer(without, "t")["latency_ns"]["mean"].get<double>(),
              950.0, 0.01);
  // 256 reads of 512 B in flight cover the longer round trip at PCIe 4.0: the rate holds.
  const double without_rate = bandwidth_gbps(run_one_transfer(t, large));
  EXPECT_NEAR(with_rate, without_rate, 0.01 * without_rate);
  // With 16 tags the round trip bounds it: 16 x 512 B per round trip of about 1.3 us.
  set_param(t, "gpu0", "read_pipeline_latency", "950 ns");
  set_param(t, "gpu0", "copy_engine_tags", 16);
  EXPECT_LT(bandwidth_gbps(run_one_transfer(t, large)), 0.5 * without_rate);
}

// A host-to-device copy's read requests wait behind the device-to-host copy's writes queued at
// the GPU's port (a read may not pass a posted write): with a deep queue (Ampere's 512 writes,
// and its 128 reads a copy engine) the reads slow to less than half their rate alone while the
// writes keep theirs; with the shallow default the reads lose little. Fails if reads overtake
// queued writes.
TEST(Gpu, ReadsWaitBehindTheWritesQueuedAtThePort) {
  nlohmann::json t = library_topology("gpu-nic-shared-switch");
  set_param(t, "gpu0", "copy_engine_tags", 128);
  auto both_ways = [&t](int posted_window) {
    set_param(t, "gpu0", "posted_window", posted_window);
    nlohmann::json h2d = {{"id", "h2d"},         {"initiator", "gpu0"}, {"target", "mem0"},
                          {"direction", "read"}, {"size", "8 MiB"},     {"count", 4}};
    nlohmann::json d2h = h2d;
    d2h["id"] = "d2h";
    d2h["direction"] = "write";
    d2h["count"] = 16; // runs past the reads' end, so they never run alone
    nlohmann::json alone = run_one_transfer(t, h2d);
    nlohmann::json together = simulate_in_child(nlohmann::json{
        {"name", "t"}, {"topology", t}, {"transfers", nlohmann::json::array({h2d, d2h})}});
    return std::array<double, 3>{bandwidth_gbps(alone, "h2d"), bandwidth_gbps(together, "h2d"),
                                 bandwidth_gbps(together, "d2h")};
  };
  auto [shallow_alone, shallow_reads, shallow_writes] = both_ways(32);
  auto [deep_alone, deep_reads, deep_writes] = both_ways(512);
  EXPECT_NEAR(shallow_alone, deep_alone, 0.01); // alone, the queue holds no writes
  EXPECT_GT(shallow_reads, 0.85 * shallow_alone);
  EXPECT_LT(deep_reads, 0.5 * deep_alone);
  // 128 KiB of writes ahead of each read at PCIe 4.0 (about 5 us) against a round trip of
  // about 1.3 us: 128 tags of 512 B then carry about 64 KiB / 6.4 us.
  EXPECT_NEAR(deep_reads, 65536.0 / (1.3e3 + 131072.0 / deep_writes), 0.1 * deep_reads);
  EXPECT_GT(deep_writes, 0.95 * shallow_writes);
}

} // namespace
} // namespace pciesim::test
