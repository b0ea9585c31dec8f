// A receiver that takes some TLPs when the link starts sending them (a DMA engine takes its
// read data completions, PortOwner::tlp_arriving) and leaves the rest to be delivered. What
// it receives, and when, must not change; nor may the order in which the link's deliveries
// and other processes due at the same picosecond run, which follows the order their
// wake-ups were asked for. The link keeps a stand-in for each TLP taken early while a TLP to
// deliver follows it, and so asks for that delivery when it would have.
#include <algorithm>

#include <gtest/gtest.h>

#include "models/pcie/link.h"
#include "tests/support/probe_endpoint.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

// The last of each burst is refused: after it is sent the link has nothing to start, so only
// a delivery (or a stand-in) wakes it before that TLP arrives.
constexpr int kBursts = 5, kBurstTlps = 4, kRefusedInBurst = kBurstTlps - 1;
constexpr std::int64_t kBurstGapPs = 1000000;

// Wakes at each (time) of `moments`, asking for the next one when it runs; at the odd ones it
// notes how many TLPs the receiver has at exactly that picosecond, i.e. whether the link
// delivered there before it ran.
class SamePicosecondWatcher : public CalendarProcess {
public:
  SamePicosecondWatcher(EventCalendar &calendar, const ProbeEndpoint &receiver,
                        std::vector<std::int64_t> at)
      : calendar_(calendar), receiver_(receiver), moments_(std::move(at)) {}
  void start() { calendar_.wake_at(*this, moments_.front()); }
  std::vector<int> delivered_first;

protected:
  void run() override {
    const std::int64_t now = EventCalendar::now_ps();
    if (next_ % 2 == 1)
      delivered_first.push_back(
          static_cast<int>(std::count_if(receiver_.arrivals.begin(), receiver_.arrivals.end(),
                                         [now](const Arrival &a) { return a.at_ps == now; })));
    if (++next_ < moments_.size())
      calendar_.wake_at(*this, moments_[next_]);
  }

private:
  EventCalendar &calendar_;
  const ProbeEndpoint &receiver_;
  std::vector<std::int64_t> moments_;
  std::size_t next_ = 0;
};

struct ReceiverSeen {
  std::vector<std::int64_t> arrivals, departures;
  std::vector<int> delivered_first;
  std::uint64_t wake_ups = 0;
};

// Bursts of four 256 B writes, the receiver refusing the last of each when `some_early` (and
// taking the rest early), else taking none; the watcher wakes at `moments` if any.
ReceiverSeen run_receiver_bursts(bool some_early, const std::vector<std::int64_t> &moments) {
  std::string text = run_in_child([&] {
    sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
    ModelTestContext test;
    ProbeEndpoint a("a", test.context), b("b", test.context);
    if (some_early)
      b.refuse_early = [](std::size_t i) { return i % kBurstTlps == kRefusedInBurst; };
    Link link("link", gen3x8(), ReceiveCredits{}, ReceiveCredits{}, test.context);
    link.connect(a.port, b.port);
    SamePicosecondWatcher watcher(test.calendar, b, moments);
    struct Bursts : sc_core::sc_module {
      SC_HAS_PROCESS(Bursts);
      Bursts(sc_core::sc_module_name n, ProbeEndpoint &e, SamePicosecondWatcher &w, bool watch)
          : sc_module(n), e_(e), w_(w), watch_(watch) {
        SC_THREAD(go);
      }
      void go() {
        if (watch_)
          w_.start();
        for (int burst = 0; burst < kBursts; ++burst) {
          for (int i = 0; i < kBurstTlps; ++i)
            e_.inject(TlpType::MWr, 0x1000 + 256 * i, 256);
          wait(sc_core::sc_time(static_cast<double>(kBurstGapPs), sc_core::SC_PS));
        }
      }
      ProbeEndpoint &e_;
      SamePicosecondWatcher &w_;
      bool watch_;
    } bursts("bursts", a, watcher, !moments.empty());
    sc_core::sc_start();
    nlohmann::json j;
    std::vector<std::int64_t> arrivals;
    for (const Arrival &x : b.arrivals)
      arrivals.push_back(x.at_ps);
    std::sort(arrivals.begin(), arrivals.end()); // those taken early are noted when sent
    j["arrivals"] = arrivals;
    j["departures"] = a.departures_ps;
    j["delivered_first"] = watcher.delivered_first;
    j["wake_ups"] = test.calendar.stats().wake_ups;
    return j.dump();
  });
  nlohmann::json j = nlohmann::json::parse(text);
  return ReceiverSeen{j.at("arrivals").get<std::vector<std::int64_t>>(),
                      j.at("departures").get<std::vector<std::int64_t>>(),
                      j.at("delivered_first").get<std::vector<int>>(), j.at("wake_ups")};
}

