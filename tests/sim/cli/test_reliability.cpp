// Reliability of the simulation core as a careless or hostile user meets it: messages that stay
// on one line whatever they quote, time that always advances, runs that say what holds them up,
// and results that do not depend on where the run was started from (docs/reliability.md).
#include <algorithm>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/util/input_error.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

std::string write_temp_file(const std::string &dir, const std::string &name,
                            const std::string &text) {
  std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::size_t line_count(const std::string &text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

TEST(Reliability, ControlCharactersAreEscapedInMessages) {
  EXPECT_EQ(printable_on_one_line("a\nb\rc\td\x1b[2J\x7f"), "a\\nb\\rc\\td\\u001b[2J\\u007f");
  InputError e("dir/odd\nname.json", "/x", "a problem with \"line\nbreak\"", "one line");
  EXPECT_EQ(std::string(e.what()),
            "dir/odd\\nname.json:/x: a problem with \"line\\nbreak\" (expected one line)");
}

TEST(Reliability, AKeyOrFileNameWithALineBreakGivesOneLine) {
  std::string dir = make_temp_dir("reliability");
  // A key holding a newline: once two lines on stderr, the second starting mid-message.
  std::string topology =
      write_temp_file(dir, "odd\nname.json", R"({"name": "t", "comp\nonents": [], "links": []})");
  CommandResult r = run_pciesim("validate '" + topology + "'");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(line_count(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("odd\\nname.json:/comp\\nonents: a key with a control character (U+000A)"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(r.out.empty());
}

// 1 B accesses to device memory with no latency and more than 2 TB/s once took 0 ps each:
// simulated time stood still, so the run never reached its limit, and 0 GB/s was reported.
std::string fast_local_scenario(const std::string &count, const std::string &max_sim_time) {
  return R"({"name": "fast-local", "max_sim_time": ")" + max_sim_time + R"(", "topology": {
    "components": [
      {"id": "rc0", "type": "root_complex", "params": {"root_ports": 1}},
      {"id": "mem0", "type": "host_memory", "root_complex": "rc0"},
      {"id": "gpu0", "type": "gpu",
       "params": {"memory_latency": "0 ps", "memory_bandwidth": "5000 GB/s"}}],
    "links": [{"between": ["rc0.rp0", "gpu0"]}]},
    "transfers": [{"id": "local", "initiator": "gpu0", "target": "gpu0", "direction": "write",
                   "size": "1 B", "count": )" +
         count + "}]}";
}

TEST(Reliability, EveryAccessAdvancesSimulatedTime) {
  nlohmann::json result = simulate_in_child(fast_local_scenario("1000", "1 s"));
  ASSERT_EQ(result["status"], "completed") << result.dump();
  const nlohmann::json &t = transfer(result, "local");
  // Each 1 B access keeps the memory busy for at least 1 ps, one after another.
  EXPECT_GE(result["sim_time_ns"].get<double>(), 1.0);
  EXPECT_GT(t["bandwidth_GBps"].get<double>(), 0.0);
  EXPECT_LE(t["bandwidth_GBps"].get<double>(), 1000.0); // 1 B per ps at most
}

TEST(Reliability, ABillionTinyAccessesStopAtTheTimeLimit) {
  std::string dir = make_temp_dir("reliability");
  std::string scenario =
      write_temp_file(dir, "fast.json", fast_local_scenario("1000000000", "20 ns"));
  CommandResult r = run_command("timeout 60 " + std::string(PCIESIM_BINARY) + " run " + scenario);
  EXPECT_EQ(r.exit_code, 3) << r.err; // not 124: the run stopped itself at 20 ns
  EXPECT_NE(r.err.find("reached the limit of 20 ns"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("transfer local: "), std::string::npos) << r.err;
}

TEST(Reliability, ARunThatCannotStartATransferSaysWhatWaitsOnWhat) {
  std::string dir = make_temp_dir("reliability");
  std::string scenario = write_temp_file(dir, "late.json", R"({
    "name": "late", "max_sim_time": "1 ms",
    "topology": ")" + std::string(PCIESIM_SOURCE_DIR) + R"(/topologies/host-dma-gen3x8.json",
    "transfers": [
      {"id": "first", "initiator": "dma0", "target": "mem0", "direction": "read", "size": "4 KiB"},
      {"id": "late", "initiator": "dma0", "target": "mem0", "direction": "read", "size": "4 KiB",
       "start_at": "5 ms"},
      {"id": "after-late", "initiator": "dma0", "target": "mem0", "direction": "read",
       "size": "4 KiB", "start_after": "late"}]})");
  CommandResult r = run_pciesim("run " + scenario);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("reached the limit of 1 ms"), std::string::npos) << r.err;
  // The run was simulated, idle, up to its limit: not "0.889 us" next to "the limit of 1 ms".
  EXPECT_NE(r.err.find("simulated 1000.000 us"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("transfer late: not started: due to start at 5 ms (start_at 5 ms), "
                       "beyond the time limit of 1 ms"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("transfer after-late: not started: waits for transfer late to finish"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("transfer first:"), std::string::npos) << r.err; // it finished
}

// start_after with several ids: the transfer starts start_at after the last of them ends, and
// a stall names those still running.
TEST(Reliability, ATransferAfterSeveralStartsWhenTheLastEnds) {
  std::string dir = make_temp_dir("reliability");
  std::string topology = std::string(PCIESIM_SOURCE_DIR) + "/topologies/host-dma-gen3x8.json";
  std::string scenario = write_temp_file(dir, "pair.json", R"({
    "name": "pair", "topology": ")" + topology + R"(",
    "transfers": [
      {"id": "short", "initiator": "dma0", "target": "mem0", "direction": "read", "size": "4 KiB"},
      {"id": "long", "initiator": "dma0", "target": "mem0", "direction": "write", "size": "64 KiB",
       "start_at": "1 us"},
      {"id": "next", "initiator": "dma0", "target": "mem0", "direction": "read", "size": "4 KiB",
       "start_after": ["long", "short"], "start_at": "100 ns"}]})");
  CommandResult r = run_pciesim("run " + scenario + " --json --out " + dir + "/out");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json results = nlohmann::json::parse(r.out);
  auto transfer = [&](const char *id) {
    for (const auto &t : results["transfers"])
      if (t["id"] == id)
        return t;
    return nlohmann::json();
  };
  const double short_end = transfer("short")["end_ns"], long_end = transfer("long")["end_ns"];
  ASSERT_LT(short_end, long_end);
  EXPECT_DOUBLE_EQ(transfer("next")["start_ns"].get<double>(), long_end + 100);
  EXPECT_EQ(results["config"]["transfers"][2]["start_after"], nlohmann::json({"long", "short"}));

  std::string stalled = write_temp_file(dir, "stalled.json",
                                        R"({
    "name": "stalled", "max_sim_time": "1 ms", "topology": ")" +
                                            topology + R"(",
    "transfers": [
      {"id": "first", "initiator": "dma0", "target": "mem0", "direction": "read", "size": "4 KiB"},
      {"id": "late", "initiator": "dma0", "target": "mem0", "direction": "read", "size": "4 KiB",
       "start_at": "5 ms"},
      {"id": "later", "initiator": "dma0", "target": "mem0", "direction": "read", "size": "4 KiB",
       "start_at": "6 ms"},
      {"id": "after", "initiator": "dma0", "target": "mem0", "direction": "read",
       "size": "4 KiB", "start_after": ["first", "late", "later"]}]})");
  r = run_pciesim("run " + stalled);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("transfer after: not started: waits for transfers late and later to "
                       "finish"),
            std::string::npos)
      << r.err;
}

TEST(Reliability, ResultsDoNotDependOnTheWorkingDirectory) {
  std::string a = make_temp_dir("reliability"), b = make_temp_dir("reliability");
  std::string source = PCIESIM_SOURCE_DIR;
  CommandResult from_root = run_command("cd " + source + " && " + PCIESIM_BINARY +
                                        " run scenarios/fabric-mix.json --quiet --out " + a);
  CommandResult from_scenarios = run_command("cd " + source + "/scenarios && " + PCIESIM_BINARY +
                                             " run ./fabric-mix.json --quiet --out " + b);
  ASSERT_EQ(from_root.exit_code, 0) << from_root.err;
  ASSERT_EQ(from_scenarios.exit_code, 0) << from_scenarios.err;
  std::string x = read_file(a + "/results.json"), y = read_file(b + "/results.json");
  EXPECT_FALSE(x.empty());
  EXPECT_EQ(x, y);
  nlohmann::json j = nlohmann::json::parse(x);
  std::string topology = j["config"]["topology_source"];
  EXPECT_EQ(topology.front(), '/') << topology;
  EXPECT_EQ(topology.find("/../"), std::string::npos) << topology;
}

} // namespace
} // namespace pciesim::test
