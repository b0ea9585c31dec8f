// What stands at a path given to pciesim, and what the environment does to its writes: output
// paths that are symbolic links, devices or FIFOs, paths that cannot be written (refused before
// the run), a file size limit or a full standard output (reported, exit 4, the old results kept
// and no temporary left), and inputs that are not regular files (devices, FIFOs, symbolic link
// loops, standard input). Device nodes are made with mknod in a temporary directory, never the
// machine's own; every command runs under `timeout` so that nothing can hang.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/report/report.h"
#include "sim/util/file_io.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {
namespace fs = std::filesystem;

const std::string kSource = PCIESIM_SOURCE_DIR;
const std::string kBinary = PCIESIM_BINARY;

// pciesim under a time limit: a command that would hang fails the test instead.
CommandResult pciesim(const std::string &arguments) {
  return run_command("timeout 20 " + kBinary + " " + arguments);
}

std::size_t lines(const std::string &text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// A small scenario (a DMA engine writing to host memory), written into `dir`.
std::string write_scenario(const std::string &dir, int count = 8,
                           const std::string &name = "scenario.json") {
  std::string path = dir + "/" + name;
  nlohmann::json s = {{"name", "small"},
                      {"topology", kSource + "/topologies/host-dma-gen3x8.json"},
                      {"transfers",
                       {{{"id", "write"},
                         {"initiator", "dma0"},
                         {"target", "mem0"},
                         {"direction", "write"},
                         {"size", "4 KiB"},
                         {"count", count}}}}};
  std::ofstream(path) << s.dump(2) << "\n";
  return path;
}

// Files whose name holds ".tmp." anywhere under `dir`: temporaries left behind.
std::vector<std::string> temporaries_under(const std::string &dir) {
  std::vector<std::string> found;
  for (const auto &entry : fs::recursive_directory_iterator(dir))
    if (entry.path().filename().string().find(".tmp.") != std::string::npos)
      found.push_back(entry.path().string());
  return found;
}

bool is_character_device(const std::string &path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode);
}