TEST(LinkEarlyReceivers, TakingSomeTlpsEarlyChangesNoArrivalAndNoOrderOfSamePicosecondWakeUps) {
  const ReceiverSeen plain = run_receiver_bursts(false, {});
  ASSERT_EQ(plain.arrivals.size(), static_cast<std::size_t>(kBursts * kBurstTlps));
  // For each refused TLP: a moment after it was sent but before the TLP ahead of it arrives
  // (where a link that had forgotten the TLP taken early would already have asked for this
  // delivery), then the refused TLP's own arrival, where watcher and delivery are both due.
  std::vector<std::int64_t> moments;
  for (int burst = 0; burst < kBursts; ++burst) {
    const std::size_t k = static_cast<std::size_t>(burst * kBurstTlps + kRefusedInBurst);
    ASSERT_LT(plain.departures[k] + 1, plain.arrivals[k - 1]);
    moments.push_back((plain.departures[k] + plain.arrivals[k - 1]) / 2);
    moments.push_back(plain.arrivals[k]);
  }
  const ReceiverSeen none_early = run_receiver_bursts(false, moments);
  const ReceiverSeen some_early = run_receiver_bursts(true, moments);
  EXPECT_EQ(some_early.arrivals, none_early.arrivals);
  EXPECT_EQ(some_early.departures, none_early.departures);
  // The watcher asked for each arrival's picosecond before the link delivering every TLP
  // asked for that delivery (at the arrival of the TLP ahead), so it ran first each time.
  EXPECT_EQ(none_early.delivered_first, std::vector<int>(kBursts, 0));
  EXPECT_EQ(some_early.delivered_first, none_early.delivered_first);
  // And the TLPs taken early saved wake-ups: the first two of each burst need none.
  EXPECT_LT(some_early.wake_ups, none_early.wake_ups);
}

// A receiver that declares only some TLP types (a DMA engine: completions) is offered only
// those; the others arrive the ordinary way.
TEST(LinkEarlyReceivers, AReceiverIsOfferedOnlyTheTypesItDeclares) {
  nlohmann::json j = nlohmann::json::parse(run_in_child([] {
    sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
    ModelTestContext test;
    ProbeEndpoint a("a", test.context), b("b", test.context);
    b.refuse_early = [](std::size_t) { return false; };
    b.early_types_declared = early_types({TlpType::CplD});
    Link link("link", gen3x8(), ReceiveCredits{}, ReceiveCredits{}, test.context);
    link.connect(a.port, b.port);
    AtStart kick("kick", [&] {
      for (int i = 0; i < 3; ++i) {
        a.inject(TlpType::MWr, 0x1000 + 256 * i, 256);
        a.inject(TlpType::CplD, 0, 64);
      }
    });
    sc_core::sc_start();
    nlohmann::json out;
    out["offered"] = b.offered_early();
    out["arrived"] = b.arrivals.size();
    return out.dump();
  }));
  EXPECT_EQ(j["offered"], 3);
  EXPECT_EQ(j["arrived"], 6);
}

} // namespace
} // namespace pciesim::test
