// Seeded random workloads over a host with three NICs: every mechanism, buffers in device or
// system memory, touched or not, in 4 KiB or 2 MiB pages, phases by the GPU, the CPU and any
// NIC (several on one buffer), some from an offset, revocations mid-transfer, several
// iterations. Each run must end
// cleanly (every mechanism ok, so every end-of-run invariant held) and give the same bytes
// twice. Seed 40 found the zero-filled pages the migration invariant once counted as copied.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "models/common/splitmix64.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
// A named namespace: the tests build as unity chunks, where anonymous namespaces merge.
namespace random_workloads {

class Draw {
public:
  explicit Draw(std::uint64_t seed) : state_(seed) {}
  std::uint64_t below(std::uint64_t n) { return splitmix64_next(state_) % n; }
  bool chance(std::uint64_t percent) { return below(100) < percent; }
  template <typename T> const T &pick(const std::vector<T> &from) {
    return from[static_cast<std::size_t>(below(from.size()))];
  }

private:
  std::uint64_t state_;
};

// A random workload on `topology` (a path or a topology object) whose GPUs and RDMA NICs are
// `gpus` and `nics`.
nlohmann::json random_workload(std::uint64_t seed, const nlohmann::json &topology,
                               const std::vector<std::string> &gpus,
                               const std::vector<std::string> &nics) {
  Draw draw(seed);
  nlohmann::json buffers = nlohmann::json::array();
  const std::uint64_t buffer_count = 1 + draw.below(2);
  for (std::uint64_t b = 0; b < buffer_count; ++b) {
    const bool on_device = draw.chance(50);
    nlohmann::json buffer = {{"id", "b" + std::to_string(b)},
                             {"gpu", gpus.size() == 1 ? gpus[0] : draw.pick(gpus)},
                             {"size", draw.pick<std::string>({"256 KiB", "1 MiB", "2 MiB"})},
                             {"placement", on_device ? "device" : "system"}};
    if (draw.chance(30)) {
      buffer["page_size"] = "2 MiB";
      buffer["size"] = "2 MiB";
    }
    if (!on_device) {
      buffer["managed"] = draw.chance(70);
      if (buffer["managed"] == true && draw.chance(30))
        buffer["populated"] = false;
    }
    buffers.push_back(buffer);
  }
  nlohmann::json phases = nlohmann::json::array();
  const std::uint64_t phase_count = 2 + draw.below(5);
  for (std::uint64_t p = 0; p < phase_count; ++p) {
    const std::string id = "p" + std::to_string(p);
    const std::size_t buffer_index = static_cast<std::size_t>(draw.below(buffer_count));
    const std::string buffer = buffers[buffer_index]["id"];
    const std::string owner = buffers[buffer_index]["gpu"];
    nlohmann::json phase;
    if (p > 0 && draw.chance(15)) {
      phase = {{"id", id}, {"actor", owner}, {"op", "revoke"}, {"buffer", buffer}};
      phase["evict"] = draw.chance(50);
      if (draw.chance(50)) {
        phase["with_previous"] = true;
        phase["at"] = std::to_string(draw.below(50)) + " us";
      }
    } else {
      std::vector<std::string> actors = nics;
      actors.push_back(owner);
      actors.push_back("cpu");
      phase = {{"id", id},
               {"actor", draw.pick(actors)},
               {"op", draw.chance(50) ? "read" : "write"},
               {"buffer", buffer}};
      // A range from the second or third page to the end: not a multiple of 64 KiB.
      const nlohmann::json &b = buffers[buffer_index];
      if (b.value("page_size", "4 KiB") == "4 KiB" && draw.chance(20))
        phase["offset"] = std::to_string(4 * (1 + draw.below(2))) + " KiB";
      if (p > 0 && draw.chance(30))
        phase["with_previous"] = true;
    }
    phases.push_back(phase);
  }
  std::vector<std::string> all = {"p2p_dma_api", "hmm_migrate", "hmm_p2p",
                                  "dmabuf_p2p",  "bounce",      "vendor_peer"};
  nlohmann::json mechanisms = nlohmann::json::array();
  for (std::uint64_t k = 1 + draw.below(3); k > 0; --k) {
    const std::size_t i = static_cast<std::size_t>(draw.below(all.size()));
    mechanisms.push_back(all[i]);
    all.erase(all.begin() + static_cast<long>(i));
  }
  nlohmann::json workload = {{"mechanisms", mechanisms},
                             {"buffers", buffers},
                             {"phases", phases},
                             {"iterations", 1 + draw.below(2)},
                             {"nic_mr", draw.pick<std::string>({"odp", "odp_prefetch", "pinned"})},
                             {"dmabuf_importer", draw.chance(50) ? "pinned" : "dynamic"}};
  return {{"name", "random-workload-" + std::to_string(seed)},
          {"topology", topology},
          {"workload", workload}};
}

TEST(RandomWorkloads, EveryMechanismEndsCleanlyAndTheSameTwice) {
  const nlohmann::json topology = shared_switch_with_nics(3);
  for (std::uint64_t seed = 1; seed <= 48; ++seed) {
    const nlohmann::json scenario =
        random_workload(seed, topology, {"gpu0"}, {"nic0", "nic1", "nic2"});
    const ScenarioRun first = run_scenario_file(scenario, "random-workload");
    ASSERT_EQ(first.command.exit_code, 0) << scenario.dump() << "\n" << first.command.err;
    for (const nlohmann::json &m : first.results["mechanisms"])
      EXPECT_EQ(m["status"], "ok")
          << "seed " << seed << ": " << m["mechanism"] << ": " << m["reason"] << "\n"
          << scenario.dump();
    if (seed % 8 == 0) {
      const ScenarioRun again = run_scenario_file(scenario, "random-workload");
      EXPECT_EQ(again.results, first.results) << "seed " << seed;
    }
  }
}

// The same on every shipped topology and validation testbed that has a GPU (one, two or eight
// GPUs, NICs on root ports, behind switches or on the other socket, IOMMUs with and without
// ATS, platforms that refuse peer traffic): mechanisms may be unsupported there, never failed.
TEST(RandomWorkloads, EveryShippedTopologyEndsCleanly) {
  std::vector<std::filesystem::path> files;
  for (const char *folder :
       {"topologies", "validation/hardware/testbeds", "validation/mechanisms/testbeds"})
    for (const auto &entry :
         std::filesystem::directory_iterator(std::filesystem::path(PCIESIM_SOURCE_DIR) / folder))
      if (entry.path().extension() == ".json")
        files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  int runs = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const nlohmann::json topology = nlohmann::json::parse(std::ifstream(files[i]));
    std::vector<std::string> gpus, nics;
    for (const nlohmann::json &c : topology["components"]) {
      if (c["type"] == "gpu")
        gpus.push_back(c["id"]);
      if (c["type"] == "rdma_nic")
        nics.push_back(c["id"]);
    }
    if (gpus.empty())
      continue;
    const std::uint64_t seed = 1000 + i;
    const nlohmann::json scenario = random_workload(seed, files[i].string(), gpus, nics);
    const ScenarioRun run = run_scenario_file(scenario, "random-topology-workload");
    ++runs;
    ASSERT_EQ(run.command.exit_code, 0) << scenario.dump() << "\n" << run.command.err;
    for (const nlohmann::json &m : run.results["mechanisms"])
      EXPECT_TRUE(m["status"] == "ok" || m["status"] == "not_supported")
          << files[i].filename() << ", seed " << seed << ": " << m["id"] << ": " << m["status"]
          << " " << m["reason"] << "\n"
          << scenario.dump();
  }
  EXPECT_GE(runs, 15) << "the shipped topologies with a GPU";
}