// A null device like the machine's (major 1, minor 3), but in `dir`.
std::string make_null_device(const std::string &dir) {
  std::string path = dir + "/mynull";
  if (::mknod(path.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0)
    return "";
  return path;
}

std::string make_fifo(const std::string &dir) {
  std::string path = dir + "/fifo";
  if (::mkfifo(path.c_str(), 0600) != 0)
    throw std::runtime_error("mkfifo failed");
  return path;
}

// --- outputs ---------------------------------------------------------------------------------

TEST(OutputFiles, TraceThroughASymlinkReplacesItsTargetAndKeepsTheLink) {
  std::string dir = make_temp_dir("out-link");
  std::string scenario = write_scenario(dir);
  fs::create_directory(dir + "/real");
  std::ofstream(dir + "/real/trace.json") << "old\n";
  fs::create_symlink("real/trace.json", dir + "/link.json");
  CommandResult r = pciesim("run " + scenario + " --quiet --trace " + dir + "/link.json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(dir + "/link.json"));
  EXPECT_EQ(fs::read_symlink(dir + "/link.json"), "real/trace.json");
  std::string trace = read_file(dir + "/real/trace.json");
  EXPECT_NE(trace.find("traceEvents"), std::string::npos) << trace.substr(0, 200);
  EXPECT_TRUE(temporaries_under(dir).empty());
}

TEST(OutputFiles, DanglingSymlinkCreatesItsTarget) {
  std::string dir = make_temp_dir("out-dangling");
  std::string scenario = write_scenario(dir);
  fs::create_directory(dir + "/real");
  fs::create_symlink("real/new.vcd", dir + "/link.vcd");
  CommandResult r = pciesim("run " + scenario + " --quiet --vcd " + dir + "/link.vcd");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(dir + "/link.vcd"));
  EXPECT_EQ(read_file(dir + "/real/new.vcd").rfind("$version", 0), 0u);
  EXPECT_TRUE(temporaries_under(dir).empty());
}

TEST(OutputFiles, DeviceIsWrittenInPlaceNotReplaced) {
  std::string dir = make_temp_dir("out-device");
  std::string scenario = write_scenario(dir);
  std::string device = make_null_device(dir);
  if (device.empty())
    GTEST_SKIP() << "mknod needs privileges";
  for (const char *option : {"--trace", "--vcd"}) {
    CommandResult r = pciesim("run " + scenario + " --quiet " + option + " " + device);
    ASSERT_EQ(r.exit_code, 0) << option << ": " << r.err;
    EXPECT_TRUE(is_character_device(device)) << option << " replaced the device";
  }
  // Inside a --out directory the names are pciesim's own: a link to the device, or the device
  // itself, is refused before the run, never written through.
  fs::create_directory(dir + "/out");
  fs::create_symlink(device, dir + "/out/results.csv");
  CommandResult r = pciesim("run " + scenario + " --quiet --out " + dir + "/out");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("out/results.csv:/: is a symbolic link"), std::string::npos) << r.err;
  EXPECT_TRUE(is_character_device(device));
  EXPECT_TRUE(fs::is_symlink(dir + "/out/results.csv"));
  EXPECT_FALSE(fs::exists(dir + "/out/results.json"));
  fs::remove(dir + "/out/results.csv");
  fs::rename(device, dir + "/out/results.csv");
  r = pciesim("run " + scenario + " --quiet --out " + dir + "/out");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("out/results.csv:/: is a character device inside an output directory"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(is_character_device(dir + "/out/results.csv"));
  EXPECT_TRUE(temporaries_under(dir).empty());
}

TEST(OutputFiles, FifoWithoutReaderIsRefusedBeforeTheRun) {
  std::string dir = make_temp_dir("out-fifo");
  std::string scenario = write_scenario(dir);
  std::string fifo = make_fifo(dir);
  for (const char *option : {"--trace", "--vcd"}) {
    CommandResult r = pciesim("run " + scenario + " " + option + " " + fifo);
    EXPECT_EQ(r.exit_code, 2) << option << ": " << r.err;
    EXPECT_EQ(r.err.rfind(fifo + ":/: is a FIFO that no process is reading", 0), 0u) << r.err;
    EXPECT_EQ(lines(r.err), 1u) << r.err;
    EXPECT_EQ(r.out, "");
  }
  CommandResult check = pciesim("check " + scenario + " --junit " + fifo);
  EXPECT_EQ(check.exit_code, 2) << check.err;
  EXPECT_EQ(check.out, "") << "a scenario ran before the --junit path was checked";
}

TEST(OutputFiles, FifoWithReaderGetsTheTraceWhole) {
  std::string dir = make_temp_dir("out-fifo-reader");
  std::string scenario = write_scenario(dir);
  std::string fifo = make_fifo(dir);
  // Opened before pciesim starts (so it finds a reader), without waiting for a writer. Linux
  // reports the hang-up of such a reader only once a writer came and went.
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  CommandResult r;
  std::thread run([&] { r = pciesim("run " + scenario + " --quiet --trace " + fifo); });
  std::string received;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (bool done = false; !done && std::chrono::steady_clock::now() < deadline;) {
    pollfd p{reader, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0)
      continue;
    char buffer[65536];
    ssize_t n = ::read(reader, buffer, sizeof buffer);
    if (n > 0)
      received.append(buffer, static_cast<std::size_t>(n));
    done = n == 0;
  }
  run.join();
  ::close(reader);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(nlohmann::json::accept(received)) << received.size() << " bytes";
  EXPECT_NE(received.find("traceEvents"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
}

TEST(OutputFiles, UnwritablePathsAreRefusedBeforeTheRun) {
  std::string dir = make_temp_dir("out-refused");
  std::string scenario = write_scenario(dir);
  std::ofstream(dir + "/file") << "x\n";
  struct Case {
    std::string arguments, path, problem;
  };
  const std::vector<Case> cases = {
      // Each was refused only after the run (exit 4); the --vcd one crashed (SIGFPE, 136).
      {"--vcd /nonexistent/x.vcd", "/nonexistent/x.vcd",
       "cannot be written: the directory /nonexistent does not exist"},
      {"--trace /nonexistent/t.json", "/nonexistent/t.json",
       "cannot be written: the directory /nonexistent does not exist"},
      {"--trace " + dir, dir, "is a directory"},
      {"--vcd " + dir + "/file/x.vcd", dir + "/file/x.vcd", "cannot be written: "},
      {"--out " + dir + "/file", dir + "/file", "is a regular file, not a directory"},
      {"--out " + dir + "/file/sub", dir + "/file/sub", "cannot be "},
  };
  for (const Case &c : cases) {
    CommandResult r = pciesim("run " + scenario + " " + c.arguments);
    EXPECT_EQ(r.exit_code, 2) << c.arguments << ": " << r.err;
    EXPECT_EQ(r.err.rfind(c.path + ":/: " + c.problem, 0), 0u) << c.arguments << ": " << r.err;
    EXPECT_EQ(lines(r.err), 1u) << "the run went ahead: " << r.err;
  }
  CommandResult check = pciesim("check " + scenario + " --junit /nonexistent/junit.xml");
  EXPECT_EQ(check.exit_code, 2) << check.err;
  EXPECT_EQ(check.err.rfind("/nonexistent/junit.xml:/: cannot be written", 0), 0u) << check.err;
  EXPECT_EQ(check.out, "") << "a scenario ran before the --junit path was checked";
  EXPECT_TRUE(temporaries_under(dir).empty());
}

TEST(OutputFiles, EmptyPathsAreRefused) {
  std::string dir = make_temp_dir("out-empty");
  std::string scenario = write_scenario(dir);
  for (const std::string &arguments :
       {"run " + scenario + " --out ''", "run " + scenario + " --trace ''",
        "run " + scenario + " --vcd ''", "check " + scenario + " --junit ''",
        "sweep " + kSource + "/scenarios/sweeps/tiny.json --out ''", "merge " + dir + " --out ''",
        std::string("report ''")}) {
    CommandResult r = pciesim(arguments);
    EXPECT_EQ(r.exit_code, 2) << arguments << ": " << r.err;
    EXPECT_NE(r.err.find(":/: an empty path (expected a path)"), std::string::npos)
        << arguments << ": " << r.err;
    EXPECT_EQ(lines(r.err), 1u) << arguments << ": " << r.err;
  }
}

TEST(OutputFiles, OutCreatesMissingParentsAsSweepDoes) {
  std::string dir = make_temp_dir("out-parents");
  std::string scenario = write_scenario(dir);
  CommandResult r = pciesim("run " + scenario + " --quiet --out " + dir + "/a/b/c");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char *name : {"results.json", "results.csv", "links.csv", "run-info.json"})
    EXPECT_TRUE(fs::is_regular_file(dir + "/a/b/c/" + name)) << name;
}

// Old code: SIGXFSZ killed the process (exit 153, no message), a results.json.tmp.PID stayed.
TEST(OutputFiles, FileSizeLimitKeepsTheOldResultsAndLeavesNoTemporary) {
  std::string dir = make_temp_dir("out-fsize");
  std::string first = write_scenario(dir, 8, "first.json");
  std::string second = write_scenario(dir, 16, "second.json");
  std::string out = dir + "/out";
  ASSERT_EQ(pciesim("run " + first + " --quiet --out " + out).exit_code, 0);
  // The results; not DIR/.lock, which holds the pid of the last run that wrote there.
  auto results_in = [&out] {
    std::map<std::string, std::string> files;
    for (const auto &entry : fs::directory_iterator(out))
      if (entry.path().filename() != ".lock")
        files[entry.path().filename()] = read_file(entry.path());
    return files;
  };
  std::map<std::string, std::string> before = results_in();
  ASSERT_EQ(before.size(), 4u);
  // Larger than run-info.json, smaller than results.json: the set fails part-way.
  CommandResult r = run_command("prlimit --fsize=1024 timeout 20 " + kBinary + " run " + second +
                                " --quiet --out " + out);
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_EQ(r.err.find("pciesim: cannot write " + out + "/"), 0u) << r.err;
  EXPECT_NE(r.err.find("File too large"), std::string::npos) << r.err;
  EXPECT_EQ(results_in(), before) << "the old set was changed or a temporary was left";
  EXPECT_TRUE(temporaries_under(dir).empty());
}

TEST(OutputFiles, FileSizeLimitFailsTheVcdAndLeavesNoTemporary) {
  std::string dir = make_temp_dir("out-fsize-vcd");
  std::string scenario = write_scenario(dir, 64);
  CommandResult r = run_command("prlimit --fsize=2048 timeout 20 " + kBinary + " run " + scenario +
                                " --quiet --vcd " + dir + "/waves.vcd");
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_EQ(r.err.find("pciesim: cannot write " + dir + "/waves.vcd: File too large"), 0u) << r.err;
  EXPECT_FALSE(fs::exists(dir + "/waves.vcd"));
  EXPECT_TRUE(temporaries_under(dir).empty());
}

TEST(OutputFiles, WallClockTimeoutLeavesNoVcdTemporary) {
  std::string dir = make_temp_dir("out-timeout");
  std::string scenario = write_scenario(dir, 2000000); // many seconds of wall-clock time
  CommandResult r = pciesim("run " + scenario + " --quiet --timeout 1 --vcd " + dir + "/waves.vcd");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("--timeout"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir + "/waves.vcd"));
  EXPECT_TRUE(temporaries_under(dir).empty());
}

TEST(OutputFiles, AStopSignalLeavesNoVcdTemporary) {
  // SIGINT, SIGTERM or SIGHUP ended the run with the VCD's temporary (waves.vcd.tmp.PID.vcd)
  // left beside the path; the process still ends by the signal.
  std::string dir = make_temp_dir("out-signal");
  std::string scenario = write_scenario(dir, 2000000); // many seconds of wall-clock time
  for (const auto &[name, number] :
       {std::pair{"INT", SIGINT}, {"TERM", SIGTERM}, {"HUP", SIGHUP}}) {
    CommandResult r =
        run_command("timeout --preserve-status -s " + std::string(name) + " 1 " + kBinary +
                    " run " + scenario + " --quiet --vcd " + dir + "/waves.vcd");
    EXPECT_EQ(r.exit_code, 128 + number) << name << ": " << r.err;
    EXPECT_FALSE(fs::exists(dir + "/waves.vcd")) << name;
    EXPECT_TRUE(temporaries_under(dir).empty()) << name;
  }
}

TEST(OutputFiles, FullStandardOutputIsAnError) {
  std::string dir = make_temp_dir("out-full");
  std::string scenario = write_scenario(dir);
  for (const std::string &arguments :
       {"run " + scenario + " --json", "run " + scenario, "validate " + scenario,
        "topo " + scenario, std::string("describe")}) {
    CommandResult r = run_command("(timeout 20 " + kBinary + " " + arguments + " >/dev/full)");
    EXPECT_EQ(r.exit_code, 4) << arguments << ": " << r.err;
    EXPECT_NE(r.err.find("pciesim: cannot write to standard output: No space left on device\n"),
              std::string::npos)
        << arguments << ": " << r.err;
  }
}

// A lock file as pciesim writes it: the holder's process id and a line break.
bool holds_a_pid_only(const std::string &lock) {
  return !lock.empty() && lock.find_first_not_of("0123456789\n") == std::string::npos;
}

TEST(OutputFiles, ClosedStandardStreamsAreNotTakenByOutputFiles) {
  // Started with standard error closed, a sweep gave its number to the first file it opened,
  // DIR/.lock, which it holds to the end: each point's progress line and the closing summary
  // went into the lock file. Closed streams now fail as closed ones do (stdout: exit 4) and
  // every file is what a command with them open writes.
  std::string dir = make_temp_dir("out-closed-std");
  int sweeps = 0;
  for (const char *redirections : {">/dev/null 2>&-", ">&- 2>/dev/null", "<&- >&- 2>&-"}) {
    const std::string sweep = dir + "/sweep" + std::to_string(++sweeps);
    CommandResult r =
        run_command("(timeout 60 " + kBinary + " sweep " + kSource +
                    "/scenarios/sweeps/tiny.json -j 2 --out " + sweep + " " + redirections + ")");
    EXPECT_EQ(r.exit_code, 0) << redirections;
    std::string lock = read_file(sweep + "/.lock");
    EXPECT_TRUE(holds_a_pid_only(lock)) << redirections << ": " << lock;
  }
  std::string scenario = write_scenario(dir);
  auto run_with = [&](const std::string &name, const std::string &redirections) {
    return run_command("(timeout 20 " + kBinary + " run " + scenario + " --out " + dir + "/" +
                       name + " --trace " + dir + "/" + name + ".json " + redirections + ")");
  };
  ASSERT_EQ(run_with("open", ">/dev/null 2>&1").exit_code, 0);
  struct Case {
    std::string name, redirections;
    int exit_code;
  };
  for (const Case &c : {Case{"no-stderr", ">/dev/null 2>&-", 0},
                        Case{"no-stdout", ">&- 2>/dev/null", 4}, Case{"none", "<&- >&- 2>&-", 4}}) {
    EXPECT_EQ(run_with(c.name, c.redirections).exit_code, c.exit_code) << c.name;
    for (const char *file : {"results.json", "results.csv", "links.csv"})
      EXPECT_EQ(read_file(dir + "/" + c.name + "/" + file), read_file(dir + "/open/" + file))
          << c.name << ": " << file;
    EXPECT_TRUE(holds_a_pid_only(read_file(dir + "/" + c.name + "/.lock"))) << c.name;
    EXPECT_EQ(read_file(dir + "/" + c.name + ".json"), read_file(dir + "/open.json")) << c.name;
  }
}

TEST(OutputFiles, NothingNeedsATemporaryDirectory) {
  // With /tmp read-only (or full) and no TMPDIR, three things failed: a VCD (its values waited
  // for the header in a tmpfile()), every command with children (the README's default
  // comparison, check, advise: their output was captured in /tmp) and a report's topology
  // pictures (dot read a file in /tmp). Scratch data now lives beside the output or in memory.
  CommandResult probe = run_command("unshare -rm sh -c 'mount -t tmpfs -o ro none /tmp' 2>&1");
  if (probe.exit_code != 0)
    GTEST_SKIP() << "cannot mount a read-only /tmp in a mount namespace here: " << probe.out;
  for (const std::string &needed :
       {fs::canonical(kBinary).string(), fs::canonical(kSource).string()})
    if (needed.rfind("/tmp/", 0) == 0)
      GTEST_SKIP() << needed << " is under /tmp, which the test hides";
  std::string dir = make_temp_dir("out-no-tmp");
  std::string scenario = write_scenario(dir);
  ASSERT_EQ(pciesim("run " + scenario + " --quiet --vcd " + dir + "/open.vcd").exit_code, 0);
  // The working directory stays reachable under the read-only /tmp mounted over its path.
  auto without_tmp = [&](const std::string &arguments) {
    return run_command("cd " + dir + " && unshare -rm sh -c 'mount -t tmpfs -o ro none /tmp && " +
                       "env -u TMPDIR " + kBinary + " " + arguments + "'");
  };
  CommandResult vcd = without_tmp("run scenario.json --quiet --vcd ro.vcd");
  EXPECT_EQ(vcd.exit_code, 0) << vcd.err;
  EXPECT_EQ(read_file(dir + "/ro.vcd"), read_file(dir + "/open.vcd"));
  // check runs each scenario in a child, as a comparison runs each mechanism.
  CommandResult check = without_tmp("check scenario.json");
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_NE(check.out.find("PASS scenario.json: completed"), std::string::npos) << check.out;
  CommandResult sweep =
      without_tmp("sweep " + kSource + "/scenarios/sweeps/tiny.json -j 2 --out sweep");
  EXPECT_EQ(sweep.exit_code, 0) << sweep.err;
  const std::string report = read_file(dir + "/sweep/report.html");
  EXPECT_NE(report.find("<svg"), std::string::npos);
  EXPECT_EQ(report.find("no picture"), std::string::npos);
  std::vector<std::string> left;
  for (const auto &entry : fs::directory_iterator(dir))
    left.push_back(entry.path().filename().string());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"open.vcd", "ro.vcd", "scenario.json", "sweep"}));
}

