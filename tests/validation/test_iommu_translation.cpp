// IOMMU translation seen from a NIC: IOTLB reach (entries x page size) decides whether DMA runs
// at link speed or at the page walkers' pace, the walkers run their walks in parallel, and ATS
// moves the lookups into the device; a read does not pass a write waiting for its walk.
#include <gtest/gtest.h>

#include "tests/support/sim_harness.h"

namespace pciesim {
namespace {

using test::simulate_in_child;
using test::transfer;

// NIC reads of 256 B, one per 4 KiB page, cycling over `buffer` of host memory, behind a
// translating IOMMU with `page_size` pages. The NIC's own MTT is left out (mtt_entries 0) so
// that the IOMMU alone decides.
nlohmann::json iommu_run(const std::string &buffer, const std::string &page_size, bool ats,
                         int walkers = 4, int concurrency = 16, int queue_pairs = 4,
                         int atc_prefetch_pages = -1) { // -1: the NIC's default
  nlohmann::json t =
      nlohmann::json::parse(test::read_repo_file("topologies/gpu-nic-shared-switch.json"));
  t["components"][0]["params"]["iommu"] = "translated";
  t["components"][0]["params"]["iommu_page_size"] = page_size;
  t["components"][0]["params"]["iommu_walkers"] = walkers;
  for (auto &c : t["components"])
    if (c["type"] == "rdma_nic") {
      c["params"]["mtt_entries"] = 0;
      c["params"]["read_pipeline_latency"] = "0 ns"; // the IOMMU alone, not the NIC, is measured
      c["params"]["post_interval"] = "0 ns";
      c["params"]["ats"] = ats;
      if (atc_prefetch_pages >= 0)
        c["params"]["atc_prefetch_pages"] = atc_prefetch_pages;
    }
  nlohmann::json r = {{"id", "r"},
                      {"initiator", "nic0"},
                      {"target", "mem0"},
                      {"direction", "read"},
                      {"size", "256 B"},
                      {"stride", "4 KiB"},
                      {"buffer", buffer},
                      {"count", 8192},
                      {"concurrency", concurrency},
                      {"queue_pairs", queue_pairs}};
  return simulate_in_child(nlohmann::json{
      {"name", "iotlb"}, {"topology", t}, {"transfers", nlohmann::json::array({r})}});
}

double translated_gbps(const nlohmann::json &result) {
  return transfer(result, "r")["bandwidth_GBps"].get<double>();
}

TEST(IommuTranslation, WorkingSetBeyondIotlbReachDropsAndHugePagesRecover) {
  // IOTLB reach: 64 entries x 4 KiB = 256 KiB; x 2 MiB = 128 MiB.
  nlohmann::json within = iommu_run("128 KiB", "4 KiB", false);
  nlohmann::json beyond = iommu_run("64 MiB", "4 KiB", false);
  nlohmann::json huge = iommu_run("64 MiB", "2 MiB", false);
  // Within reach only the cold misses walk, one walk per page; the other misses are reads
  // that came while their page's walk was running and joined it.
  const nlohmann::json &within_rc = within["components"]["rc0"];
  EXPECT_EQ(within_rc["walks"], 32);
  EXPECT_EQ(within_rc["iotlb_misses"],
            within_rc["walks"].get<int>() + within_rc["coalesced_misses"].get<int>());
  EXPECT_EQ(beyond["components"]["rc0"]["iotlb_hits"], 0); // every page new
  // When every request misses, at most `iommu_walkers` (4) walks are in flight and each takes
  // at least the walk overhead plus one page-table read (200 + 80 ns), so reads of 256 B
  // cannot exceed 4 x 256 B / 280 ns = 3.66 GB/s.
  EXPECT_LT(translated_gbps(beyond), 4 * 256 / 280.0);
  EXPECT_LT(translated_gbps(beyond), translated_gbps(within) / 5);
  // 2 MiB pages: the 64 MiB working set is 32 pages, within reach again.
  EXPECT_GT(translated_gbps(huge), 0.9 * translated_gbps(within));
}

// PCIe ordering (Base Spec 2.4.1, no Relaxed Ordering): a read may not pass an earlier posted
// write of its port, so a read whose page is in the IOTLB waits behind a write whose page is
// being walked, and its data come after the write landed. On pcie-bench's Haswell testbed
// with 4 KiB IOMMU pages: a 64 B write, then 40 ns later a 64 B read of a page already
// translated, each after a first read that put page 0 in the IOTLB.
TEST(IommuTranslation, AReadWaitsBehindAnEarlierWriteBeingTranslated) {
  auto run = [](const std::string &write_offset) {
    auto one = [](const char *id, const char *direction, const std::string &offset,
                  const char *after) {
      return nlohmann::json{{"id", id},
                            {"initiator", "nfp0"},
                            {"target", "mem0"},
                            {"size", "64 B"},
                            {"direction", direction},
                            {"offset", offset},
                            {"start_after", after}};
    };
    nlohmann::json transfers = {
        one("warm", "read", "0 B", "alone"), one("alone", "read", "0 B", "warm"),
        one("w", "write", write_offset, "alone"), one("r", "read", "0 B", "alone")};
    transfers[0].erase("start_after");
    transfers[3]["start_at"] = "40 ns"; // the write is on the link first
    nlohmann::json t = nlohmann::json::parse(
        test::read_repo_file("validation/hardware/testbeds/hsw-e5-2620v3-nfp6000-iommu-4k.json"));
    return simulate_in_child(
        nlohmann::json{{"name", "order"}, {"topology", t}, {"transfers", transfers}});
  };
  auto latency = [](const nlohmann::json &r, const char *id) {
    return transfer(r, id)["latency_ns"]["p50"].get<double>();
  };
  nlohmann::json walked = run("1 MiB"); // a page not translated yet: the write walks
  nlohmann::json hit = run("64 B");     // the read's own page: no walk
  EXPECT_DOUBLE_EQ(latency(hit, "r"), latency(hit, "alone"));
  // Held until the write's walk (a 227 ns miss on this host) ends, less its head start.
  EXPECT_GT(latency(walked, "r"), latency(walked, "alone") + 150);
  EXPECT_GT(transfer(walked, "r")["end_ns"].get<double>(),
            transfer(walked, "w")["end_ns"].get<double>() + 150);
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
  // One Translation Request per page of the working set: the first on a miss, the others
  // sent ahead (atc_prefetch_pages) while the pages before them were read.
  EXPECT_EQ(rc["ats_translation_requests"],
            nic["atc_misses"].get<int>() + nic["atc_prefetches"].get<int>());
  EXPECT_EQ(rc["ats_translation_requests"], 256);
  EXPECT_EQ(nic["atc_misses"], 1);
  EXPECT_EQ(nic["translated_requests"], 8192);
  EXPECT_EQ(nic["atc_hits"], 8192); // a miss waits for its translation, then issues as a hit
  EXPECT_LE(rc["walks"].get<int>(), 256);
  EXPECT_EQ(plain["components"]["rc0"]["walks"], 8192);
  // Without ATS every read waits for a walk: at most 4 walkers x 256 B / 280 ns = 3.66 GB/s.
  // With ATS the walks are once per page, and the rate is at least twice that bound.
  EXPECT_LT(translated_gbps(plain), 4 * 256 / 280.0);
  EXPECT_GT(translated_gbps(ats), 2 * 4 * 256 / 280.0);
}

TEST(IommuTranslation, TranslationsAskedAheadSpareAStreamARoundTripAtEveryPage) {
  // 64 MiB: beyond the ATC's reach (1 MiB), so every page needs a Translation Request. Asked
  // on a miss, each holds the stream for a round trip to the IOMMU and its walk; asked four
  // pages ahead, they are answered while the pages before them are read.
  nlohmann::json on_miss = iommu_run("64 MiB", "4 KiB", true, 4, 16, 4, 0);
  nlohmann::json ahead = iommu_run("64 MiB", "4 KiB", true);
  const nlohmann::json &nic_on_miss = on_miss["components"]["nic0"];
  const nlohmann::json &nic_ahead = ahead["components"]["nic0"];
  EXPECT_EQ(nic_on_miss["atc_prefetches"], 0);
  EXPECT_EQ(nic_on_miss["atc_misses"], 8192); // 8192 reads, one per page
  EXPECT_LT(nic_ahead["atc_misses"].get<int>(), 8192 / 10);
  // One per page read, and the four pages of the buffer after the last one, asked ahead.
  EXPECT_EQ(ahead["components"]["rc0"]["ats_translation_requests"], 8192 + 4);
  EXPECT_GT(translated_gbps(ahead), 1.5 * translated_gbps(on_miss));
}

// Time of one IOTLB-miss walk in `result`: the walk overhead (200 ns) plus its page-table
// reads, each the memory latency (80 ns) plus 8 B at one channel's share of the bandwidth
// (100 GB/s / 8 channels: 0.64 ns). Most walks read only the leaf (the page-walk cache holds
// the upper levels); the reads per walk come from the stats.
double walk_ns(const nlohmann::json &result) {
  const nlohmann::json &rc = result["components"]["rc0"];
  double reads_per_walk = rc["walk_memory_reads"].get<double>() / rc["walks"].get<double>();
  return 200 + reads_per_walk * (80 + 8 / 12.5);
}

TEST(IommuTranslation, MissThroughputGrowsWithWalkersUntilTheReadsInFlightBind) {
  // Beyond the IOTLB's reach (64 MiB of 4 KiB pages) every read misses. The walkers run
  // their walks at the same time and their page-table reads overlap in host memory, so the
  // rate is walkers x 256 B / walk time: 0.91, 1.82, 3.65, 7.29 and 14.6 GB/s for 1 to 16.
  for (int walkers : {1, 2, 4, 8, 16}) {
    nlohmann::json r = iommu_run("64 MiB", "4 KiB", false, walkers);
    ASSERT_EQ(r["components"]["rc0"]["iotlb_hits"], 0);
    double expected = walkers * 256 / walk_ns(r);
    EXPECT_NEAR(translated_gbps(r), expected, 0.02 * expected) << walkers << " walkers";
  }
  // With 64 walkers no walk waits for a walker: the NIC's 64 reads in flight bind (16 per
  // queue pair x 4), at 64 x 256 B / the latency of one read alone (Little's law).
  nlohmann::json many = iommu_run("64 MiB", "4 KiB", false, 64);
  EXPECT_EQ(many["components"]["rc0"]["walker_waits"], 0);
  double alone_ns =
      transfer(iommu_run("64 MiB", "4 KiB", false, 64, 1, 1), "r")["latency_ns"]["mean"]
          .get<double>();
  double in_flight_bound = 64 * 256 / alone_ns;
  EXPECT_LT(in_flight_bound, 64 * 256 / walk_ns(many)); // not the walkers' limit
  EXPECT_NEAR(translated_gbps(many), in_flight_bound, 0.03 * in_flight_bound);
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
