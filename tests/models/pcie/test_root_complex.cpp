// The root complex on its own, with probe endpoints under three root ports: read completions
// from host memory split at the Read Completion Boundary, the host bridge answering what no
// one can complete with Unsupported Request, and peer-to-peer between root ports (forwarded,
// or refused by policy) through forwarding engines per egress port and kind, served in time
// order,
// peer writes split into cache-line writes as Intel root complexes send them, and root ports
// sharing their I/O hub's path to host memory.
#include <functional>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "models/memory/host_memory.h"
#include "models/pcie/link.h"
#include "models/pcie/root_complex.h"
#include "tests/support/probe_endpoint.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

constexpr std::uint64_t kMemoryBase = 0x100000000; // host memory: 1 GiB at 4 GiB
constexpr std::uint64_t kMemorySize = 1ull << 30;
constexpr std::uint64_t kRp1Window = 0x80000000; // rp1's window (1 MiB); dev1 is bus 2
constexpr std::uint64_t kRp2Window = 0xa0000000; // rp2's window (1 MiB); dev2 is bus 3
constexpr std::uint16_t kDev0 = 0x0100;          // dev0's requester ID, bus 1 under rp0

struct RootComplexSetup {
  P2pPolicy p2p_policy = P2pPolicy::Forward;
  std::uint32_t mps_bytes = 128;
  IommuMode iommu = IommuMode::Off;
  Bandwidth p2p_write_bandwidth{25e9}, p2p_read_bandwidth{25e9};
  Bytes p2p_max_payload{0};
  ReceiveCredits rc_buffers; // what the root complex's rp0 advertises (0: infinite)
  int root_ports_per_io_hub = 1;
  Bandwidth io_hub_memory_bandwidth{0};
};

// dev0 under rp0, dev1 under rp1, dev2 under rp2; `inject` runs at time 0. Returns what each
// probe received and the root complex's stats.
nlohmann::json run_root_complex_with_three(
    const RootComplexSetup &setup,
    const std::function<void(ProbeEndpoint &, ProbeEndpoint &, ProbeEndpoint &)> &inject) {
  return nlohmann::json::parse(run_in_child([&] {
    sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
    ModelTestContext test;
    SimContext &context = test.context;
    RootComplexParams params;
    params.root_ports = 3;
    params.p2p_policy = setup.p2p_policy;
    params.iommu.mode = setup.iommu;
    params.p2p_write_bandwidth = setup.p2p_write_bandwidth;
    params.p2p_read_bandwidth = setup.p2p_read_bandwidth;
    params.p2p_max_payload = setup.p2p_max_payload;
    params.root_ports_per_io_hub = setup.root_ports_per_io_hub;
    params.io_hub_memory_bandwidth = setup.io_hub_memory_bandwidth;
    RootComplexWiring wiring;
    wiring.root_ports.add({0, {0x90000000, 0x900fffff}, {1, 1}, {}});
    wiring.root_ports.add({1, {kRp1Window, kRp1Window + 0xfffff}, {2, 2}, {}});
    wiring.root_ports.add({2, {kRp2Window, kRp2Window + 0xfffff}, {3, 3}, {}});
    wiring.memory_base = kMemoryBase;
    wiring.memory_size = kMemorySize;
    wiring.host_bridge_id = 0x0000;
    wiring.mps_bytes = setup.mps_bytes;
    RootComplex rc("rc", params, wiring, context);
    HostMemory memory("memory", HostMemoryParams{});
    rc.memory_socket.bind(memory.socket);
    ProbeEndpoint dev0("dev0", context), dev1("dev1", context), dev2("dev2", context);
    TrainedLink trained;
    trained.shape = {4, 16, 256};
    trained.flight_latency = Duration{20000};
    Link link0("link0", trained, setup.rc_buffers, ReceiveCredits{}, context);
    Link link1("link1", trained, ReceiveCredits{}, ReceiveCredits{}, context);
    Link link2("link2", trained, ReceiveCredits{}, ReceiveCredits{}, context);
    link0.connect(rc.port(0), dev0.port);
    link1.connect(rc.port(1), dev1.port);
    link2.connect(rc.port(2), dev2.port);
    AtStart kick("kick", [&] { inject(dev0, dev1, dev2); });
    sc_core::sc_start();
    nlohmann::json j;
    for (ProbeEndpoint *p : {&dev0, &dev1, &dev2})
      j[p->basename()] = arrivals_json(*p);
    rc.stats().for_each([&](const char *name, std::uint64_t value) { j["stats"][name] = value; });
    j["rp0_credits_restored"] = link0.b_to_a().credits_restored();
    j["tlps_in_use"] = test.pool.in_use();
    return j.dump();
  }));
}

