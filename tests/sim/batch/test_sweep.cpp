// `pciesim sweep` and `pciesim merge` as users run them: results that do not depend on -j or
// sharding, resuming after a kill, failed points, bad sweep files and the Slurm script. Misuse
// and accidents are in test_sweep_misuse.cpp.
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/batch/sweep_file.h"
#include "sim/util/content_hash.h"
#include "tests/sim/batch/sweep_helpers.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

TEST(Sweep, ResultsDoNotDependOnTheNumberOfJobs) {
  std::string one = make_temp_dir("sweep"), two = make_temp_dir("sweep");
  CommandResult a = run_pciesim("sweep " + kTiny + " -j 1 --out " + one);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  CommandResult b = run_pciesim("sweep " + kTiny + " -j 2 --out " + two + " --quiet");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  expect_same_results(one, two);
  // Not a TTY: one plain line per point, then the summary.
  EXPECT_NE(a.err.find("[1/4] p0000_gen-3_size-4KiB completed"), std::string::npos) << a.err;
  EXPECT_NE(a.err.find("ran 4 points (0 already done), 0 failed"), std::string::npos) << a.err;
  EXPECT_EQ(b.err, "");

  std::string csv = read_file(one + "/results.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "point,index,gen,size_bytes,point_status,exit_code,sim_time_ns,transfer,initiator,"
            "target,direction,status,transfer_bytes,count,transfers_done,bytes,start_ns,end_ns,"
            "bandwidth_GBps,latency_mean_ns,latency_p50_ns,latency_p99_ns,latency_max_ns,"
            "mechanism,map_type,distance,route,error");
  EXPECT_NE(csv.find("\np0003_gen-4_size-64KiB,3,4,65536,completed,0,"), std::string::npos);
  auto results = nlohmann::json::parse(read_file(one + "/results.json"));
  EXPECT_EQ(results["summary"]["completed"], 4);
  EXPECT_EQ(results["points"][2]["values"]["gen"], 4);
  EXPECT_EQ(results["points"][3]["values"]["size"], "64 KiB");
  EXPECT_EQ(results["points"][3]["labels"]["size"], "64 KiB");
  // Gen4 doubles the link rate: a 64 KiB write gets well over the Gen3 bandwidth.
  double gen3 = results["points"][1]["transfers"][0]["bandwidth_GBps"];
  double gen4 = results["points"][3]["transfers"][0]["bandwidth_GBps"];
  EXPECT_GT(gen4, 1.7 * gen3);
  // Each point is a self-contained scenario: it runs on its own, from anywhere.
  std::string point = one + "/points/p0000_gen-3_size-4KiB";
  EXPECT_EQ(run_pciesim("validate " + point + "/scenario.json").exit_code, 0);
  EXPECT_TRUE(fs::exists(point + "/results.json"));
  EXPECT_TRUE(fs::exists(one + "/sweep-info.json"));
  EXPECT_EQ(read_file(one + "/results.json").find("wall"), std::string::npos);
}

TEST(Sweep, ThreeShardsMergeIntoTheUnshardedResults) {
  std::string whole = make_temp_dir("sweep");
  ASSERT_EQ(run_pciesim("sweep " + kGrid + " -j 2 --quiet --out " + whole).exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(read_file(whole + "/results.json"))["points"].size(), 12u);
  std::vector<std::string> shards;
  for (int k = 1; k <= 3; ++k) {
    shards.push_back(make_temp_dir("sweep"));
    CommandResult r = run_pciesim("sweep " + kGrid + " --shard " + std::to_string(k) +
                                  "/3 -j 2 --quiet --out " + shards.back());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(done_points(shards.back()), 4u);
    EXPECT_FALSE(fs::exists(shards.back() + "/results.csv")); // only merge writes results
  }
  std::string merged = make_temp_dir("sweep");
  // One shard alone is incomplete: its points are there, the others "missing".
  CommandResult partial = run_pciesim("merge " + shards[0] + " --out " + merged);
  EXPECT_EQ(partial.exit_code, 1);
  EXPECT_EQ(nlohmann::json::parse(read_file(merged + "/results.json"))["summary"]["missing"], 8);
  CommandResult r =
      run_pciesim("merge " + shards[0] + " " + shards[1] + " " + shards[2] + " --out " + merged);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_same_results(whole, merged);
  EXPECT_EQ(done_points(merged), 12u);
  // A directory of another sweep is refused.
  std::string other = make_temp_dir("sweep");
  ASSERT_EQ(run_pciesim("sweep " + kTiny + " --quiet --out " + other).exit_code, 0);
  EXPECT_EQ(run_pciesim("merge " + shards[0] + " " + other + " --out " + make_temp_dir("sweep"))
                .exit_code,
            2);
  EXPECT_EQ(run_pciesim("sweep " + kGrid + " --out " + other).exit_code, 2);
}

