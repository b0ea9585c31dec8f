// Host memory as channels of a latency and bandwidth server: an access occupies its channel
// for its bytes at the channel's share of the bandwidth, starting when it arrives or when the
// accesses that reached the channel before it have left (in the order they reach memory, not
// the order they were booked), and completes the latency after that; the start is reported in
// the MemoryTimingExtension. Addresses interleave across the channels.
#include <functional>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <tlm_utils/simple_initiator_socket.h>

#include "models/memory/host_memory.h"
#include "tests/support/probe_endpoint.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

struct Access {
  bool write;
  std::uint32_t bytes;
  std::int64_t arrive_ps; // the delay annotated on the call, from time 0
  std::uint64_t address = 0;
};

// A base-protocol initiator standing in for a root complex's host bridge.
struct Requester : sc_core::sc_module {
  explicit Requester(sc_core::sc_module_name name) : sc_module(name), socket("socket") {
    payload.set_extension(new MemoryTimingExtension);
  }
  tlm_utils::simple_initiator_socket<Requester> socket;
  tlm::tlm_generic_payload payload;
};

// Makes `accesses` at time 0 of one memory of 80 ns and 100 GB/s (10 ps a byte over all
// channels), interleaved every 256 B; returns, per access, when it completes and when the
// server took it, and the memory's stats. `direct`: through HostMemory::access, as the root
// complex calls it, instead of b_transport. `llc`: with a 64 KiB last-level cache, 16 KiB of
// it for device writes.
nlohmann::json run_memory(const std::vector<Access> &accesses, int channels = 1,
                          bool direct = false, bool llc = false) {
  return nlohmann::json::parse(run_in_child([&] {
    sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
    HostMemoryParams params;
    params.latency = Duration{80000};
    params.bandwidth = Bandwidth{100e9};
    params.channels = channels;
    params.interleave = Bytes{256};
    if (llc) {
      params.llc_size = Bytes{64 << 10};
      params.llc_io_size = Bytes{16 << 10};
      params.llc_latency = Duration{30000};
    }
    HostMemory memory("memory", params);
    Requester requester("requester");
    requester.socket.bind(memory.socket);
    nlohmann::json j;
    AtStart kick("kick", [&] {
      for (const Access &a : accesses) {
        if (direct) {
          HostMemory::Answer answer = memory.access(a.write, a.address, a.bytes, a.arrive_ps);
          j["done"].push_back(answer.delay_ps);
          j["accepted"].push_back(answer.accepted_at_ps);
          continue;
        }
        tlm::tlm_generic_payload &gp = requester.payload;
        gp.set_command(a.write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
        gp.set_address(a.address);
        gp.set_data_length(a.bytes);
        gp.set_streaming_width(a.bytes);
        sc_core::sc_time delay = ps_to_time(a.arrive_ps);
        requester.socket->b_transport(gp, delay);
        j["done"].push_back(time_to_ps(delay));
        j["accepted"].push_back(gp.get_extension<MemoryTimingExtension>()->accepted_at_ps);
      }
    });
    sc_core::sc_start();
    memory.stats().for_each([&](const char *name, auto value) { j["stats"][name] = value; });
    return j.dump();
  }));
}

TEST(HostMemory, AnAccessTakesItsBytesAtTheBandwidthThenTheLatency) {
  nlohmann::json j = run_memory({{false, 1000, 0}});
  EXPECT_EQ(j["accepted"][0], 0);
  EXPECT_EQ(j["done"][0], 1000 * 10 + 80000);
}

TEST(HostMemory, AccessesQueueBehindTheBusyServer) {
  // Both arrive at 0: the second starts when the first has left the server (10 ns later).
  // The third arrives after the server freed and starts at once.
  nlohmann::json j = run_memory({{false, 1000, 0}, {true, 1000, 0}, {false, 500, 50000}});
  EXPECT_EQ(j["accepted"][1], 10000);
  EXPECT_EQ(j["done"][1], 10000 + 10000 + 80000);
  EXPECT_EQ(j["accepted"][2], 50000);
  EXPECT_EQ(j["done"][2], 50000 + 5000 + 80000);
}

TEST(HostMemory, StatsCountReadsWritesBytesAndBusyTime) {
  nlohmann::json j = run_memory({{false, 1000, 0}, {true, 1000, 0}, {false, 500, 50000}});
  EXPECT_EQ(j["stats"]["reads"], 2);
  EXPECT_EQ(j["stats"]["writes"], 1);
  EXPECT_EQ(j["stats"]["bytes_read"], 1500);
  EXPECT_EQ(j["stats"]["bytes_written"], 1000);
  EXPECT_EQ(j["stats"]["busy_ps"], 25000); // 2500 B at 100 GB/s
}

TEST(HostMemory, AnEarlierDueAccessBookedLaterIsNotDelayedByALaterDueOne) {
  // The first call books an access that reaches memory at 100 ns; the second, booked after
  // it, reaches memory at 0 and is served first, at once: memory serves accesses in the order
  // they reach it. (A busy-until server served in call order would start it at 110 ns.)
  nlohmann::json j = run_memory({{false, 1000, 100000}, {false, 1000, 0}});
  EXPECT_EQ(j["accepted"][0], 100000);
  EXPECT_EQ(j["accepted"][1], 0);
  EXPECT_EQ(j["done"][1], 10000 + 80000);
}

TEST(HostMemory, AnEarlierDueAccessThatOverlapsALaterOneOwesTheOverlapAfterIt) {
  // Booked first: 1000 B reaching memory at 5 ns, on the server [5, 15) ns. Booked second:
  // 1000 B reaching memory at 0, served first on [0, 10) ns. The 5 ns both were served at
  // once are owed: the next access, reaching memory at 0 after both, starts at 15 + 5 ns, so
  // three accesses still take 30 ns of server time in all.
  nlohmann::json j = run_memory({{false, 1000, 5000}, {false, 1000, 0}, {false, 1000, 6000}});
  EXPECT_EQ(j["accepted"][1], 0);
  EXPECT_EQ(j["accepted"][2], 20000);
  EXPECT_EQ(j["done"][2], 30000 + 80000);
}

// Rate of `count` accesses of 256 B all reaching memory at 0, `stride` bytes apart (0: all
// at one address), on 8 channels: bytes over the time the last one left its channel.
double channel_rate_gbps(std::uint64_t stride) {
  std::vector<Access> accesses;
  constexpr int kCount = 64;
  for (int i = 0; i < kCount; ++i)
    accesses.push_back({false, 256, 0, static_cast<std::uint64_t>(i) * stride});
  nlohmann::json j = run_memory(accesses, 8);
  std::int64_t last_transferred = 0;
  for (const nlohmann::json &done : j["done"])
    last_transferred = std::max(last_transferred, done.get<std::int64_t>() - 80000);
  return kCount * 256 / static_cast<double>(last_transferred) * 1e3; // bytes per ps -> GB/s
}

TEST(HostMemory, InterleavedAddressesUseEveryChannelAndOneChannelGetsItsShare) {
  // Consecutive 256 B blocks take every channel in turn: the whole 100 GB/s. Accesses to one
  // block all queue on its channel: 100 GB/s / 8 channels = 12.5 GB/s.
  EXPECT_NEAR(channel_rate_gbps(256), 100.0, 0.01 * 100.0);
  EXPECT_NEAR(channel_rate_gbps(0), 100.0 / 8, 0.01 * 12.5);
}

TEST(HostMemory, AnAccessAcrossInterleaveBlocksIsSplitOverTheirChannels) {
  // 1024 B from 128: blocks 0..4 of 256 B (128 + 256 + 256 + 256 + 128 bytes) on five
  // channels, each at 12.5 GB/s (80 ps a byte); the longest part (256 B) takes 20.48 ns.
  nlohmann::json j = run_memory({{true, 1024, 0, 128}}, 8);
  EXPECT_EQ(j["accepted"][0], 0);
  EXPECT_EQ(j["done"][0], 256 * 80 + 80000);
  EXPECT_EQ(j["stats"]["busy_ps"], 1024 * 80);
}

TEST(HostMemory, TheRootComplexsDirectCallAnswersAsTheTransactionDoes) {
  // The same mix of reads and writes, in and out of due order, across blocks and channels,
  // with and without the cache: the same completion, acceptance and stats either way.
  std::vector<Access> accesses;
  std::uint64_t state = 12345;
  auto next = [&state](std::uint64_t bound) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (state >> 33) % bound;
  };
  for (int i = 0; i < 400; ++i)
    accesses.push_back({next(2) == 0, static_cast<std::uint32_t>(1 + next(1024)),
                        static_cast<std::int64_t>(next(200000)), next(256 << 10)});
  for (bool llc : {false, true}) {
    nlohmann::json by_transaction = run_memory(accesses, 8, false, llc);
    nlohmann::json direct = run_memory(accesses, 8, true, llc);
    EXPECT_EQ(direct, by_transaction) << "llc " << llc;
    if (llc) { // the cache took part: some reads hit
      EXPECT_GT(by_transaction["stats"]["llc_read_hits"].get<int>(), 0);
    }
  }
}

} // namespace
} // namespace pciesim::test
