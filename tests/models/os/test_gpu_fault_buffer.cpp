// One GPU, one fault buffer (models/os/gpu_fault_buffer.h): faults on two buffers of the same
// GPU wait in one queue and are serviced one batch at a time, each batch's buffers one after
// the other; buffers of different GPUs (each its own fault buffer) are serviced side by side.
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "models/common/sim_time.h"
#include "models/os/hmm.h"
#include "tests/support/probe_endpoint.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

constexpr std::uint64_t kPage = 4096;
constexpr std::int64_t kCopyPs = 10000000; // the fake copy engine: 10 us a copy

// Two 4-page buffers in system RAM, with the fault buffer of one GPU shared or one each;
// buffer 0 faults on its page 0 at time 0, buffer 1 on its page 0 at `second_at_ps`. When each
// fault was answered, and how many batches there were.
nlohmann::json run(bool one_gpu, std::int64_t second_at_ps) {
  return nlohmann::json::parse(run_in_child([&] {
    sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
    ModelTestContext test;
    OsKernel kernel("os", OsCosts{}, test.context);
    HmmHooks hooks;
    hooks.copy = [&](const std::vector<std::uint64_t> &, bool, Done done) {
      kernel.call_at(now_ps() + kCopyPs, [done] { done(now_ps()); });
    };
    PageTable table0(4, kPage, PageHome::SystemRam, 4, 4),
        table1(4, kPage, PageHome::SystemRam, 4, 4);
    HmmDriver hmm0(kernel, table0, 1ull << 40, 0, hooks);
    HmmDriver hmm1(kernel, table1, 2ull << 40, 1ull << 30, hooks);
    GpuFaultBuffer shared(kernel, 0);
    if (one_gpu) {
      hmm0.attach(shared);
      hmm1.attach(shared);
    }
    nlohmann::json j;
    AtStart kick("kick", [&] {
      kernel.call_at(0, [&] {
        hmm0.gpu_fault({0}, [&](std::int64_t at_ps) { j["answered_ps"][0] = at_ps; });
      });
      kernel.call_at(second_at_ps, [&] {
        hmm1.gpu_fault({0}, [&](std::int64_t at_ps) { j["answered_ps"][1] = at_ps; });
      });
    });
    sc_core::sc_start();
    j["batches"] = kernel.stats().gpu_fault_batches;
    j["faults"] = kernel.stats().gpu_faults;
    j["on_device"] =
        table0.page(0).home == PageHome::Device && table1.page(0).home == PageHome::Device;
    return j.dump();
  }));
}

TEST(GpuFaultBuffer, FaultsOnTwoBuffersOfOneGpuRaisedAtOneInstantShareABatch) {
  const OsCosts costs;
  const std::int64_t batch = costs.gpu_fault_batch.ps, fault = costs.gpu_fault_per_fault.ps;
  nlohmann::json apart = run(false, 0), shared = run(true, 0);
  ASSERT_TRUE(apart["on_device"].get<bool>());
  ASSERT_TRUE(shared["on_device"].get<bool>());
  EXPECT_EQ(apart["batches"], 2);
  EXPECT_EQ(shared["batches"], 1);
  EXPECT_EQ(shared["faults"], 2);
  // Apart, each buffer's batch is its fixed cost, one fault and one migration, side by side.
  const std::int64_t alone = apart["answered_ps"][0].get<std::int64_t>();
  EXPECT_EQ(apart["answered_ps"][1].get<std::int64_t>(), alone);
  const std::int64_t migration = alone - batch - fault;
  ASSERT_GT(migration, kCopyPs);
  // Shared, one batch: its fixed cost once, both faults, then the two buffers' migrations one
  // after the other; both faults are replayed when the batch ends.
  EXPECT_EQ(shared["answered_ps"][0].get<std::int64_t>(), batch + 2 * fault + 2 * migration);
  EXPECT_EQ(shared["answered_ps"][1], shared["answered_ps"][0]);
}

TEST(GpuFaultBuffer, AFaultOnAnotherBufferOfTheGpuWaitsForTheBatchInService) {
  const OsCosts costs;
  const std::int64_t batch = costs.gpu_fault_batch.ps, fault = costs.gpu_fault_per_fault.ps;
  const std::int64_t later = 1000000; // 1 us into the first batch
  nlohmann::json apart = run(false, later), shared = run(true, later);
  const std::int64_t first_end = apart["answered_ps"][0].get<std::int64_t>();
  const std::int64_t one_batch = first_end; // fixed cost, one fault, one migration
  EXPECT_EQ(apart["answered_ps"][1].get<std::int64_t>(), later + one_batch);
  EXPECT_EQ(shared["answered_ps"][0].get<std::int64_t>(), first_end);
  EXPECT_EQ(shared["answered_ps"][1].get<std::int64_t>(), first_end + one_batch);
  EXPECT_EQ(shared["batches"], 2);
  EXPECT_GT(one_batch, batch + fault);
}

} // namespace
} // namespace pciesim::test
