// The device-side DMA costs of the endpoint core (models/dma/device_dma_costs.h), one at a
// time on an otherwise ideal dma_engine: each adds what its definition says to a transfer's
// latency or bounds its rate, and counts what it did.
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/support/gen3x8_dma_host.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

// Every cost zero, then `costs` (a JSON object of parameters) over them.
std::string with_costs(const std::string &costs, const std::string &direction, unsigned size,
                       unsigned long count, int concurrency) {
  nlohmann::json params = {{"doorbell_latency", "0 ns"},
                           {"descriptor_bytes", "0 B"},
                           {"setup_latency", "0 ns"},
                           {"finish_latency", "0 ns"},
                           {"read_pipeline_latency", "0 ns"},
                           {"max_issue_rate", 0},
                           {"datapath_bandwidth", "0 GB/s"},
                           {"read_channel_bandwidth", "0 GB/s"},
                           {"completion_writeback_bytes", "0 B"},
                           {"msix", false}};
  if (!costs.empty())
    params.update(nlohmann::json::parse(costs));
  std::string members = params.dump();
  return gen3x8_dma_host(members.substr(1, members.size() - 2), direction, size, count,
                         concurrency);
}

double median_latency_ns(const nlohmann::json &r) {
  return transfer(r, "t")["latency_ns"]["p50"].get<double>();
}

const nlohmann::json &engine_stats(const nlohmann::json &r) { return r["components"]["dma0"]; }

TEST(DeviceDmaCosts, FixedCostsAddToOneTransfersLatency) {
  double ideal = median_latency_ns(simulate_in_child(with_costs("", "read", 64, 50, 1)));
  auto added = [ideal](const std::string &costs) {
    return median_latency_ns(simulate_in_child(with_costs(costs, "read", 64, 50, 1))) - ideal;
  };
  EXPECT_NEAR(added(R"({"doorbell_latency": "200 ns"})"), 200.0, 1.0);
  EXPECT_NEAR(added(R"({"setup_latency": "70 ns"})"), 70.0, 1.0);
  EXPECT_NEAR(added(R"({"finish_latency": "30 ns"})"), 30.0, 1.0);
  EXPECT_NEAR(added(R"({"read_pipeline_latency": "250 ns"})"), 250.0, 1.0);
  // The descriptor is a 64 B read from host memory: one more round trip of a 64 B read.
  EXPECT_NEAR(added(R"({"descriptor_bytes": "64 B"})"), ideal, 0.1 * ideal);
}

TEST(DeviceDmaCosts, DescriptorWritebackAndInterruptAreRealTlps) {
  nlohmann::json r = simulate_in_child(with_costs(
      R"({"descriptor_bytes": "32 B", "completion_writeback_bytes": "16 B", "msix": true})",
      "write", 4096, 20, 2));
  ASSERT_EQ(r["status"], "completed");
  const nlohmann::json &s = engine_stats(r);
  EXPECT_EQ(s["descriptor_fetches"], 20);
  EXPECT_EQ(s["completion_writebacks"], 20);
  EXPECT_EQ(s["msix_sent"], 20);
  EXPECT_EQ(s["mrd_sent"], 0); // data reads only: the descriptors are counted apart
  EXPECT_EQ(s["mwr_sent"], 20 * (4096 / 256) + 2 * 20);
}

TEST(DeviceDmaCosts, WritebackAndInterruptDelayTheEndOfATransfer) {
  double ideal = median_latency_ns(simulate_in_child(with_costs("", "read", 64, 50, 1)));
  double with_interrupt = median_latency_ns(simulate_in_child(
      with_costs(R"({"completion_writeback_bytes": "16 B", "msix": true})", "read", 64, 50, 1)));
  // Two posted writes to host memory, in order: at least one write's flight to memory.
  EXPECT_GT(with_interrupt - ideal, 100.0);
}

TEST(DeviceDmaCosts, IssueRateBoundsSmallWrites) {
  // 64 B writes: the link alone carries about 82 million per second (pcie-bench arithmetic);
  // an engine that issues 10 million TLPs per second moves 10 M x 64 B = 0.64 GB/s.
  nlohmann::json r =
      simulate_in_child(with_costs(R"({"max_issue_rate": 10000000})", "write", 64, 20000, 64));
  double gbps = transfer(r, "t")["bandwidth_GBps"].get<double>();
  EXPECT_NEAR(gbps, 0.64, 0.01 * 0.64);
  EXPECT_GT(engine_stats(r)["issue_waits"].get<double>(), 0);
}

