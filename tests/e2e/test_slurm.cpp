// `pciesim sweep --slurm` on a real (single-node) Slurm cluster: the array job and the merge
// job it submits give the same results.csv, results.json and report as an unsharded sweep.
// Skipped where there is no Slurm; CI starts one with scripts/slurm-local.sh.
#include <chrono>
#include <filesystem>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {
namespace fs = std::filesystem;

const std::string kSweep = std::string(PCIESIM_SOURCE_DIR) + "/scenarios/sweeps/dma-size-gen.json";

std::string slurm_logs(const std::string &dir) {
  std::string logs;
  for (const auto &f : fs::directory_iterator(dir))
    if (f.path().filename().string().rfind("slurm-", 0) == 0)
      logs += f.path().string() + ":\n" + read_file(f.path().string());
  return logs;
}

TEST(Slurm, ArrayJobAndMergeMatchAnUnshardedSweep) {
  if (run_command("command -v sbatch").exit_code != 0)
    GTEST_SKIP() << "sbatch is not on PATH (apt-get install slurmctld slurmd slurm-client, then "
                    "eval \"$(scripts/slurm-local.sh start)\")";
  CommandResult ping = run_command("scontrol ping");
  if (ping.exit_code != 0 || ping.out.find("is UP") == std::string::npos)
    GTEST_SKIP() << "no Slurm controller answers `scontrol ping` (" << ping.out << ping.err
                 << "); start one with eval \"$(scripts/slurm-local.sh start)\"";

  std::string dir = make_temp_dir("slurm");
  CommandResult local = run_pciesim("sweep " + kSweep + " -j 2 --quiet --out " + dir + "/local");
  ASSERT_EQ(local.exit_code, 0) << local.err;
  // -j 1: each of the 6 tasks asks one CPU, so that a 2-CPU node runs two at a time.
  CommandResult submit =
      run_pciesim("sweep " + kSweep + " --slurm --array 6 -j 1 --out " + dir + "/slurm");
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  std::smatch ids;
  ASSERT_TRUE(
      std::regex_search(submit.out, ids, std::regex("array job ([0-9]+) .* merge job ([0-9]+)")))
      << submit.out;
  std::string jobs = ids[1].str() + "," + ids[2].str();

  // Both jobs leave the queue when done (no accounting database here, so no sacct).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(4);
  CommandResult queue;
  do {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    queue = run_command("squeue -h -j " + jobs);
  } while (!queue.out.empty() && std::chrono::steady_clock::now() < deadline);
  if (!queue.out.empty())
    run_command("scancel " + jobs);
  ASSERT_TRUE(queue.out.empty()) << "jobs still queued after 4 minutes:\n"
                                 << queue.out << slurm_logs(dir + "/slurm");

  for (const char *f : {"results.csv", "results.json", "report.html", "report.md"}) {
    std::string merged = read_file(dir + "/slurm/" + f);
    EXPECT_FALSE(merged.empty()) << f << " missing\n" << slurm_logs(dir + "/slurm");
    EXPECT_EQ(merged, read_file(dir + "/local/" + f)) << f << " differs";
  }
  EXPECT_EQ(fs::exists(dir + "/slurm/shards/shard-6-of-6.json"), true);
}

} // namespace
} // namespace pciesim::test
