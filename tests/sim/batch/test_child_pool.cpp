// The child-process pool and the three commands built on it (`check`, `sweep`, a workload
// `run`): -j bounds the children alive at once, --timeout stops everything, SIGINT, SIGTERM
// and SIGHUP leave no child behind, and each command ends with its documented exit code.
// Children are watched through /proc (tests/sim/batch/process_tree.h).
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/batch/child_pool.h"
#include "tests/sim/batch/process_tree.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string write_json(const std::string &dir, const std::string &name, const json &j) {
  std::string path = dir + "/" + name;
  std::ofstream(path) << j.dump(2);
  return path;
}

// A plain scenario whose run lasts far longer than any test waits for it: a billion DMA
// writes of 4 KiB to host memory.
json endless_scenario() {
  json writes = {{"id", "w"}, {"initiator", "dma0"}, {"target", "mem0"}, {"direction", "write"}};
  writes["size"] = "4 KiB";
  writes["count"] = 1000000000;
  return {{"name", "endless"},
          {"topology", std::string(PCIESIM_SOURCE_DIR) + "/topologies/host-dma-gen3x8.json"},
          {"max_sim_time", "1000 s"},
          {"transfers", {writes}}};
}

// A workload comparing `mechanisms`, each run lasting far longer than any test waits.
json endless_comparison(const json &mechanisms) {
  return {{"name", "endless-comparison"},
          {"topology", std::string(PCIESIM_SOURCE_DIR) + "/topologies/gpu-nic-shared-switch.json"},
          {"max_sim_time", "1000 s"},
          {"workload",
           {{"mechanisms", mechanisms},
            {"buffers", {{{"id", "buf"}, {"gpu", "gpu0"}, {"size", "64 KiB"}}}},
            {"iterations", 1000000},
            {"phases", {{{"id", "send"}, {"actor", "nic0"}, {"op", "read"}, {"buffer", "buf"}}}}}}};
}