TEST(OutputFiles, CsvFieldQuotesCarriageReturns) {
  // No input string may hold a carriage return (the JSON reader refuses control characters),
  // so none reaches a CSV through an id; csv_field still quotes one, whatever its source.
  std::string dir = make_temp_dir("out-csv");
  nlohmann::json s = nlohmann::json::parse(read_file(write_scenario(dir)));
  s["transfers"][0]["id"] = "a\rb";
  std::ofstream(dir + "/cr.json") << s.dump();
  CommandResult r = pciesim("run " + dir + "/cr.json --quiet --out " + dir + "/out");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("/transfers/0/id: a control character (U+000D)"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dir + "/out"));
  EXPECT_EQ(csv_field("a\rb"), "\"a\rb\"");
  EXPECT_EQ(csv_field("a\nb"), "\"a\nb\"");
  EXPECT_EQ(csv_field("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(csv_field(" spaced "), " spaced ");
}

// --- inputs ----------------------------------------------------------------------------------

TEST(InputFiles, DeviceIsRefusedNotReadWithoutEnd) {
  // Reading /dev/zero is harmless; it used to be read until memory ran out.
  CommandResult r = pciesim("validate /dev/zero");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "/dev/zero:/: is a character device, not a regular file (expected a JSON "
                   "file)\n");
  std::string dir = make_temp_dir("in-device");
  std::string device = make_null_device(dir);
  if (device.empty())
    GTEST_SKIP() << "mknod needs privileges";
  nlohmann::json s = {{"topology", device}, {"transfers", nlohmann::json::array()}};
  std::ofstream(dir + "/s.json") << s.dump();
  CommandResult topology = pciesim("validate " + dir + "/s.json");
  EXPECT_EQ(topology.exit_code, 2) << topology.err;
  EXPECT_EQ(topology.err.rfind(device + ":/: is a character device, not a regular file", 0), 0u)
      << topology.err;
}