// As above, dev2 idle.
nlohmann::json
run_root_complex(const RootComplexSetup &setup,
                 const std::function<void(ProbeEndpoint &, ProbeEndpoint &)> &inject) {
  return run_root_complex_with_three(setup, [&](ProbeEndpoint &dev0, ProbeEndpoint &dev1,
                                                ProbeEndpoint &) { inject(dev0, dev1); });
}

TEST(RootComplex, ReadCompletionsEndOnTheCompletionBoundaryAndAreAtMostMps) {
  // 256 B from 0x30 with MPS 128 and RCB 64: the first completion runs to the boundary at
  // 0x80 (80 B), the next is a full 128 B to 0x100, the last carries the 48 B left.
  nlohmann::json j = run_root_complex({}, [](ProbeEndpoint &dev0, ProbeEndpoint &) {
    dev0.inject(TlpType::MRd, kMemoryBase + 0x30, 256, kDev0);
  });
  ASSERT_EQ(j["dev0"].size(), 3u) << j.dump();
  const std::uint64_t payloads[] = {80, 128, 48};
  const std::uint64_t addresses[] = {kMemoryBase + 0x30, kMemoryBase + 0x80, kMemoryBase + 0x100};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(j["dev0"][i]["type"], "CplD");
    EXPECT_EQ(j["dev0"][i]["payload"], payloads[i]);
    EXPECT_EQ(j["dev0"][i]["address"], addresses[i]);
  }
  EXPECT_EQ(j["stats"]["memory_reads"], 1);
  EXPECT_EQ(j["stats"]["completions_sent"], 3);
}

TEST(RootComplex, AnAlignedReadSplitsIntoFullCompletions) {
  nlohmann::json j = run_root_complex({}, [](ProbeEndpoint &dev0, ProbeEndpoint &) {
    dev0.inject(TlpType::MRd, kMemoryBase + 0x1000, 512, kDev0);
  });
  ASSERT_EQ(j["dev0"].size(), 4u) << j.dump();
  for (const nlohmann::json &a : j["dev0"])
    EXPECT_EQ(a["payload"], 128);
}

TEST(RootComplex, HostBridgeAnswersAnUnclaimedReadWithUnsupportedRequest) {
  nlohmann::json j = run_root_complex({}, [](ProbeEndpoint &dev0, ProbeEndpoint &) {
    dev0.inject(TlpType::MRd, 0x40000000, 64, kDev0); // no memory, no window
  });
  ASSERT_EQ(j["dev0"].size(), 1u) << j.dump();
  EXPECT_EQ(j["dev0"][0]["type"], "Cpl");
  EXPECT_TRUE(j["dev0"][0]["ur"].get<bool>());
  // Answered after the host-bridge latency (150 ns), beyond the two link crossings.
  EXPECT_GT(j["dev0"][0]["at"].get<std::int64_t>(), 150000);
  EXPECT_EQ(j["stats"]["unsupported_requests"], 1);
  EXPECT_EQ(j["stats"]["memory_reads"], 0);
}

