// The RDMA NIC endpoint in a system: the network line rate pacing RDMA WRITEs and READs,
// and MTT misses read from host memory, hidden by prefetch on sequential access.
#include <gtest/gtest.h>

#include "tests/support/library_scenario.h"

namespace pciesim::test {
namespace {

TEST(RdmaNic, LineRatePacesRdmaWritesAndReads) {
  nlohmann::json t = library_topology("gpu-nic-shared-switch");
  set_param(t, "nic0", "line_rate", "10 Gb/s"); // 1.25 GB/s
  for (const char *direction : {"write", "read"}) {
    SCOPED_TRACE(direction);
    nlohmann::json x = {
        {"id", "t"},       {"initiator", "nic0"}, {"target", "gpu0"}, {"direction", direction},
        {"size", "1 MiB"}, {"count", 8},          {"queue_pairs", 2}};
    EXPECT_NEAR(bandwidth_gbps(run_one_transfer(t, x)), 1.25, 0.0125);
  }
}

TEST(RdmaNic, MttMissesReadHostMemoryAndPrefetchHidesSequentialOnes) {
  nlohmann::json t = library_topology("gpu-nic-shared-switch");
  set_param(t, "nic0", "mtt_page_size", "4 KiB");
  nlohmann::json x = {
      {"id", "t"},       {"initiator", "nic0"}, {"target", "gpu0"}, {"direction", "write"},
      {"size", "1 MiB"}, {"count", 4},          {"buffer", "4 MiB"}};
  nlohmann::json r = run_one_transfer(t, x);
  const nlohmann::json &nic = r["components"]["nic0"];
  // 4 MiB of 4 KiB pages = 1024 pages = 128 MTT lines of 8 entries, each read once, plus
  // at most one line prefetched past the end of the buffer.
  int fetches = nic["fetches_sent"].get<int>();
  EXPECT_EQ(nic["mtt_misses"].get<int>() + nic["mtt_prefetches"].get<int>(), fetches);
  EXPECT_GE(fetches, 128);
  EXPECT_LE(fetches, 129);
  EXPECT_GT(nic["mtt_prefetches"].get<int>(), 100); // sequential: almost all prefetched
  // The MTT reads are real PCIe reads of host memory.
  EXPECT_EQ(r["components"]["rc0"]["memory_reads"], fetches);
}

} // namespace
} // namespace pciesim::test
