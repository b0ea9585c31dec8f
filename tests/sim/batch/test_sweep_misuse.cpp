// `pciesim sweep` and `pciesim merge` against misuse and accidents: axes that would
// overwrite each other or the values the sweep sets itself, resuming or merging results made
// from other inputs, names that would inject lines into the Slurm script, merging over another
// sweep, grids too large to build, malformed --shard, two sweeps in one directory, corrupt
// files in it, and links in it that would take a write elsewhere.
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

#include "sim/batch/sweep_file.h"
#include "sim/util/content_hash.h"
#include "tests/sim/batch/sweep_helpers.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

// A sweep of one DMA write on the Gen3 x8 host (topology by absolute path), with these axes.
std::string dma_sweep(const std::string &axes, const std::string &more_keys = "",
                      const std::string &name_in_json = "dma") {
  return R"({"name": ")" + name_in_json + R"(", "base": {"topology": ")" + kHostTopology +
         R"(", "transfers": [{"id": "w", "initiator": "dma0", "target": "mem0", "direction": "write", "size": "1 KiB", "count": 2}]}, "axes": )" +
         axes + more_keys + "}";
}

std::string first_point_dir(const std::string &dir) {
  std::set<std::string> points;
  for (const auto &p : fs::directory_iterator(dir + "/points"))
    points.insert(p.path().string());
  return points.empty() ? "" : *points.begin();
}

std::set<std::string> entries(const std::string &dir) {
  std::set<std::string> names;
  for (const auto &p : fs::directory_iterator(dir))
    names.insert(p.path().filename().string());
  return names;
}

// The exit code of a started sweep; kills it (and fails) if it runs for over a minute.
int wait_for_sweep(pid_t pid) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ADD_FAILURE() << "the sweep did not finish within a minute";
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// --- defect 4: axes that silently override each other -------------------------------------

TEST(SweepAxes, TwoAxesOnTheSamePointerAreRefused) {
  std::string dir = make_temp_dir("sweep-axes");
  auto refused = [&](const std::string &name, const std::string &axes, const std::string &pointer) {
    std::string file = write_text(dir + "/" + name, dma_sweep(axes));
    CommandResult r = pciesim("sweep " + file + " --out " + dir + "/out");
    EXPECT_EQ(r.exit_code, 2) << name << ": " << r.err;
    EXPECT_TRUE(starts_with(r.err, file + ":" + pointer + ": ")) << r.err;
    EXPECT_FALSE(fs::exists(dir + "/out")) << name;
    return r.err;
  };
  // The issue's case: results.csv said 4 KiB and 64 KiB, both points ran 1 KiB.
  std::string err = refused("same.json", R"([
      {"name": "size", "pointer": "/transfers/0/size", "values": ["4 KiB", "64 KiB"]},
      {"name": "small", "pointer": "/transfers/0/size", "values": ["1 KiB"]}])",
                            "/axes/1/pointer");
  EXPECT_TRUE(contains(err, "\"size\"") && contains(err, "\"small\"")) << err;
  // One pointer inside the other's value.
  refused("nested.json", R"([
      {"name": "whole", "pointer": "/transfers/0", "values": [{"id": "w", "initiator": "dma0", "target": "mem0", "direction": "read", "size": "1 KiB"}]},
      {"name": "size", "pointer": ["/transfers/0/count", "/transfers/0/size"], "values": ["4 KiB"]}])",
          "/axes/1/pointer/0");
  // The same value, once by index and once by id.
  refused("by-id.json", R"([
      {"name": "size", "pointer": "/transfers/0/size", "values": ["4 KiB"]},
      {"name": "small", "pointer": "/transfers[id=w]/size", "values": ["1 KiB"]}])",
          "/axes/1/pointer");
  // Within one axis's list of pointers.
  refused(
      "within.json",
      R"([{"name": "size", "pointer": ["/transfers/0/size", "/transfers/0/size"], "values": ["4 KiB"]}])",
      "/axes/0/pointer/1");
  // A scenario pointer into an inline topology and a topology axis on the same value.
  std::string inline_sweep =
      R"({"base": {"topology": )" + read_file(kHostTopology) +
      R"(, "transfers": [{"id": "w", "initiator": "dma0", "target": "mem0", "direction": "write", "size": "1 KiB"}]},
      "axes": [{"name": "g", "pointer": "/topology/links/0/params/gen", "values": [3]},
               {"name": "gen", "document": "topology", "pointer": "/links/0/params", "values": [{"gen": 4, "width": 8}]}]})";
  std::string file = write_text(dir + "/cross.json", inline_sweep);
  CommandResult r = pciesim("validate " + file);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(starts_with(r.err, file + ":/axes/1/pointer: ")) << r.err;
}

