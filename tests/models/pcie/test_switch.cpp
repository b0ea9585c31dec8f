// Switch routing: requests by address against downstream windows (anything else upstream),
// completions by requester bus, Unsupported Request for a hole, cut-through latency, and ACS
// Direct Translated keeping translated peer requests in the switch (a whole scenario), and the
// switch taking TLPs as their link starts sending them without the egress queue counting them
// before they arrive.
#include <gtest/gtest.h>

#include "models/pcie/link.h"
#include "models/pcie/pcie_switch.h"
#include "tests/support/probe_endpoint.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

// up = probe "host"; dp0 window 0x1000_0000..0x100f_ffff, bus 3; dp1 window 0x1010_0000..,
// bus 4.
nlohmann::json
run_switch(const std::function<void(ProbeEndpoint &, ProbeEndpoint &, ProbeEndpoint &)> &inject) {
  return nlohmann::json::parse(run_in_child([&] {
    sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
    ModelTestContext test;
    SimContext &context = test.context;
    RoutingTable table;
    table.add({1, {0x10000000, 0x100fffff}, {3, 3}, {}});
    table.add({2, {0x10100000, 0x101fffff}, {4, 4}, {}});
    SwitchParams params;
    params.downstream_ports = 2;
    PcieSwitch sw("sw", params, table, context);
    sw.completer_id = 0x0100;
    ProbeEndpoint host("host", context), dev0("dev0", context), dev1("dev1", context);
    TrainedLink t;
    t.shape = {4, 16, 256};
    t.flight_latency = Duration{20000};
    std::vector<std::unique_ptr<Link>> links;
    auto connect = [&](PciePort &a, PciePort &b) {
      links.push_back(std::make_unique<Link>(sc_core::sc_gen_unique_name("l"), t, ReceiveCredits{},
                                             ReceiveCredits{}, context));
      links.back()->connect(a, b);
    };
    connect(host.port, sw.port(0));
    connect(sw.port(1), dev0.port);
    connect(sw.port(2), dev1.port);
    AtStart kick("kick", [&] { inject(host, dev0, dev1); });
    sc_core::sc_start();
    nlohmann::json j;
    for (auto *p : {&host, &dev0, &dev1})
      j[p->basename()] = arrivals_json(*p);
    j["ur"] = sw.stats().unsupported_requests;
    j["to_dev0_max_queue_depth"] = links[1]->a_to_b().stats().max_queue_depth;
    return j.dump();
  }));
}

TEST(Switch, RoutesRequestsByAddress) {
  nlohmann::json j = run_switch([](ProbeEndpoint &host, ProbeEndpoint &, ProbeEndpoint &) {
    host.inject(TlpType::MWr, 0x10000040, 64);
    host.inject(TlpType::MWr, 0x10100080, 64);
  });
  ASSERT_EQ(j["dev0"].size(), 1u);
  ASSERT_EQ(j["dev1"].size(), 1u);
  EXPECT_EQ(j["dev0"][0]["address"], 0x10000040);
  EXPECT_EQ(j["dev1"][0]["address"], 0x10100080);
}

TEST(Switch, PeerRequestsStayInTheSwitchAndOthersGoUpstream) {
  nlohmann::json j = run_switch([](ProbeEndpoint &, ProbeEndpoint &dev0, ProbeEndpoint &) {
    dev0.inject(TlpType::MWr, 0x10100000, 64, 0x0300); // dev1's window: peer, via dp1
    dev0.inject(TlpType::MWr, 0x2000, 64, 0x0300);     // host memory: upstream
  });
  ASSERT_EQ(j["dev1"].size(), 1u);
  ASSERT_EQ(j["host"].size(), 1u);
  EXPECT_EQ(j["host"][0]["address"], 0x2000);
}

TEST(Switch, RoutesCompletionsByRequesterBus) {
  nlohmann::json j = run_switch([](ProbeEndpoint &host, ProbeEndpoint &, ProbeEndpoint &) {
    host.inject(TlpType::CplD, 0, 64, 0x0400); // requester on bus 4: dev1
    host.inject(TlpType::CplD, 0, 64, 0x0300); // bus 3: dev0
  });
  ASSERT_EQ(j["dev1"].size(), 1u);
  ASSERT_EQ(j["dev0"].size(), 1u);
}