TEST(RootComplex, PeerRequestsBetweenRootPortsAreForwardedAfterTheP2pLatency) {
  nlohmann::json j = run_root_complex({}, [](ProbeEndpoint &dev0, ProbeEndpoint &) {
    dev0.inject(TlpType::MWr, kRp1Window + 0x40, 64, kDev0);
  });
  ASSERT_EQ(j["dev1"].size(), 1u) << j.dump();
  EXPECT_EQ(j["dev1"][0]["type"], "MWr");
  EXPECT_EQ(j["dev1"][0]["address"], kRp1Window + 0x40);
  // Two flights of 20 ns plus the 200 ns peer latency, at least.
  EXPECT_GT(j["dev1"][0]["at"].get<std::int64_t>(), 240000);
  EXPECT_EQ(j["stats"]["peer_requests"], 1);
  EXPECT_EQ(j["stats"]["peer_bytes"], 64);
}

TEST(RootComplex, PeerCompletionsReturnToTheRequesterThroughTheP2pPath) {
  nlohmann::json j = run_root_complex({}, [](ProbeEndpoint &dev0, ProbeEndpoint &dev1) {
    dev0.inject(TlpType::MRd, kRp1Window + 0x40, 64, kDev0);
    dev1.inject(TlpType::CplD, 0x40, 64, kDev0); // dev1's answer, routed by requester bus
  });
  ASSERT_EQ(j["dev1"].size(), 1u) << j.dump();
  EXPECT_EQ(j["dev1"][0]["type"], "MRd");
  ASSERT_EQ(j["dev0"].size(), 1u) << j.dump();
  EXPECT_EQ(j["dev0"][0]["type"], "CplD");
  EXPECT_EQ(j["stats"]["peer_requests"], 1);
  EXPECT_EQ(j["stats"]["peer_completions"], 1);
}

TEST(RootComplex, PeerPolicyUnsupportedRequestRefusesPeerReads) {
  RootComplexSetup setup;
  setup.p2p_policy = P2pPolicy::UnsupportedRequest;
  nlohmann::json j = run_root_complex(setup, [](ProbeEndpoint &dev0, ProbeEndpoint &) {
    dev0.inject(TlpType::MRd, kRp1Window + 0x40, 64, kDev0);
  });
  EXPECT_TRUE(j["dev1"].empty()) << j.dump();
  ASSERT_EQ(j["dev0"].size(), 1u);
  EXPECT_TRUE(j["dev0"][0]["ur"].get<bool>());
  EXPECT_EQ(j["stats"]["peer_requests"], 0);
  EXPECT_EQ(j["stats"]["unsupported_requests"], 1);
}

TEST(RootComplex, AWritesOnlyRootComplexForwardsPeerWritesAndRefusesPeerReads) {
  // Intel client CPUs: a peer write goes through, a peer read comes back Unsupported Request.
  RootComplexSetup setup;
  setup.p2p_policy = P2pPolicy::WritesOnly;
  nlohmann::json j = run_root_complex(setup, [](ProbeEndpoint &dev0, ProbeEndpoint &) {
    dev0.inject(TlpType::MWr, kRp1Window + 0x40, 64, kDev0);
    dev0.inject(TlpType::MRd, kRp1Window + 0x80, 64, kDev0);
  });
  ASSERT_EQ(j["dev1"].size(), 1u) << j.dump();
  EXPECT_EQ(j["dev1"][0]["type"], "MWr");
  ASSERT_EQ(j["dev0"].size(), 1u) << j.dump();
  EXPECT_TRUE(j["dev0"][0]["ur"].get<bool>());
  EXPECT_EQ(j["stats"]["peer_requests"], 1);
  EXPECT_EQ(j["stats"]["unsupported_requests"], 1);
}