TEST(DeviceDmaCosts, DataPathBoundsWritesAndCountsItsTime) {
  nlohmann::json r =
      simulate_in_child(with_costs(R"({"datapath_bandwidth": "2 GB/s"})", "write", 65536, 200, 8));
  double gbps = transfer(r, "t")["bandwidth_GBps"].get<double>();
  EXPECT_NEAR(gbps, 2.0, 0.01 * 2.0);
  // 200 x 64 KiB at 2 GB/s.
  EXPECT_NEAR(engine_stats(r)["datapath_busy_ns"].get<double>(), 200 * 65536 / 2.0, 200);
}

TEST(DeviceDmaCosts, ReadChannelBoundsOneTransferNotManyInParallel) {
  const std::string channel = R"({"read_channel_bandwidth": "0.5 GB/s"})";
  // One 16 KiB read at a time: its data crosses its channel at 0.5 GB/s, about 32.8 us.
  double alone = median_latency_ns(simulate_in_child(with_costs(channel, "read", 16384, 4, 1)));
  EXPECT_NEAR(alone, 32768.0, 0.03 * 32768.0);
  // Eight at once, each on its own channel: up to eight times the rate (below the link's
  // 6.7 GB/s); a shared channel would stay at 0.5 GB/s. Less than eight because transfers
  // take the tags in admission order, so their data start crossing one after another.
  nlohmann::json r = simulate_in_child(with_costs(channel, "read", 16384, 64, 8));
  double gbps = transfer(r, "t")["bandwidth_GBps"].get<double>();
  EXPECT_GT(gbps, 6 * 0.5);
  EXPECT_LE(gbps, 8 * 0.5 * 1.01);
}

TEST(DeviceDmaCosts, ReadPipelineHoldsTagsSoFewTagsBoundReads) {
  // Tags x latency: with 4 tags and 1 us more per read, 64 B reads run at about
  // 4 x 64 B / (round trip + 1 us).
  double ideal_rtt = median_latency_ns(simulate_in_child(with_costs("", "read", 64, 50, 1)));
  nlohmann::json r = simulate_in_child(
      with_costs(R"({"tags": 4, "read_pipeline_latency": "1 us"})", "read", 64, 4000, 64));
  double gbps = transfer(r, "t")["bandwidth_GBps"].get<double>();
  double expected = 4 * 64.0 / (ideal_rtt + 1000.0);
  EXPECT_NEAR(gbps, expected, 0.05 * expected);
}

TEST(DeviceDmaCosts, WaitsCountStallsNotIssueAttempts) {
  // One 64 KiB read with one tag: 128 reads of 512 B (the MRRS), each after the first waits
  // for the tag the one before holds, once, however often the engine looks in between (its
  // wake-ups differ with the read channel: a tag then frees at one, and the transfer's bytes
  // arrive at another).
  for (const char *channel : {"0 GB/s", "2 GB/s"}) {
    nlohmann::json r = simulate_in_child(
        with_costs(fmt::format(R"({{"tags": 1, "read_channel_bandwidth": "{}"}})", channel), "read",
                   65536, 1, 1));
    ASSERT_EQ(r["status"], "completed") << channel;
    EXPECT_EQ(engine_stats(r)["mrd_sent"], 128) << channel;
    EXPECT_EQ(engine_stats(r)["tag_waits"], 127) << channel;
  }
  // One 64 KiB write at 10 million TLPs a second (100 ns a TLP, where the link takes 35 ns):
  // each of its 256 writes after the first waits for the engine, once.
  nlohmann::json r =
      simulate_in_child(with_costs(R"({"max_issue_rate": 10000000})", "write", 65536, 1, 1));
  EXPECT_EQ(engine_stats(r)["mwr_sent"], 256);
  EXPECT_EQ(engine_stats(r)["issue_waits"], 255);
}

} // namespace
} // namespace pciesim::test
