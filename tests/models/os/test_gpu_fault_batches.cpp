// How the GPU driver groups replayable faults into batches (models/os/hmm_gpu_faults.cpp):
// the faults raised at one instant are fetched together, and a fault raised while a batch is
// serviced on a page that batch brings is not serviced again (UVM flushes its fault buffer
// before the replay, and the access that raised it goes on), while one on a page still
// missing faults into the next batch. One GPU has one fault buffer (models/os/gpu_fault_buffer.h):
// faults on two buffers of the same GPU wait in one queue and are serviced one batch at a time,
// each batch's buffers one after the other; buffers of different GPUs (each its own fault
// buffer) are serviced side by side.
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "models/common/sim_time.h"
#include "models/os/hmm.h"
#include "tests/support/fake_copy_engine.h"
#include "tests/support/probe_endpoint.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

struct RaisedFault {
  std::int64_t at_ps;
  std::uint64_t page;
};

// An 8-page buffer in system RAM whose faults bring the aligned 4-page range around the page;
// each fault is raised at its time, in the order given. Per fault, when it was answered.
nlohmann::json run(const std::vector<RaisedFault> &faults) {
  return nlohmann::json::parse(run_in_child([&] {
    sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
    ModelTestContext test;
    OsCosts costs;
    costs.gpu_fault_granularity = Bytes{4 * kFakePageBytes};
    OsKernel kernel("os", costs, test.context);
    PageTable table(8, kFakePageBytes, PageHome::SystemRam, 8, 8);
    HmmHooks hooks;
    hooks.copy = [&](const std::vector<std::uint64_t> &, bool, Done done) {
      kernel.call_at(now_ps() + kFakeCopyPs, [done] { done(now_ps()); });
    };
    HmmDriver hmm(kernel, table, 1ull << 40, 0, hooks);
    nlohmann::json j;
    j["answered_ps"] = std::vector<std::int64_t>(faults.size(), -1);
    AtStart kick("kick", [&] {
      for (std::size_t i = 0; i < faults.size(); ++i)
        kernel.call_at(faults[i].at_ps, [&, i] {
          hmm.gpu_fault({faults[i].page},
                        [&, i](std::int64_t at_ps) { j["answered_ps"][i] = at_ps; });
        });
    });
    sc_core::sc_start();
    j["batches"] = kernel.stats().gpu_fault_batches;
    j["faults"] = kernel.stats().gpu_faults;
    j["stale"] = kernel.stats().gpu_faults_stale;
    for (std::uint64_t p = 0; p < 8; ++p)
      if (table.page(p).home == PageHome::Device)
        j["on_device"].push_back(p);
    j["violations"] = table.check();
    return j.dump();
  }));
}

TEST(GpuFaultBatches, FaultsRaisedAtOneInstantAreServicedInOneBatch) {
  nlohmann::json j = run({{0, 0}, {0, 1}, {0, 5}});
  EXPECT_EQ(j["batches"], 1);
  EXPECT_EQ(j["faults"], 3);
  // One batch: every fault is answered when it ends.
  EXPECT_GT(j["answered_ps"][0].get<std::int64_t>(), 0);
  EXPECT_EQ(j["answered_ps"][1], j["answered_ps"][0]);
  EXPECT_EQ(j["answered_ps"][2], j["answered_ps"][0]);
  EXPECT_EQ(j["on_device"], nlohmann::json({0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_TRUE(j["violations"].empty()) << j["violations"].dump();
}

TEST(GpuFaultBatches, AFaultOnAPageTheBatchInServiceBringsIsAnsweredWithIt) {
  // Page 0's batch brings pages 0-3. While it is serviced, page 2 faults (the batch brings
  // it) and page 6 faults (it does not).
  const std::int64_t during = 1000000; // 1 us, well inside the batch's fixed cost
  nlohmann::json j = run({{0, 0}, {during, 2}, {during, 6}});
  const std::int64_t first_batch_end = j["answered_ps"][0].get<std::int64_t>();
  EXPECT_EQ(j["answered_ps"][1], first_batch_end);
  EXPECT_GT(j["answered_ps"][2].get<std::int64_t>(), first_batch_end);
  // Page 2's fault is never a batch's: two batches, page 0's and page 6's.
  EXPECT_EQ(j["batches"], 2);
  EXPECT_EQ(j["faults"], 2);
  EXPECT_EQ(j["stale"], 0);
  EXPECT_EQ(j["on_device"], nlohmann::json({0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_TRUE(j["violations"].empty()) << j["violations"].dump();
}

// Two 4-page buffers in system RAM, with the fault buffer of one GPU shared or one each;
// buffer 0 faults on its page 0 at time 0, buffer 1 on its page 0 at `second_at_ps`. When each
// fault was answered, and how many batches there were.
nlohmann::json run_two_buffers(bool one_gpu, std::int64_t second_at_ps) {
  return nlohmann::json::parse(run_in_child([&] {
    sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
    ModelTestContext test;
    OsKernel kernel("os", OsCosts{}, test.context);
    HmmHooks hooks;
    hooks.copy = [&](const std::vector<std::uint64_t> &, bool, Done done) {
      kernel.call_at(now_ps() + kFakeCopyPs, [done] { done(now_ps()); });
    };
    PageTable table0(4, kFakePageBytes, PageHome::SystemRam, 4, 4),
        table1(4, kFakePageBytes, PageHome::SystemRam, 4, 4);
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
  nlohmann::json apart = run_two_buffers(false, 0), shared = run_two_buffers(true, 0);
  ASSERT_TRUE(apart["on_device"].get<bool>());
  ASSERT_TRUE(shared["on_device"].get<bool>());
  EXPECT_EQ(apart["batches"], 2);
  EXPECT_EQ(shared["batches"], 1);
  EXPECT_EQ(shared["faults"], 2);
  // Apart, each buffer's batch is its fixed cost, one fault and one migration, side by side.
  const std::int64_t alone = apart["answered_ps"][0].get<std::int64_t>();
  EXPECT_EQ(apart["answered_ps"][1].get<std::int64_t>(), alone);
  const std::int64_t migration = alone - batch - fault;
  ASSERT_GT(migration, kFakeCopyPs);
  // Shared, one batch: its fixed cost once, both faults, then the two buffers' migrations one
  // after the other; both faults are replayed when the batch ends.
  EXPECT_EQ(shared["answered_ps"][0].get<std::int64_t>(), batch + 2 * fault + 2 * migration);
  EXPECT_EQ(shared["answered_ps"][1], shared["answered_ps"][0]);
}

TEST(GpuFaultBuffer, AFaultOnAnotherBufferOfTheGpuWaitsForTheBatchInService) {
  const OsCosts costs;
  const std::int64_t batch = costs.gpu_fault_batch.ps, fault = costs.gpu_fault_per_fault.ps;
  const std::int64_t later = 1000000; // 1 us into the first batch
  nlohmann::json apart = run_two_buffers(false, later), shared = run_two_buffers(true, later);
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
