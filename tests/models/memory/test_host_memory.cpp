// Host memory as a latency and bandwidth server: an access occupies the server for its bytes
// at the bandwidth, starting when it arrives or when the server frees (busy until), and
// completes the latency after that; the start is reported in the MemoryTimingExtension.
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
};

// A base-protocol initiator standing in for a root complex's host bridge.
struct Requester : sc_core::sc_module {
  explicit Requester(sc_core::sc_module_name name) : sc_module(name), socket("socket") {
    payload.set_extension(new MemoryTimingExtension);
  }
  tlm_utils::simple_initiator_socket<Requester> socket;
  tlm::tlm_generic_payload payload;
};

// Makes `accesses` at time 0 of one memory of 80 ns and 100 GB/s (10 ps a byte); returns,
// per access, when it completes and when the server took it, and the memory's stats.
nlohmann::json run_memory(const std::vector<Access> &accesses) {
  return nlohmann::json::parse(run_in_child([&] {
    sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
    HostMemoryParams params;
    params.latency = Duration{80000};
    params.bandwidth = Bandwidth{100e9};
    HostMemory memory("memory", params);
    Requester requester("requester");
    requester.socket.bind(memory.socket);
    nlohmann::json j;
    AtStart kick("kick", [&] {
      for (const Access &a : accesses) {
        tlm::tlm_generic_payload &gp = requester.payload;
        gp.set_command(a.write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
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

} // namespace
} // namespace pciesim::test
