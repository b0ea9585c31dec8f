// Two sockets joined by an inter-socket link: a device's DMA to the other socket's memory pays
// two crossings more per read (pcie-bench's +107 ns on Broadwell-EP) and is limited by the
// link's bandwidth; a peer write to a device on the other socket runs where Linux allows it
// (AMD Zen, an allow-listed Skylake-E host bridge) at the slower of the link and the far root
// complex's forwarding, or of a root port's window of writes in flight across (held for the
// round trip), and is refused with Linux's reason where it does not; without a link
// nothing crosses and the refusal names both root complexes. A buffer's lines sit in the cache of
// the socket whose CPU touched it last, which answers reads of it.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

// Gen4 x16 links; dma0 under rc1 (socket b), dma1 under rc0 (socket a). `root_complex_params`
// go to both root complexes.
nlohmann::json two_sockets(const std::string &cpu, const nlohmann::json &link_params,
                           const nlohmann::json &transfers, bool joined = true,
                           const nlohmann::json &root_complex_params = nlohmann::json::object()) {
  nlohmann::json rc_params = {{"root_ports", 2}, {"cpu", cpu}};
  rc_params.update(root_complex_params);
  nlohmann::json components = nlohmann::json::array({
      {{"id", "rc0"}, {"type", "root_complex"}, {"params", rc_params}},
      {{"id", "mem0"}, {"type", "host_memory"}, {"root_complex", "rc0"}},
      {{"id", "rc1"}, {"type", "root_complex"}, {"params", rc_params}},
      {{"id", "mem1"}, {"type", "host_memory"}, {"root_complex", "rc1"}},
      // An ideal device (no device-side costs): these tests measure the link and the sockets.
      {{"id", "dma0"},
       {"type", "dma_engine"},
       {"params",
        {{"max_gen", 4},
         {"tags", 64},
         {"read_pipeline_latency", "0 ns"},
         {"max_issue_rate", 0},
         {"datapath_bandwidth", "0 GB/s"},
         {"read_channel_bandwidth", "0 GB/s"}}}},
      {{"id", "dma1"}, {"type", "dma_engine"}, {"params", {{"max_gen", 4}}}},
  });
  if (joined)
    components.push_back({{"id", "xsock"},
                          {"type", "inter_socket_link"},
                          {"root_complexes", {"rc0", "rc1"}},
                          {"params", link_params}});
  nlohmann::json link = {{"gen", 4}, {"width", 16}};
  return {{"name", "two-sockets"},
          {"topology",
           {{"fabric", {{"mps", "256 B"}}},
            {"components", components},
            {"links",
             {{{"between", {"rc1.rp0", "dma0"}}, {"params", link}},
              {{"between", {"rc0.rp0", "dma1"}}, {"params", link}}}}}},
          {"transfers", transfers}};
}

nlohmann::json dma(const std::string &id, const std::string &target, const std::string &direction,
                   const std::string &size, int count, int concurrency) {
  return {
      {"id", id},     {"initiator", "dma0"}, {"target", target},          {"direction", direction},
      {"size", size}, {"count", count},      {"concurrency", concurrency}};
}

TEST(TwoSockets, ARemoteReadPaysTwoCrossingsAsPcieBenchMeasured) {
  // pcie-bench (Neugebauer et al., SIGCOMM 2018; data set bdw ... s0-s1-s1): a 64 B DMA read
  // of remote memory takes 653.3 ns against 546.7 ns local on a Xeon E5-2630 v4: +107 ns.
  // The link's default latency is half of that per crossing, and a read crosses twice.
  const double published_added_ns = 653.3 - 546.7;
  nlohmann::json r = simulate_in_child(two_sockets(
      "other", nlohmann::json::object(),
      {dma("local", "mem1", "read", "64 B", 50, 1), dma("remote", "mem0", "read", "64 B", 50, 1)}));
  double local = transfer(r, "local")["latency_ns"]["p50"].get<double>();
  double remote = transfer(r, "remote")["latency_ns"]["p50"].get<double>();
  // Two crossings and the 64 B of data on the link at 34.4 GB/s.
  EXPECT_NEAR(remote - local, 2 * 53.5 + 64 / 34.4, 0.1);
  EXPECT_NEAR(remote - local, published_added_ns, 0.15 * published_added_ns);
  EXPECT_EQ(transfer(r, "remote")["route"], "dma0 > rc1 > xsock > mem0");
  EXPECT_GT(r["components"]["xsock"]["remote_reads_b"].get<double>(), 0);
  EXPECT_EQ(r["components"]["xsock"]["remote_reads_a"], 0);
}