TEST(SweepAxes, OverlapIsDecidedAtPointerTokenBoundaries) {
  EXPECT_TRUE(json_pointers_overlap("/a/b", "/a/b"));
  EXPECT_TRUE(json_pointers_overlap("/a/b", "/a/b/c"));
  EXPECT_TRUE(json_pointers_overlap("/a/b/c", "/a/b"));
  EXPECT_FALSE(json_pointers_overlap("/a/b", "/a/bc"));
  EXPECT_FALSE(json_pointers_overlap("/a/bc", "/a/b"));
  EXPECT_FALSE(json_pointers_overlap("/a/b", "/a/c"));
  EXPECT_FALSE(json_pointers_overlap("/a~1b", "/a/b")); // the key "a/b" is not under "a"
  EXPECT_TRUE(json_pointers_overlap("/transfers/1", "/transfers/1/size"));
  EXPECT_FALSE(json_pointers_overlap("/transfers/1", "/transfers/10/size"));
}

TEST(SweepAxes, AxesOnValuesTheSweepSetsItselfAreRefused) {
  std::string dir = make_temp_dir("sweep-axes");
  // "seeds" sets /seed: an axis on it (whatever its name) would be overwritten.
  std::string seeded = write_text(
      dir + "/seeded.json",
      dma_sweep(R"([{"name": "s", "pointer": "/seed", "values": [1, 2]}])", R"(, "seeds": [5])"));
  CommandResult r = pciesim("sweep " + seeded + " --out " + dir + "/out");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(starts_with(r.err, seeded + ":/axes/0/pointer: ")) << r.err;
  EXPECT_TRUE(contains(r.err, "seeds")) << r.err;
  EXPECT_FALSE(fs::exists(dir + "/out"));
  // Without "seeds" an axis on /seed is the way to choose seeds.
  std::string unseeded =
      write_text(dir + "/unseeded.json",
                 dma_sweep(R"([{"name": "s", "pointer": "/seed", "values": [1, 2]}])"));
  r = pciesim("validate " + unseeded);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // Every point's name is set by the sweep.
  std::string named =
      write_text(dir + "/named.json",
                 dma_sweep(R"([{"name": "n", "pointer": "/name", "values": ["a", "b"]}])"));
  r = pciesim("sweep " + named + " --out " + dir + "/out");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(starts_with(r.err, named + ":/axes/0/pointer: ")) << r.err;
  EXPECT_FALSE(fs::exists(dir + "/out"));
}

// --- defect 22 (part): axis names that are already result columns --------------------------

TEST(SweepAxes, AxisNamesThatAreResultColumnsAreRefused) {
  std::string dir = make_temp_dir("sweep-axes");
  for (const char *column : {"status", "point", "bandwidth_GBps", "error"}) {
    std::string file =
        write_text(dir + "/" + column + ".json",
                   dma_sweep(std::string(R"([{"name": ")") + column +
                             R"(", "pointer": "/transfers/0/size", "values": ["1 KiB"]}])"));
    CommandResult r = pciesim("sweep " + file + " --out " + dir + "/out");
    EXPECT_EQ(r.exit_code, 2) << column << ": " << r.err;
    EXPECT_TRUE(starts_with(r.err, file + ":/axes/0/name: ")) << r.err;
    EXPECT_TRUE(contains(r.err, "results.csv")) << r.err;
    EXPECT_FALSE(fs::exists(dir + "/out"));
  }
  // mechanisms.csv's columns count only for a workload sweep, which writes that file.
  std::string workload = write_text(
      dir + "/workload.json", R"({"base": ")" + kSource + R"(/scenarios/nic-reuse-crossover.json",
        "axes": [{"name": "mechanism", "pointer": "/seed", "values": [1]}]})");
  CommandResult r = pciesim("validate " + workload);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(starts_with(r.err, workload + ":/axes/0/name: ")) << r.err;
  EXPECT_TRUE(contains(r.err, "mechanisms.csv")) << r.err;
  std::string topology = write_text(
      dir + "/topology.json",
      dma_sweep(R"([{"name": "topology", "pointer": "/transfers/0/size", "values": ["1 KiB"]}])"));
  EXPECT_EQ(pciesim("validate " + topology).exit_code, 0);
}

