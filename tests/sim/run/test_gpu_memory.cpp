// GPU memory capacity in whole workload runs (docs/mechanisms.md, "GPU memory capacity"): a
// managed buffer larger than the GPU's memory_size evicts what does not fit, the evictions'
// bytes cross the fabric as copy-engine writes to RAM and cost time; a pinned peer buffer
// leaves less for managed memory; a workload that fits runs exactly as with an unbounded
// memory; device-placed buffers beyond the memory are a bad input.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

constexpr std::uint64_t kMiB = 1 << 20;
constexpr std::uint64_t kUnit = 2 * kMiB; // eviction_unit default: a UVM root chunk

// The shared-switch topology with the GPU's memory set to `memory_size`.
nlohmann::json gpu_memory_topology(const std::string &memory_size) {
  nlohmann::json t = nlohmann::json::parse(read_repo_file("topologies/gpu-nic-shared-switch.json"));
  for (auto &c : t["components"])
    if (c["id"] == "gpu0") {
      c["params"]["memory_size"] = memory_size;
      c["params"]["resizable_bar"] = false; // a 256 MiB aperture holds every buffer's frames
    }
  return t;
}

// A `work_mib` managed buffer starting in RAM that the GPU reads once; with `msg_mib` > 0 a
// device buffer the NIC sends first.
nlohmann::json workload(const nlohmann::json &mechanisms, std::uint64_t work_mib,
                        std::uint64_t msg_mib) {
  nlohmann::json buffers = nlohmann::json::array();
  nlohmann::json phases = nlohmann::json::array();
  if (msg_mib > 0) {
    buffers.push_back({{"id", "msg"}, {"gpu", "gpu0"}, {"size", std::to_string(msg_mib) + " MiB"}});
    phases.push_back({{"id", "send"}, {"actor", "nic0"}, {"op", "read"}, {"buffer", "msg"}});
  }
  buffers.push_back({{"id", "work"},
                     {"gpu", "gpu0"},
                     {"size", std::to_string(work_mib) + " MiB"},
                     {"placement", "system"},
                     {"managed", true}});
  phases.push_back({{"id", "compute"}, {"actor", "gpu0"}, {"op", "read"}, {"buffer", "work"}});
  return {{"mechanisms", mechanisms}, {"buffers", buffers}, {"phases", phases}};
}

CommandResult run_scenario(const nlohmann::json &scenario, const std::string &dir) {
  std::ofstream(dir + "/s.json") << scenario.dump(2);
  return run_pciesim("run " + dir + "/s.json --quiet --out " + dir + "/out");
}

