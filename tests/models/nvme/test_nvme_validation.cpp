// Validation of the NVMe SSD model against published datasheet figures that follow from the
// mechanism rather than from a parameter: the sequential read bandwidth of drives whose flash
// outruns their PCIe link, where the rate is the link's (MWr overhead, DLLPs, SKIPs) as the
// fabric model computes it. Sources: docs/references.md, "NVMe SSD".
#include <gtest/gtest.h>

#include "tests/support/library_scenario.h"

namespace pciesim {
namespace {

// A drive alone on a root port of `gen` x4, with MPS 512 (what servers set for NVMe drives
// when the root port allows it), its flash faster than any x4 link.
nlohmann::json drive_on_root_port(int gen) {
  return {
      {"fabric", {{"mps", "512 B"}}},
      {"components",
       {{{"id", "rc0"}, {"type", "root_complex"}, {"params", {{"root_ports", 1}}}},
        {{"id", "mem0"}, {"type", "host_memory"}, {"root_complex", "rc0"}},
        {{"id", "nvme0"},
         {"type", "nvme_ssd"},
         {"params", {{"flash_read_bandwidth", "100 GB/s"}, {"max_read_iops", 10000000}}}}}},
      {"links", {{{"between", {"rc0.rp0", "nvme0"}}, {"params", {{"gen", gen}, {"width", 4}}}}}}};
}

// 128 KiB sequential reads at queue depth 32 (the datasheets' sequential workload).
double sequential_read_gbps(int gen) {
  nlohmann::json reads = {
      {"id", "t"},         {"initiator", "nvme0"}, {"target", "mem0"}, {"direction", "write"},
      {"size", "128 KiB"}, {"count", 512},         {"concurrency", 32}};
  return test::transfer(test::run_one_transfer(drive_on_root_port(gen), reads),
                        "t")["bandwidth_GBps"]
      .get<double>();
}

// Micron 9200 (PCIe Gen3 x4) datasheet: sequential 128 KB read up to 3.50 GB/s.
TEST(NvmeSsdValidation, Gen3x4SequentialReadMatchesMicron9200Datasheet) {
  EXPECT_NEAR(sequential_read_gbps(3), 3.50, 0.03 * 3.50);
}

// Micron 7450 (PCIe Gen4 x4): sequential read around 6.8 GB/s (ServeTheHome).
TEST(NvmeSsdValidation, Gen4x4SequentialReadMatchesMicron7450Figure) {
  EXPECT_NEAR(sequential_read_gbps(4), 6.8, 0.03 * 6.8);
}

} // namespace
} // namespace pciesim
