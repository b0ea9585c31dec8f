// The link model against hand-computed times: serialization at the usable rate, flight
// latency, back-to-back TLPs, and a sender blocked by the receiver's credits.
#include <cmath>

#include <gtest/gtest.h>

#include "models/pcie/completion.h"
#include "models/pcie/link.h"
#include "tests/support/probe_endpoint.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

// Usable Gen3 x8 rate with MPS 256 in bytes per picosecond.
// Gen3 x8, MPS 256: an ACK and an UpdateFC DLLP (8 bytes each) per 203 symbol times, each
// symbol time a byte on every lane, and a 4-byte SKIP per 1538.
double usable_bytes_per_ps() {
  return 8e9 * 128 / 130 / 8 * 8 * (1 - 16.0 / (203 * 8) - 4.0 / 1538) / 1e12;
}

struct Times {
  std::vector<std::int64_t> arrivals, departures;
};

// What sender `a` and receiver `b` saw, out of the child process and back.
void write_times(const ProbeEndpoint &a, const ProbeEndpoint &b, nlohmann::json &j) {
  j["arrivals"] = nlohmann::json::array();
  for (const Arrival &x : b.arrivals)
    j["arrivals"].push_back(x.at_ps);
  j["departures"] = a.departures_ps;
}
Times read_times(const nlohmann::json &j) {
  return Times{j.at("arrivals").get<std::vector<std::int64_t>>(),
               j.at("departures").get<std::vector<std::int64_t>>()};
}

Times run_link(int tlps, std::uint32_t payload, ReceiveCredits receiver, std::int64_t hold_ps,
               bool through_sockets = false, bool both_ways = false) {
  std::string text = run_in_child([&] {
    sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
    ModelTestContext test;
    SimContext &context = test.context;
    ProbeEndpoint a("a", context), b("b", context);
    b.hold_ps = hold_ps;
    a.through_sockets = b.through_sockets = through_sockets;
    Link link("link", gen3x8(), ReceiveCredits{}, receiver, context);
    link.connect(a.port, b.port);
    struct Kick : sc_core::sc_module {
      SC_HAS_PROCESS(Kick);
      Kick(sc_core::sc_module_name n, ProbeEndpoint &e, int count, std::uint32_t bytes)
          : sc_module(n), e_(e), count_(count), bytes_(bytes) {
        SC_METHOD(go);
      }
      void go() {
        for (int i = 0; i < count_; ++i)
          e_.inject(TlpType::MWr, 0x1000 + 256 * i, bytes_);
      }
      ProbeEndpoint &e_;
      int count_;
      std::uint32_t bytes_;
    } kick("kick", a, tlps, payload), kick_back("kick_back", b, both_ways ? tlps : 0, payload);
    sc_core::sc_start();
    nlohmann::json j;
    write_times(a, b, j);
    j["restored"] = link.a_to_b().credits_restored();
    if (!j["restored"].get<bool>())
      throw std::runtime_error("credits not restored at quiescence");
    return j.dump();
  });
  return read_times(nlohmann::json::parse(text));
}

TEST(Link, OneTlpArrivesAfterSerializationPlusFlight) {
  Times t = run_link(1, 256, ReceiveCredits{}, 0);
  ASSERT_EQ(t.arrivals.size(), 1u);
  double expected_ps = 280 / usable_bytes_per_ps() + 20000;
  EXPECT_NEAR(static_cast<double>(t.arrivals[0]), expected_ps, 1.0);
}

TEST(Link, BackToBackTlpsAreSpacedBySerialization) {
  Times t = run_link(10, 256, ReceiveCredits{}, 0);
  ASSERT_EQ(t.arrivals.size(), 10u);
  double ser_ps = 280 / usable_bytes_per_ps();
  for (std::size_t i = 1; i < t.arrivals.size(); ++i)
    EXPECT_NEAR(static_cast<double>(t.arrivals[i] - t.arrivals[i - 1]), ser_ps, 1.0);
  // The sender's buffer frees as each TLP starts on the wire.
  ASSERT_EQ(t.departures.size(), 10u);
  EXPECT_EQ(t.departures[0], 0);
}

TEST(Link, TrafficBothWaysCarriesTheAcksAndUpdateFcsAnsweringIt) {
  // Each TLP is answered by an ACK and an UpdateFC (16 bytes) the other way: alone, a stream
  // keeps its serialization spacing (the answers go in the idle direction); both ways at once,
  // each direction sends the answers it owes after each TLP.
  Times both = run_link(10, 256, ReceiveCredits{}, 0, false, true);
  ASSERT_EQ(both.arrivals.size(), 10u);
  const double answered_ps = (280 + 16) / usable_bytes_per_ps();
  for (std::size_t i = 2; i < both.arrivals.size(); ++i)
    EXPECT_NEAR(static_cast<double>(both.arrivals[i] - both.arrivals[i - 1]), answered_ps, 1.0)
        << i;
}

