// Address patterns of plain transfers (sequential, strided, random within a window), checked
// through the IOTLB they drive: with uniformly random pages, any cache of E entries over a
// window of P > E pages hits with probability E / P in steady state (the independent reference
// model: the next page is uniform over the window whatever the cache holds), and a sequential
// walk over 4 KiB pages in 256 B steps misses once per page. So the counters test the pattern
// against formulas, not against a recorded run.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/support/library_scenario.h"

namespace pciesim {
namespace {

constexpr int kIotlbEntries = 64;
constexpr int kReads = 16384;

// NIC reads of 256 B over `window` of host memory with one read in flight (no two misses can
// join one walk, so hits + misses are exactly the reads), behind a translating IOMMU with a
// fully associative IOTLB of 64 entries of 4 KiB. The NIC's own MTT is left out.
nlohmann::json iotlb_run(const std::string &window, nlohmann::json pattern_keys) {
  nlohmann::json t = test::library_topology("gpu-nic-shared-switch");
  test::set_param(t, "rc0", "iommu", "translated");
  test::set_param(t, "rc0", "iommu_page_size", "4 KiB");
  test::set_param(t, "rc0", "iotlb_entries", kIotlbEntries);
  test::set_param(t, "rc0", "iotlb_ways", 0);
  test::set_param(t, "nic0", "mtt_entries", 0);
  nlohmann::json r = {{"id", "t"},           {"initiator", "nic0"}, {"target", "mem0"},
                      {"direction", "read"}, {"size", "256 B"},     {"buffer", window},
                      {"count", kReads},     {"concurrency", 1}};
  r.update(pattern_keys);
  return test::run_one_transfer(t, r);
}

double hit_ratio(const nlohmann::json &result) {
  const nlohmann::json &rc = result["components"]["rc0"];
  double hits = rc["iotlb_hits"].get<double>(), misses = rc["iotlb_misses"].get<double>();
  EXPECT_EQ(hits + misses, kReads);
  return hits / (hits + misses);
}

TEST(AccessPattern, RandomPagesHitTheIotlbAsTheIndependentReferenceModelSays) {
  // Windows of 2 and 4 times the IOTLB's reach (256 KiB): hit ratios 1/2 and 1/4. The
  // standard error of a ratio over 16384 draws is below 0.004; the cold start adds at most
  // 64 misses (0.004). 0.02 is five standard errors.
  for (int times : {2, 4}) {
    nlohmann::json r = iotlb_run(std::to_string(256 * times) + " KiB", {{"pattern", "random"}});
    EXPECT_NEAR(hit_ratio(r), 1.0 / times, 0.02) << times << " x reach";
  }
}

TEST(AccessPattern, RandomWithinReachMissesOncePerPage) {
  // 128 KiB = 32 pages: every page is drawn (each is missed by 16384 draws with probability
  // (31/32)^16384), each misses once, and none is evicted.
  nlohmann::json r = iotlb_run("128 KiB", {{"pattern", "random"}});
  EXPECT_EQ(r["components"]["rc0"]["iotlb_misses"], 32);
}

TEST(AccessPattern, SequentialAndStridedMissOncePerNewPage) {
  // Sequential 256 B steps: 16 reads per 4 KiB page, one miss each: hit ratio 15/16, however
  // large the window. A 4 KiB stride touches a new page on every read: beyond reach, no hits.
  EXPECT_NEAR(hit_ratio(iotlb_run("1 MiB", nlohmann::json::object())), 15.0 / 16, 1e-9);
  EXPECT_EQ(hit_ratio(iotlb_run("1 MiB", {{"pattern", "strided"}, {"stride", "4 KiB"}})), 0.0);
}

TEST(AccessPattern, TheSeedDecidesTheDrawsAndIsReported) {
  nlohmann::json a = iotlb_run("1 MiB", {{"pattern", "random"}, {"seed", 11}});
  nlohmann::json again = iotlb_run("1 MiB", {{"pattern", "random"}, {"seed", 11}});
  nlohmann::json other = iotlb_run("1 MiB", {{"pattern", "random"}, {"seed", 12}});
  EXPECT_EQ(a["components"]["rc0"], again["components"]["rc0"]);
  EXPECT_NE(a["components"]["rc0"]["iotlb_hits"], other["components"]["rc0"]["iotlb_hits"]);
  const nlohmann::json &echo = a["config"]["transfers"][0];
  EXPECT_EQ(echo["pattern"], "random");
  EXPECT_EQ(echo["seed"], 11);
}

TEST(AccessPattern, RandomTransfersWithoutASeedEachDrawTheirOwnSequence) {
  nlohmann::json t = test::library_topology("gpu-nic-shared-switch");
  auto random_read = [](const char *id) {
    return nlohmann::json{
        {"id", id},        {"initiator", "nic0"}, {"target", "mem0"},    {"direction", "read"},
        {"size", "256 B"}, {"buffer", "1 MiB"},   {"pattern", "random"}, {"count", 4}};
  };
  nlohmann::json r = test::simulate_in_child(
      nlohmann::json{{"name", "two"},
                     {"seed", 5},
                     {"topology", t},
                     {"transfers", nlohmann::json::array({random_read("a"), random_read("b")})}});
  const nlohmann::json &transfers = r["config"]["transfers"];
  EXPECT_NE(transfers[0]["seed"], transfers[1]["seed"]);
}

} // namespace
} // namespace pciesim
