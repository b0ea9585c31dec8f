// The progress line of `pciesim run` (sim/util/progress_line.h, sim/batch/run_progress_board.h):
// what it says, that it is never written where standard error is not a terminal or with
// --quiet, and, on a pseudo-terminal made by script(1), that it is shown, rewritten in place,
// cleared at the end, and changes no result.
#include <cstdlib>

#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/batch/run_progress_board.h"
#include "sim/util/progress_line.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

// One mechanism run of the default comparison, four times as many iterations: long enough
// (about a second of wall-clock time on a 2-core machine, where the line is rewritten every
// 250 ms; far longer under a sanitizer) for the line to be shown several times. Written where
// the test runs, from the shipped scenario.
std::string long_run_arguments() {
  static const std::string arguments = [] {
    nlohmann::json scenario = nlohmann::json::parse(read_repo_file("scenarios/default.json"));
    scenario.erase("expect");
    scenario["topology"] =
        std::string(PCIESIM_SOURCE_DIR) + "/topologies/gpu-nic-shared-switch.json";
    scenario["workload"]["iterations"] = 12;
    const std::string file = make_temp_dir("progress-scenario") + "/long-run.json";
    std::ofstream(file) << scenario.dump(2);
    return file + " --mechanism hmm_migrate --topology gpu-nic-shared-switch";
  }();
  return arguments;
}

TEST(Progress, TheLineSaysSimulatedTimeAndTheShareOfBytes) {
  EXPECT_EQ(format_run_progress({1'250'000'000, 42 << 20, 100 << 20}),
            "42% of 100.0 MiB, 1.250 ms simulated");
  EXPECT_EQ(format_run_progress({2'500'000, 1, 3}), "33% of 3 B, 2.500 us simulated");
  EXPECT_EQ(format_run_progress({750, 0, 0}), "0.750 ns simulated"); // total not known yet
  // More than planned (retried accesses) is still 100%, not more.
  EXPECT_EQ(format_run_progress({1'000'000'000, 5 << 10, 4 << 10}),
            "100% of 4.0 KiB, 1.000 ms simulated");
  EXPECT_EQ(format_comparison_progress(
                3, 10, {{"hmm_migrate@a", {1'000'000'000, 1, 2}}, {"bounce@a", {0, 0, 0}}}),
            "pciesim: 3/10 done; hmm_migrate@a: 50% of 2 B, 1.000 ms simulated; bounce@a: "
            "0.000 ns simulated");
}

TEST(Progress, ABoardCarriesAChildsProgressToItsParent) {
  RunProgressBoard board(2);
  if (run_in_child([&] {
        board.store(1, {7, 8, 9});
        return std::string("stored");
      }) != "stored")
    FAIL();
  RunProgress p = board.load(1);
  EXPECT_EQ(p.sim_time_ps, 7);
  EXPECT_EQ(p.bytes_done, 8u);
  EXPECT_EQ(p.bytes_total, 9u);
  EXPECT_EQ(board.load(0).bytes_total, 0u);
  EXPECT_EQ(board.load(5).bytes_total, 0u); // out of range: nothing, not a crash
}

TEST(Progress, NothingIsWrittenWhereStandardErrorIsNotATerminal) {
  // Standard error is the harness's file here.
  CommandResult r = run_pciesim("run " + long_run_arguments() + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("% of "), std::string::npos) << r.err;
}

// Runs `arguments` with standard error on a pseudo-terminal (script(1)) and standard output in
// `out_file`; returns what the terminal showed.
CommandResult run_on_terminal(const std::string &arguments, const std::string &out_file) {
  // 200 columns: the whole line, which an 80-column terminal would cut.
  std::string inner =
      "stty cols 200; " + std::string(PCIESIM_BINARY) + " " + arguments + " >" + out_file;
  return run_command("script -qec '" + inner + "' /dev/null");
}

TEST(Progress, OnATerminalTheLineIsRewrittenInPlaceAndClearedAndChangesNothing) {
  if (std::system("command -v script >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "script(1) (Debian package bsdutils) is not installed";
  std::string dir = make_temp_dir("progress");
  CommandResult shown =
      run_on_terminal("run " + long_run_arguments() + " --json", dir + "/tty.json");
  ASSERT_EQ(shown.exit_code, 0) << shown.out;
  const std::string &screen = shown.out;
  std::size_t line = screen.find("\r\033[Kpciesim: 0/1 done; hmm_migrate@gpu-nic-shared-switch: ");
  ASSERT_NE(line, std::string::npos) << screen;
  EXPECT_NE(screen.find("% of ", line), std::string::npos) << screen;
  EXPECT_NE(screen.find(" ms simulated", line), std::string::npos) << screen;
  // The last line shown is cleared before anything else is written.
  std::size_t last = screen.rfind("/1 done");
  std::size_t cleared = screen.find("\r\033[K", last);
  ASSERT_NE(cleared, std::string::npos) << screen;
  std::size_t verdict = screen.find("pciesim: verdict", last); // --json: on standard error
  ASSERT_NE(verdict, std::string::npos) << screen;
  EXPECT_LT(cleared, verdict);
  // The same results as without a terminal.
  CommandResult plain = run_pciesim("run " + long_run_arguments() + " --json");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(read_file(dir + "/tty.json"), plain.out);
  // --quiet: no line, even on a terminal.
  CommandResult quiet =
      run_on_terminal("run " + long_run_arguments() + " --quiet", dir + "/quiet.txt");
  ASSERT_EQ(quiet.exit_code, 0) << quiet.out;
  EXPECT_EQ(quiet.out.find("/1 done"), std::string::npos) << quiet.out;
}

} // namespace
} // namespace pciesim::test