nlohmann::json results(const std::string &memory_size, const nlohmann::json &workload) {
  std::string dir = make_temp_dir("gpumem");
  CommandResult r = run_scenario({{"name", "gpu-memory"},
                                  {"topology", gpu_memory_topology(memory_size)},
                                  {"workload", workload}},
                                 dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(read_file(dir + "/out/results.json"));
}

const nlohmann::json &mechanism_named(const nlohmann::json &results, const std::string &name) {
  for (const auto &m : results["mechanisms"])
    if (m["name"] == name)
      return m;
  throw std::runtime_error("no mechanism " + name);
}

double compute_ns(const nlohmann::json &m) {
  for (const auto &p : m["phases"])
    if (p["phase"] == "compute")
      return p["end_ns"].get<double>() - p["start_ns"].get<double>();
  throw std::runtime_error("no compute phase");
}

// A migration batch's copies are pushed at once: the batch pays the driver's
// copy_engine_setup, not the copy engine's per-copy setup_latency for each of its runs.
TEST(GpuMemory, MigrationCopiesDoNotPayTheCopyEnginesPerCopySetup) {
  auto compute_with_setup = [](const std::string &setup) {
    nlohmann::json topology = gpu_memory_topology("16 GiB");
    for (auto &c : topology["components"])
      if (c["id"] == "gpu0")
        c["params"]["setup_latency"] = setup;
    std::string dir = make_temp_dir("gpumem");
    CommandResult r = run_scenario({{"name", "gpu-memory"},
                                    {"topology", topology},
                                    {"workload", workload({"hmm_migrate"}, 8, 0)}},
                                   dir);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    nlohmann::json m = nlohmann::json::parse(read_file(dir + "/out/results.json"));
    return compute_ns(mechanism_named(m, "hmm_migrate"));
  };
  double without = compute_with_setup("0 ns");
  EXPECT_GT(without, 0.0);
  EXPECT_EQ(compute_with_setup("1.5 us"), without);
  EXPECT_EQ(compute_with_setup("100 us"), without);
}

// 24 MiB through 16 MiB: 8 MiB (4 units) evicted. The GPU writes to RAM only to evict (its
// reads are local, its migrations in are reads of RAM), so its link carries exactly the
// evicted bytes upstream, and the phase is slower than where the buffer fits.
TEST(GpuMemory, OversubscriptionEvictsWhatDoesNotFitOverTheFabric) {
  const nlohmann::json w = workload({"hmm_migrate"}, 24, 0);
  const nlohmann::json over = mechanism_named(results("16 MiB", w), "hmm_migrate");
  const nlohmann::json fits = mechanism_named(results("64 MiB", w), "hmm_migrate");
  ASSERT_EQ(over["status"], "ok") << over["reason"];
  EXPECT_EQ(over["os"]["evictions"], 4);
  EXPECT_EQ(over["os"]["evicted_bytes"], 8 * kMiB);
  EXPECT_EQ(over["pages_to_device"], 24 * kMiB / 4096);
  EXPECT_EQ(over["pages_to_ram"], 8 * kMiB / 4096);
  EXPECT_EQ(over["bytes_migrated"], (24 + 8) * kMiB);
  EXPECT_EQ(payload_from(over, "gpu0.up"), 8 * kMiB);
  EXPECT_EQ(payload_from(fits, "gpu0.up"), 0u);
  EXPECT_EQ(fits["os"]["evictions"], 0);
  // Each eviction is a migration of a 2 MiB unit, one after the other, while the faulting
  // batch waits: per 4 KiB page collect (300 ns) and finalize (200 ns), one TLB shootdown
  // (5 us) and copy-engine setup (1.5 us), and the copy at the Gen4 x16 payload rate for
  // 256-byte writes (16 GT/s x 16 lanes x 128/130 = 31.5 GB/s, x 256/280 for the TLP's
  // 24 bytes of header, sequence number, LCRC and framing: 28.8 GB/s).
  const double per_unit_ns = 512 * (300 + 200) + 5000 + 1500 + kUnit / 28.8;
  EXPECT_NEAR(compute_ns(over) - compute_ns(fits), 4 * per_unit_ns, 0.05 * 4 * per_unit_ns);
}

// Where it fits, the capacity changes nothing: the same results with 32 MiB as with 16 GiB.
TEST(GpuMemory, AWorkloadThatFitsRunsAsWithUnboundedMemory) {
  const nlohmann::json w = workload({"p2p_dma_api", "hmm_migrate", "dmabuf_p2p", "bounce"}, 12, 4);
  nlohmann::json small = results("32 MiB", w), large = results("16 GiB", w);
  ASSERT_EQ(small["mechanisms"].size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    SCOPED_TRACE(small["mechanisms"][i]["name"].get<std::string>());
    EXPECT_EQ(small["mechanisms"][i]["os"]["evictions"], 0);
    EXPECT_EQ(small["mechanisms"][i]["phases"], large["mechanisms"][i]["phases"]);
    EXPECT_EQ(small["mechanisms"][i]["links"], large["mechanisms"][i]["links"]);
    EXPECT_EQ(small["mechanisms"][i]["os"], large["mechanisms"][i]["os"]);
  }
}

// The NIC's 8 MiB buffer is pinned on the GPU under the DMA-API peer mapping and DMA-BUF (and
// never evicted); under HMM the NIC's faults move it to RAM. A 24 MiB managed buffer through
// 16 MiB then evicts work - (capacity - pinned) = 16 MiB, against work - capacity = 8 MiB.
TEST(GpuMemory, APinnedPeerBufferLeavesLessForManagedMemory) {
  nlohmann::json r =
      results("16 MiB", workload({"p2p_dma_api", "hmm_migrate", "dmabuf_p2p"}, 24, 8));
  for (const char *pinned : {"p2p_dma_api", "dmabuf_p2p"}) {
    SCOPED_TRACE(pinned);
    const nlohmann::json &m = mechanism_named(r, pinned);
    ASSERT_EQ(m["status"], "ok") << m["reason"];
    EXPECT_EQ(m["os"]["evicted_bytes"], 16 * kMiB);
    EXPECT_EQ(m["os"]["evictions"], 16 * kMiB / kUnit);
    EXPECT_EQ(m["os"]["remote_mappings"], 0);
  }
  const nlohmann::json &hmm = mechanism_named(r, "hmm_migrate");
  ASSERT_EQ(hmm["status"], "ok") << hmm["reason"];
  EXPECT_EQ(hmm["os"]["evicted_bytes"], 8 * kMiB);
  EXPECT_EQ(hmm["pages_to_ram"], (8 + 8) * kMiB / 4096); // the NIC's faults, then evictions
}

TEST(GpuMemory, DeviceBuffersBeyondTheMemoryAreBadInput) {
  std::string dir = make_temp_dir("gpumem");
  nlohmann::json w = workload({"hmm_migrate"}, 8, 12);
  CommandResult r = run_scenario(
      {{"name", "too-big"}, {"topology", gpu_memory_topology("8 MiB")}, {"workload", w}}, dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("s.json:/workload/buffers/0/size: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("need 12 MiB but its memory_size is 8 MiB"), std::string::npos) << r.err;
}

} // namespace
} // namespace pciesim::test