// --- defect 5: --resume and merge of results made from other inputs -----------------------

// A sweep in `dir` whose base scenario and topology are files there, so the test can edit them.
std::string write_file_based_sweep(const std::string &dir) {
  fs::copy_file(kHostTopology, dir + "/topo.json");
  write_text(dir + "/base.json", R"({"topology": "topo.json", "transfers": [
      {"id": "w", "initiator": "dma0", "target": "mem0", "direction": "write", "size": "1 KiB", "count": 2}]})");
  return write_text(dir + "/sweep.json", R"({"name": "files", "base": "base.json", "axes": [
      {"name": "size", "pointer": "/transfers/0/size", "values": ["1 KiB", "4 KiB"]}]})");
}

void replace_in_file(const std::string &path, const std::string &from, const std::string &to) {
  std::string text = read_file(path);
  ASSERT_NE(text.find(from), std::string::npos) << path << " lacks " << from;
  text.replace(text.find(from), from.size(), to);
  write_text(path, text);
}

TEST(SweepResume, RefusesInputsThatChangedSinceTheSweepStarted) {
  std::string dir = make_temp_dir("sweep-resume");
  std::string sweep = write_file_based_sweep(dir);
  std::string out = dir + "/out";
  ASSERT_EQ(pciesim("sweep " + sweep + " --quiet --out " + out).exit_code, 0);
  std::string csv = read_file(out + "/results.csv");
  std::string point = first_point_dir(out);
  fs::remove(point + "/done");

  auto refused_naming = [&](const std::string &file) {
    CommandResult r = pciesim("sweep " + sweep + " --resume --out " + out);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_TRUE(contains(r.err, file)) << r.err;
    EXPECT_TRUE(contains(r.err, "changed")) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(point + "/done")) << "the point ran from the changed input";
    EXPECT_EQ(read_file(out + "/results.csv"), csv);
  };
  // The issue's case: `count` edited in the base scenario.
  replace_in_file(dir + "/base.json", "\"count\": 2", "\"count\": 3");
  refused_naming("base.json");
  replace_in_file(dir + "/base.json", "\"count\": 3", "\"count\": 2");
  // A topology file the base names.
  replace_in_file(dir + "/topo.json", "\"gen\": 3", "\"gen\": 4");
  refused_naming("topo.json");
  replace_in_file(dir + "/topo.json", "\"gen\": 4", "\"gen\": 3");
  // The sweep file itself, in a way that changes no point.
  replace_in_file(sweep, "\"name\": \"files\",", "\"name\": \"files\", \"description\": \"\",");
  refused_naming("sweep.json");
  replace_in_file(sweep, "\"name\": \"files\", \"description\": \"\",", "\"name\": \"files\",");

  // Back to the original inputs, the resume runs the one missing point.
  CommandResult r = pciesim("sweep " + sweep + " --resume --out " + out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "ran 1 points (1 already done)")) << r.err;
  EXPECT_EQ(read_file(out + "/results.csv"), csv);
  // The manifest records every input by its path relative to the sweep file.
  auto manifest = nlohmann::json::parse(read_file(out + "/sweep-manifest.json"));
  std::set<std::string> files;
  for (const auto &input : manifest["inputs"]["files"])
    files.insert(input["file"].get<std::string>());
  EXPECT_EQ(files, (std::set<std::string>{"sweep.json", "base.json", "topo.json"}));
  EXPECT_EQ(manifest["inputs"]["pciesim_version"], PCIESIM_VERSION);
  EXPECT_FALSE(manifest["inputs"]["executable"].get<std::string>().empty());
}

