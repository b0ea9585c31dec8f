// `run --out DIR` holds one run's results, whole: never beside a sweep's, never with files of an
// earlier run, never written by two processes at once (sim/report/run_output_dir.h); and no two
// outputs of a run name one file.
#include <algorithm>
#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "sim/util/file_io.h"
#include "sim/util/output_directory.h"

#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

namespace fs = std::filesystem;

const std::string kPlainRun = std::string(PCIESIM_SOURCE_DIR) + "/scenarios/fabric-mix.json";
// A comparison, one mechanism on one topology to keep it short: it writes no run-info.json.
const std::string kComparison = std::string(PCIESIM_SOURCE_DIR) +
                                "/scenarios/default.json --mechanism bounce "
                                "--topology gpu-nic-shared-switch";
const std::string kSweep = std::string(PCIESIM_SOURCE_DIR) + "/bench/sweep-smoke.json";

void write_file(const std::string &path, const std::string &content) {
  std::ofstream(path, std::ios::binary) << content;
}

std::string one_line(const std::string &err) { return err.substr(0, err.find('\n')); }

// Holds DIR/.lock as another pciesim process would, with this process's pid in it.
class LockHolder {
public:
  explicit LockHolder(const std::string &dir) {
    fd_ = ::open((dir + "/.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    EXPECT_GE(fd_, 0);
    EXPECT_EQ(::flock(fd_, LOCK_EX | LOCK_NB), 0);
    const std::string pid = std::to_string(::getpid()) + "\n";
    EXPECT_EQ(::pwrite(fd_, pid.data(), pid.size(), 0), static_cast<ssize_t>(pid.size()));
  }
  void release() {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }
  ~LockHolder() { release(); }

private:
  int fd_ = -1;
};

TEST(RunOutputDir, ARunRefusesASweepsDirectoryAndChangesNothing) {
  const std::string dir = make_temp_dir("run-out-sweep");
  write_file(dir + "/sweep-manifest.json", "{}\n");
  write_file(dir + "/results.csv", "the sweep's\n");
  CommandResult r = run_pciesim("run " + kPlainRun + " --quiet --out " + dir);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, dir + ":/: holds a sweep's results (sweep-manifest.json), which a run's would "
                         "be mixed with (expected a new or empty directory, or one of an earlier "
                         "run)\n");
  EXPECT_EQ(read_file(dir + "/results.csv"), "the sweep's\n");
  EXPECT_FALSE(fs::exists(dir + "/results.json"));
  EXPECT_FALSE(fs::exists(dir + "/.lock")); // refused before anything was made
}

TEST(RunOutputDir, ASweepRefusesARunsDirectoryAndMakesNothingThere) {
  const std::string dir = make_temp_dir("run-out-run");
  ASSERT_EQ(run_pciesim("run " + kPlainRun + " --quiet --out " + dir).exit_code, 0);
  const std::string results = read_file(dir + "/results.csv");
  CommandResult r = run_pciesim("sweep " + kSweep + " --quiet --out " + dir);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(one_line(r.err), "pciesim: " + dir +
                                 " holds a run's results (results.json, no sweep-manifest.json), "
                                 "which the sweep's would be mixed with; choose another --out");
  EXPECT_FALSE(fs::exists(dir + "/points"));
  EXPECT_FALSE(fs::exists(dir + "/sweep-manifest.json"));
  EXPECT_EQ(read_file(dir + "/results.csv"), results);
}

TEST(RunOutputDir, ALaterRunLeavesNoFileOfTheEarlierOne) {
  const std::string dir = make_temp_dir("run-out-later"), fresh = make_temp_dir("run-out-later");
  ASSERT_EQ(run_pciesim("run " + kPlainRun + " --quiet --out " + dir).exit_code, 0);
  ASSERT_TRUE(fs::exists(dir + "/run-info.json")); // a plain run's wall-clock time
  ASSERT_EQ(run_pciesim("run " + kComparison + " --quiet --out " + dir).exit_code, 0);
  ASSERT_EQ(run_pciesim("run " + kComparison + " --quiet --out " + fresh).exit_code, 0);
  EXPECT_FALSE(fs::exists(dir + "/run-info.json")); // a comparison writes none
  for (const char *name : {"results.json", "results.csv", "links.csv"})
    EXPECT_EQ(read_file(dir + "/" + name), read_file(fresh + "/" + name)) << name;
}

TEST(RunOutputDir, AReportOfEarlierResultsIsMadeAgainFromTheNewOnes) {
  const std::string dir = make_temp_dir("run-out-report"), fresh = make_temp_dir("run-out-report");
  ASSERT_EQ(run_pciesim("run " + kPlainRun + " --quiet --out " + dir).exit_code, 0);
  ASSERT_EQ(run_pciesim("report " + dir).exit_code, 0);
  ASSERT_TRUE(fs::exists(dir + "/report-svg/latency-cdf.svg")); // a plain run's chart
  ASSERT_EQ(run_pciesim("run " + kComparison + " --quiet --out " + dir).exit_code, 0);
  ASSERT_EQ(run_pciesim("run " + kComparison + " --quiet --out " + fresh).exit_code, 0);
  ASSERT_EQ(run_pciesim("report " + fresh).exit_code, 0);
  EXPECT_EQ(read_file(dir + "/report.md"), read_file(fresh + "/report.md"));
  // The same pictures and data, none of the earlier report's left.
  for (const char *folder : {"/report-svg", "/report-data"}) {
    std::vector<std::string> names, fresh_names;
    for (const auto &e : fs::directory_iterator(dir + folder))
      names.push_back(e.path().filename().string());
    for (const auto &e : fs::directory_iterator(fresh + folder))
      fresh_names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    std::sort(fresh_names.begin(), fresh_names.end());
    EXPECT_FALSE(names.empty()) << folder;
    EXPECT_EQ(names, fresh_names) << folder;
  }
}

TEST(RunOutputDir, ADirectoryAnotherProcessKeepsIsWaitedForThenRefused) {
  const std::string dir = make_temp_dir("run-out-held");
  ASSERT_EQ(run_pciesim("run " + kPlainRun + " --quiet --out " + dir).exit_code, 0);
  const std::string results = read_file(dir + "/results.json");
  LockHolder holder(dir);
  const auto start = std::chrono::steady_clock::now();
  CommandResult r = run_pciesim("run " + kComparison + " --quiet --out " + dir);
  const double waited_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("pciesim: " + dir + " is in use by another pciesim sweep, merge or run " +
                       "(pid " + std::to_string(::getpid()) + "): this run's results were not " +
                       "written; choose another --out\n"),
            std::string::npos)
      << r.err;
  EXPECT_GE(waited_s, 5.0); // its patience
  EXPECT_EQ(read_file(dir + "/results.json"), results);
  EXPECT_TRUE(fs::exists(dir + "/run-info.json"));
}

