// The inter-socket link: each direction a latency and a bandwidth served in time order;
// accesses to the other socket's memory cross it (a write once, a read's request and then its
// data), accesses to the own socket's memory do not; peer TLPs for the other socket's root
// ports are claimed, booked and delivered to the other root complex.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <tlm_utils/simple_initiator_socket.h>

#include "models/memory/host_memory.h"
#include "models/socket/inter_socket_link.h"
#include "tests/support/probe_endpoint.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

constexpr std::uint64_t kGiB = 1ull << 30;

// Link: 50 ns one way, 10 GB/s (100 ps a byte) each direction. Memories: 80 ns, 100 GB/s
// (10 ps a byte). Socket a's memory is [0, 1 GiB), socket b's [1 GiB, 2 GiB); socket b's
// root port 0 has the window [4 GiB, 5 GiB) and buses 2..3.
InterSocketLinkParams link_params() {
  InterSocketLinkParams p;
  p.latency = Duration{50000};
  p.bandwidth = Bandwidth{10e9};
  return p;
}

std::array<SocketReach, 2> two_sockets() {
  std::array<SocketReach, 2> sides;
  sides[0].memory_base = 0;
  sides[0].memory_size = kGiB;
  sides[1].memory_base = kGiB;
  sides[1].memory_size = kGiB;
  PortRoute route;
  route.port = 0;
  route.window = {4 * kGiB, 5 * kGiB - 1};
  route.buses = {2, 3};
  sides[1].root_ports.add(route);
  return sides;
}

struct SocketRequester : sc_core::sc_module {
  explicit SocketRequester(sc_core::sc_module_name name) : sc_module(name), socket("socket") {
    payload.set_extension(new MemoryTimingExtension);
  }
  tlm_utils::simple_initiator_socket<SocketRequester> socket;
  tlm::tlm_generic_payload payload;
};

struct Receiver : InterSocketReceiver {
  std::vector<std::int64_t> arrivals_ps;
  void arrived_from_other_socket(tlm::tlm_generic_payload &, std::int64_t at_ps) override {
    arrivals_ps.push_back(at_ps);
  }
};

struct LinkAccess {
  int side;
  bool write;
  std::uint64_t address;
  std::uint32_t bytes;
};