TEST(Link, CreditsBlockTheSenderUntilTheReceiverFreesItsBuffer) {
  // The receiver holds one 256-byte TLP's worth of posted data credits and keeps each TLP
  // for 1 us: the second TLP may start only when the first one's credits are back.
  ReceiveCredits one_tlp;
  one_tlp.data[0] = 16;
  const std::int64_t hold = 1000000;
  Times t = run_link(3, 256, one_tlp, hold);
  ASSERT_EQ(t.arrivals.size(), 3u);
  double ser_ps = 280 / usable_bytes_per_ps();
  double update_fc_ps = 8 / usable_bytes_per_ps() + 20000; // DLLP + flight back
  double loop = ser_ps + 20000 + hold + update_fc_ps;
  EXPECT_NEAR(static_cast<double>(t.arrivals[1] - t.arrivals[0]), loop, 2.0);
  EXPECT_NEAR(static_cast<double>(t.arrivals[2] - t.arrivals[1]), loop, 2.0);
}

TEST(Link, TlmCallsOnThePortsSocketsDoWhatThePortsDirectCallsDo) {
  // Ports and links call each other directly on the hot path; the sockets they are bound
  // with must still carry the same protocol: the sends, the END_REQ back to the sender, the
  // deliveries and the receiver's buffer releases (which return the credits that pace
  // this run) give the same times either way.
  ReceiveCredits two_tlps;
  two_tlps.header[0] = 2;
  two_tlps.data[0] = 32;
  const std::int64_t hold = 300000;
  Times direct = run_link(6, 256, two_tlps, hold, false);
  Times tlm = run_link(6, 256, two_tlps, hold, true);
  ASSERT_EQ(direct.arrivals.size(), 6u);
  ASSERT_EQ(direct.departures.size(), 6u);
  EXPECT_EQ(tlm.arrivals, direct.arrivals);
  EXPECT_EQ(tlm.departures, direct.departures);
  // The credits did pace it: the third TLP waited for the first one's to come back.
  EXPECT_GT(direct.arrivals[2] - direct.arrivals[1], hold);
}

// A sender that promises a lookahead lets the link decide starts ahead (LinkDirection::
// start_ahead). Bursts of TLPs, each ready 100 ns after it is sent, into a receiver with
// buffers for four that it holds 150 ns: some TLPs start ahead, some wait for credits.
struct AheadRun : Times {
  std::uint64_t credit_stalls = 0, max_queue_depth = 0, wake_ups = 0;
  std::int64_t busy_fs = 0;
  std::string error;
};

AheadRun run_bursts(std::int64_t promised_lookahead_ps, std::int64_t send_delay_ps) {
  std::string text = run_in_child([&] {
    sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
    ModelTestContext test;
    SimContext &context = test.context;
    ProbeEndpoint a("a", context), b("b", context);
    a.promised_lookahead_ps = promised_lookahead_ps;
    a.send_delay_ps = send_delay_ps;
    b.hold_ps = 150000;
    ReceiveCredits four_tlps;
    four_tlps.header[0] = 4;
    four_tlps.data[0] = 64;
    Link link("link", gen3x8(), ReceiveCredits{}, four_tlps, context);
    link.connect(a.port, b.port);
    nlohmann::json j;
    struct Bursts : sc_core::sc_module {
      SC_HAS_PROCESS(Bursts);
      Bursts(sc_core::sc_module_name n, ProbeEndpoint &e, nlohmann::json &out)
          : sc_module(n), e_(e), out_(out) {
        SC_THREAD(go);
      }
      void go() {
        try {
          for (int burst = 0; burst < 6; ++burst) {
            for (int i = 0; i < 3 + burst; ++i)
              e_.inject(TlpType::MWr, 0x1000 + 256 * i, 256);
            wait(sc_core::sc_time(37 + 41 * burst, sc_core::SC_NS));
          }
        } catch (const std::exception &e) {
          out_["error"] = e.what();
        }
      }
      ProbeEndpoint &e_;
      nlohmann::json &out_;
    } bursts("bursts", a, j);
    sc_core::sc_start();
    write_times(a, b, j);
    const LinkDirectionStats &stats = link.a_to_b().stats();
    j["credit_stalls"] = stats.credit_stalls;
    j["max_queue_depth"] = stats.max_queue_depth;
    j["busy_fs"] = stats.busy_fs;
    j["wake_ups"] = test.calendar.stats().wake_ups;
    if (!j.contains("error") && !link.a_to_b().credits_restored())
      throw std::runtime_error("credits not restored at quiescence");
    return j.dump();
  });
  nlohmann::json j = nlohmann::json::parse(text);
  AheadRun r;
  static_cast<Times &>(r) = read_times(j);
  r.credit_stalls = j["credit_stalls"];
  r.max_queue_depth = j["max_queue_depth"];
  r.busy_fs = j["busy_fs"];
  r.wake_ups = j["wake_ups"];
  r.error = j.value("error", "");
  return r;
}