TEST(InputFiles, FifoIsRefusedWithoutWaiting) {
  std::string dir = make_temp_dir("in-fifo");
  std::string fifo = make_fifo(dir);
  for (const char *command : {"validate ", "run ", "topo "}) {
    CommandResult r = pciesim(command + fifo);
    EXPECT_EQ(r.exit_code, 2) << command << r.err;
    EXPECT_EQ(r.err, fifo + ":/: is a FIFO, not a regular file (expected a JSON file)\n");
  }
}

TEST(InputFiles, SymlinkLoopIsNamedAsSuch) {
  std::string dir = make_temp_dir("in-loop");
  fs::create_symlink("b.json", dir + "/a.json");
  fs::create_symlink("a.json", dir + "/b.json");
  CommandResult r = pciesim("validate " + dir + "/a.json");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, dir + "/a.json:/: too many levels of symbolic links (a symbolic link loop?) "
                         "(expected a readable file)\n");
  // As a scenario's topology: the loop is named, not "does not exist".
  nlohmann::json s = {{"topology", "a.json"}, {"transfers", nlohmann::json::array()}};
  std::ofstream(dir + "/s.json") << s.dump();
  CommandResult scenario = pciesim("validate " + dir + "/s.json");
  EXPECT_EQ(scenario.exit_code, 2) << scenario.err;
  EXPECT_NE(scenario.err.find("too many levels of symbolic links"), std::string::npos)
      << scenario.err;
  EXPECT_EQ(scenario.err.find("does not exist"), std::string::npos) << scenario.err;
}