TEST(Sweep, ResumeAfterAKillRunsOnlyTheMissingPoints) {
  std::string dir = make_temp_dir("sweep");
  pid_t pid = start_sweep({kGrid, "-j", "1", "--out", dir});
  wait_for_first_point(dir);
  kill(-pid, SIGKILL); // the sweep and the point it is running
  int status = 0;
  waitpid(pid, &status, 0);
  std::size_t done = done_points(dir);
  ASSERT_GE(done, 1u);
  ASSERT_LT(done, 12u) << "the sweep finished before it could be killed";

  CommandResult r = run_pciesim("sweep " + kGrid + " -j 2 --resume --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string expected =
      "ran " + std::to_string(12 - done) + " points (" + std::to_string(done) + " already done)";
  EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
  std::string fresh = make_temp_dir("sweep");
  ASSERT_EQ(run_pciesim("sweep " + kGrid + " -j 2 --quiet --out " + fresh).exit_code, 0);
  expect_same_results(dir, fresh);
}

TEST(Sweep, InterruptStopsTheSweepAndKeepsFinishedPoints) {
  std::string dir = make_temp_dir("sweep");
  pid_t pid = start_sweep({kGrid, "-j", "2", "--out", dir});
  wait_for_first_point(dir);
  kill(pid, SIGTERM); // the parent only: it must stop its children itself
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  std::size_t done = done_points(dir);
  if (done == 12u)
    GTEST_SKIP() << "the sweep finished before the signal";
  EXPECT_EQ(WEXITSTATUS(status), 130);
  EXPECT_FALSE(fs::exists(dir + "/results.csv"));
  CommandResult r = run_pciesim("sweep " + kGrid + " -j 2 --resume --out " + dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("(" + std::to_string(done) + " already done)"), std::string::npos);
}

TEST(Sweep, AFailingPointIsRecordedAndTheSweepGoesOn) {
  std::string dir = make_temp_dir("sweep");
  std::ofstream(dir + "/sweep.json") << R"({
    "name": "limits",
    "base": {"topology": ")" + kSource + R"(/topologies/host-dma-gen3x8.json",
             "transfers": [{"id": "w", "initiator": "dma0", "target": "mem0",
                            "direction": "write", "size": "4 KiB", "count": 4}]},
    "axes": [{"name": "limit", "pointer": "/max_sim_time", "values": ["1 ms", "1 ns"]}],
    "seeds": [1, 2]
  })";
  CommandResult r = run_pciesim("sweep " + dir + "/sweep.json -j 2 --out " + dir + "/out");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("ran 4 points (0 already done), 2 failed"), std::string::npos) << r.err;
  std::string csv = read_file(dir + "/out/results.csv");
  EXPECT_NE(csv.find("\np0000_limit-1ms_seed-1,0,1000000.000,1,completed,0,"), std::string::npos)
      << csv;
  EXPECT_NE(csv.find("\np0003_limit-1ns_seed-2,3,1.000,2,failed,3," + std::string(21, ',') +
                     "pciesim: simulated time reached the limit of 1 ns"),
            std::string::npos)
      << csv;
  EXPECT_NE(read_file(dir + "/out/points/p0002_limit-1ns_seed-1/error.txt").find("exit code 3\n"),
            std::string::npos);
  auto results = nlohmann::json::parse(read_file(dir + "/out/results.json"));
  EXPECT_EQ(results["summary"]["failed"], 2);
  EXPECT_EQ(results["points"][2]["status"], "failed");
  EXPECT_EQ(results["points"][2]["exit_code"], 3);
}