TEST(SweepRebuild, EveryPointRunsTheProgramTheSweepStartedWith) {
  // A sweep started its points by its program's path: rebuilt in the middle of a sweep (a new
  // file renamed over the old one, as a linker does), the later points ran the new build into
  // the same results, or failed where the name had gone. Each point now runs the very file
  // the sweep was started from.
  const std::string dir = make_temp_dir("sweep-rebuild");
  const std::string program = dir + "/pciesim";
  fs::copy_file(PCIESIM_BINARY, program);
  // Four points one at a time, the 64 KiB ones some tenths of a second each.
  const std::string sweep =
      "timeout 300 " + program + " sweep " + kTiny + " -j 1 --set /transfers/0/count=20000 --out ";
  CommandResult reference = run_command(sweep + dir + "/reference");
  ASSERT_EQ(reference.exit_code, 0) << reference.err;
  write_text(dir + "/rebuilt", "#!/bin/sh\nexit 3\n");
  fs::permissions(dir + "/rebuilt", fs::perms::owner_all);
  // The new file takes the name once the first point is done (its done marker written), or
  // after 30 s at the most.
  CommandResult r = run_command("(" + sweep + dir + "/during & i=0; until ls " + dir +
                                "/during/points/*/done >/dev/null 2>&1 || [ $i -ge 3000 ]; do "
                                "sleep 0.01; i=$((i + 1)); done; mv " +
                                dir + "/rebuilt " + program + "; wait $!)");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  expect_same_results(dir + "/reference", dir + "/during");
}

TEST(SweepResume, InputHashesAreSha256) {
  // FIPS 180-4 examples, including a message that needs a second padding block.
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(executable_identity(), executable_identity());
  EXPECT_FALSE(executable_identity().empty());
}

TEST(SweepMerge, RefusesShardsBuiltFromDifferentInputs) {
  std::string dir = make_temp_dir("sweep-merge");
  std::string sweep = write_file_based_sweep(dir);
  ASSERT_EQ(pciesim("sweep " + sweep + " --shard 1/2 --quiet --out " + dir + "/a").exit_code, 0);
  replace_in_file(dir + "/base.json", "\"count\": 2", "\"count\": 3");
  ASSERT_EQ(pciesim("sweep " + sweep + " --shard 2/2 --quiet --out " + dir + "/b").exit_code, 0);
  CommandResult r = pciesim("merge " + dir + "/a " + dir + "/b --out " + dir + "/merged");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(contains(r.err, "base.json")) << r.err;
  EXPECT_FALSE(fs::exists(dir + "/merged"));
}

// --- defect 7: control characters and the Slurm script -------------------------------------

TEST(SweepSlurm, ControlCharactersInNamesAreRefused) {
  std::string dir = make_temp_dir("sweep-slurm");
  // The issue's case: a newline in the name put a command line into the script.
  std::string evil = write_text(
      dir + "/evil.json",
      dma_sweep(R"([{"name": "size", "pointer": "/transfers/0/size", "values": ["1 KiB"]}])", "",
                "evil\\ntouch " + dir + "/owned\\n#"));
  CommandResult r = pciesim("sweep " + evil + " --print-sbatch --out " + dir + "/out");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(starts_with(r.err, evil + ":/name: ")) << r.err;
  EXPECT_TRUE(contains(r.err, "U+000A")) << r.err;
  std::string axis = write_text(
      dir + "/axis.json",
      dma_sweep(
          R"([{"name": "si\u007fze", "pointer": "/transfers/0/size", "values": ["1 KiB"]}])"));
  r = pciesim("validate " + axis);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(starts_with(r.err, axis + ":/axes/0/name: ")) << r.err;
  EXPECT_TRUE(contains(r.err, "U+007F")) << r.err;
}

TEST(SweepSlurm, TheScriptHoldsOnlyItsOwnLines) {
  std::string dir = make_temp_dir("sweep-slurm");
  // Quotes, a dollar and a backslash in the name stay inside the comment, escaped as in JSON.
  std::string odd = write_text(
      dir + "/odd.json",
      dma_sweep(R"([{"name": "size", "pointer": "/transfers/0/size", "values": ["1 KiB"]}])", "",
                R"(say \"hi\" $(x) \\)"));
  CommandResult r = pciesim("sweep " + odd + " --print-sbatch --out " + dir + "/out");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "# pciesim sweep \"say \\\"hi\\\" $(x) \\\\\": 1 points")) << r.out;
  std::istringstream lines(r.out);
  std::string line;
  std::size_t count = 0;
  while (std::getline(lines, line)) {
    ++count;
    EXPECT_TRUE(starts_with(line, "#") || starts_with(line, "set -euo pipefail") ||
                starts_with(line, "exec "))
        << line;
  }
  EXPECT_EQ(count, 10u) << r.out;
  // A path with a line break cannot be written into the script's comments and #SBATCH lines.
  r = pciesim("sweep " + odd + " --print-sbatch --out \"$(printf '" + dir + "/a\\nb')\"");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "control character")) << r.err;
}

