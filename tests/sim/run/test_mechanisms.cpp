// The memory-mechanism policies (sim/run/mechanisms/) on their own, without a topology: the
// registry lists the plan's mechanisms, each policy answers a refused peer mapping as
// docs/mechanisms.md says, charges its setup, only HMM faults pages in before an access, and a
// revoked DMA-API MR holds peer accesses back until it is registered again.
#include <gtest/gtest.h>

#include "models/common/event_calendar.h"
#include "sim/run/mechanisms/registry.h"

namespace pciesim::test {
namespace {

TEST(MechanismRegistry, ListsThePlanMechanismsInTheirOrder) {
  EXPECT_EQ(mechanism_type_names(), mechanism_names());
  for (std::size_t i = 0; i < mechanism_types().size(); ++i)
    EXPECT_EQ(static_cast<std::size_t>(mechanism_types()[i].id), i) << mechanism_types()[i].name;
}

// One buffer of `pages` 4 KiB pages on the device of GPU component 1, reached by NIC 2.
struct PolicyBench {
  explicit PolicyBench(std::uint64_t pages, bool on_device = true) {
    BufferConfig buffer;
    buffer.id = "buf";
    buffer.gpu = 1;
    buffer.bytes = pages * 4096;
    buffer.on_device = on_device;
    workload.buffers.push_back(buffer);
    std::uint32_t frames = static_cast<std::uint32_t>(pages);
    tables.push_back(std::make_unique<PageTable>(
        pages, 4096, on_device ? PageHome::Device : PageHome::SystemRam, frames, frames));
    drivers.push_back(
        std::make_unique<HmmDriver>(kernel, *tables.back(), 1ull << 40, 0, HmmHooks{}));
  }
  std::unique_ptr<MechanismPolicy> make(Mechanism m) { return make_mechanism(m, context); }