// The CPU that touched a buffer last leaves its lines in its own socket's cache, whichever
// socket's memory holds them (pcie-bench's s0-s1-s0 and s0-s0-s1 runs: a remote buffer warm
// on the card's socket reads as fast as a local one; a local buffer warm on the other socket
// costs about a remote read). dma0 sits on socket b (rc1).
TEST(TwoSockets, TheSocketWhoseCacheHoldsTheBufferAnswersTheRead) {
  auto read = [](const std::string &id, const std::string &target, const char *warmed_by) {
    nlohmann::json t = dma(id, target, "read", "64 B", 50, 1);
    t["buffer"] = "8 KiB";
    t["host_cache"] = "warm";
    if (warmed_by)
      t["host_cache_socket"] = warmed_by;
    return t;
  };
  nlohmann::json write = dma("write", "mem0", "write", "8 KiB", 1, 1);
  nlohmann::json after_write = dma("after-write", "mem0", "read", "64 B", 50, 1);
  after_write["buffer"] = "8 KiB";
  nlohmann::json transfers = {read("own", "mem1", nullptr),
                              read("near", "mem0", "rc1"),
                              read("far", "mem1", "rc0"),
                              read("home", "mem0", nullptr),
                              read("near-again", "mem0", "rc1"),
                              write,
                              after_write};
  for (std::size_t i = 1; i < transfers.size(); ++i)
    transfers[i]["start_after"] = transfers[i - 1]["id"];
  nlohmann::json scenario = two_sockets("other", nlohmann::json::object(), transfers);
  for (int memory : {1, 3})
    scenario["topology"]["components"][memory]["params"] = {{"latency", "80 ns"},
                                                            {"llc_size", "8 MiB"},
                                                            {"llc_io_size", "1 MiB"},
                                                            {"llc_latency", "20 ns"}};
  nlohmann::json r = simulate_in_child(scenario);
  auto p50 = [&](const char *id) { return transfer(r, id)["latency_ns"]["p50"].get<double>(); };
  // Served by dma0's own socket's cache: no crossing, whoever's memory it is.
  EXPECT_DOUBLE_EQ(p50("near"), p50("own"));
  // The home asks the other socket's cache: two crossings and the data, as a remote read of a
  // buffer warm in its own socket's cache.
  EXPECT_NEAR(p50("far") - p50("own"), 2 * 53.5 + 64 / 34.4, 0.1);
  EXPECT_DOUBLE_EQ(p50("far"), p50("home"));
  const nlohmann::json &xsock = r["components"]["xsock"];
  EXPECT_EQ(xsock["cached_remote_reads_b"], 100); // near, near-again
  EXPECT_EQ(xsock["snooped_reads_b"], 50);        // far
  // dma0's write to mem0 leaves its socket's copies stale: the next read crosses to mem0,
  // whose cache took the write (DDIO).
  EXPECT_DOUBLE_EQ(p50("after-write"), p50("home"));
  EXPECT_EQ(xsock["remote_reads_b"], 100); // home, after-write
}

TEST(TwoSockets, RemoteDmaRateIsTheLinksBandwidthInEachDirection) {
  // 4 GB/s a direction, far below the Gen4 x16 link (about 27 GB/s) and memory (100 GB/s).
  // dma0 sits on socket b: a read's data comes a->b, a write's goes b->a, each at 4 GB/s.
  const double link_GBps = 4.0;
  nlohmann::json r = simulate_in_child(
      two_sockets("other", {{"bandwidth", "4 GB/s"}},
                  nlohmann::json::array({dma("read", "mem0", "read", "256 KiB", 32, 8)})));
  nlohmann::json w = simulate_in_child(
      two_sockets("other", {{"bandwidth", "4 GB/s"}},
                  nlohmann::json::array({dma("write", "mem0", "write", "256 KiB", 32, 8)})));
  nlohmann::json local = simulate_in_child(
      two_sockets("other", {{"bandwidth", "4 GB/s"}},
                  nlohmann::json::array({dma("read", "mem1", "read", "256 KiB", 32, 8)})));
  EXPECT_NEAR(transfer(r, "read")["bandwidth_GBps"].get<double>(), link_GBps, 0.03 * link_GBps);
  EXPECT_NEAR(transfer(w, "write")["bandwidth_GBps"].get<double>(), link_GBps, 0.03 * link_GBps);
  EXPECT_GT(transfer(local, "read")["bandwidth_GBps"].get<double>(), 5 * link_GBps);
  EXPECT_EQ(r["components"]["xsock"]["bytes_b_to_a"], 0);
  EXPECT_EQ(r["components"]["xsock"]["bytes_a_to_b"], 32 * 256 * 1024);
  EXPECT_EQ(w["components"]["xsock"]["bytes_b_to_a"], 32 * 256 * 1024);
}

