// What the sweep tests share: the shipped sweeps and topology they run, and starting, waiting
// for and counting the points of a `pciesim sweep` run in its own process group.
#pragma once

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
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace fs = std::filesystem;

inline const std::string kSource = PCIESIM_SOURCE_DIR;
inline const std::string kTiny = kSource + "/scenarios/sweeps/tiny.json";
// 12 points (3 hosts x 4 sizes), each well under a second.
inline const std::string kGrid = kSource + "/tests/sim/batch/grid.json";
inline const std::string kHostTopology = kSource + "/topologies/host-dma-gen3x8.json";

// Every pciesim here runs under `timeout`: a defect must fail a test, never hang it.
inline CommandResult pciesim(const std::string &arguments, int seconds = 120) {
  return run_command("timeout " + std::to_string(seconds) + " " + PCIESIM_BINARY + " " + arguments);
}

inline std::string write_text(const std::string &path, const std::string &text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  return path;
}

inline bool starts_with(const std::string &text, const std::string &prefix) {
  return text.rfind(prefix, 0) == 0;
}

inline bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

inline std::size_t done_points(const std::string &dir) {
  std::size_t n = 0;
  if (fs::exists(dir + "/points"))
    for (const auto &p : fs::directory_iterator(dir + "/points"))
      n += fs::exists(p.path() / "done");
  return n;
}

inline void expect_same_results(const std::string &a, const std::string &b) {
  for (const char *f : {"results.csv", "results.json"}) {
    std::string x = read_file(a + "/" + f), y = read_file(b + "/" + f);
    EXPECT_FALSE(x.empty()) << a << "/" << f;
    EXPECT_EQ(x, y) << f << " differs between " << a << " and " << b;
  }
}

// Starts `pciesim sweep ...` in its own process group, so that the test can kill it whole;
// its stderr goes to `err_path`.
inline pid_t start_sweep(const std::vector<std::string> &args,
                         const std::string &err_path = "/dev/null") {
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    std::vector<std::string> all = {PCIESIM_BINARY, "sweep"};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char *> argv;
    for (std::string &a : all)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    if (!freopen(err_path.c_str(), "w", stderr))
      _exit(127);
    execv(PCIESIM_BINARY, argv.data());
    _exit(127);
  }
  setpgid(pid, pid);
  return pid;
}

// Waits until at least one point of the sweep in `dir` is done.
inline void wait_for_first_point(const std::string &dir) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (done_points(dir) == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

} // namespace pciesim::test