// --- defect 8: merge --out over another sweep ----------------------------------------------

TEST(SweepMerge, RefusesAnOutDirectoryThatHoldsSomethingElse) {
  std::string dir = make_temp_dir("sweep-merge");
  ASSERT_EQ(pciesim("sweep " + kTiny + " --quiet --out " + dir + "/tiny").exit_code, 0);
  std::string tiny_csv = read_file(dir + "/tiny/results.csv");
  ASSERT_EQ(pciesim("sweep " + kGrid + " --shard 1/8 --quiet --out " + dir + "/shard").exit_code,
            0);
  // The issue's case: the other sweep's manifest was replaced and its points deleted.
  CommandResult r = pciesim("merge " + dir + "/shard --out " + dir + "/tiny");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(contains(r.err, dir + "/tiny")) << r.err;
  EXPECT_EQ(done_points(dir + "/tiny"), 4u);
  EXPECT_EQ(read_file(dir + "/tiny/results.csv"), tiny_csv);
  EXPECT_EQ(nlohmann::json::parse(read_file(dir + "/tiny/sweep-manifest.json"))["sweep"], "tiny");
  // A directory that is not a sweep's at all.
  fs::create_directories(dir + "/notes");
  write_text(dir + "/notes/todo.txt", "mine\n");
  r = pciesim("merge " + dir + "/shard --out " + dir + "/notes");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(entries(dir + "/notes"), std::set<std::string>{"todo.txt"});
  // Into a new directory, and again into the same one (a merge of these shards), it works.
  EXPECT_EQ(pciesim("merge " + dir + "/shard --out " + dir + "/merged").exit_code, 1);
  EXPECT_EQ(pciesim("merge " + dir + "/shard --out " + dir + "/merged").exit_code, 1);
  EXPECT_EQ(pciesim("merge " + dir + "/shard --out " + dir + "/shard").exit_code, 1);
}

// --- defect 12: grids too large to build ---------------------------------------------------

std::string numbers(int from, int to, const std::string &unit = "") {
  std::string list;
  for (int i = from; i <= to; ++i)
    list += (list.empty() ? "" : ", ") +
            (unit.empty() ? std::to_string(i) : "\"" + std::to_string(i) + unit + "\"");
  return "[" + list + "]";
}

TEST(SweepLimits, AGridOverThePointLimitIsRefusedBeforeItIsBuilt) {
  std::string dir = make_temp_dir("sweep-limits");
  // The issue's case: a few KB of sweep file, a million valid points.
  std::string million =
      write_text(dir + "/million.json",
                 dma_sweep(R"([{"name": "count", "pointer": "/transfers/0/count", "values": )" +
                               numbers(1, 100) + R"(},
                    {"name": "size", "pointer": "/transfers/0/size", "values": )" +
                               numbers(1, 100, " KiB") + "}]",
                           R"(, "seeds": )" + numbers(0, 99)));
  auto start = std::chrono::steady_clock::now();
  CommandResult r = pciesim("sweep " + million + " --out " + dir + "/out", 20);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(starts_with(r.err, million + ":/axes: ")) << r.err;
  EXPECT_TRUE(contains(r.err, "1000000 points")) << r.err;
  EXPECT_TRUE(contains(r.err, "100000")) << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_FALSE(fs::exists(dir + "/out"));
  // A product beyond 64 bits: 20 axes of 10 values.
  std::string axes;
  for (int i = 0; i < 20; ++i)
    axes += std::string(axes.empty() ? "" : ", ") + R"({"name": "x)" + std::to_string(i) +
            R"(", "pointer": "/x)" + std::to_string(i) + R"(", "values": )" + numbers(0, 9) + "}";
  std::string huge = write_text(dir + "/huge.json", dma_sweep("[" + axes + "]"));
  r = pciesim("validate " + huge, 20);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(starts_with(r.err, huge + ":/axes: ")) << r.err;
  // A list of points repeated for every seed: 1001 points x 100 seeds.
  std::string points;
  for (int i = 0; i < 1001; ++i)
    points +=
        std::string(points.empty() ? "" : ", ") + R"({"count": )" + std::to_string(i + 1) + "}";
  std::string listed = write_text(
      dir + "/listed.json", dma_sweep(R"([{"name": "count", "pointer": "/transfers/0/count"}])",
                                      R"(, "mode": "points", "points": [)" + points +
                                          R"(], "seeds": )" + numbers(0, 99)));
  r = pciesim("validate " + listed, 20);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(starts_with(r.err, listed + ":/points: ")) << r.err;
  EXPECT_TRUE(contains(r.err, "100100 points")) << r.err;
}

