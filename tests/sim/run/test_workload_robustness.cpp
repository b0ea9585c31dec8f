// A workload run in its environment: the mechanism runs it forks die with it (signals, a
// killed parent, a sweep stopped), its --timeout is one deadline for the whole comparison,
// --quiet still says the verdict and the failures, huge buffers cost memory only where
// touched, and running out of memory is reported as such (exit 4).
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "models/os/page_table.h"
#include "tests/sim/batch/process_tree.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

using Clock = std::chrono::steady_clock;

const std::string kTopology =
    std::string(PCIESIM_SOURCE_DIR) + "/topologies/gpu-nic-shared-switch.json";

// A NIC sending a small GPU buffer `iterations` times under `mechanisms`.
nlohmann::json nic_workload(const nlohmann::json &mechanisms, int iterations,
                            const std::string &max_sim_time = "1000 s") {
  return {{"name", "robustness"},
          {"topology", kTopology},
          {"max_sim_time", max_sim_time},
          {"workload",
           {{"mechanisms", mechanisms},
            {"buffers", {{{"id", "buf"}, {"gpu", "gpu0"}, {"size", "256 KiB"}}}},
            {"iterations", iterations},
            {"phases", {{{"id", "send"}, {"actor", "nic0"}, {"op", "read"}, {"buffer", "buf"}}}}}}};
}

// Enough iterations that a mechanism run lasts far longer than any test waits for it.
nlohmann::json endless_workload(const nlohmann::json &mechanisms) {
  return nic_workload(mechanisms, 1000000);
}

std::string write_scenario(const std::string &dir, const nlohmann::json &scenario,
                           const std::string &name = "scenario.json") {
  std::string path = dir + "/" + name;
  std::ofstream(path) << scenario.dump(2);
  return path;
}

// Starts `arguments`, waits until `expected` processes descend from it, sends `sig`, and
// checks that the process and every one of them stop within a few seconds. A run dies of
// the signal, as if uncaught (the shell sees 128 + sig, a sweep a point to run again); a
// sweep exits 130 of its own.
void stop_and_expect_no_survivors(const std::vector<std::string> &arguments, std::size_t expected,
                                  int sig, const std::string &dir, bool dies_of_signal = true) {
  WatchedCommand w = watch_and_stop(arguments, expected, sig, dir);
  if (w.status != -1 && dies_of_signal) {
    EXPECT_TRUE(WIFSIGNALED(w.status) && WTERMSIG(w.status) == sig) << "status " << w.status;
  }
}

TEST(WorkloadRobustness, SigtermStopsEveryMechanismRun) {
  std::string dir = make_temp_dir("robust");
  std::string scenario = write_scenario(dir, endless_workload({"hmm_migrate", "p2p_dma_api"}));
  stop_and_expect_no_survivors({PCIESIM_BINARY, "run", scenario}, 2, SIGTERM, dir);
  EXPECT_NE(read_file(dir + "/stderr.txt").find("stopped by signal 15"), std::string::npos)
      << read_file(dir + "/stderr.txt");
}

TEST(WorkloadRobustness, SigintAndSighupStopEveryMechanismRun) {
  for (int sig : {SIGINT, SIGHUP}) {
    std::string dir = make_temp_dir("robust");
    std::string scenario = write_scenario(dir, endless_workload({"hmm_migrate", "bounce"}));
    stop_and_expect_no_survivors({PCIESIM_BINARY, "run", scenario}, 2, sig, dir);
  }
}

TEST(WorkloadRobustness, SigkillOfTheRunTakesItsMechanismRunsWithIt) {
  std::string dir = make_temp_dir("robust");
  std::string scenario = write_scenario(dir, endless_workload({"hmm_migrate", "p2p_dma_api"}));
  stop_and_expect_no_survivors({PCIESIM_BINARY, "run", scenario}, 2, SIGKILL, dir);
}