// Each access at time 0 from the host bridge of `side`; per access the completion time and
// when the first server took it, then the link's stats.
nlohmann::json run_accesses(const std::vector<LinkAccess> &accesses) {
  return nlohmann::json::parse(run_in_child([&] {
    sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
    HostMemoryParams mp;
    mp.latency = Duration{80000};
    mp.bandwidth = Bandwidth{100e9};
    mp.channels = 1; // one 100 GB/s server, as the expected times below assume
    HostMemory memory_a("memory_a", mp), memory_b("memory_b", mp);
    InterSocketLink link("link", link_params(), two_sockets());
    Receiver rc_a, rc_b;
    link.connect(0, rc_a, memory_a.socket);
    link.connect(1, rc_b, memory_b.socket);
    SocketRequester bridge_a("bridge_a"), bridge_b("bridge_b");
    bridge_a.socket.bind(link.memory_target(0));
    bridge_b.socket.bind(link.memory_target(1));
    nlohmann::json j;
    AtStart kick("kick", [&] {
      for (const LinkAccess &a : accesses) {
        SocketRequester &r = a.side == 0 ? bridge_a : bridge_b;
        tlm::tlm_generic_payload &gp = r.payload;
        gp.set_command(a.write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
        gp.set_address(a.address);
        gp.set_data_length(a.bytes);
        gp.set_streaming_width(a.bytes);
        sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
        r.socket->b_transport(gp, delay);
        j["done"].push_back(time_to_ps(delay));
        j["accepted"].push_back(gp.get_extension<MemoryTimingExtension>()->accepted_at_ps);
      }
    });
    sc_core::sc_start();
    j["stats"] = link.stats_json();
    j["memory_a"] = memory_a.stats_json();
    j["memory_b"] = memory_b.stats_json();
    return j.dump();
  }));
}

TEST(InterSocketLink, LocalMemoryDoesNotCrossTheLink) {
  nlohmann::json j = run_accesses({{0, true, 4096, 64}, {1, false, kGiB + 4096, 64}});
  EXPECT_EQ(j["done"][0], 64 * 10 + 80000);
  EXPECT_EQ(j["done"][1], 64 * 10 + 80000);
  EXPECT_EQ(j["stats"]["bytes_a_to_b"], 0);
  EXPECT_EQ(j["stats"]["bytes_b_to_a"], 0);
  EXPECT_EQ(j["memory_a"]["writes"], 1);
  EXPECT_EQ(j["memory_b"]["reads"], 1);
}

TEST(InterSocketLink, ARemoteWriteCrossesOnceThenTheFarMemoryServesIt) {
  // 1000 B: 100 ns on the link, 50 ns flight, then 10 ns + 80 ns in the far memory.
  nlohmann::json j = run_accesses({{0, true, kGiB + 64, 1000}});
  EXPECT_EQ(j["done"][0], 100000 + 50000 + 10000 + 80000);
  EXPECT_EQ(j["accepted"][0], 0); // the link took it at once
  EXPECT_EQ(j["stats"]["remote_writes_a"], 1);
  EXPECT_EQ(j["stats"]["bytes_a_to_b"], 1000);
  EXPECT_EQ(j["stats"]["busy_ps_a_to_b"], 100000);
  EXPECT_EQ(j["memory_b"]["bytes_written"], 1000);
}

TEST(InterSocketLink, ARemoteReadCrossesTwiceItsDataOnTheWayBack) {
  // The request flies 50 ns; the far memory answers at 50 + 10 + 80; the data then takes
  // 100 ns on the b-to-a direction and 50 ns of flight.
  nlohmann::json j = run_accesses({{0, false, kGiB + 64, 1000}});
  EXPECT_EQ(j["done"][0], 50000 + 10000 + 80000 + 100000 + 50000);
  EXPECT_EQ(j["stats"]["remote_reads_a"], 1);
  EXPECT_EQ(j["stats"]["bytes_a_to_b"], 0);
  EXPECT_EQ(j["stats"]["bytes_b_to_a"], 1000);
}

TEST(InterSocketLink, TheTwoDirectionsAreIndependent) {
  // Each socket writes the other's memory at once: neither waits for the other.
  nlohmann::json j = run_accesses({{0, true, kGiB, 1000}, {1, true, 0, 1000}});
  EXPECT_EQ(j["done"][0], 240000);
  EXPECT_EQ(j["done"][1], 240000);
  // The same direction twice: the second waits for the first's 100 ns on the link.
  nlohmann::json same = run_accesses({{0, true, kGiB, 1000}, {0, true, kGiB + 4096, 1000}});
  EXPECT_EQ(same["accepted"][1], 100000);
  EXPECT_EQ(same["done"][1], 100000 + 240000);
}

TEST(InterSocketLink, CrossingsAreServedInTimeOrderNotBookingOrder) {
  nlohmann::json j = nlohmann::json::parse(run_in_child([] {
    sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
    InterSocketLink link("link", link_params(), two_sockets());
    nlohmann::json out;
    // Booked first, due at 1 us; then one due at 0 and one at 50 ns.
    for (std::int64_t due : {1000000, 0, 50000}) {
      Crossing c = link.cross(0, 1000, due);
      out["start"].push_back(c.start_ps);
      out["arrival"].push_back(c.arrival_ps);
    }
    // The other direction is free at 0 whatever this one holds.
    out["other"] = link.cross(1, 1000, 0).start_ps;
    return out.dump();
  }));
  EXPECT_EQ(j["start"][0], 1000000);
  EXPECT_EQ(j["start"][1], 0);      // not behind the booking due later
  EXPECT_EQ(j["start"][2], 100000); // behind the one due earlier, still before 1 us
  EXPECT_EQ(j["arrival"][2], 100000 + 100000 + 50000);
  EXPECT_EQ(j["other"], 0);
}

TEST(InterSocketLink, ClaimsTheOtherSocketsPeerTrafficAndDeliversItThere) {
  nlohmann::json j = nlohmann::json::parse(run_in_child([] {
    sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
    InterSocketLink link("link", link_params(), two_sockets());
    HostMemory memory_a("memory_a", HostMemoryParams{}), memory_b("memory_b", HostMemoryParams{});
    Receiver rc_a, rc_b;
    link.connect(0, rc_a, memory_a.socket);
    link.connect(1, rc_b, memory_b.socket);
    TlpExtension write;
    write.type = TlpType::MWr;
    write.address = 4 * kGiB + 128;
    TlpExtension elsewhere = write;
    elsewhere.address = 6 * kGiB;
    TlpExtension completion;
    completion.type = TlpType::CplD;
    completion.requester_id = static_cast<std::uint16_t>(3 << 8); // bus 3
    nlohmann::json out;
    out["claims_write"] = link.end(0).claims(write);
    out["claims_elsewhere"] = link.end(0).claims(elsewhere);
    out["claims_completion"] = link.end(0).claims(completion);
    out["b_claims_own"] = link.end(1).claims(write); // socket b's own port: not the link's
    Crossing c = link.end(0).book(256, 0);
    tlm::tlm_generic_payload gp;
    link.end(0).deliver(gp, c.arrival_ps);
    out["arrival"] = c.arrival_ps;
    out["delivered_b"] = rc_b.arrivals_ps;
    out["delivered_a"] = rc_a.arrivals_ps.size();
    out["stats"] = link.stats_json();
    return out.dump();
  }));
  EXPECT_TRUE(j["claims_write"]);
  EXPECT_FALSE(j["claims_elsewhere"]);
  EXPECT_TRUE(j["claims_completion"]);
  EXPECT_FALSE(j["b_claims_own"]);
  EXPECT_EQ(j["arrival"], 256 * 100 + 50000);
  EXPECT_EQ(j["delivered_b"], nlohmann::json::array({256 * 100 + 50000}));
  EXPECT_EQ(j["delivered_a"], 0);
  EXPECT_EQ(j["stats"]["peer_tlps_a_to_b"], 1);
}

} // namespace
} // namespace pciesim::test