// --- defect 21 (part): --shard K/N -----------------------------------------------------------

TEST(SweepShard, KOverNIsParsedStrictly) {
  std::string dir = make_temp_dir("sweep-shard");
  for (const char *bad : {"-1/4294967295", "0/3", "4/3", "1/0", "1/3x", "+1/3", "1/-3", " 1/3",
                          "1/100001", "99999999999999999999/1", "1/3/3", "/3", "1/", "1"}) {
    CommandResult r =
        pciesim("sweep " + kTiny + " --shard '" + std::string(bad) + "' --out " + dir + "/out");
    EXPECT_EQ(r.exit_code, 2) << "--shard '" << bad << "': " << r.err;
    EXPECT_TRUE(contains(r.err, "--shard")) << r.err;
    EXPECT_FALSE(fs::exists(dir + "/out")) << bad;
  }
  // The largest N: shard 1 of it has the first point only.
  CommandResult r = pciesim("sweep " + kTiny + " --shard 1/100000 --quiet --out " + dir + "/out");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(done_points(dir + "/out"), 1u);
}

// --- defect 22: two sweeps in one directory, corrupt files in it -----------------------------

TEST(SweepLock, ASecondSweepIntoARunningSweepsDirectoryIsRefused) {
  std::string dir = make_temp_dir("sweep-lock");
  std::string out = dir + "/out";
  pid_t first = start_sweep({kGrid, "-j", "1", "--quiet", "--out", out}, dir + "/first.err");
  wait_for_first_point(out);
  if (::waitpid(first, nullptr, WNOHANG) != 0)
    GTEST_SKIP() << "the first sweep finished before the others could start";
  CommandResult second = pciesim("sweep " + kGrid + " -j 2 --out " + out);
  CommandResult resumed = pciesim("sweep " + kGrid + " --resume --out " + out);
  CommandResult merged = pciesim("merge " + out + " --out " + out);
  int first_code = wait_for_sweep(first);
  for (const CommandResult *r : {&second, &resumed, &merged}) {
    EXPECT_EQ(r->exit_code, 2) << r->err;
    EXPECT_TRUE(contains(r->err, "pid " + std::to_string(first))) << r->err;
  }
  EXPECT_EQ(first_code, 0) << read_file(dir + "/first.err");
  auto results = nlohmann::json::parse(read_file(out + "/results.json"));
  EXPECT_EQ(results["summary"]["completed"], 12);
}

TEST(SweepLock, ShardsOfOneSweepStillShareADirectory) {
  std::string dir = make_temp_dir("sweep-lock");
  std::string out = dir + "/out";
  pid_t first = start_sweep({kGrid, "--shard", "1/2", "--quiet", "--out", out}, dir + "/first.err");
  CommandResult second = pciesim("sweep " + kGrid + " --shard 2/2 --quiet --out " + out);
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(wait_for_sweep(first), 0) << read_file(dir + "/first.err");
  CommandResult merged = pciesim("merge " + out + " --out " + out);
  EXPECT_EQ(merged.exit_code, 0) << merged.err;
  EXPECT_EQ(done_points(out), 12u);
}