// `pciesim check` of `count` endless scenarios, then `extra` arguments.
std::vector<std::string> endless_check(const std::string &dir, int count,
                                       const std::vector<std::string> &extra) {
  std::vector<std::string> args = {PCIESIM_BINARY, "check"};
  for (int i = 0; i < count; ++i)
    args.push_back(write_json(dir, "endless-" + std::to_string(i) + ".json", endless_scenario()));
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// `pciesim sweep` of `count` endless points into DIR/out, then `extra` arguments.
std::vector<std::string> endless_sweep(const std::string &dir, int count,
                                       const std::vector<std::string> &extra) {
  json sizes = json::array();
  for (int i = 0; i < count; ++i)
    sizes.push_back(std::to_string(4 * (i + 1)) + " KiB");
  json sweep = {
      {"name", "endless-sweep"},
      {"base", endless_scenario()},
      {"axes", {{{"pointer", "/transfers/0/size"}, {"name", "size"}, {"values", sizes}}}}};
  std::vector<std::string> args = {PCIESIM_BINARY, "sweep", write_json(dir, "sweep.json", sweep),
                                   "--out", dir + "/out"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::vector<std::string> endless_run(const std::string &dir, const json &mechanisms,
                                     const std::vector<std::string> &extra) {
  std::vector<std::string> args = {
      PCIESIM_BINARY, "run", write_json(dir, "workload.json", endless_comparison(mechanisms))};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

bool died_of(int status, int sig) { return WIFSIGNALED(status) && WTERMSIG(status) == sig; }
bool exited_with(int status, int code) { return WIFEXITED(status) && WEXITSTATUS(status) == code; }

std::size_t done_markers(const std::string &points_dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (const auto &point : std::filesystem::directory_iterator(points_dir, ec))
    n += std::filesystem::exists(point.path() / "done") ? 1 : 0;
  return n;
}

// Runs `arguments`, whose --timeout is 2 s, until it ends by itself: within a few seconds,
// with exit code 3 and no process left behind.
WatchedCommand expect_timeout(const std::vector<std::string> &arguments, std::size_t children,
                              const std::string &dir) {
  auto start = Clock::now();
  WatchedCommand w = watch_and_stop(arguments, children, 0, dir);
  EXPECT_LT(seconds_since(start), 5.5);
  EXPECT_TRUE(exited_with(w.status, 3)) << "status " << w.status << ": " << w.err;
  return w;
}

// --- the pool itself ---

TEST(ChildPool, ReportsExitCodesAndSignalsInOneForm) {
  ChildPool pool(PoolOptions{2, 0});
  std::vector<ChildExit> exits(2);
  ChildPool::End end = pool.run(
      2,
      [&](std::size_t job) {
        return pool.start_function(
            [job] {
              if (job == 1)
                ::raise(SIGKILL);
              return 3;
            },
            {});
      },
      [&](std::size_t job, const ChildExit &how) { exits[job] = how; });
  EXPECT_EQ(end, ChildPool::End::Finished);
  EXPECT_TRUE(exits[0].exited());
  EXPECT_EQ(exits[0].code, 3);
  EXPECT_EQ(exits[0].shell_code(), 3);
  EXPECT_EQ(exits[0].describe(), "exit code 3");
  EXPECT_FALSE(exits[1].exited());
  EXPECT_EQ(exits[1].signal, SIGKILL);
  EXPECT_EQ(exits[1].shell_code(), 128 + SIGKILL);
  EXPECT_EQ(exits[1].describe().rfind("killed by signal 9 (", 0), 0u) << exits[1].describe();
  EXPECT_FALSE(exits[0].stopped || exits[1].stopped);
}

TEST(ChildPool, JobsBoundsTheChildrenAliveAndReapsInCompletionOrder) {
  ChildPool pool(PoolOptions{2, 0});
  std::size_t most = 0;
  std::vector<std::size_t> order;
  // Job 0 lasts longest: the others finish, in turn, before it.
  ChildPool::End end = pool.run(
      5,
      [&](std::size_t job) {
        pid_t pid = pool.start_function(
            [job] {
              std::this_thread::sleep_for(std::chrono::milliseconds(job == 0 ? 1000 : 50 * job));
              return 0;
            },
            {});
        most = std::max(most, live_children_of(::getpid()));
        return pid;
      },
      [&](std::size_t job, const ChildExit &) { order.push_back(job); });
  EXPECT_EQ(end, ChildPool::End::Finished);
  EXPECT_EQ(most, 2u);
  EXPECT_EQ(order, (std::vector<std::size_t>{1, 2, 3, 4, 0}));
  EXPECT_TRUE(children_of(::getpid()).empty());
}

TEST(ChildPool, TimeoutKillsEvenAChildThatIgnoresSigtermAndLeavesNone) {
  ChildPool pool(PoolOptions{3, 1});
  std::size_t started = 0, stopped = 0;
  auto start = Clock::now();
  ChildPool::End end = pool.run(
      5,
      [&](std::size_t job) {
        ++started;
        return pool.start_function(
            [job] {
              if (job == 0)
                ::signal(SIGTERM, SIG_IGN);
              std::this_thread::sleep_for(std::chrono::seconds(60));
              return 0;
            },
            {});
      },
      [&](std::size_t, const ChildExit &how) { stopped += how.stopped ? 1 : 0; });
  double seconds = seconds_since(start);
  EXPECT_EQ(end, ChildPool::End::TimedOut);
  EXPECT_EQ(started, 3u) << "jobs started after the deadline";
  EXPECT_EQ(stopped, 3u);
  // One second, then at most the grace period for the child that ignores SIGTERM.
  EXPECT_GE(seconds, 0.9);
  EXPECT_LT(seconds, 4.5);
  EXPECT_TRUE(children_of(::getpid()).empty());
}

// --- pciesim check ---

TEST(ChildPool, CheckRunsAtMostJobsScenariosAndSigtermLeavesNone) {
  std::string dir = make_temp_dir("pool");
  WatchedCommand w = watch_and_stop(endless_check(dir, 3, {"-j", "2"}), 2, SIGTERM, dir, 1.0);
  EXPECT_EQ(w.most_children, 2u);
  EXPECT_TRUE(died_of(w.status, SIGTERM)) << "status " << w.status << ": " << w.err;
  EXPECT_NE(w.err.find("check stopped by signal 15"), std::string::npos) << w.err;
}

TEST(ChildPool, CheckStoppedBySigintLeavesNoRun) {
  std::string dir = make_temp_dir("pool");
  WatchedCommand w = watch_and_stop(endless_check(dir, 2, {"-j", "2"}), 2, SIGINT, dir);
  EXPECT_TRUE(died_of(w.status, SIGINT)) << "status " << w.status << ": " << w.err;
}

TEST(ChildPool, CheckTimeoutStopsEveryRunAndCountsThemStalled) {
  std::string dir = make_temp_dir("pool");
  expect_timeout(endless_check(dir, 3, {"-j", "2", "--timeout", "2"}), 2, dir);
  std::string out = read_file(dir + "/stdout.txt");
  EXPECT_NE(out.find("3 scenarios: 0 passed, 0 failed, 0 bad input, 3 stalled"), std::string::npos)
      << out;
  EXPECT_NE(out.find("not run: the check exceeded its --timeout of 2 s"), std::string::npos) << out;
}

// --- pciesim sweep ---

TEST(ChildPool, SweepRunsAtMostJobsPointsAndSigtermLeavesNone) {
  std::string dir = make_temp_dir("pool");
  WatchedCommand w = watch_and_stop(endless_sweep(dir, 3, {"-j", "2"}), 2, SIGTERM, dir, 1.0);
  EXPECT_EQ(w.most_children, 2u);
  EXPECT_TRUE(exited_with(w.status, 130)) << "status " << w.status << ": " << w.err;
  EXPECT_EQ(done_markers(dir + "/out/points"), 0u) << "a stopped point was marked done";
}

TEST(ChildPool, SweepStoppedBySigintOrSighupLeavesNoPoint) {
  for (int sig : {SIGINT, SIGHUP}) {
    std::string dir = make_temp_dir("pool");
    WatchedCommand w = watch_and_stop(endless_sweep(dir, 2, {"-j", "2"}), 2, sig, dir);
    EXPECT_TRUE(exited_with(w.status, 130)) << "signal " << sig << ", status " << w.status;
  }
}

TEST(ChildPool, SweepTimeoutStopsEveryPointAndExitsThree) {
  std::string dir = make_temp_dir("pool");
  WatchedCommand w = expect_timeout(endless_sweep(dir, 3, {"-j", "2", "--timeout", "2"}), 2, dir);
  EXPECT_NE(w.err.find("stopped by its --timeout of 2 s"), std::string::npos) << w.err;
  EXPECT_EQ(done_markers(dir + "/out/points"), 0u) << "a stopped point was marked done";
  EXPECT_FALSE(std::filesystem::exists(dir + "/out/results.csv"));
}

// --- pciesim run of a workload comparison ---

TEST(ChildPool, RunJobsBoundsTheMechanismRunsAndSigtermLeavesNone) {
  std::string dir = make_temp_dir("pool");
  json three = {"hmm_migrate", "p2p_dma_api", "bounce"};
  WatchedCommand w = watch_and_stop(endless_run(dir, three, {"-j", "1"}), 1, SIGTERM, dir, 1.0);
  EXPECT_EQ(w.most_children, 1u);
  EXPECT_TRUE(died_of(w.status, SIGTERM)) << "status " << w.status << ": " << w.err;
  dir = make_temp_dir("pool");
  w = watch_and_stop(endless_run(dir, three, {"--jobs", "3"}), 3, SIGINT, dir, 0.5);
  EXPECT_EQ(w.most_children, 3u);
  EXPECT_TRUE(died_of(w.status, SIGINT)) << "status " << w.status << ": " << w.err;
}

TEST(ChildPool, RunTimeoutOfAComparisonLeavesNoMechanismRun) {
  std::string dir = make_temp_dir("pool");
  WatchedCommand w =
      expect_timeout(endless_run(dir, {"hmm_migrate", "p2p_dma_api"}, {"--timeout", "2"}), 2, dir);
  EXPECT_NE(w.err.find("exceeded its --timeout"), std::string::npos) << w.err;
}

TEST(ChildPool, JobsAndTimeoutHaveOneRangeOnEveryCommand) {
  std::string dir = make_temp_dir("pool");
  std::string file = write_json(dir, "s.json", endless_scenario());
  for (const std::string &command : {"run " + file, "check " + file, "sweep " + file + " --out x"})
    for (const char *option : {"-j 0", "-j 1025", "--timeout 0", "--timeout 86401"}) {
      CommandResult r = run_pciesim(command + " " + option);
      EXPECT_EQ(r.exit_code, 2) << command << " " << option << ": " << r.err;
    }
}

} // namespace
} // namespace pciesim::test