// Bytes per ps of the TLPs of `type` in `arrivals`, from the first to the last arrival,
// as GB/s.
double arrival_rate_gbps(const nlohmann::json &arrivals, const std::string &type) {
  std::int64_t first = -1, last = 0, bytes = 0;
  for (const nlohmann::json &a : arrivals) {
    if (a["type"] != type)
      continue;
    if (first >= 0)
      bytes += a["payload"].get<std::int64_t>(); // the first one's bytes left before `first`
    else
      first = a["at"].get<std::int64_t>();
    last = a["at"].get<std::int64_t>();
  }
  return static_cast<double>(bytes) / static_cast<double>(last - first) * 1e3;
}

TEST(RootComplex, PeerWritesAndPeerReadCompletionsEachGetTheirEnginesRate) {
  // At the same time, dev0 writes to dev1 (the write engine, 4 GB/s) and dev1 returns read
  // completions to dev0 (the read engine, 2 GB/s): each stream runs at its own engine's
  // rate, 128 B every 32 ns and every 64 ns, and neither slows the other.
  RootComplexSetup setup;
  setup.p2p_write_bandwidth = Bandwidth{4e9};
  setup.p2p_read_bandwidth = Bandwidth{2e9};
  constexpr int kCount = 64;
  nlohmann::json j = run_root_complex(setup, [](ProbeEndpoint &dev0, ProbeEndpoint &dev1) {
    for (int i = 0; i < kCount; ++i) {
      dev0.inject(TlpType::MWr, kRp1Window + 128 * i, 128, kDev0);
      dev1.inject(TlpType::CplD, 128 * i, 128, kDev0);
    }
  });
  ASSERT_EQ(j["dev1"].size(), kCount) << j.dump();
  ASSERT_EQ(j["dev0"].size(), kCount) << j.dump();
  EXPECT_NEAR(arrival_rate_gbps(j["dev1"], "MWr"), 4.0, 0.01 * 4.0);
  EXPECT_NEAR(arrival_rate_gbps(j["dev0"], "CplD"), 2.0, 0.01 * 2.0);
  EXPECT_EQ(j["stats"]["peer_write_bytes"], kCount * 128);
  EXPECT_EQ(j["stats"]["peer_read_bytes"], kCount * 128);
}

TEST(RootComplex, PeerWritesShareTheEngineOfThePortTheyLeaveBy) {
  // The write engine (4 GB/s) belongs to the egress port: dev0 and dev2 writing into dev1 at
  // once share rp1's, 2 GB/s each and 4 GB/s together; dev0 writing into dev1 and dev2 at
  // once uses rp1's and rp2's, 4 GB/s each (rp0's link, 26 GB/s, is no limit).
  RootComplexSetup setup;
  setup.p2p_write_bandwidth = Bandwidth{4e9};
  constexpr int kCount = 64;
  constexpr std::uint16_t kDev2 = 0x0300;
  nlohmann::json two_into_one = run_root_complex_with_three(
      setup, [](ProbeEndpoint &dev0, ProbeEndpoint &, ProbeEndpoint &dev2) {
        for (int i = 0; i < kCount; ++i) {
          dev0.inject(TlpType::MWr, kRp1Window + 128 * i, 128, kDev0);
          dev2.inject(TlpType::MWr, kRp1Window + 128 * (kCount + i), 128, kDev2);
        }
      });
  ASSERT_EQ(two_into_one["dev1"].size(), 2 * kCount) << two_into_one.dump();
  EXPECT_NEAR(arrival_rate_gbps(two_into_one["dev1"], "MWr"), 4.0, 0.01 * 4.0);
  nlohmann::json one_into_two =
      run_root_complex_with_three(setup, [](ProbeEndpoint &dev0, ProbeEndpoint &, ProbeEndpoint &) {
        for (int i = 0; i < kCount; ++i) {
          dev0.inject(TlpType::MWr, kRp1Window + 128 * i, 128, kDev0);
          dev0.inject(TlpType::MWr, kRp2Window + 128 * i, 128, kDev0);
        }
      });
  ASSERT_EQ(one_into_two["dev1"].size(), kCount) << one_into_two.dump();
  ASSERT_EQ(one_into_two["dev2"].size(), kCount) << one_into_two.dump();
  EXPECT_NEAR(arrival_rate_gbps(one_into_two["dev1"], "MWr"), 4.0, 0.01 * 4.0);
  EXPECT_NEAR(arrival_rate_gbps(one_into_two["dev2"], "MWr"), 4.0, 0.01 * 4.0);
}