TEST(RunOutputDir, AWriterThatFinishesSoonIsWaitedFor) {
  const std::string dir = make_temp_dir("run-out-wait"), fresh = make_temp_dir("run-out-wait");
  LockHolder holder(dir);
  std::thread releaser([&holder] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    holder.release();
  });
  CommandResult r = run_pciesim("run " + kPlainRun + " --quiet --out " + dir);
  releaser.join();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(run_pciesim("run " + kPlainRun + " --quiet --out " + fresh).exit_code, 0);
  EXPECT_EQ(read_file(dir + "/results.json"), read_file(fresh + "/results.json"));
}

TEST(RunOutputDir, TwoOutputsAtOneFileAreRefusedBeforeTheRun) {
  // Written one after the other, the later replaced the earlier without a word (exit 0).
  const std::string dir = make_temp_dir("run-out-same");
  const std::string out = dir + "/out", trace = dir + "/trace.json";
  fs::create_directory(dir + "/sub");
  fs::create_directory(out); // else --trace OUT/results.json is refused for its missing directory
  write_file(dir + "/existing.json", "");
  fs::create_symlink(trace, dir + "/link.json");
  fs::create_hard_link(dir + "/existing.json", dir + "/hard.json");
  const struct {
    std::string arguments, path, earlier, later;
  } cases[] = {
      {"--trace " + trace + " --vcd " + trace, trace, "--trace", "--vcd"},
      {"--trace " + dir + "/link.json --vcd " + trace, trace, "--trace", "--vcd"},
      {"--trace " + dir + "/sub/../trace.json --vcd " + dir + "/./trace.json",
       dir + "/./trace.json", "--trace", "--vcd"},
      {"--trace " + dir + "/existing.json --vcd " + dir + "/hard.json", dir + "/hard.json",
       "--trace", "--vcd"},
      {"--out " + out + " --trace " + out + "/results.json", out + "/results.json", "--out",
       "--trace"},
      {"--out " + out + " --vcd " + out + "/run-info.json", out + "/run-info.json", "--out",
       "--vcd"},
  };
  for (const auto &c : cases) {
    CommandResult r = run_pciesim("run " + kPlainRun + " --quiet " + c.arguments);
    EXPECT_EQ(r.exit_code, 2) << c.arguments << ": " << r.err;
    EXPECT_EQ(r.err, c.path + ":/: is also where " + c.earlier +
                         " goes (expected a file of its own for " + c.later + ")\n")
        << c.arguments;
    EXPECT_FALSE(fs::exists(trace)) << c.arguments;
    EXPECT_TRUE(fs::is_empty(out)) << c.arguments;
    EXPECT_EQ(read_file(dir + "/existing.json"), "") << c.arguments;
  }
  // A character device takes any number of writers.
  EXPECT_EQ(
      run_pciesim("run " + kPlainRun + " --quiet --trace /dev/null --vcd /dev/null").exit_code, 0);
}