TEST(InputFiles, UnreadableFileIsPermissionDenied) {
  if (::geteuid() != 0 || ::access("/usr/bin/setpriv", X_OK) != 0)
    GTEST_SKIP() << "needs root and setpriv to run as another user";
  std::string dir = make_temp_dir("in-denied");
  std::string path = write_scenario(dir);
  ::chmod(dir.c_str(), 0755);
  ::chmod(path.c_str(), 0600);
  CommandResult r = run_command("timeout 20 setpriv --reuid=65534 --regid=65534 --clear-groups " +
                                kBinary + " validate " + path);
  if (r.err.find("setpriv") != std::string::npos || r.err.find("ermission denied") == 0)
    GTEST_SKIP() << "cannot run pciesim as nobody: " << r.err;
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, path + ":/: permission denied (expected a readable file)\n");
}

TEST(InputFiles, SizeLimitHoldsWhileReading) {
  // Standard input is not a regular file: its size is known only by reading it.
  CommandResult r = pciesim("validate - </dev/zero");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "<stdin>:/: input is more than 16777216 bytes, over the limit (expected at "
                   "most 16777216 bytes)\n");
}

TEST(InputFiles, StandardInputIsAScenarioWithPathsFromTheCurrentDirectory) {
  std::string dir = make_temp_dir("in-stdin");
  fs::copy_file(kSource + "/topologies/host-dma-gen3x8.json", dir + "/topo.json");
  nlohmann::json s = {{"name", "from-stdin"},
                      {"topology", "topo.json"},
                      {"transfers",
                       {{{"id", "w"},
                         {"initiator", "dma0"},
                         {"target", "mem0"},
                         {"direction", "write"},
                         {"size", "4 KiB"},
                         {"count", 2}}}}};
  std::ofstream(dir + "/s.json") << s.dump();
  CommandResult run =
      run_command("cd " + dir + " && timeout 20 " + kBinary + " run - --json <s.json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(nlohmann::json::parse(run.out).at("scenario"), "from-stdin");
  CommandResult validate =
      run_command("cd " + dir + " && timeout 20 " + kBinary + " validate - <s.json");
  EXPECT_EQ(validate.exit_code, 0) << validate.err;
  EXPECT_EQ(validate.out, "-: ok (scenario)\n");
  CommandResult topo = run_command("cd " + dir + " && timeout 20 " + kBinary + " topo - <s.json");
  EXPECT_EQ(topo.exit_code, 0) << topo.err;
  EXPECT_NE(topo.out.find("dma0"), std::string::npos) << topo.out;
  CommandResult sweep = run_command("cd " + kSource + "/scenarios/sweeps && timeout 20 " + kBinary +
                                    " validate - <tiny.json");
  EXPECT_EQ(sweep.exit_code, 0) << sweep.err;
  EXPECT_EQ(sweep.out, "-: ok (sweep)\n");
  CommandResult bad = run_command("cd " + dir + " && echo '{\"topology\": 3}' | timeout 20 " +
                                  kBinary + " validate -");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err.rfind("<stdin>:/topology: ", 0), 0u) << bad.err;
}