TEST(Switch, AddressHoleFromUpstreamGetsUnsupportedRequest) {
  nlohmann::json j = run_switch([](ProbeEndpoint &host, ProbeEndpoint &, ProbeEndpoint &) {
    host.inject(TlpType::MRd, 0x20000000, 64); // in no downstream window
  });
  EXPECT_EQ(j["ur"], 1);
  ASSERT_EQ(j["host"].size(), 1u);
  EXPECT_EQ(j["host"][0]["type"], "Cpl");
  EXPECT_TRUE(j["host"][0]["ur"].get<bool>());
  EXPECT_TRUE(j["dev0"].empty());
  EXPECT_TRUE(j["dev1"].empty());
}

TEST(Switch, CutThroughAddsItsLatencyFromHeaderArrival) {
  nlohmann::json j = run_switch([](ProbeEndpoint &host, ProbeEndpoint &, ProbeEndpoint &) {
    host.inject(TlpType::MWr, 0x10000000, 256);
  });
  // Gen4 x16, MPS 256 table value L = 168 symbol times (x16 bytes): 280 wire bytes per hop.
  double rate = 16e9 * 128 / 130 / 8 * 16 * (1 - 16.0 / (168 * 16) - 4.0 / 1538) / 1e12; // B/ps
  double ser = 280 / rate;
  // Hop 1: ser + flight; switch: 105 ns from the header (so 105 ns - ser after the last
  // byte); hop 2: ser + flight.
  double expected = ser + 20000 + (105000 - ser) + ser + 20000;
  EXPECT_NEAR(j["dev0"][0]["at"].get<double>(), expected, 2.0);
}

TEST(Switch, ATlpTakenAheadJoinsTheEgressQueueDepthAtItsArrival) {
  // Sixteen 256-byte writes back to back: they arrive at the switch one serialization time
  // apart and each waits there 105 ns less its serialization before leaving on an equal link,
  // so the egress queue holds the ones that arrived within that wait: the count of m >= 0
  // with m * ser < 105 ns - ser. Counted from when the switch took them (as the upstream
  // link starts sending), some thirteen would be queued at once.
  const int writes = 16;
  nlohmann::json j = run_switch([](ProbeEndpoint &host, ProbeEndpoint &, ProbeEndpoint &) {
    for (int i = 0; i < writes; ++i)
      host.inject(TlpType::MWr, 0x10000000 + 256 * i, 256);
  });
  ASSERT_EQ(j["dev0"].size(), static_cast<std::size_t>(writes));
  double rate = 16e9 * 128 / 130 / 8 * 16 * (1 - 16.0 / (168 * 16) - 4.0 / 1538) / 1e12; // B/ps
  double ser = 280 / rate;
  int expected = 0;
  while (expected * ser < 105000 - ser)
    ++expected;
  ASSERT_LT(expected, writes - 3); // the case tells the two countings apart
  EXPECT_EQ(j["to_dev0_max_queue_depth"], expected);
  // And the writes leave the switch one serialization apart, as they came in.
  for (int i = 1; i < writes; ++i)
    EXPECT_NEAR(j["dev0"][i]["at"].get<double>() - j["dev0"][i - 1]["at"].get<double>(), ser, 1.0);
}

TEST(Switch, DirectTranslatedLetsTranslatedPeerRequestsStayInTheSwitch) {
  CommandResult r = run_pciesim("run --json " + std::string(PCIESIM_SOURCE_DIR) +
                                "/scenarios/nic-gpu-rdma-ats.json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  // ACS RR is on (IOMMU), but DT passes the NIC's translated MWr straight to the GPU: no MWr
  // goes up to the root complex.
  for (const nlohmann::json &l : j["links"]) {
    if (l["from"] == "sw0.up") {
      EXPECT_EQ(l["tlps"]["MWr"], 0);
    }
  }
  EXPECT_EQ(j["components"]["sw0"]["acs_redirected"], 0);
}

} // namespace
} // namespace pciesim::test
