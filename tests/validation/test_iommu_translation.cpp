// IOMMU translation seen from a NIC: IOTLB reach (entries x page size) decides whether DMA runs
// at link speed or at the page walkers' pace, and ATS moves the lookups into the device.
#include <gtest/gtest.h>

#include "tests/support/sim_harness.h"

namespace pciesim {
namespace {

using test::simulate_in_child;
using test::transfer;

// NIC reads of 256 B, one per 4 KiB page, cycling over `buffer` of host memory, behind a
// translating IOMMU with `page_size` pages. The NIC's own MTT is left out (mtt_entries 0) so
// that the IOMMU alone decides.
nlohmann::json iommu_run(const std::string &buffer, const std::string &page_size, bool ats) {
  nlohmann::json t =
      nlohmann::json::parse(test::read_repo_file("topologies/gpu-nic-shared-switch.json"));
  t["components"][0]["params"]["iommu"] = "translated";
  t["components"][0]["params"]["iommu_page_size"] = page_size;
  for (auto &c : t["components"])
    if (c["type"] == "rdma_nic") {
      c["params"]["mtt_entries"] = 0;
      c["params"]["ats"] = ats;
    }
  nlohmann::json r = {{"id", "r"},           {"initiator", "nic0"}, {"target", "mem0"},
                      {"direction", "read"}, {"size", "256 B"},     {"stride", "4 KiB"},
                      {"buffer", buffer},    {"count", 8192},       {"concurrency", 16},
                      {"queue_pairs", 4}};
  return simulate_in_child(nlohmann::json{
      {"name", "iotlb"}, {"topology", t}, {"transfers", nlohmann::json::array({r})}});
}

double gbps(const nlohmann::json &result) {
  return transfer(result, "r")["bandwidth_GBps"].get<double>();
}

TEST(IommuTranslation, WorkingSetBeyondIotlbReachDropsAndHugePagesRecover) {
  // IOTLB reach: 64 entries x 4 KiB = 256 KiB; x 2 MiB = 128 MiB.
  nlohmann::json within = iommu_run("128 KiB", "4 KiB", false);
  nlohmann::json beyond = iommu_run("64 MiB", "4 KiB", false);
  nlohmann::json huge = iommu_run("64 MiB", "2 MiB", false);
  EXPECT_LE(within["components"]["rc0"]["iotlb_misses"].get<int>(), 32 + 32); // cold misses
  EXPECT_EQ(beyond["components"]["rc0"]["iotlb_hits"], 0);                    // every page new
  // Documented magnitude: when every request misses, at most `iommu_walkers` (4) walks are in
  // flight and each takes at least the walk overhead plus one page-table read (200 + 80 ns),
  // so reads of 256 B cannot exceed 4 x 256 B / 280 ns = 3.66 GB/s.
  EXPECT_LT(gbps(beyond), 4 * 256 / 280.0);
  EXPECT_LT(gbps(beyond), gbps(within) / 5);
  // 2 MiB pages: the 64 MiB working set is 32 pages, within reach again.
  EXPECT_GT(gbps(huge), 0.9 * gbps(within));
}

TEST(IommuTranslation, AtsTranslatedRequestsSkipTheIommu) {
  // 1 MiB working set: beyond the IOTLB's reach (256 KiB) but within the NIC ATC's (256
  // entries x 4 KiB): with ATS the root complex answers one Translation Request per page and
  // then sees only translated requests, which it does not translate again.
  nlohmann::json plain = iommu_run("1 MiB", "4 KiB", false);
  nlohmann::json ats = iommu_run("1 MiB", "4 KiB", true);
  const nlohmann::json &rc = ats["components"]["rc0"];
  const nlohmann::json &nic = ats["components"]["nic0"];
  EXPECT_EQ(rc["translations"], 0);
  EXPECT_EQ(rc["ats_translation_requests"], nic["atc_misses"]);
  EXPECT_EQ(nic["atc_misses"], 256); // one per page of the working set
  EXPECT_EQ(nic["translated_requests"], 8192);
  EXPECT_EQ(nic["atc_hits"], 8192); // a miss waits for its translation, then issues as a hit
  EXPECT_LE(rc["walks"].get<int>(), 256);
  EXPECT_EQ(plain["components"]["rc0"]["walks"], 8192);
  EXPECT_GT(gbps(ats), 3 * gbps(plain));
}

TEST(IommuTranslation, TableReportsTheAtcHitRate) {
  test::CommandResult r = test::run_pciesim("run " + std::string(PCIESIM_SOURCE_DIR) +
                                            "/scenarios/nic-gpu-rdma-ats.json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("nic0 ATC: hit rate"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rc0 IOMMU:"), std::string::npos) << r.out;
}

} // namespace
} // namespace pciesim