TEST(RunOutputDir, NoOutputReplacesAnInputOfTheCommand) {
  // `run my.json --trace my.json` wrote the trace over the scenario it was made from.
  const std::string dir = make_temp_dir("run-out-input");
  const std::string topology =
      read_file(std::string(PCIESIM_SOURCE_DIR) + "/topologies/default-shared-switch.json");
  // fabric-mix with its topology beside it, so that it runs from any directory.
  std::string scenario = read_file(kPlainRun);
  const std::string from = "\"topology\": \"../topologies/default-shared-switch.json\"";
  ASSERT_NE(scenario.find(from), std::string::npos);
  scenario.replace(scenario.find(from), from.size(), "\"topology\": \"topology.json\"");
  write_file(dir + "/topology.json", topology);
  write_file(dir + "/my.json", scenario);
  fs::create_directory(dir + "/sub");
  fs::create_directory(dir + "/out");
  write_file(dir + "/out/topology.json", topology);
  write_file(dir + "/out/results.json", scenario);
  fs::create_symlink(dir + "/my.json", dir + "/alias.json");
  const std::string run = "run --quiet ";
  const struct {
    std::string arguments, output, input, option;
  } cases[] = {
      {run + dir + "/my.json --trace " + dir + "/my.json", dir + "/my.json", "", "--trace"},
      {run + dir + "/alias.json --vcd " + dir + "/my.json", dir + "/my.json", dir + "/alias.json",
       "--vcd"},
      {run + dir + "/out/results.json --out " + dir + "/out", dir + "/out/results.json", "",
       "--out"},
      // The scenario's topology is an input too, whatever the path it is named by.
      {run + dir + "/my.json --trace " + dir + "/sub/../topology.json",
       dir + "/sub/../topology.json", dir + "/topology.json", "--trace"},
  };
  for (const auto &c : cases) {
    CommandResult r = run_pciesim(c.arguments);
    EXPECT_EQ(r.exit_code, 2) << c.arguments << ": " << r.err;
    EXPECT_EQ(r.err,
              c.output + ":/: " +
                  (c.input.empty() ? std::string("is an input") : "is the input " + c.input) +
                  " of this command, which the " + c.option +
                  " output would replace (expected a file that is not one of the "
                  "command's inputs)\n")
        << c.arguments;
  }
  EXPECT_EQ(read_file(dir + "/my.json"), scenario);
  EXPECT_EQ(read_file(dir + "/out/results.json"), scenario);
  EXPECT_EQ(read_file(dir + "/topology.json"), topology);
  // import and advise: their inputs are read before their --out is checked against them.
  const std::string dump = dir + "/dump.txt";
  write_file(dump, read_file(std::string(PCIESIM_SOURCE_DIR) +
                             "/tests/data/import/asus-h67-ivybridge-gt635-lspci-tree.txt"));
  const std::string dump_text = read_file(dump);
  CommandResult r = run_pciesim("import " + dump + " --out " + dump + " --quiet");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(dump + ":/: is an input of this command"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(dump), dump_text);
  r = run_pciesim("advise " + dir + "/my.json --out " + dir + "/topology.json");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(dir + "/topology.json:/: is an input of this command"), std::string::npos)
      << r.err;
  EXPECT_EQ(read_file(dir + "/topology.json"), topology);
  // check reads its scenarios in child processes: they count as its inputs all the same.
  r = run_pciesim("check " + dir + "/my.json --junit " + dir + "/alias.json");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, dir + "/alias.json:/: is the input " + dir +
                       "/my.json of this command, which the --junit output would replace "
                       "(expected a file that is not one of the command's inputs)\n");
  EXPECT_EQ(read_file(dir + "/my.json"), scenario);
}

