// The RDMA NIC endpoint in a system: the network line rate pacing RDMA WRITEs and READs with
// their packets' headers, and MTT misses read from host memory, hidden by prefetch on
// sequential access (two lines ahead at 400 Gb/s).
#include <gtest/gtest.h>

#include "tests/support/library_scenario.h"

namespace pciesim::test {
namespace {

// The line carries each packet's headers as well as its payload: a full packet of network_mtu
// payload bytes costs packet_overhead more (RoCEv2 over Ethernet: 82 B), an RDMA WRITE's
// first packet its 16-byte RETH, a READ response's first and last their 4-byte AETH.
TEST(RdmaNic, LineRatePacesRdmaWritesAndReadsWithTheirPacketHeaders) {
  struct Case {
    const char *mtu, *overhead;
    double payload_bytes, packets, write_extra, read_extra;
  };
  // 1 MiB messages: 256 packets of 4 KiB, or 1024 of 1 KiB.
  const Case cases[] = {{"4096 B", "82 B", 1 << 20, 256, 16, 8},
                        {"1024 B", "82 B", 1 << 20, 1024, 16, 8},
                        {"4096 B", "26 B", 1 << 20, 256, 16, 8},
                        {"4096 B", "0 B", 1 << 20, 256, 0, 0}};
  for (const Case &c : cases) {
    nlohmann::json t = library_topology("gpu-nic-shared-switch");
    set_param(t, "nic0", "line_rate", "10 Gb/s"); // 1.25 GB/s
    set_param(t, "nic0", "network_mtu", c.mtu);
    set_param(t, "nic0", "packet_overhead", c.overhead);
    const double overhead = std::stod(c.overhead);
    for (const char *direction : {"write", "read"}) {
      SCOPED_TRACE(std::string(c.mtu) + " MTU, " + c.overhead + ", " + direction);
      const double extra = std::string(direction) == "write" ? c.write_extra : c.read_extra;
      const double wire = c.payload_bytes + c.packets * overhead + extra;
      nlohmann::json x = {
          {"id", "t"},       {"initiator", "nic0"}, {"target", "gpu0"}, {"direction", direction},
          {"size", "1 MiB"}, {"count", 8},          {"queue_pairs", 2}};
      EXPECT_NEAR(bandwidth_gbps(run_one_transfer(t, x)), 1.25 * c.payload_bytes / wire, 0.002);
    }
  }
}

// A message smaller than the MTU is one packet with all its headers: 64-byte RDMA WRITEs take
// 64 + 82 + 16 bytes of line each, 64-byte READ responses 64 + 82 + 4.
TEST(RdmaNic, SmallMessagesPayAWholePacketsHeaders) {
  nlohmann::json t = library_topology("gpu-nic-shared-switch");
  set_param(t, "nic0", "line_rate", "10 Gb/s");  // 1.25 GB/s
  set_param(t, "nic0", "post_interval", "0 ns"); // the line alone, not the host's posting
  for (const auto &[direction, wire] : {std::pair{"write", 162.0}, std::pair{"read", 150.0}}) {
    SCOPED_TRACE(direction);
    nlohmann::json x = {
        {"id", "t"},      {"initiator", "nic0"}, {"target", "gpu0"}, {"direction", direction},
        {"size", "64 B"}, {"count", 4096},       {"queue_pairs", 4}, {"concurrency", 16}};
    EXPECT_NEAR(bandwidth_gbps(run_one_transfer(t, x)), 1.25 * 64 / wire, 0.005);
  }
}

// The host posts a stream's messages one at a time, each post_interval after the one before,
// while the messages before it move: small messages go at 1 / post_interval whatever their
// size or queue pairs (one thread posts them all), up to where the line binds instead. At
// 100 Gb/s a 1 KiB WRITE's packet (1024 + 82 + 16 B) takes 89.8 ns of line, less than the
// 143 ns default, so 1 KiB messages are still posting-bound: posting and line overlap.
TEST(RdmaNic, OneThreadPostsMessagesAtMostOnePerPostInterval) {
  nlohmann::json t = library_topology("gpu-nic-shared-switch");
  set_param(t, "nic0", "line_rate", "100 Gb/s"); // 12.5 GB/s
  const double interval_ns = 143;
  auto messages_per_us = [&](const char *size, int queue_pairs) {
    nlohmann::json x = {{"id", "t"},          {"initiator", "nic0"},
                        {"target", "mem0"},   {"direction", "write"},
                        {"size", size},       {"count", 4000},
                        {"concurrency", 128}, {"queue_pairs", queue_pairs},
                        {"buffer", "4 MiB"}};
    const nlohmann::json r = run_one_transfer(t, x)["transfers"][0];
    return r["transfers_done"].get<double>() /
           (r["end_ns"].get<double>() - r["start_ns"].get<double>()) * 1e3;
  };
  for (const char *size : {"2 B", "64 B", "1 KiB"})
    for (int queue_pairs : {1, 4}) {
      SCOPED_TRACE(std::string(size) + ", " + std::to_string(queue_pairs) + " queue pairs");
      EXPECT_NEAR(messages_per_us(size, queue_pairs), 1e3 / interval_ns, 0.01 * 1e3 / interval_ns);
    }
  // 4 KiB messages: the line binds (4096 + 82 + 16 B at 12.5 GB/s, 335.7 ns a message).
  EXPECT_NEAR(messages_per_us("4 KiB", 1), 12.5e3 / (4096 + 82 + 16), 0.01 * 12.5e3 / 4194);
  // Without a posting cost the 64-byte messages go at the line's packet rate instead.
  set_param(t, "nic0", "post_interval", "0 ns");
  EXPECT_NEAR(messages_per_us("64 B", 1), 12.5e3 / (64 + 82 + 16), 0.02 * 12.5e3 / 162);
}

TEST(RdmaNic, MttMissesReadHostMemoryAndPrefetchHidesSequentialOnes) {
  nlohmann::json t = library_topology("gpu-nic-shared-switch");
  set_param(t, "nic0", "mtt_page_size", "4 KiB");
  nlohmann::json x = {
      {"id", "t"},       {"initiator", "nic0"}, {"target", "gpu0"}, {"direction", "write"},
      {"size", "1 MiB"}, {"count", 4},          {"buffer", "4 MiB"}};
  nlohmann::json r = run_one_transfer(t, x);
  const nlohmann::json &nic = r["components"]["nic0"];
  // 4 MiB of 4 KiB pages = 1024 pages = 128 MTT lines of 8 entries, each read once, plus
  // at most the two lines read ahead past the end of the buffer.
  int fetches = nic["fetches_sent"].get<int>();
  EXPECT_EQ(nic["mtt_misses"].get<int>() + nic["mtt_prefetches"].get<int>(), fetches);
  EXPECT_GE(fetches, 128);
  EXPECT_LE(fetches, 130);
  EXPECT_GT(nic["mtt_prefetches"].get<int>(), 100); // sequential: almost all prefetched
  // The MTT reads are real PCIe reads of host memory.
  EXPECT_EQ(r["components"]["rc0"]["memory_reads"], fetches);
}

// A line of eight 4 KiB-page entries covers 32 KiB, which a 400 Gb/s stream reads in 0.66 us,
// less than a fetch's round trip through the switch: one line ahead leaves the stream waiting
// at every line, two keep it at the line's rate (4 KiB packets with 82 bytes of RoCEv2 each).
TEST(RdmaNic, A400GbpsStreamNeedsTwoMttLinesReadAhead) {
  nlohmann::json t = library_topology("gpu-nic-shared-switch");
  for (const char *id : {"sw0", "gpu0", "nic0"})
    set_param(t, id, "max_gen", 5);
  for (nlohmann::json &link : t["links"])
    link["params"]["gen"] = 5;
  set_param(t, "nic0", "mtt_page_size", "4 KiB");
  const double line_GBps = 50.0 * 4096 / (4096 + 82);
  auto rate = [&](int lines) {
    set_param(t, "nic0", "mtt_prefetch_lines", lines);
    nlohmann::json x = {{"id", "t"},           {"initiator", "nic0"}, {"target", "mem0"},
                        {"direction", "read"}, {"size", "16 MiB"},    {"count", 8},
                        {"concurrency", 8},    {"buffer", "32 MiB"}};
    return bandwidth_gbps(run_one_transfer(t, x));
  };
  EXPECT_LT(rate(1), 0.9 * line_GBps);
  EXPECT_NEAR(rate(2), line_GBps, 0.01 * line_GBps);
}

} // namespace
} // namespace pciesim::test
