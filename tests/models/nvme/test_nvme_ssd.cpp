// The NVMe SSD endpoint: per-command costs (doorbell, SQE fetch, command rate, flash, data,
// CQE and MSI-X), reads of a formatted drive, queue depth, MDTS splitting, the flash and link
// bounds at deep queues, the Controller Memory Buffer as a p2pdma target, and NVMe reads into a GPU
// BAR.
#include <gtest/gtest.h>

#include "tests/support/library_scenario.h"

namespace pciesim {
namespace {

using test::set_param;
using test::simulate_in_child;
using test::transfer;
auto *const library_json = &test::library_topology;
auto *const run = &test::run_one_transfer;

// NVMe Read commands: the drive writes `size` into `target`, `depth` commands at a time.
nlohmann::json nvme_read(const std::string &target, const std::string &size, int count, int depth) {
  return {{"id", "t"},    {"initiator", "nvme0"}, {"target", target},    {"direction", "write"},
          {"size", size}, {"count", count},       {"concurrency", depth}};
}

double gbps(const nlohmann::json &r) { return transfer(r, "t")["bandwidth_GBps"].get<double>(); }
double p50_us(const nlohmann::json &r) {
  return transfer(r, "t")["latency_ns"]["p50"].get<double>() / 1000.0;
}

// The usable rate of the link from `from` (GB/s) carrying MWr of 256 B (24 B of overhead).
double mwr_rate_gbps(const nlohmann::json &r, const std::string &from) {
  for (const nlohmann::json &l : r["links"])
    if (l["from"] == from)
      return l["usable_GBps"].get<double>() * 256.0 / 280.0;
  ADD_FAILURE() << "no link from " << from;
  return 0;
}

// A drive whose own costs vanish, so that only the fabric's remain.
void zero_drive_costs(nlohmann::json &t) {
  set_param(t, "nvme0", "doorbell_latency", "0 ns");
  set_param(t, "nvme0", "flash_read_latency", "0 ns");
  set_param(t, "nvme0", "flash_write_latency", "0 ns");
  set_param(t, "nvme0", "flash_read_bandwidth", "1000 TB/s");
  set_param(t, "nvme0", "flash_write_bandwidth", "1000 TB/s");
  set_param(t, "nvme0", "max_read_iops", 100000000);
  set_param(t, "nvme0", "max_write_iops", 100000000);
}

TEST(NvmeSsd, OneReadAtQueueDepthOneAddsEveryCommandCost) {
  nlohmann::json t = library_json("nvme-gpu-root-ports");
  nlohmann::json read = nvme_read("mem0", "4 KiB", 1, 1);
  nlohmann::json r = run(t, read);
  // Default parameters: doorbell 500 ns, 1 / 900k IOPS of command processing, 85 us of NAND
  // read, 4096 B at 6.5 GB/s; the rest is the fabric's (SQE fetch round trip, data, CQE and
  // MSI-X writes), measured with the drive's own costs at zero.
  double drive_us = 0.5 + 1e6 / 900e3 + 85.0 + 4096 / 6.5e9 * 1e6;
  zero_drive_costs(t);
  double fabric_us = p50_us(run(t, read));
  EXPECT_GT(fabric_us, 0.5); // a read round trip and two writes through a root port
  EXPECT_LT(fabric_us, 5.0);
  EXPECT_NEAR(p50_us(r), drive_us + fabric_us, 0.05); // DLLPs may fall elsewhere: ~10 ns
  const nlohmann::json &ssd = r["components"]["nvme0"];
  EXPECT_EQ(ssd["commands"], 1);
  EXPECT_EQ(ssd["doorbells"], 1);
  EXPECT_EQ(ssd["sqe_fetches"], 1);
  EXPECT_EQ(ssd["cqe_writes"], 1);
  EXPECT_EQ(ssd["interrupts"], 1);
  EXPECT_EQ(ssd["flash_bytes_read"], 4096);
  // The SQE is a real read of host memory; the data, the CQE and the MSI-X are real writes.
  EXPECT_EQ(r["components"]["rc0"]["memory_reads"], 1);
  EXPECT_EQ(ssd["mwr_sent"], 4096 / 256 + 2);
}

// A formatted drive answers reads of its deallocated blocks with zeroes: no NAND read, no flash
// bandwidth; the command rate and the fabric remain. Writes are unchanged.
TEST(NvmeSsd, AFormattedDriveReadsWithoutTheFlash) {
  nlohmann::json t = library_json("nvme-gpu-root-ports");
  const nlohmann::json read = nvme_read("mem0", "4 KiB", 1, 1);
  nlohmann::json write = read;
  write["direction"] = "read";
  const double written_read_us = p50_us(run(t, read));
  const double write_us = p50_us(run(t, write));
  set_param(t, "nvme0", "formatted", true);
  nlohmann::json r = run(t, read);
  EXPECT_NEAR(written_read_us - p50_us(r), 85.0 + 4096 / 6.5e9 * 1e6, 0.05);
  EXPECT_EQ(transfer(r, "t")["bytes"], 4096);
  EXPECT_EQ(r["components"]["nvme0"]["flash_bytes_read"], 0);
  EXPECT_NEAR(p50_us(run(t, write)), write_us, 1e-6);
}

TEST(NvmeSsd, OneWriteAtQueueDepthOneAddsEveryCommandCost) {
  nlohmann::json t = library_json("nvme-gpu-root-ports");
  nlohmann::json write = {{"id", "t"},           {"initiator", "nvme0"}, {"target", "mem0"},
                          {"direction", "read"}, {"size", "4 KiB"},      {"count", 1}};
  nlohmann::json r = run(t, write);
  // Doorbell, 1 / 200k IOPS, then the data is fetched, then 21 us of program (from the
  // power-loss-protected cache) and 4096 B at 3.5 GB/s.
  double drive_us = 0.5 + 1e6 / 200e3 + 21.0 + 4096 / 3.5e9 * 1e6;
  zero_drive_costs(t);
  double fabric_us = p50_us(run(t, write));
  EXPECT_GT(fabric_us, 0.5);
  EXPECT_LT(fabric_us, 5.0);
  EXPECT_NEAR(p50_us(r), drive_us + fabric_us, 0.05); // DLLPs may fall elsewhere: ~10 ns
  EXPECT_EQ(r["components"]["nvme0"]["flash_bytes_written"], 4096);
}

// Bytes over the time they take: the first NAND read's latency, then everything at `gbps`.
double pipelined_gbps(double bytes, double first_us, double gbps) {
  return bytes / (first_us * 1e3 + bytes / gbps);
}

TEST(NvmeSsd, DeepQueuesRunAtTheFlashBandwidthOrTheLinkRate) {
  nlohmann::json t = library_json("nvme-gpu-root-ports");
  nlohmann::json reads = nvme_read("mem0", "128 KiB", 256, 64);
  const double bytes = 256 * 131072.0;
  set_param(t, "nvme0", "flash_read_bandwidth", "3 GB/s");
  nlohmann::json flash_bound = run(t, reads);
  EXPECT_NEAR(gbps(flash_bound), pipelined_gbps(bytes, 85.0, 3.0), 0.01 * 3.0);
  // The flash is busy for exactly its share of every byte (whole ns per command).
  EXPECT_NEAR(flash_bound["components"]["nvme0"]["flash_read_busy_ns"].get<double>(), bytes / 3.0,
              256.0);
  set_param(t, "nvme0", "flash_read_bandwidth", "100 GB/s");
  nlohmann::json link_bound = run(t, reads);
  double link = mwr_rate_gbps(link_bound, "nvme0.up");
  EXPECT_NEAR(gbps(link_bound), pipelined_gbps(bytes, 85.0, link), 0.01 * link);
}

TEST(NvmeSsd, ASplitReadMovesEachCommandsDataOnceThatCommandHasIt) {
  // One 1 MiB read at a time, eight commands of 128 KiB, over a PCIe 3.0 x1 link far slower
  // than the flash: the first command's data leaves once its flash read is done (85 us +
  // 128 KiB at 6.5 GB/s after the doorbell and the command slot), and the link then carries
  // the whole MiB while the other commands read theirs. Moving the data only once every
  // command had it would add the other seven commands' flash time, 141 us.
  nlohmann::json t = library_json("nvme-gpu-root-ports");
  t["links"][1]["params"] = {{"gen", 3}, {"width", 1}};
  nlohmann::json r = run(t, nvme_read("mem0", "1 MiB", 4, 1));
  const double link_gbps = mwr_rate_gbps(r, "nvme0.up");
  const double first_command_us = 0.5 + 1e6 / 900e3 + 85.0 + 131072 / 6.5e9 * 1e6;
  const double data_us = 1048576 / link_gbps / 1e3;
  // The rest is the fabric's: the SQE round trips, the last write's flight, CQE and MSI-X.
  EXPECT_GT(p50_us(r), first_command_us + data_us);
  EXPECT_LT(p50_us(r), first_command_us + data_us + 5.0);
}

TEST(NvmeSsd, SmallRandomReadsAreBoundByTheCommandRateOrLittlesLaw) {
  nlohmann::json t = library_json("nvme-gpu-root-ports");
  double qd1_us = p50_us(run(t, nvme_read("mem0", "4 KiB", 1, 1)));
  // Deep queue: 128 commands in flight over ~89 us would start 1.4M per second; the
  // controller starts 900k, so after the first command's latency 900k x 4 KiB = 3.686 GB/s.
  double deep = gbps(run(t, nvme_read("mem0", "4 KiB", 4096, 128)));
  EXPECT_NEAR(deep, 4096 * 4096 / (qd1_us * 1e3 + 4096 / 900e3 * 1e9), 0.01 * deep);
  // Shallow queue: 4 commands in flight, each taking the QD1 latency (Little's law).
  double qd4 = gbps(run(t, nvme_read("mem0", "4 KiB", 256, 4)));
  EXPECT_NEAR(qd4, 4 * 4096 / (qd1_us * 1e3), 0.01 * qd4);
}

TEST(NvmeSsd, MdtsSplitsLargeTransfersAndQueueDepthBoundsTheCommands) {
  nlohmann::json t = library_json("nvme-gpu-root-ports");
  nlohmann::json big = nvme_read("mem0", "1 MiB", 8, 4);
  nlohmann::json split = run(t, big);
  const nlohmann::json &ssd = split["components"]["nvme0"];
  EXPECT_EQ(ssd["commands"], 64); // 1 MiB / 128 KiB, 8 times
  EXPECT_EQ(ssd["sqe_fetches"], 64);
  EXPECT_EQ(ssd["cqe_writes"], 64);
  EXPECT_EQ(ssd["interrupts"], 64);
  EXPECT_EQ(ssd["queue_full_waits"], 0);
  set_param(t, "nvme0", "mdts", "1 MiB");
  EXPECT_EQ(run(t, big)["components"]["nvme0"]["commands"], 8);
  // A queue depth of 16 holds two I/Os of 8 commands: the other two wait.
  set_param(t, "nvme0", "mdts", "128 KiB");
  set_param(t, "nvme0", "queue_depth", 16);
  EXPECT_GT(run(t, big)["components"]["nvme0"]["queue_full_waits"].get<int>(), 0);
  // An I/O of more commands than the queue holds runs alone instead of waiting forever.
  set_param(t, "nvme0", "queue_depth", 4);
  nlohmann::json alone = run(t, big);
  EXPECT_EQ(transfer(alone, "t")["transfers_done"], 8);
  EXPECT_LT(gbps(alone), 0.8 * gbps(split)); // no overlap of one I/O's NAND latency with another
}

TEST(NvmeSsd, NicWritesIntoTheCmbAsAPeerAtTheCmbBandwidth) {
  nlohmann::json t = library_json("nvme-gpu-shared-switch");
  set_param(t, "nvme0", "cmb_bandwidth", "2 GB/s");
  nlohmann::json rdma = {
      {"id", "t"},       {"initiator", "nic0"}, {"target", "nvme0"}, {"direction", "write"},
      {"size", "1 MiB"}, {"count", 8},          {"queue_pairs", 2}};
  nlohmann::json r = run(t, rdma);
  EXPECT_EQ(transfer(r, "t")["map_type"], "BUS_ADDR");
  EXPECT_NEAR(gbps(r), 2.0, 0.02);
  EXPECT_EQ(r["components"]["nvme0"]["cmb_bytes"], 8 << 20);
  EXPECT_EQ(r["components"]["nvme0"]["commands"], 0); // a peer's writes need no command
  // Without a CMB the drive has no memory a peer may target.
  set_param(t, "nvme0", "cmb", false);
  EXPECT_THROW(run(t, rdma), std::runtime_error);
}

TEST(NvmeSsd, ReadsIntoAGpuBarCrossTheHostBridgeOnRootPorts) {
  nlohmann::json t = library_json("nvme-gpu-root-ports");
  nlohmann::json r = run(t, nvme_read("gpu0", "128 KiB", 64, 16));
  const nlohmann::json &x = transfer(r, "t");
  EXPECT_EQ(x["map_type"], "THRU_HOST_BRIDGE");
  EXPECT_EQ(x["bytes"], 64 * 131072);
  EXPECT_EQ(r["components"]["gpu0"]["bar_bytes"], 64 * 131072);
  // The completions and interrupts still go to host memory, through the same root complex.
  EXPECT_EQ(r["components"]["nvme0"]["cqe_writes"], 64);
}

} // namespace
} // namespace pciesim
