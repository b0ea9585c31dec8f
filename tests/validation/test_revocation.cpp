// Revocation of peer mappings (docs/mechanisms.md, "Revocation") and the IOMMU unmap charge,
// run through `pciesim run`: the DMA-API MR revoked mid-transfer (accesses that were running
// fail and go again after one QP recovery and one re-registration), a dynamic DMA-BUF importer
// re-faulting once after move_notify, HMM's peer mappings invalidated by the driver's
// migration (which never moves a page twice), and strict against lazy IOTLB flushing on the
// unmaps of an HMM ping-pong.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "models/os/os_kernel.h"
#include "tests/support/workload_compare.h"

namespace pciesim::test {
namespace {

constexpr std::uint64_t kPages = 1024; // a 4 MiB buffer of 4 KiB pages
constexpr double kNsPerPs = 1e-3;

// The NIC sends a 4 MiB GPU buffer, 4 accesses in flight; with `revoke` (a revoke phase's
// extra keys), the GPU revokes 100 us into the send.
nlohmann::json send_workload(const std::string &mechanism, const nlohmann::json &revoke,
                             nlohmann::json extra = nlohmann::json::object()) {
  // json::array: `json x = {one_json}` copies that json under clang instead of wrapping it.
  nlohmann::json phases =
      nlohmann::json::array({phase_spec("send", "nic0", "read", {{"concurrency", 4}})});
  if (!revoke.is_null()) {
    nlohmann::json r =
        phase_spec("revoke", "gpu0", "revoke", {{"at", "100 us"}, {"with_previous", true}});
    r.update(revoke);
    phases.push_back(r);
  }
  nlohmann::json w = {
      {"mechanisms", {mechanism}}, {"buffers", {buffer("4 MiB")}}, {"phases", phases}};
  w.update(extra);
  return w;
}

std::uint64_t os_count(const nlohmann::json &m, const char *name) {
  return m["os"][name].get<std::uint64_t>();
}

TEST(Revocation, DmaApiMrRevokedMidTransferFailsRunningAccessesAndRegistersOnceMore) {
  const nlohmann::json costs = {{"costs", {{"qp_recover", "1 ms"}}}};
  nlohmann::json plain =
      compare("gpu-nic-shared-switch", send_workload("p2p_dma_api", nullptr, costs));
  nlohmann::json revoked = compare("gpu-nic-shared-switch",
                                   send_workload("p2p_dma_api", nlohmann::json::object(), costs));
  const nlohmann::json &a0 = mechanism(plain, "p2p_dma_api");
  const nlohmann::json &a = mechanism(revoked, "p2p_dma_api");
  ASSERT_EQ(a["status"], "ok") << a["reason"];
  EXPECT_EQ(os_count(a, "revocations"), 1u);
  EXPECT_EQ(os_count(a, "reregistrations"), 1u);
  EXPECT_EQ(os_count(a, "pages_pinned"), 2 * kPages);
  // The accesses running when the MR died failed: at least one, at most the 4 in flight.
  EXPECT_GE(os_count(a, "accesses_replayed"), 1u);
  EXPECT_LE(os_count(a, "accesses_replayed"), 4u);
  EXPECT_EQ(os_count(a0, "accesses_replayed"), 0u);
  EXPECT_EQ(a["nic_bytes"], kPages * 4096) << "every byte arrives in the end";
  // No access completes between the revocation and the end of the recovery: the send takes
  // the recovery (1 ms + a registration of every page) longer, plus at most the zap and the
  // failed accesses' wasted DMA (each no longer than the slowest access without revocation).
  const OsCosts c;
  const double recovery_ns = 1e6 + (c.register_mr.ps + kPages * c.register_page.ps) * kNsPerPs;
  const double delta_ns = duration_ns(phase(a, "send")) - duration_ns(phase(a0, "send"));
  EXPECT_GE(delta_ns, recovery_ns);
  EXPECT_LE(delta_ns, recovery_ns + c.notifier_invalidate.ps * kNsPerPs +
                          2 * a0["latency"]["max_ns"].get<double>());
  // An access that waited for the recovery saw all of it.
  EXPECT_GE(a["latency"]["max_ns"].get<double>(), recovery_ns);
  EXPECT_GE(a["breakdown_ns"]["setup"].get<double>(),
            2 * (c.register_mr.ps + kPages * c.register_page.ps) * kNsPerPs + 1e6);
}

TEST(Revocation, DynamicDmabufImporterRefaultsOnceWhereTheExporterMovedTheBuffer) {
  nlohmann::json r =
      compare("gpu-nic-shared-switch",
              send_workload("dmabuf_p2p", {{"evict", true}}, {{"dmabuf_importer", "dynamic"}}));
  const nlohmann::json &cd = mechanism(r, "dmabuf_p2p");
  ASSERT_EQ(cd["status"], "ok") << cd["reason"];
  EXPECT_EQ(os_count(cd, "revocations"), 1u);
  EXPECT_EQ(os_count(cd, "dmabuf_refaults"), 1u) << "the waiting accesses share one fault";
  EXPECT_GE(os_count(cd, "accesses_replayed"), 1u) << "those running at move_notify stalled";
  EXPECT_LE(os_count(cd, "accesses_replayed"), 4u);
  EXPECT_EQ(cd["pages_to_ram"], kPages);
  EXPECT_EQ(cd["bytes_migrated"], kPages * 4096);
  EXPECT_EQ(cd["nic_bytes"], kPages * 4096);
  // The one fault is the only fault handling: its fixed part and a mapping per page.
  const OsCosts c;
  EXPECT_DOUBLE_EQ(cd["breakdown_ns"]["fault_handling"].get<double>(),
                   (c.odp_fault.ps + kPages * c.dma_map_page.ps) * kNsPerPs);

  // A pinned importer (the default) cannot be moved: the exporter's eviction is refused, the
  // NIC keeps its mapping and nothing is replayed.
  nlohmann::json pinned =
      compare("gpu-nic-shared-switch", send_workload("dmabuf_p2p", {{"evict", true}}));
  const nlohmann::json &cp = mechanism(pinned, "dmabuf_p2p");
  EXPECT_EQ(os_count(cp, "revocations"), 0u);
  EXPECT_EQ(os_count(cp, "migrations_refused_pinned"), 1u);
  EXPECT_EQ(cp["pages_to_ram"], 0u);
  EXPECT_EQ(os_count(cp, "accesses_replayed"), 0u);
}

// The revocation of the HMM runs: 100 us after the first ODP faults were served.
nlohmann::json after_first_odp_faults() {
  return {{"at", std::to_string((OsCosts{}.odp_fault.ps + 100'000'000) / 1'000'000) + " us"}};
}

TEST(Revocation, HmmPeerMappingsGoWithTheDriversMigration) {
  nlohmann::json r =
      compare("gpu-nic-shared-switch", send_workload("hmm_p2p", after_first_odp_faults()));
  const nlohmann::json &f = mechanism(r, "hmm_p2p");
  ASSERT_EQ(f["status"], "ok") << f["reason"];
  EXPECT_EQ(os_count(f, "revocations"), 1u);
  EXPECT_GE(f["invalidations"].get<int>(), 1);
  EXPECT_EQ(f["pages_to_ram"], kPages) << "the driver moved every device page";
  // Before the migration the NIC mapped device pages peer-to-peer; after it, RAM pages.
  EXPECT_GT(os_count(f, "p2p_page_mappings"), 0u);
  EXPECT_LT(os_count(f, "p2p_page_mappings"), kPages);
  EXPECT_EQ(f["nic_bytes"], kPages * 4096);
}

// E: the NIC's faults are migrating pages to RAM when the driver's revocation migrates the
// whole buffer; a page one of them listed before the revocation moved it is not moved again.
TEST(Revocation, AMigrationRacingARevocationMovesNoPageTwice) {
  nlohmann::json r = compare("gpu-nic-shared-switch-iommu",
                             send_workload("hmm_migrate", after_first_odp_faults()));
  const nlohmann::json &e = mechanism(r, "hmm_migrate");
  ASSERT_EQ(e["status"], "ok") << e["reason"];
  EXPECT_EQ(os_count(e, "revocations"), 0u) << "E's NIC maps RAM pages only: none to revoke";
  EXPECT_GT(os_count(e, "migrate_to_ram_calls"), 0u) << "the NIC's faults did migrate pages";
  EXPECT_EQ(e["pages_migrated"], kPages);
  EXPECT_EQ(e["bytes_migrated"], kPages * 4096);
}

// E on the IOMMU box: the NIC faults 256 pages to RAM (DMA-mapped through the IOMMU), then the
// GPU takes them back, zapping and unmapping each: 256 unmaps of one page. Strict flushes
// after each; lazy once (a ring of 256 slots holds 255): 255 flushes apart.
TEST(IommuUnmap, StrictCostsAFlushPerUnmapMoreThanLazyOnAnHmmPingPong) {
  auto run = [](const char *mode) {
    nlohmann::json w = {
        {"mechanisms", {"hmm_migrate"}},
        {"buffers", {buffer("1 MiB")}},
        {"phases", {phase_spec("send", "nic0", "read"), phase_spec("produce", "gpu0", "write")}},
        {"costs", {{"iommu_flush", mode}}}};
    return mechanism(compare("gpu-nic-shared-switch-iommu", w), "hmm_migrate");
  };
  nlohmann::json strict = run("strict"), lazy = run("lazy");
  ASSERT_EQ(strict["status"], "ok") << strict["reason"];
  ASSERT_EQ(lazy["status"], "ok") << lazy["reason"];
  EXPECT_EQ(os_count(strict, "iommu_unmaps"), 256u);
  EXPECT_EQ(os_count(lazy, "iommu_unmaps"), 256u);
  EXPECT_EQ(os_count(strict, "iotlb_flushes"), 256u);
  EXPECT_EQ(os_count(lazy, "iotlb_flushes"), 1u);
  const double expected_ns = 255 * OsCosts{}.iotlb_flush.ps * kNsPerPs;
  const double delta_ns =
      duration_ns(phase(strict, "produce")) - duration_ns(phase(lazy, "produce"));
  EXPECT_NEAR(delta_ns, expected_ns, 0.01 * expected_ns);
  EXPECT_NEAR(strict["breakdown_ns"]["invalidation"].get<double>() -
                  lazy["breakdown_ns"]["invalidation"].get<double>(),
              expected_ns, 0.01 * expected_ns);
  // Without an IOMMU, dma_unmap is direct: nothing charged.
  nlohmann::json plain = mechanism(
      compare("gpu-nic-shared-switch",
              {{"mechanisms", {"hmm_migrate"}},
               {"buffers", {buffer("1 MiB")}},
               {"phases",
                {phase_spec("send", "nic0", "read"), phase_spec("produce", "gpu0", "write")}}}),
      "hmm_migrate");
  EXPECT_EQ(os_count(plain, "iommu_unmaps"), 0u);
}

} // namespace
} // namespace pciesim::test