  EventCalendar calendar{"calendar"};
  TlpPool pool;
  SimContext context_of_models{calendar, pool};
  OsKernel kernel{"os", OsCosts{}, context_of_models};
  WorkloadConfig workload;
  std::vector<std::unique_ptr<PageTable>> tables;
  std::vector<std::unique_ptr<HmmDriver>> drivers;
  MechanismContext context{workload, kernel, tables, drivers};
};

TEST(MechanismPolicies, ARefusedPeerMappingStopsOnlyTheDmaApi) {
  PolicyBench bench(4);
  P2pVerdict refused;
  refused.type = P2pMapType::NotSupported;
  refused.reason = "no common switch";
  for (const MechanismType &type : mechanism_types()) {
    SCOPED_TRACE(type.name);
    MechanismPolicy::Refusal r = type.make(bench.context)->peer_refused(refused);
    EXPECT_EQ(r.not_supported, type.id == Mechanism::P2pDmaApi);
    // vendor_peer runs anyway (the GPU driver maps the pair) and says what p2pdma would do.
    bool explains = type.id == Mechanism::P2pDmaApi || type.id == Mechanism::HmmP2p ||
                    type.id == Mechanism::DmabufP2p || type.id == Mechanism::VendorPeer;
    EXPECT_EQ(!r.reason.empty(), explains) << r.reason;
  }
}

TEST(MechanismPolicies, DmaApiRegistrationPinsAndChargesEveryPage) {
  PolicyBench bench(8);
  auto policy = bench.make(Mechanism::P2pDmaApi);
  int holds = 0;
  SetupHold hold = [&holds] {
    ++holds;
    return Done([](std::int64_t) {});
  };
  std::int64_t end = policy->setup_buffer(0, 2, 1000, hold);
  EXPECT_EQ(end, 1000 + OsCosts{}.register_mr.ps + 8 * OsCosts{}.register_page.ps);
  EXPECT_EQ(bench.kernel.stats().pages_pinned, 8u);
  EXPECT_TRUE(bench.tables[0]->pinned(3));
  EXPECT_EQ(holds, 0) << "registration is synchronous";
  EXPECT_EQ(policy->setup_shared(end), end);
}

// The GPU driver pins its own memory in 64 KiB pages (nvidia_p2p_get_pages): a 128 KiB buffer
// is two of them, where p2pdma pins its 32 pages of 4 KiB one by one (the test above).
TEST(MechanismPolicies, VendorPeerRegistrationPinsTheGpuMemoryIn64KiBPages) {
  PolicyBench bench(32);
  auto policy = bench.make(Mechanism::VendorPeer);
  std::int64_t end = policy->setup_buffer(0, 2, 1000, [] { return Done([](std::int64_t) {}); });
  const OsCosts c;
  EXPECT_EQ(end,
            1000 + c.register_mr.ps + c.gpu_pin.ps + 2 * (c.gpu_pin_page.ps + c.dma_map_page.ps));
  EXPECT_EQ(bench.kernel.stats().pages_pinned, 32u);
  EXPECT_TRUE(bench.tables[0]->pinned(31));
}

TEST(MechanismPolicies, BounceRegistersTheStagingBufferOnce) {
  PolicyBench bench(8);
  bench.workload.staging_bytes = 16 * 4096;
  auto policy = bench.make(Mechanism::Bounce);
  EXPECT_EQ(policy->setup_buffer(0, 2, 0, [] { return Done([](std::int64_t) {}); }), 0);
  EXPECT_EQ(policy->setup_shared(0), OsCosts{}.register_mr.ps + 16 * OsCosts{}.register_page.ps);
  EXPECT_EQ(bench.kernel.stats().pages_pinned, 16u);
}

TEST(MechanismPolicies, OnlyHmmFaultsPagesInBeforeAnAccess) {
  PhaseConfig cpu_reads;
  cpu_reads.actor = -1; // the CPU, on device-resident pages
  cpu_reads.buffer = 0;
  for (const MechanismType &type : mechanism_types()) {
    SCOPED_TRACE(type.name);
    PolicyBench bench(2);
    bool faulted_in = false;
    std::vector<std::uint64_t> pages = {0, 1};
    bool reachable =
        type.make(bench.context)->make_reachable(cpu_reads, pages, [&faulted_in](std::int64_t) {
          faulted_in = true;
        });
    bool hmm = type.id == Mechanism::HmmMigrate || type.id == Mechanism::HmmP2p;
    EXPECT_EQ(reachable, !hmm);
    EXPECT_FALSE(faulted_in) << "the fault completes later, in simulated time";
  }
}

TEST(MechanismPolicies, HmmLetsTheOwningGpuTouchItsDevicePagesDirectly) {
  PolicyBench bench(2);
  PhaseConfig gpu_kernel;
  gpu_kernel.actor = 1;
  gpu_kernel.buffer = 0;
  std::vector<std::uint64_t> pages = {0, 1};
  EXPECT_TRUE(bench.make(Mechanism::HmmMigrate)->make_reachable(gpu_kernel, pages, nullptr));
}

// A revoked DMA-API MR (the free callback) lets no peer access through until the application
// has registered it again; the owner's own accesses go on.
TEST(MechanismPolicies, ARevokedDmaApiMrHoldsPeerAccessesUntilRegisteredAgain) {
  PolicyBench bench(8);
  auto policy = make_mechanism(Mechanism::P2pDmaApi, bench.context);
  policy->setup_buffer(0, 2, 0, [] { return Done([](std::int64_t) {}); });
  PhaseConfig nic;
  nic.actor = 2;
  nic.actor_is_peer = true;
  nic.buffer = 0;
  std::vector<std::uint64_t> page0 = {0};
  EXPECT_TRUE(policy->make_reachable(nic, page0, nullptr)) << "registered: straight through";
  bool gpu_side_done = false;
  policy->revoke(0, false, [&gpu_side_done](std::int64_t) { gpu_side_done = true; });
  EXPECT_EQ(bench.kernel.stats().revocations, 1u);
  bool released = false;
  EXPECT_FALSE(policy->make_reachable(nic, page0, [&released](std::int64_t) { released = true; }));
  EXPECT_FALSE(released) << "the recovery ends later, in simulated time";
  PhaseConfig owner;
  owner.actor = 1;
  owner.buffer = 0;
  EXPECT_TRUE(policy->make_reachable(owner, page0, nullptr)) << "the GPU's own accesses go on";
  // A second revocation of a dead MR does nothing more.
  policy->revoke(0, false, [](std::int64_t) {});
  EXPECT_EQ(bench.kernel.stats().revocations, 1u);
}

} // namespace
} // namespace pciesim::test