TEST(WorkloadRobustness, SigtermToASweepOfWorkloadPointsLeavesNoRunBehind) {
  std::string dir = make_temp_dir("robust");
  nlohmann::json sweep = {
      {"name", "robustness-sweep"},
      {"base", endless_workload({"hmm_migrate", "p2p_dma_api"})},
      {"axes",
       {{{"pointer", "/workload/buffers/0/size"}, {"name", "size"}, {"values", {"256 KiB"}}}}}};
  std::string file = write_scenario(dir, sweep, "sweep.json");
  // The sweep, its point's run, and that run's two mechanism runs.
  stop_and_expect_no_survivors({PCIESIM_BINARY, "sweep", file, "--out", dir + "/out", "--quiet"}, 3,
                               SIGTERM, dir, /*dies_of_signal=*/false);
}

TEST(WorkloadRobustness, TimeoutIsOneDeadlineForTheWholeComparisonAndWritesNothing) {
  std::string dir = make_temp_dir("robust");
  std::string scenario = write_scenario(
      dir, endless_workload({"p2p_dma_api", "hmm_migrate", "hmm_p2p", "dmabuf_p2p", "bounce"}));
  auto start = Clock::now();
  CommandResult r = run_pciesim("run " + scenario + " --timeout 1 --out " + dir + "/out");
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("exceeded its --timeout"), std::string::npos) << r.err;
  // Five mechanisms two at a time: a deadline per mechanism would take at least 3 s.
  EXPECT_LT(seconds, 2.8);
  EXPECT_FALSE(std::filesystem::exists(dir + "/out")) << "--out was written";
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(WorkloadRobustness, QuietPrintsTheVerdictAndTheFailuresOnly) {
  std::string dir = make_temp_dir("robust");
  std::string ok = write_scenario(dir, nic_workload({"p2p_dma_api", "bounce"}, 1), "ok.json");
  CommandResult r = run_pciesim("run " + ok + " --quiet");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out; // no table, as for a plain run
  EXPECT_NE(r.err.find("pciesim: verdict gpu-nic-shared-switch: fastest"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("failed"), std::string::npos) << r.err;

  // Every mechanism stops at the simulated-time limit: each failure gets a line, before the
  // verdict (a sweep shows a point's first stderr line as its complaint).
  std::string stalled =
      write_scenario(dir, nic_workload({"p2p_dma_api", "bounce"}, 1, "1 ns"), "stalled.json");
  r = run_pciesim("run " + stalled + " --quiet");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(r.err.rfind("pciesim: p2p_dma_api@gpu-nic-shared-switch failed: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("pciesim: bounce@gpu-nic-shared-switch failed: "), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("pciesim: verdict gpu-nic-shared-switch: no mechanism completed"),
            std::string::npos)
      << r.err;
}

// A 256 GiB buffer (64 M pages of 4 KiB) of which the NIC reads 1 MiB.
nlohmann::json huge_buffer_workload(const nlohmann::json &mechanisms, const std::string &nic_mr) {
  nlohmann::json topology = nlohmann::json::parse(read_file(kTopology));
  for (auto &c : topology["components"]) {
    if (c["id"] == "gpu0")
      c["params"]["memory_size"] = "256 GiB";
    if (c["id"] == "mem0")
      c["params"]["size"] = "1 TiB";
  }
  return {{"name", "huge-buffer"},
          {"topology", topology},
          {"max_sim_time", "100 s"}, // registering 64 M pages takes 13 s
          {"workload",
           {{"mechanisms", mechanisms},
            {"nic_mr", nic_mr},
            {"buffers", {{{"id", "buf"}, {"gpu", "gpu0"}, {"size", "256 GiB"}}}},
            {"phases",
             {{{"id", "send"},
               {"actor", "nic0"},
               {"op", "read"},
               {"buffer", "buf"},
               {"offset", "128 GiB"},
               {"size", "1 MiB"}}}}}}};
}

// Runs pciesim with its address space limited to 256 MiB (a small comparison takes ~15 MB;
// per-page state of 64 M pages took ~1.5 GB). `ulimit -v` rather than prlimit(1), which some
// sandboxes do not support.
// AddressSanitizer reserves terabytes of address space for its shadow memory, so a process
// built with it cannot start under an address-space limit: the tests below that need one run
// in the main suite and skip in the sanitizer build.
// (gcc says so with __SANITIZE_ADDRESS__, clang with __has_feature(address_sanitizer).)
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSpaceLimitsWork = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSpaceLimitsWork = false;
#else
constexpr bool kAddressSpaceLimitsWork = true;
#endif
#else
constexpr bool kAddressSpaceLimitsWork = true;
#endif

CommandResult run_with_256_mib(const std::string &arguments) {
  return run_command("sh -c 'ulimit -v 262144 && exec " + std::string(PCIESIM_BINARY) + " " +
                     arguments + "'");
}

TEST(WorkloadRobustness, HugeBufferTouchedLittleRunsInBoundedMemory) {
  if (!kAddressSpaceLimitsWork)
    GTEST_SKIP() << "an address-space limit cannot apply to an AddressSanitizer build";
  std::string dir = make_temp_dir("robust");
  std::string scenario = write_scenario(
      dir, huge_buffer_workload({"p2p_dma_api", "hmm_migrate", "hmm_p2p", "dmabuf_p2p", "bounce"},
                                "odp"));
  CommandResult r = run_with_256_mib("run " + scenario + " --json --timeout 60");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  for (const auto &m : j["mechanisms"]) {
    EXPECT_EQ(m["status"], "ok") << m.dump();
    EXPECT_EQ(m["nic_bytes"], 1u << 20) << m["name"];
  }
  // The mechanisms that move pages moved only those the NIC touched (256 pages).
  for (const auto &m : j["mechanisms"]) {
    if (m["name"] == "hmm_migrate") {
      EXPECT_EQ(m["pages_to_ram"], 256u);
    }
  }
}

TEST(WorkloadRobustness, RunningOutOfMemoryIsExit4AndSaysSo) {
  if (!kAddressSpaceLimitsWork)
    GTEST_SKIP() << "an address-space limit cannot apply to an AddressSanitizer build";
  // A pinned MR over 256 GiB pins (and so touches) every page: that cannot fit the limit.
  std::string dir = make_temp_dir("robust");
  std::string scenario =
      write_scenario(dir, huge_buffer_workload({"hmm_migrate", "bounce"}, "pinned"));
  CommandResult r =
      run_with_256_mib("run " + scenario + " --quiet --timeout 60 --out " + dir + "/out");
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("pciesim: hmm_migrate@gpu-nic-shared-switch failed: out of memory while "
                       "simulating hmm_migrate"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("stalled"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("exceeded its --timeout"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/out"));
}

// 64 M pages of which a few are touched: state for their 512-page chunks only, the same
// frames as a dense table would give, and the conservation check still sees a page moved
// onto the frame an untouched page holds.
TEST(WorkloadRobustness, PageTableStateGrowsWithTheTouchedPagesOnly) {
  const std::uint64_t pages = std::uint64_t{64} << 20;
  const auto frames = static_cast<std::uint32_t>(pages);
  PageTable table(pages, 4096, PageHome::Device, frames, frames);
  const PageTable &view = table;
  EXPECT_EQ(view.page(40000000).frame, 40000000u); // untouched: its own index, on the device
  EXPECT_TRUE(view.page(40000000).gpu_mapped);
  table.pin_all();
  EXPECT_TRUE(table.pinned(12345));
  EXPECT_EQ(table.pages_touched(), 0u); // a whole-buffer pin is kept once, for the table
  ASSERT_TRUE(table.move(40000000, PageHome::SystemRam));
  ASSERT_TRUE(table.move(5, PageHome::SystemRam));
  EXPECT_EQ(table.page(40000000).frame, 0u); // system frames lowest first
  EXPECT_EQ(table.page(5).frame, 1u);
  EXPECT_EQ(table.pages_touched(), 1024u);
  EXPECT_EQ(table.pages_in(PageHome::SystemRam), 2u);
  EXPECT_EQ(table.pages_in(PageHome::Device), pages - 2);
  EXPECT_TRUE(table.check().empty());
  // Back to the device: the lowest released device frame (5, not 40000000).
  ASSERT_TRUE(table.move(40000000, PageHome::Device));
  EXPECT_EQ(table.page(40000000).frame, 5u);
  EXPECT_TRUE(table.check().empty());
  // A touched page on the frame of an untouched one is caught.
  table.page(7).frame = 30000000;
  std::vector<std::string> broken = table.check();
  ASSERT_FALSE(broken.empty());
  bool shared = false;
  for (const std::string &line : broken)
    shared = shared || line == "pages 30000000 and 7 share device frame 30000000";
  EXPECT_TRUE(shared) << broken.front();
}

} // namespace
} // namespace pciesim::test