TEST(RootComplex, AnIntelRootComplexSendsPeerWritesDownAsCacheLineWrites) {
  // p2p_max_payload 64 B: 256-byte writes leave rp1 as four 64-byte writes each, in address
  // order, at the egress link's rate for 64-byte TLPs (20.7 of Gen4 x16's 26 GB/s at 256 B);
  // an unaligned 128-byte write as 32, 64 and 32 bytes, cut at the line boundaries.
  RootComplexSetup setup;
  setup.mps_bytes = 256;
  setup.p2p_max_payload = Bytes{64};
  constexpr int kWrites = 64;
  constexpr std::uint64_t kUnaligned = kRp1Window + 256 * kWrites + 0x20;
  nlohmann::json j = run_root_complex(setup, [](ProbeEndpoint &dev0, ProbeEndpoint &) {
    for (int i = 0; i < kWrites; ++i)
      dev0.inject(TlpType::MWr, kRp1Window + 256 * i, 256, kDev0);
    dev0.inject(TlpType::MWr, kUnaligned, 128, kDev0);
  });
  const nlohmann::json &got = j["dev1"];
  ASSERT_EQ(got.size(), 4u * kWrites + 3) << j.dump();
  std::uint64_t next = kRp1Window;
  for (std::size_t i = 0; i < 4u * kWrites; ++i, next += 64) {
    ASSERT_EQ(got[i]["address"], next) << i;
    ASSERT_EQ(got[i]["payload"], 64) << i;
  }
  EXPECT_EQ(got[4 * kWrites]["address"], kUnaligned);
  EXPECT_EQ(got[4 * kWrites]["payload"], 32);
  EXPECT_EQ(got[4 * kWrites + 1]["address"], kUnaligned + 32);
  EXPECT_EQ(got[4 * kWrites + 1]["payload"], 64);
  EXPECT_EQ(got[4 * kWrites + 2]["address"], kUnaligned + 96);
  EXPECT_EQ(got[4 * kWrites + 2]["payload"], 32);
  // The egress link sends one 64-byte TLP after another: 64 bytes per its serialization.
  LinkShape shape{4, 16, 256};
  LinkOverheads overheads;
  const double expected_gbps = 64.0 * usable_bytes_per_second(shape, overheads) /
                               tlp_wire_bytes(4, TlpType::MWr, true, 64, false) / 1e9;
  nlohmann::json aligned = nlohmann::json::array();
  for (std::size_t i = 0; i < 4u * kWrites; ++i)
    aligned.push_back(got[i]);
  EXPECT_NEAR(arrival_rate_gbps(aligned, "MWr"), expected_gbps, 0.005 * expected_gbps);
  EXPECT_EQ(j["stats"]["peer_requests"], kWrites + 1);
  EXPECT_EQ(j["stats"]["peer_write_bytes"], 256 * kWrites + 128);
  EXPECT_EQ(j["stats"]["peer_pieces"], 4 * kWrites + 3);
  EXPECT_EQ(j["tlps_in_use"], 0);
}