TEST(SweepCorruption, ACorruptDoneMarkerIsRunAgainOnResume) {
  std::string dir = make_temp_dir("sweep-corrupt");
  ASSERT_EQ(pciesim("sweep " + kTiny + " --quiet --out " + dir).exit_code, 0);
  std::string csv = read_file(dir + "/results.csv");
  std::string point = first_point_dir(dir);
  write_text(point + "/done", "{\"status\": ");
  CommandResult r = pciesim("sweep " + kTiny + " --resume --out " + dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, point + "/done")) << r.err;
  EXPECT_TRUE(contains(r.err, "ran 1 points (3 already done)")) << r.err;
  EXPECT_EQ(read_file(dir + "/results.csv"), csv);
}

TEST(SweepCorruption, MergeTakesACorruptDoneMarkerForAMissingPoint) {
  std::string dir = make_temp_dir("sweep-corrupt");
  ASSERT_EQ(pciesim("sweep " + kTiny + " --quiet --out " + dir + "/a").exit_code, 0);
  std::string point = first_point_dir(dir + "/a");
  write_text(point + "/done", "[1, 2]");
  CommandResult r = pciesim("merge " + dir + "/a --out " + dir + "/merged");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, point + "/done")) << r.err;
  auto results = nlohmann::json::parse(read_file(dir + "/merged/results.json"));
  EXPECT_EQ(results["summary"]["missing"], 1);
  EXPECT_EQ(results["summary"]["completed"], 3);
}

TEST(SweepCorruption, ACorruptManifestIsABadInputNamingTheFile) {
  std::string dir = make_temp_dir("sweep-corrupt");
  std::string out = dir + "/out", manifest = out + "/sweep-manifest.json";
  ASSERT_EQ(pciesim("sweep " + kTiny + " --quiet --out " + out).exit_code, 0);
  for (const char *text : {"{\"sweep\": \"tiny\", ", "[]", "{\"sweep\": \"tiny\"}"}) {
    write_text(manifest, text);
    for (const std::string &command :
         {"sweep " + kTiny + " --resume --out " + out, "merge " + out + " --out " + dir + "/m"}) {
      CommandResult r = pciesim(command);
      EXPECT_EQ(r.exit_code, 2) << command << " with " << text << ": " << r.err;
      EXPECT_TRUE(starts_with(r.err, manifest + ":")) << r.err;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
  }
  EXPECT_FALSE(fs::exists(dir + "/m"));
}

TEST(SweepLinks, NoWriteLeavesTheSweepDirectoryThroughALink) {
  // A symbolic link in a sweep's directory was written through: sweep-info.json replaced the
  // file it named, a point's stderr.txt truncated and refilled it.
  std::string dir = make_temp_dir("sweep-links"), out = dir + "/out";
  write_text(dir + "/precious.txt", "mine\n");
  ASSERT_EQ(pciesim("sweep " + kTiny + " --quiet --out " + out).exit_code, 0);
  std::string point = first_point_dir(out);
  fs::remove(point + "/done");
  fs::remove(point + "/stderr.txt");
  fs::create_symlink(dir + "/precious.txt", point + "/stderr.txt");
  CommandResult r = pciesim("sweep " + kTiny + " --quiet --resume --out " + out);
  EXPECT_EQ(r.exit_code, 1) << r.err; // the point fails, naming the link
  EXPECT_TRUE(contains(r.err, point + "/stderr.txt: a symbolic link stands there")) << r.err;
  EXPECT_EQ(read_file(dir + "/precious.txt"), "mine\n");

  fs::remove(point + "/stderr.txt");
  fs::remove(out + "/sweep-info.json");
  fs::create_symlink(dir + "/precious.txt", out + "/sweep-info.json");
  for (const std::string &command :
       {"sweep " + kTiny + " --quiet --resume --out " + out, "merge " + out + " --out " + out}) {
    r = pciesim(command);
    EXPECT_EQ(r.exit_code, 2) << command << ": " << r.err;
    EXPECT_TRUE(starts_with(r.err, out + "/sweep-info.json:/: is a symbolic link (to ")) << r.err;
  }
  EXPECT_EQ(read_file(dir + "/precious.txt"), "mine\n");
  EXPECT_FALSE(fs::exists(point + "/stderr.txt")); // refused before any point ran
}

} // namespace
} // namespace pciesim::test