TEST(TwoSockets, PeerWritesCrossWhereLinuxAllowsAtTheSlowerOfLinkAndForwarding) {
  // AMD Zen: P2P between any root ports. The far root complex forwards at 25 GB/s; the link
  // carries 6 GB/s: the link binds.
  nlohmann::json amd = simulate_in_child(
      two_sockets("amd_zen", {{"bandwidth", "6 GB/s"}},
                  nlohmann::json::array({dma("p2p", "dma1", "write", "256 KiB", 32, 8)})));
  const nlohmann::json &t = transfer(amd, "p2p");
  EXPECT_EQ(t["map_type"], "THRU_HOST_BRIDGE");
  EXPECT_EQ(t["route"], "dma0 > rc1 > xsock > rc0 > dma1");
  EXPECT_NEAR(t["bandwidth_GBps"].get<double>(), 6.0, 0.03 * 6.0);
  EXPECT_GT(amd["components"]["xsock"]["peer_tlps_b_to_a"].get<double>(), 0);
  EXPECT_GT(amd["components"]["rc0"]["peer_bytes"].get<double>(), 0);
  // A Skylake-E host bridge is allow-listed across host bridges too.
  nlohmann::json skx = simulate_in_child(
      two_sockets("intel_skylake_e", nlohmann::json::object(),
                  nlohmann::json::array({dma("p2p", "dma1", "write", "64 KiB", 4, 1)})));
  EXPECT_EQ(transfer(skx, "p2p")["map_type"], "THRU_HOST_BRIDGE");
  EXPECT_EQ(transfer(skx, "p2p")["bytes"], 4 * 64 * 1024);
}

// A root port keeps at most remote_peer_write_window bytes of peer writes crossing, each held
// from its crossing's start until the far root complex has forwarded it and the acknowledgement
// has come back: one flow runs at window / round trip, below both links; each direction has
// its own window; peer reads' completions cross unheld.
TEST(TwoSockets, PeerWritesAcrossKeepTheirRootPortsWindowOverTheRoundTrip) {
  const nlohmann::json link = {{"latency", "100 ns"}, {"bandwidth", "64 GB/s"}};
  const nlohmann::json window = {{"remote_peer_write_window", "8 KiB"}};
  nlohmann::json backward = dma("backward", "dma0", "write", "256 KiB", 32, 8);
  backward["initiator"] = "dma1";
  nlohmann::json read = dma("read", "dma1", "read", "256 KiB", 32, 8);
  read["start_after"] = "one-way";
  const nlohmann::json transfers = {dma("one-way", "dma1", "write", "256 KiB", 32, 8), read};
  nlohmann::json held = simulate_in_child(two_sockets("amd_zen", link, transfers, true, window));
  // Held from the crossing's start: 256 B on the link, its latency, the far root complex's
  // forwarding latency (200 ns) and the acknowledgement's latency back.
  const double round_trip_ns = 256 / 64.0 + 100 + 200 + 100;
  const double expected_GBps = 8192 / round_trip_ns;
  EXPECT_NEAR(transfer(held, "one-way")["bandwidth_GBps"].get<double>(), expected_GBps,
              0.03 * expected_GBps);
  EXPECT_GT(held["components"]["rc1"]["remote_peer_write_window_waits"].get<double>(), 0);
  nlohmann::json free = simulate_in_child(two_sockets("amd_zen", link, transfers, true));
  EXPECT_GT(transfer(free, "one-way")["bandwidth_GBps"].get<double>(), 1.2 * expected_GBps);
  EXPECT_EQ(transfer(held, "read")["bandwidth_GBps"], transfer(free, "read")["bandwidth_GBps"]);
  EXPECT_EQ(held["components"]["rc0"]["remote_peer_write_window_waits"], 0);
  // Both ways at once: the other root port's writes take nothing from this one's window.
  nlohmann::json both = simulate_in_child(
      two_sockets("amd_zen", link, {dma("forward", "dma1", "write", "256 KiB", 32, 8), backward},
                  true, window));
  EXPECT_NEAR(transfer(both, "forward")["bandwidth_GBps"].get<double>(), expected_GBps,
              0.03 * expected_GBps);
  EXPECT_GT(both["components"]["xsock"]["bytes_a_to_b"].get<double>(), 0);
}