TEST(RootComplex, AnIntelRootComplexSendsPeerReadCompletionsDownAsCacheLineCompletions) {
  // A 256-byte completion from dev1 for dev0's read, through the read engine: four 64-byte
  // completions reach dev0, in order, each with the bytes left from it on; an unaligned
  // 128-byte one at offset 0x20 as 32, 64 and 32 bytes.
  RootComplexSetup setup;
  setup.mps_bytes = 256;
  setup.p2p_max_payload = Bytes{64};
  nlohmann::json j = run_root_complex(setup, [](ProbeEndpoint &, ProbeEndpoint &dev1) {
    dev1.inject(TlpType::CplD, 0x1000, 256, kDev0);
    dev1.inject(TlpType::CplD, 0x2020, 128, kDev0);
  });
  const nlohmann::json &got = j["dev0"];
  ASSERT_EQ(got.size(), 7u) << j.dump();
  const std::uint64_t addresses[] = {0x1000, 0x1040, 0x1080, 0x10c0, 0x2020, 0x2040, 0x2080};
  const std::uint32_t payloads[] = {64, 64, 64, 64, 32, 64, 32};
  for (std::size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(got[i]["type"], "CplD") << i;
    EXPECT_EQ(got[i]["address"], addresses[i]) << i;
    EXPECT_EQ(got[i]["payload"], payloads[i]) << i;
  }
  EXPECT_EQ(j["stats"]["peer_completions"], 2);
  EXPECT_EQ(j["stats"]["peer_read_bytes"], 384);
  EXPECT_EQ(j["stats"]["peer_pieces"], 7);
  EXPECT_EQ(j["tlps_in_use"], 0);
}

TEST(RootComplex, ASplitPeerWriteHoldsItsWholeReceiveBufferUntilItsLastPieceLeaves) {
  // rp0 advertises room for two 256-byte posted writes: each split write must return its
  // header credit and its 16 data credits once, when its last piece leaves, or the stream
  // stalls (credits lost) or the link ends with more credits than it started with.
  RootComplexSetup setup;
  setup.mps_bytes = 256;
  setup.p2p_max_payload = Bytes{64};
  setup.rc_buffers.header[0] = 2;
  setup.rc_buffers.data[0] = 32;
  constexpr int kWrites = 16;
  nlohmann::json j = run_root_complex(setup, [](ProbeEndpoint &dev0, ProbeEndpoint &) {
    for (int i = 0; i < kWrites; ++i)
      dev0.inject(TlpType::MWr, kRp1Window + 256 * i, 256, kDev0);
  });
  ASSERT_EQ(j["dev1"].size(), 4u * kWrites) << j.dump();
  EXPECT_TRUE(j["rp0_credits_restored"].get<bool>());
  EXPECT_EQ(j["tlps_in_use"], 0);
  // Two writes in flight at a time: the next write's first piece leaves only after an
  // earlier write's last piece has, plus the credit's way back, so the stream runs well
  // below the egress link's rate.
  EXPECT_LT(arrival_rate_gbps(j["dev1"], "MWr"), 10.0);
}

// With the IOMMU translating, the first request's page needs a cold walk (4 reads), the
// second's, the next 4 KiB page, only its leaf (the page-walk cache holds the rest): its
// translation is ready about 3 x 80 ns sooner although it was booked after the first.
TEST(RootComplex, APeerReadTranslatedSoonerIsNotQueuedBehindOneBookedEarlier) {
  // Non-posted requests may pass each other: the second read leaves first. (Served in booking
  // order it would follow the first.)
  RootComplexSetup setup;
  setup.iommu = IommuMode::Translated;
  nlohmann::json j = run_root_complex(setup, [](ProbeEndpoint &dev0, ProbeEndpoint &) {
    dev0.inject(TlpType::MRd, kRp1Window, 64, kDev0);
    dev0.inject(TlpType::MRd, kRp1Window + 4096, 64, kDev0);
  });
  ASSERT_EQ(j["dev1"].size(), 2u) << j.dump();
  EXPECT_EQ(j["dev1"][0]["address"], kRp1Window + 4096);
  EXPECT_EQ(j["dev1"][1]["address"], kRp1Window);
  EXPECT_GT(j["dev1"][1]["at"].get<std::int64_t>() - j["dev1"][0]["at"].get<std::int64_t>(),
            200000);
}