TEST(RunOutputDir, ALockFileThatIsALinkIsNotWrittenThrough) {
  // A symbolic (or hard) link at DIR/.lock had the holder's pid written into the file it names,
  // outside the output directory.
  const std::string outside = make_temp_dir("run-out-decoy");
  write_file(outside + "/precious", "precious\n");
  const std::string symlinked = make_temp_dir("run-out-link"), hard = make_temp_dir("run-out-link");
  fs::create_symlink(outside + "/precious", symlinked + "/.lock");
  fs::create_hard_link(outside + "/precious", hard + "/.lock");
  for (const std::string &dir : {symlinked, hard}) {
    CommandResult r = run_pciesim("run " + kPlainRun + " --quiet --out " + dir);
    EXPECT_EQ(r.exit_code, 4) << r.err;
    EXPECT_NE(r.err.find("pciesim: cannot lock " + dir + "/.lock: it is "), std::string::npos)
        << r.err;
    EXPECT_FALSE(fs::exists(dir + "/results.json"));
    r = run_pciesim("sweep " + kSweep + " --quiet --out " + dir);
    EXPECT_EQ(r.exit_code, 4) << r.err;
    EXPECT_FALSE(fs::exists(dir + "/points"));
  }
  EXPECT_EQ(read_file(outside + "/precious"), "precious\n");
}

TEST(RunOutputDir, StandardOutputIsNotAnOutputFile) {
  // `--trace -` wrote an 11 MB file named "-" into the current directory.
  const std::string dir = make_temp_dir("run-out-dash");
  for (const char *option : {"--trace", "--vcd", "--out"}) {
    CommandResult r = run_command("cd " + dir + " && " + PCIESIM_BINARY + " run " + kPlainRun +
                                  " --quiet " + option + " -");
    EXPECT_EQ(r.exit_code, 2) << option << ": " << r.err;
    EXPECT_EQ(r.err, std::string("-:/: standard output is not ") +
                         (std::string(option) == "--out" ? "a directory" : "a file") + " for " +
                         option +
                         (std::string(option) == "--out"
                              ? " (expected a directory path)\n"
                              : " (expected a file path, or /dev/stdout to write there)\n"))
        << option;
    EXPECT_FALSE(fs::exists(dir + "/-")) << option;
  }
}

TEST(RunOutputDir, SomeoneElsesReportAndPicturesAreLeftAlone) {
  // Only a report pciesim wrote is made again, and only the pictures and data it linked go.
  const std::string dir = make_temp_dir("run-out-theirs");
  write_file(dir + "/report.html", "<p>my own page, see report-svg/mine.svg</p>\n");
  fs::create_directory(dir + "/report-svg");
  write_file(dir + "/report-svg/mine.svg", "<svg/>\n");
  ASSERT_EQ(run_pciesim("run " + kPlainRun + " --quiet --out " + dir).exit_code, 0);
  EXPECT_EQ(read_file(dir + "/report.html"), "<p>my own page, see report-svg/mine.svg</p>\n");
  EXPECT_FALSE(fs::exists(dir + "/report.md"));
  // `report DIR` replaces the page (it was asked to), but not a picture its page did not link.
  ASSERT_EQ(run_pciesim("report " + dir).exit_code, 0);
  EXPECT_EQ(read_file(dir + "/report-svg/mine.svg"), "<svg/>\n");
  ASSERT_EQ(run_pciesim("run " + kComparison + " --quiet --out " + dir).exit_code, 0);
  EXPECT_EQ(read_file(dir + "/report-svg/mine.svg"), "<svg/>\n");
  EXPECT_FALSE(fs::exists(dir + "/report-svg/latency-cdf.svg")); // the earlier report's
}

TEST(RunOutputDir, WhatStandsAtAnOutputsNameIsRefusedBeforeTheRun) {
  // A directory or a reader-less FIFO at DIR/results.json or DIR/links.csv failed the run after
  // it ran (exit 4), and with the FIFO the files before it in the set were already replaced.
  const std::string dir = make_temp_dir("run-out-names");
  fs::create_directory(dir + "/a");
  fs::create_directory(dir + "/a/results.json");
  fs::create_directory(dir + "/b");
  ASSERT_EQ(::mkfifo((dir + "/b/links.csv").c_str(), 0644), 0);
  const std::string expected = " inside an output directory, where pciesim writes only regular "
                               "files of its own (expected no file at this name, or a regular "
                               "file that pciesim may replace)\n";
  CommandResult r = run_pciesim("run " + kPlainRun + " --quiet --out " + dir + "/a");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, dir + "/a/results.json:/: is a directory" + expected);
  r = run_pciesim("run " + kPlainRun + " --quiet --out " + dir + "/b");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, dir + "/b/links.csv:/: is a FIFO" + expected);
  for (const char *name : {"results.json", "results.csv", "run-info.json"})
    EXPECT_FALSE(fs::exists(dir + "/b/" + name)) << name;
}