TEST(Sweep, BadSweepFilesAreInputErrorsWithFileAndPointer) {
  std::string dir = make_temp_dir("sweep");
  auto check = [&](const std::string &name, const std::string &text, const std::string &line) {
    std::ofstream(dir + "/" + name) << text;
    CommandResult r = run_pciesim("sweep " + dir + "/" + name + " --out " + dir + "/never");
    EXPECT_EQ(r.exit_code, 2) << name;
    EXPECT_EQ(r.err.rfind(dir + "/" + name + ":" + line, 0), 0u) << r.err;
    EXPECT_FALSE(fs::exists(dir + "/never"));
  };
  std::string base = R"("base": ")" + kSource + R"(/scenarios/fabric-mix.json")";
  check("missing.json",
        "{" + base + R"(, "axes": [{"name": "a", "pointer": "/transfers/9/size", "values": [1]}]})",
        "/axes/0/pointer: /transfers/9/size does not exist in base scenario");
  check(
      "value.json",
      "{" + base +
          R"(, "axes": [{"name": "s", "pointer": "/transfers/0/size", "values": ["1 KiB", "a lot"]}]})",
      "/axes/0/values/1: point p0001_s-alot: ");
  check(
      "topology.json",
      "{" + base +
          R"(, "axes": [{"name": "g", "document": "topology", "pointer": "/links/0/params/gen", "values": [3, 7]}]})",
      "/axes/0/values/1: point p0001_g-7: 7 is out of range");
}

TEST(Sweep, ValidateAcceptsTheShippedSweeps) {
  CommandResult r = run_pciesim("validate " + kTiny + " " + kGrid);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("grid.json: ok (sweep)"), std::string::npos);
}

TEST(Sweep, PrintsAndSubmitsASlurmArrayJob) {
  std::string dir = make_temp_dir("sweep");
  CommandResult r = run_pciesim("sweep " + kTiny + " --print-sbatch --out " + dir + "/out");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\n#SBATCH --array=1-4\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--shard \"${SLURM_ARRAY_TASK_ID}/4\""), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir + "/out"));
  EXPECT_NE(run_pciesim("sweep " + kTiny + " --print-sbatch --array 2 --out x")
                .out.find("#SBATCH --array=1-2\n"),
            std::string::npos);

  // --slurm with a stand-in sbatch that logs its arguments and answers like sbatch --parsable.
  std::ofstream(dir + "/sbatch") << "#!/bin/sh\necho \"$@\" >>" + dir +
                                        "/sbatch.log\nif [ \"$2\" = --dependency=afterany:41 ]; "
                                        "then echo 42; else echo '41;cluster'; fi\n";
  fs::permissions(dir + "/sbatch", fs::perms::owner_all);
  setenv("PATH", (dir + ":" + getenv("PATH")).c_str(), 1);
  CommandResult s = run_pciesim("sweep " + kTiny + " --slurm --out " + dir + "/out");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_NE(s.out.find("submitted array job 41"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("merge job 42"), std::string::npos) << s.out;
  EXPECT_TRUE(fs::exists(dir + "/out/sweep.sbatch"));
  std::string log = read_file(dir + "/sbatch.log");
  EXPECT_NE(log.find("--parsable " + dir + "/out/sweep.sbatch"), std::string::npos) << log;
  EXPECT_NE(log.find("--dependency=afterany:41"), std::string::npos) << log;
  // A directory of another sweep is refused before anything is submitted.
  ASSERT_EQ(run_pciesim("sweep " + kTiny + " --quiet --out " + dir + "/tiny").exit_code, 0);
  CommandResult other = run_pciesim("sweep " + kGrid + " --slurm --out " + dir + "/tiny");
  EXPECT_EQ(other.exit_code, 2) << other.err;
  EXPECT_EQ(read_file(dir + "/sbatch.log"), log);
}

} // namespace
} // namespace pciesim::test