// A range that is not a multiple of 64 KiB, without an access size: the accesses divide it
// (509 pages from the third: one page each), so none runs past the buffer. Before, the last
// 64 KiB access did, into page state that does not exist (random workload over the shipped
// topologies, an invariant failure or a crash).
TEST(RandomWorkloads, ARangeNotAMultipleOf64KiBIsAccessedWhole) {
  const nlohmann::json scenario = {
      {"name", "range-not-a-multiple"},
      {"topology", shared_switch_with_nics(1)},
      {"workload",
       {{"mechanisms", {"hmm_migrate"}},
        {"buffers", {{{"id", "b"}, {"gpu", "gpu0"}, {"size", "2 MiB"}, {"placement", "device"}}}},
        {"phases",
         {{{"id", "store"},
           {"actor", "cpu"},
           {"op", "write"},
           {"buffer", "b"},
           {"offset", "8 KiB"},
           {"size", std::to_string(509 * 4096) + " B"}}}}}}};
  const ScenarioRun run = run_scenario_file(scenario, "range-not-a-multiple");
  ASSERT_EQ(run.command.exit_code, 0) << run.command.err;
  EXPECT_EQ(run.results["workload"]["phases"][0]["access_size"], "4 KiB");
  const nlohmann::json &m = run.results["mechanisms"][0];
  EXPECT_EQ(m["status"], "ok") << m["reason"];
  EXPECT_EQ(m["pages_to_ram"], 509); // the range's pages, not the two before it nor the last
  EXPECT_EQ(m["bytes_accessed"], 509 * 4096);
}

// The CPU storing to a whole managed buffer while its GPU reads it, each access 16 pages: each
// fault pulls pages the other's access needs. A page an access reached stays reached for it,
// so both finish; before, each access waited for all its pages at once and the two took them
// from each other until the simulated time ran out (random workload 1170).
TEST(RandomWorkloads, ACpuAndAGpuThatNeedTheSamePagesBothFinish) {
  const nlohmann::json scenario = {
      {"name", "cpu-and-gpu-take-turns"},
      {"topology", shared_switch_with_nics(1)},
      {"workload",
       {{"mechanisms", {"hmm_migrate", "hmm_p2p"}},
        {"buffers", {{{"id", "b"}, {"gpu", "gpu0"}, {"size", "64 KiB"}, {"placement", "device"}}}},
        {"phases",
         {{{"id", "look"}, {"actor", "cpu"}, {"op", "read"}, {"buffer", "b"}, {"size", "16 KiB"}},
          {{"id", "store"}, {"actor", "cpu"}, {"op", "write"}, {"buffer", "b"}},
          {{"id", "compute"},
           {"actor", "gpu0"},
           {"op", "read"},
           {"buffer", "b"},
           {"with_previous", true}}}}}}};
  const ScenarioRun run = run_scenario_file(scenario, "cpu-and-gpu-take-turns");
  ASSERT_EQ(run.command.exit_code, 0) << run.command.err;
  for (const nlohmann::json &m : run.results["mechanisms"]) {
    EXPECT_EQ(m["status"], "ok") << m["id"] << ": " << m["reason"];
    EXPECT_EQ(m["bytes_accessed"], (16 + 64 + 64) * 1024) << m["id"];
  }
}

} // namespace random_workloads
} // namespace pciesim::test