TEST(Link, StartsDecidedAheadAreTheStartsDecidedOnTime) {
  const std::int64_t delay = 100000;
  AheadRun on_time = run_bursts(0, delay);
  AheadRun ahead = run_bursts(delay, delay);
  ASSERT_EQ(on_time.error, "");
  ASSERT_EQ(ahead.error, "");
  const std::size_t tlps = 3 + 4 + 5 + 6 + 7 + 8;
  ASSERT_EQ(on_time.arrivals.size(), tlps);
  EXPECT_EQ(ahead.arrivals, on_time.arrivals);
  EXPECT_EQ(ahead.departures, on_time.departures); // the sender hears of each start on time
  EXPECT_EQ(ahead.credit_stalls, on_time.credit_stalls);
  EXPECT_EQ(ahead.max_queue_depth, on_time.max_queue_depth);
  EXPECT_EQ(ahead.busy_fs, on_time.busy_fs);
  // The run exercised both ways: heads waited for credits, and the queue held several.
  EXPECT_GT(on_time.credit_stalls, 0u);
  EXPECT_GT(on_time.max_queue_depth, 4u);
  // And deciding ahead saved the link wake-ups.
  EXPECT_LT(ahead.wake_ups, on_time.wake_ups);
}

TEST(Link, ASenderThatBreaksItsLookaheadIsCaught) {
  // It promises 100 ns but sends TLPs ready 10 ns later: a start already decided ahead could
  // have gone to one of them, so the link refuses to go on rather than mis-order them.
  AheadRun broken = run_bursts(100000, 10000);
  EXPECT_NE(broken.error.find("sooner than the lookahead it promised"), std::string::npos)
      << broken.error;
}

// A completer answering reads: each burst a posted write and two reads (1 KiB from 0x1030,
// so that the first completion ends on the 64-byte boundary, and 512 B), all ready 30 ns
// later, into a receiver with completion buffers for four 256-byte TLPs that it
// holds 150 ns. Sent as completion trains (PciePort::send_completions) or one by one.
AheadRun run_read_answers(bool as_trains, std::int64_t promised_lookahead_ps) {
  std::string text = run_in_child([&] {
    sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
    ModelTestContext test;
    ProbeEndpoint a("a", test.context), b("b", test.context);
    a.promised_lookahead_ps = promised_lookahead_ps;
    a.send_delay_ps = 30000; // the writes too
    b.hold_ps = 150000;
    ReceiveCredits four_completions;
    four_completions.header[2] = 4;
    four_completions.data[2] = 64;
    Link link("link", gen3x8(), ReceiveCredits{}, four_completions, test.context);
    link.connect(a.port, b.port);
    struct Answers : sc_core::sc_module {
      SC_HAS_PROCESS(Answers);
      Answers(sc_core::sc_module_name n, ProbeEndpoint &e, TlpPool &pool, bool as_trains)
          : sc_module(n), e_(e), pool_(pool), as_trains_(as_trains) {
        SC_THREAD(go);
      }
      void answer(std::uint64_t address, std::uint32_t bytes) {
        constexpr std::int64_t kReadyPs = 30000;
        tlm::tlm_generic_payload &request = pool_.acquire();
        TlpExtension &read = tlp_of(request);
        read.type = TlpType::MRd;
        read.address = address;
        read.request_bytes = bytes;
        read.requester_id = 0x0200;
        if (as_trains_) {
          e_.port.send_completions(request, 0x0100, 256, 64, kReadyPs);
          return;
        }
        split_read_completions(pool_, read, 0x0100, 256, 64,
                               [&](tlm::tlm_generic_payload &cpl) { e_.port.send(cpl, kReadyPs); });
        pool_.release(request);
      }
      void go() {
        for (int burst = 0; burst < 5; ++burst) {
          e_.inject(TlpType::MWr, 0x8000, 128);
          answer(0x1030, 1024);
          answer(0x4000, 512);
          wait(sc_core::sc_time(90 + 70 * burst, sc_core::SC_NS));
        }
      }
      ProbeEndpoint &e_;
      TlpPool &pool_;
      bool as_trains_;
    } answers("answers", a, test.pool, as_trains);
    sc_core::sc_start();
    nlohmann::json j;
    j["received"] = arrivals_json(b);
    j["departures"] = a.departures_ps;
    const LinkDirectionStats &stats = link.a_to_b().stats();
    j["credit_stalls"] = stats.credit_stalls;
    j["max_queue_depth"] = stats.max_queue_depth;
    j["busy_fs"] = stats.busy_fs;
    if (!link.a_to_b().credits_restored() || test.pool.in_use() != 0)
      throw std::runtime_error("credits not restored, or TLPs not returned, at quiescence");
    return j.dump();
  });
  nlohmann::json j = nlohmann::json::parse(text);
  AheadRun r;
  for (const auto &arrival : j["received"])
    r.arrivals.push_back(arrival["at"]);
  r.departures = j["departures"].get<std::vector<std::int64_t>>();
  r.credit_stalls = j["credit_stalls"];
  r.max_queue_depth = j["max_queue_depth"];
  r.busy_fs = j["busy_fs"];
  r.error = j["received"].dump(); // the received TLPs in full, to compare
  return r;
}