TEST(RootComplex, PostedWritesOfAPortKeepTheirOrderThroughTheIommu) {
  // A posted write may not pass an earlier posted write (PCIe Base Spec 2.4.1): the second,
  // translated sooner, waits for the first, then follows it.
  RootComplexSetup setup;
  setup.iommu = IommuMode::Translated;
  nlohmann::json j = run_root_complex(setup, [](ProbeEndpoint &dev0, ProbeEndpoint &) {
    dev0.inject(TlpType::MWr, kRp1Window, 64, kDev0);
    dev0.inject(TlpType::MWr, kRp1Window + 4096, 64, kDev0);
  });
  ASSERT_EQ(j["dev1"].size(), 2u) << j.dump();
  EXPECT_EQ(j["dev1"][0]["address"], kRp1Window);
  EXPECT_EQ(j["dev1"][1]["address"], kRp1Window + 4096);
}

TEST(RootComplex, ReadDataOfRootPortsOnOneIoHubShareItsPathToMemory) {
  // A 4 GB/s hub path (128 B every 32 ns), two root ports a hub: dev0 and dev1 (rp0, rp1)
  // reading host memory at once get 2 GB/s each, 4 together; dev0 and dev2 (rp2, the next
  // hub) get 4 GB/s each. Neither host memory (100 GB/s) nor the links (26 GB/s) bind.
  RootComplexSetup setup;
  setup.root_ports_per_io_hub = 2;
  setup.io_hub_memory_bandwidth = Bandwidth{4e9};
  constexpr int kCount = 64;
  constexpr std::uint16_t kDev1 = 0x0200, kDev2 = 0x0300;
  nlohmann::json one_hub = run_root_complex_with_three(
      setup, [](ProbeEndpoint &dev0, ProbeEndpoint &dev1, ProbeEndpoint &) {
        for (int i = 0; i < kCount; ++i) {
          dev0.inject(TlpType::MRd, kMemoryBase + 128 * i, 128, kDev0);
          dev1.inject(TlpType::MRd, kMemoryBase + 0x10000 + 128 * i, 128, kDev1);
        }
      });
  ASSERT_EQ(one_hub["dev0"].size(), kCount) << one_hub.dump();
  ASSERT_EQ(one_hub["dev1"].size(), kCount) << one_hub.dump();
  EXPECT_NEAR(arrival_rate_gbps(one_hub["dev0"], "CplD"), 2.0, 0.02 * 2.0);
  EXPECT_NEAR(arrival_rate_gbps(one_hub["dev1"], "CplD"), 2.0, 0.02 * 2.0);
  EXPECT_GT(one_hub["stats"]["io_hub_waits"], kCount);
  nlohmann::json two_hubs = run_root_complex_with_three(
      setup, [](ProbeEndpoint &dev0, ProbeEndpoint &, ProbeEndpoint &dev2) {
        for (int i = 0; i < kCount; ++i) {
          dev0.inject(TlpType::MRd, kMemoryBase + 128 * i, 128, kDev0);
          dev2.inject(TlpType::MRd, kMemoryBase + 0x10000 + 128 * i, 128, kDev2);
        }
      });
  ASSERT_EQ(two_hubs["dev0"].size(), kCount) << two_hubs.dump();
  ASSERT_EQ(two_hubs["dev2"].size(), kCount) << two_hubs.dump();
  EXPECT_NEAR(arrival_rate_gbps(two_hubs["dev0"], "CplD"), 4.0, 0.02 * 4.0);
  EXPECT_NEAR(arrival_rate_gbps(two_hubs["dev2"], "CplD"), 4.0, 0.02 * 4.0);
}

