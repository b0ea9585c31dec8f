// Validation of the NVMe SSD model against published datasheet figures that follow from the
// mechanism rather than from a parameter: the sequential read bandwidth of drives whose flash
// outruns their PCIe link, where the rate is the link's (MWr overhead, DLLPs, SKIPs) as the
// fabric model computes it. (Micron's 9200 at 3.5 GB/s on PCIe 3.0 x4 and 7450 at 6.8 on 4.0 x4,
// checked here while the link charged pcie-bench's DLLP share, sit below their links: the
// fastest drives of each generation show what the link leaves.) Sources: docs/references.md, "NVMe
// SSD".
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
         {"params",
          {{"max_gen", gen}, {"flash_read_bandwidth", "100 GB/s"}, {"max_read_iops", 10000000}}}}}},
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

// Samsung 990 PRO (PCIe 4.0 x4) data sheet: sequential read up to 7,450 MB/s, above the 7.20 GB/s
// that 256-byte TLPs leave of the link, so the drive writes with MPS 512.
TEST(NvmeSsdValidation, Gen4x4SequentialReadMatchesSamsung990ProDataSheet) {
  EXPECT_NEAR(sequential_read_gbps(4), 7.45, 0.03 * 7.45);
}

// Samsung 9100 PRO (PCIe 5.0 x4) data sheet: sequential read up to 14,800 MB/s (4 TB).
TEST(NvmeSsdValidation, Gen5x4SequentialReadMatchesSamsung9100ProDataSheet) {
  EXPECT_NEAR(sequential_read_gbps(5), 14.8, 0.03 * 14.8);
}

} // namespace
} // namespace pciesim