TEST(Link, ACompletionTrainSendsWhatSendingEachCompletionSends) {
  for (std::int64_t lookahead : {std::int64_t{0}, std::int64_t{30000}}) {
    SCOPED_TRACE(lookahead);
    AheadRun each = run_read_answers(false, lookahead);
    AheadRun trains = run_read_answers(true, lookahead);
    // 5 bursts of a write and 5 + 2 completions (1 KiB from 0x1030: 208, 256, 256, 256, 48).
    ASSERT_EQ(each.arrivals.size(), 5u * 8);
    EXPECT_EQ(trains.error, each.error); // every TLP: time, type, address, payload
    EXPECT_EQ(trains.departures, each.departures);
    EXPECT_EQ(trains.credit_stalls, each.credit_stalls);
    EXPECT_EQ(trains.max_queue_depth, each.max_queue_depth);
    EXPECT_EQ(trains.busy_fs, each.busy_fs);
    // Heads waited for credits and the queue held several completions.
    EXPECT_GT(each.credit_stalls, 0u);
    EXPECT_GT(each.max_queue_depth, 4u);
  }
}

// The types of the TLPs `b` received, in order, after `a` queued `types` at once.
std::vector<std::string> arrival_order(const std::vector<TlpType> &types) {
  return nlohmann::json::parse(run_in_child([&] {
           sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
           ModelTestContext test;
           ProbeEndpoint a("a", test.context), b("b", test.context);
           Link link("link", gen3x8(), ReceiveCredits{}, ReceiveCredits{}, test.context);
           link.connect(a.port, b.port);
           AtStart kick("kick", [&] {
             for (std::size_t i = 0; i < types.size(); ++i)
               a.inject(types[i], 0x1000 + 256 * i, types[i] == TlpType::MRd ? 0 : 256);
           });
           sc_core::sc_start();
           nlohmann::json order = nlohmann::json::array();
           for (const nlohmann::json &arrival : arrivals_json(b))
             order.push_back(arrival["type"]);
           return order.dump();
         }))
      .get<std::vector<std::string>>();
}

TEST(Link, ReadRequestsAndCompletionsTakeTurnsAndNeitherPassesAnEarlierWrite) {
  using T = TlpType;
  // Requests queued behind a backlog of completions go out between them, not after them
  // (either may pass the other, so the port serves the two queues in turn). The first
  // completion starts as it is queued, on an idle link.
  EXPECT_EQ(arrival_order({T::CplD, T::CplD, T::CplD, T::CplD, T::MRd, T::MRd}),
            (std::vector<std::string>{"CplD", "MRd", "CplD", "MRd", "CplD", "CplD"}));
  // A posted write goes before younger requests and completions, and neither passes it.
  EXPECT_EQ(arrival_order({T::CplD, T::MWr, T::CplD, T::MRd, T::MWr, T::MRd}),
            (std::vector<std::string>{"CplD", "MWr", "MRd", "CplD", "MWr", "MRd"}));
}

// A device with a port that no link connects.
class UnconnectedDevice : public sc_core::sc_module, public PortOwner {
public:
  explicit UnconnectedDevice(sc_core::sc_module_name name)
      : sc_module(name), port("dp0", *this, 0) {}
  PciePort port;

private:
  void tlp_arrived(int, tlm::tlm_generic_payload &) override {}
  void tlp_departing(int, tlm::tlm_generic_payload &, std::int64_t) override {}
};

TEST(Link, APortNoLinkConnectsSaysSoWhenUsed) {
  std::string errors = run_in_child([] {
    UnconnectedDevice device("dev0");
    PciePort &port = device.port;
    TlpPool pool;
    tlm::tlm_generic_payload &gp = pool.acquire();
    std::string seen;
    try {
      port.send(gp, 0);
    } catch (const std::logic_error &e) {
      seen += e.what();
    }
    seen += " | ";
    try {
      port.release(gp, 0);
    } catch (const std::logic_error &e) {
      seen += e.what();
    }
    pool.release(gp);
    return seen;
  });
  EXPECT_EQ(errors, "a TLP sent on port dp0, which no link connects | a TLP released on "
                    "port dp0, which no link connects");
}

} // namespace
} // namespace pciesim::test
