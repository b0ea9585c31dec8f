// A DMA engine's read transfer that a completer refuses part-way: the transfer fails, and it
// ends once the data that did come has crossed the transfer's read channel, not when the
// refusal arrives. No shipped input makes a completer refuse a request at run time, so a test
// completer here answers the first reads with data and the rest with Unsupported Request.
#include <cstdint>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "models/dma/dma_engine.h"
#include "models/pcie/completion.h"
#include "tests/support/probe_endpoint.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

constexpr std::uint16_t kCompleterId = 0x0200;
constexpr std::int64_t kAnswerDelayPs = 100000; // 100 ns to answer a read, data or refusal

// Answers the first `served` read requests with data (completions at most 256 B, on 64 B
// boundaries) and every later one with an Unsupported Request completion.
class PartialCompleter : public sc_core::sc_module, public PortOwner {
public:
  PartialCompleter(sc_core::sc_module_name name, SimContext &context, int served)
      : sc_module(name), port("up", *this, 0), pool_(context.pool), served_(served) {}

  PciePort port;

  void tlp_arrived(int, tlm::tlm_generic_payload &gp) override {
    if (reads_++ < served_) {
      port.release(gp, 0);
      port.send_completions(gp, kCompleterId, 256, 64, kAnswerDelayPs);
      return;
    }
    terminate_unsupported_request(port, pool_, gp, kCompleterId, kAnswerDelayPs);
  }
  void tlp_departing(int, tlm::tlm_generic_payload &, std::int64_t) override {}

private:
  TlpPool &pool_;
  int served_;
  int reads_ = 0;
};

// One 64 KiB read (128 requests of 512 B) of which the first `served` requests are answered
// with data; the engine's read channel at `channel_bytes_per_second` (0: none). Returns the
// stream's result and whether the engine ended with every tag free.
nlohmann::json refused_part_way(int served, double channel_bytes_per_second) {
  std::string text = run_in_child([&] {
    sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
    ModelTestContext test;
    DmaEngineParams params;
    params.costs.read_channel_bandwidth = Bandwidth{channel_bytes_per_second};
    DmaEngineWiring wiring;
    wiring.bdf = Bdf{1, 0, 0};
    DmaEngine engine("dma0", params, wiring, test.context);
    PartialCompleter completer("completer", test.context, served);
    Link link("link", gen3x8(), ReceiveCredits{}, ReceiveCredits{}, test.context);
    link.connect(engine.port(), completer.port);
    DmaStreamSpec spec;
    spec.id = "t";
    spec.target_address = 0x10000000;
    spec.region_bytes = spec.transfer_bytes = spec.stride_bytes = 65536;
    engine.add_stream(spec);
    AtStart start("start", [&] { engine.start_stream(0, 0); });
    sc_core::sc_start();
    const DmaStreamResult &r = engine.stream_result(0);
    return nlohmann::json{{"finished", r.finished},
                          {"transfers_done", r.transfers_done},
                          {"error", r.error},
                          {"done_ps", r.last_done_ps},
                          {"quiescent", engine.quiescent()},
                          {"ur_received", engine.stats().ur_received},
                          {"cpld_received", engine.stats().cpld_received}}
        .dump();
  });
  return nlohmann::json::parse(text);
}

TEST(DmaEngineFailures, AReadRefusedPartWayEndsWhenItsDataHasCrossedTheReadChannel) {
  // Eight requests answered: 4 KiB of data, 16 completions of 256 B. Through a 0.5 GB/s read
  // channel those bytes take 8.192 us after the first reaches it; the refusals of the other
  // requests all arrive within about 2 us of the start.
  const int served = 8;
  const double channel_ps = served * 512 / 0.5e9 * 1e12;
  nlohmann::json slow = refused_part_way(served, 0.5e9);
  ASSERT_TRUE(slow["finished"].get<bool>());
  EXPECT_EQ(slow["transfers_done"], 1);
  EXPECT_NE(slow["error"].get<std::string>().find("Unsupported Request"), std::string::npos)
      << slow["error"];
  EXPECT_EQ(slow["cpld_received"], 2 * served);
  EXPECT_GT(slow["ur_received"].get<int>(), 0);
  EXPECT_TRUE(slow["quiescent"].get<bool>()); // every tag free, nothing left queued
  // Not before the channel has carried the data, and not much after (the first data arrives
  // within a microsecond of the start).
  const auto slow_done = slow["done_ps"].get<std::int64_t>();
  EXPECT_GT(slow_done, channel_ps);
  EXPECT_LT(slow_done, channel_ps + 1.5e6);

  // Without a read channel the data is in as it arrives: the transfer ends with its last
  // refusal, long before the channel above would have carried the data.
  nlohmann::json fast = refused_part_way(served, 0);
  ASSERT_TRUE(fast["finished"].get<bool>());
  EXPECT_EQ(fast["transfers_done"], 1);
  EXPECT_TRUE(fast["quiescent"].get<bool>());
  EXPECT_LT(fast["done_ps"].get<std::int64_t>(), 2e6);
}

} // namespace
} // namespace pciesim::test