TEST(RunOutputDir, NoWriteLeavesTheOutputDirectoryThroughALink) {
  // A symbolic link at DIR/results.json was followed: the run replaced the file it named,
  // wherever that was; one at DIR/report-svg took the report's pictures there.
  const std::string dir = make_temp_dir("run-out-links"), outside = make_temp_dir("run-out-away");
  write_file(outside + "/precious.json", "mine\n");
  fs::create_directory(dir + "/file");
  fs::create_symlink(outside + "/precious.json", dir + "/file/results.json");
  CommandResult r = run_pciesim("run " + kPlainRun + " --quiet --out " + dir + "/file");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, dir + "/file/results.json:/: is a symbolic link (to " + outside +
                       "/precious.json) inside an output directory, where pciesim writes only "
                       "regular files of its own (expected no file at this name, or a regular "
                       "file that pciesim may replace)\n");
  EXPECT_EQ(read_file(outside + "/precious.json"), "mine\n");
  EXPECT_TRUE(fs::is_symlink(dir + "/file/results.json"));
  EXPECT_FALSE(fs::exists(dir + "/file/results.csv"));

  // A report in the directory is written again after a run, and by `report DIR`: a link at
  // its pictures' folder is refused by both before anything runs, report or not.
  fs::create_directory(dir + "/pictures");
  fs::create_directory_symlink(outside, dir + "/pictures/report-svg");
  const std::string link_problem = dir + "/pictures/report-svg:/: is a symbolic link to a "
                                         "directory inside an output directory, where pciesim "
                                         "makes only directories of its own (expected no file at "
                                         "this name, or a directory)\n";
  for (const std::string &command :
       {"run " + kPlainRun + " --quiet --out ", std::string("report ")}) {
    r = run_pciesim(command + dir + "/pictures");
    EXPECT_EQ(r.exit_code, 2) << command << r.err;
    EXPECT_EQ(r.err, link_problem) << command;
  }
  std::vector<std::string> away;
  for (const auto &e : fs::directory_iterator(outside))
    away.push_back(e.path().filename().string());
  EXPECT_EQ(away, std::vector<std::string>{"precious.json"});
}

TEST(RunOutputDir, AFileOfAnOutputDirectoryIsNeverWrittenThroughALink) {
  // Should a link appear after the checks, the write itself refuses it; only a path the user
  // named (check_output_file) is followed.
  const std::string dir = make_temp_dir("run-out-late"), outside = make_temp_dir("run-out-away");
  write_file(outside + "/precious.json", "mine\n");
  fs::create_symlink(outside + "/precious.json", dir + "/results.json");
  OutputSet set;
  set.add(dir + "/results.csv", "new\n");
  set.add(dir + "/results.json", "new\n");
  EXPECT_THROW(set.write(), std::runtime_error);
  EXPECT_EQ(read_file(outside + "/precious.json"), "mine\n");
  EXPECT_FALSE(fs::exists(dir + "/results.csv"));
  EXPECT_THROW(create_output_subdirectory(dir + "/results.json"), std::runtime_error);
  create_output_subdirectory(dir + "/points");
  EXPECT_TRUE(fs::is_directory(dir + "/points") && !fs::is_symlink(dir + "/points"));
}

TEST(RunOutputDir, ASetWithAReaderlessFifoReplacesNoFile) {
  // The set opened its FIFO only after renaming the files before it. (A FIFO in a set of files
  // pciesim names is now refused outright; either way no file may be replaced.)
  const std::string dir = make_temp_dir("run-out-set");
  write_file(dir + "/first.json", "old\n");
  ASSERT_EQ(::mkfifo((dir + "/second.csv").c_str(), 0644), 0);
  OutputSet set;
  set.add(dir + "/first.json", "new\n");
  set.add(dir + "/second.csv", "new\n");
  EXPECT_THROW(set.write(), std::runtime_error);
  EXPECT_EQ(read_file(dir + "/first.json"), "old\n");
  std::vector<std::string> names;
  for (const auto &e : fs::directory_iterator(dir))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"first.json", "second.csv"})); // no temporary left
}

} // namespace
} // namespace pciesim::test