TEST(RootComplex, AnIoHubThatDoesNotBindAddsNothingToALatency) {
  // One 128 B read at a time through a 4 GB/s hub path: each finds the path free, so its
  // completion arrives exactly when it would without a limit.
  RootComplexSetup limited;
  limited.io_hub_memory_bandwidth = Bandwidth{4e9};
  auto reads = [](ProbeEndpoint &dev0, ProbeEndpoint &) {
    dev0.inject(TlpType::MRd, kMemoryBase, 128, kDev0);
  };
  nlohmann::json with_hub = run_root_complex(limited, reads);
  nlohmann::json without = run_root_complex({}, reads);
  ASSERT_EQ(with_hub["dev0"].size(), 1u) << with_hub.dump();
  EXPECT_EQ(with_hub["dev0"][0]["at"], without["dev0"][0]["at"]);
  EXPECT_EQ(with_hub["stats"]["io_hub_waits"], 0);
}

TEST(RootComplex, ASaturatedIoHubHoldsWritesBackThroughPostedCredits) {
  // rp0 advertises eight posted headers, freed as the hub path (4 GB/s: 32 ns a 128 B write)
  // takes each write. dev0 posts 256 writes to host memory, then a read, which may not pass
  // them on the link: it leaves once the 248th write has gone through the hub, about 248 x 32
  // ns from the start, and its data is back a few hundred ns later. Without the limit the
  // link (26 GB/s) and the credits' round trip set the pace, several times faster.
  RootComplexSetup setup;
  setup.rc_buffers.header[0] = 8;
  setup.rc_buffers.data[0] = 64; // 8 writes of 128 B (16-byte credits)
  constexpr int kCount = 256;
  auto writes_then_read = [](ProbeEndpoint &dev0, ProbeEndpoint &) {
    for (int i = 0; i < kCount; ++i)
      dev0.inject(TlpType::MWr, kMemoryBase + 128 * i, 128, kDev0);
    dev0.inject(TlpType::MRd, kMemoryBase + 0x10000, 128, kDev0);
  };
  nlohmann::json without = run_root_complex(setup, writes_then_read);
  setup.io_hub_memory_bandwidth = Bandwidth{4e9};
  nlohmann::json with_hub = run_root_complex(setup, writes_then_read);
  ASSERT_EQ(with_hub["dev0"].size(), 1u) << with_hub.dump();
  ASSERT_EQ(without["dev0"].size(), 1u) << without.dump();
  const double with_hub_ns = with_hub["dev0"][0]["at"].get<double>() / 1e3;
  const double hub_ns = (kCount - 8) * 32.0;
  EXPECT_NEAR(with_hub_ns, hub_ns, 0.1 * hub_ns);
  EXPECT_LT(without["dev0"][0]["at"].get<double>() / 1e3, 0.3 * with_hub_ns);
  EXPECT_TRUE(with_hub["rp0_credits_restored"]);
}

TEST(RootComplex, AReadDoesNotPassPostedWritesWaitingForTheIoHub) {
  // rp0 takes every write at once (infinite credits), so the link does not hold the read back:
  // 64 writes of 128 B wait for the hub's write path (4 GB/s, 32 ns each), and the read after
  // them may not reach memory before the last of them, whatever its own path's load.
  RootComplexSetup setup;
  setup.io_hub_memory_bandwidth = Bandwidth{4e9};
  constexpr int kCount = 64;
  nlohmann::json j = run_root_complex(setup, [](ProbeEndpoint &dev0, ProbeEndpoint &) {
    for (int i = 0; i < kCount; ++i)
      dev0.inject(TlpType::MWr, kMemoryBase + 128 * i, 128, kDev0);
    dev0.inject(TlpType::MRd, kMemoryBase + 0x10000, 128, kDev0);
  });
  ASSERT_EQ(j["dev0"].size(), 1u) << j.dump();
  EXPECT_GT(j["dev0"][0]["at"].get<double>() / 1e3, (kCount - 1) * 32.0);
}

} // namespace
} // namespace pciesim::test