// A root port keeps at most remote_memory_window bytes of DMA in flight to the other socket's
// memory, reads (their requested bytes, until the data are back) and writes (until the far
// memory has them and the acknowledgement is back) together: one device moves window / round
// trip one way or both ways at once, as an MI100 on a Milan host does (docs/validation.md);
// its own socket's memory is untouched.
TEST(TwoSockets, DmaToTheFarMemoryKeepsItsRootPortsWindowOverTheRoundTrip) {
  const nlohmann::json link = {{"latency", "100 ns"}, {"bandwidth", "64 GB/s"}};
  const nlohmann::json window = {{"remote_memory_window", "4 KiB"}};
  // Writes alone, then reads alone, then both at once.
  auto both_ways = [](const std::string &target) {
    nlohmann::json write_alone = dma("write-alone", target, "write", "256 KiB", 32, 8);
    nlohmann::json read_alone = dma("read-alone", target, "read", "256 KiB", 32, 8);
    nlohmann::json there = dma("there", target, "write", "256 KiB", 32, 8);
    nlohmann::json back = dma("back", target, "read", "256 KiB", 32, 8);
    read_alone["start_after"] = "write-alone";
    there["start_after"] = back["start_after"] = "read-alone";
    return nlohmann::json::array({write_alone, read_alone, there, back});
  };
  nlohmann::json held =
      simulate_in_child(two_sockets("amd_zen", link, both_ways("mem0"), true, window));
  // A write's round trip from the host bridge: its 256 B on the link, the crossing, the far
  // memory (80 ns and 256 B at one channel's 12.5 GB/s) and the acknowledgement's crossing.
  const double write_round_trip_ns = 256 / 64.0 + 100 + 80 + 256 / 12.5 + 100;
  const double expected_GBps = 4096 / write_round_trip_ns;
  const double write_alone = transfer(held, "write-alone")["bandwidth_GBps"].get<double>();
  const double read_alone = transfer(held, "read-alone")["bandwidth_GBps"].get<double>();
  EXPECT_NEAR(write_alone, expected_GBps, 0.03 * expected_GBps);
  // A read's round trip differs by its data's crossing and its 512 B request: within 5%.
  EXPECT_NEAR(read_alone, expected_GBps, 0.05 * expected_GBps);
  // Both ways at once share the one window: together about what one way gets alone, where
  // unheld they would each run near the link's rate.
  const nlohmann::json &there = transfer(held, "there"), &back = transfer(held, "back");
  const double pair_ns = std::max(there["end_ns"].get<double>(), back["end_ns"].get<double>()) -
                         there["start_ns"].get<double>();
  const double together_GBps = 2 * 32 * 256 * 1024 / pair_ns;
  EXPECT_NEAR(together_GBps, (write_alone + read_alone) / 2, 0.05 * expected_GBps);
  EXPECT_GT(held["components"]["rc1"]["remote_memory_window_waits"].get<double>(), 0);
  EXPECT_EQ(held["components"]["rc0"]["remote_memory_window_waits"], 0);
  nlohmann::json free = simulate_in_child(two_sockets("amd_zen", link, both_ways("mem0"), true));
  EXPECT_GT(transfer(free, "write-alone")["bandwidth_GBps"].get<double>(), 1.2 * expected_GBps);
  // The own socket's memory takes nothing from the window.
  nlohmann::json local =
      simulate_in_child(two_sockets("amd_zen", link, both_ways("mem1"), true, window));
  EXPECT_EQ(local["components"]["rc1"]["remote_memory_window_waits"], 0);
  EXPECT_GT(transfer(local, "there")["bandwidth_GBps"].get<double>(), 1.2 * expected_GBps);
}

TEST(TwoSockets, PeerTrafficIsRefusedWithLinuxsReasonOffTheAllowList) {
  // Xeon E5 (0x3c00): allow-listed only within one host bridge; a Broadwell-EP or Sapphire
  // Rapids host bridge ("other") not at all.
  for (const char *cpu : {"intel_xeon_e5", "other"}) {
    nlohmann::json r = simulate_in_child(
        two_sockets(cpu, nlohmann::json::object(),
                    nlohmann::json::array({dma("p2p", "dma1", "write", "64 KiB", 4, 1)})));
    const nlohmann::json &t = transfer(r, "p2p");
    EXPECT_EQ(t["map_type"], "NOT_SUPPORTED") << cpu;
    EXPECT_EQ(t["bytes"], 0) << cpu;
    std::string error = t["error"].get<std::string>();
    EXPECT_EQ(error.rfind("unsupported: p2pdma NOT_SUPPORTED", 0), 0u) << error;
    EXPECT_NE(error.find("allow"), std::string::npos) << error;
  }
}

TEST(TwoSockets, WithoutALinkNothingCrossesAndTheRefusalNamesBothSockets) {
  nlohmann::json r = simulate_in_child(two_sockets(
      "amd_zen", nlohmann::json::object(),
      {dma("mem", "mem0", "read", "64 KiB", 2, 1), dma("p2p", "dma1", "write", "64 KiB", 2, 1)},
      false));
  for (const char *id : {"mem", "p2p"}) {
    std::string error = transfer(r, id)["error"].get<std::string>();
    EXPECT_NE(error.find("no inter_socket_link joins"), std::string::npos) << error;
    EXPECT_NE(error.find("rc0"), std::string::npos) << error;
    EXPECT_NE(error.find("rc1"), std::string::npos) << error;
  }
}

} // namespace
} // namespace pciesim::test