TEST(InputFiles, StandardInputIsRefusedWhereOtherProcessesReadTheFiles) {
  std::string never = make_temp_dir("in-stdin-refused") + "/never";
  for (const std::string &arguments : {"sweep - --out " + never, std::string("check -")}) {
    CommandResult r = pciesim(arguments + " </dev/null");
    EXPECT_EQ(r.exit_code, 2) << arguments << ": " << r.err;
    EXPECT_EQ(r.err.rfind("<stdin>:/: `pciesim ", 0), 0u) << r.err;
    EXPECT_EQ(lines(r.err), 1u) << r.err;
  }
  EXPECT_FALSE(fs::exists(never));
}

TEST(InputFiles, ReadTextFileReportsWhatWentWrong) {
  std::string dir = make_temp_dir("in-text");
  EXPECT_THROW(
      {
        try {
          read_text_file(dir + "/missing");
        } catch (const std::runtime_error &e) {
          EXPECT_EQ(std::string(e.what()),
                    "cannot read " + dir + "/missing: No such file or directory");
          throw;
        }
      },
      std::runtime_error);
  EXPECT_THROW(read_text_file(dir), std::runtime_error);
  std::ofstream(dir + "/done") << "{}\n";
  EXPECT_EQ(read_text_file(dir + "/done"), "{}\n");
}

} // namespace
} // namespace pciesim::test
