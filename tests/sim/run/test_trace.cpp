// `pciesim run --trace` and `--vcd`: the trace obeys the structural rules of Chrome trace-event
// JSON that Perfetto relies on (the Trace Event Format; Perfetto's "Visualizing external trace
// formats"), is the same bytes every run,
// and does not change results; the VCD is accepted by GTKWave's vcd2fst and shows traffic.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <sys/stat.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "models/dma/dma_engine.h"
#include "sim/run/trace.h"
#include "tests/support/sim_harness.h"
#include "tests/support/trace_check.h"

namespace pciesim::test {
namespace {

// nic-gpu-rdma with 4 messages each way instead of 64: small, and both directions busy.
std::string small_scenario(const std::string &dir) {
  nlohmann::json s =
      nlohmann::json::parse(read_repo_file("scenarios/nic-gpu-rdma.json"), nullptr, true, true);
  s["topology"] = std::string(PCIESIM_SOURCE_DIR) + "/topologies/gpu-nic-shared-switch.json";
  for (auto &t : s["transfers"])
    t["count"] = 4;
  s.erase("expect");
  std::string path = dir + "/small.json";
  std::ofstream(path) << s.dump(2);
  return path;
}

std::uint64_t tlps_of(const nlohmann::json &link) {
  std::uint64_t n = 0;
  for (const auto &item : link["tlps"].items())
    n += item.value().get<std::uint64_t>();
  return n;
}

TEST(Trace, ChromeJsonObeysTheStructuralRulesAndIsDeterministic) {
  std::string dir = make_temp_dir("trace");
  std::string scenario = small_scenario(dir);
  std::string printed = run_untraced_and_traced(scenario, "", dir + "/a.json");
  ASSERT_FALSE(printed.empty());
  CommandResult b = run_pciesim("run " + scenario + " --quiet --trace " + dir + "/b.json");
  ASSERT_EQ(b.exit_code, 0) << b.err;

  std::string text = read_file(dir + "/a.json");
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text, read_file(dir + "/b.json")) << "the trace differs between two runs";
  nlohmann::json trace = nlohmann::json::parse(text);
  std::map<std::string, int> phases;
  check_trace_structure(trace, phases);
  nlohmann::json results = nlohmann::json::parse(printed);
  std::uint64_t tlps = 0;
  for (const auto &l : results["links"])
    tlps += tlps_of(l);
  EXPECT_EQ(phases["X"], static_cast<int>(tlps)) << "one X per TLP per hop";
  // 8 transfers plus the 2 whole-stream slices.
  EXPECT_EQ(phases["b"], 10);
  EXPECT_GT(phases["C"], 0);
  EXPECT_FALSE(trace["otherData"]["capped"].get<bool>());
  // No temporary file is left next to the trace.
  for (const auto &entry : std::filesystem::directory_iterator(dir))
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
}

TEST(Trace, CapKeepsPairsAndSaysSo) {
  std::string dir = make_temp_dir("trace");
  std::string scenario = small_scenario(dir);
  CommandResult r = run_pciesim("run " + scenario + " --quiet --trace-max-events 100 --trace " +
                                dir + "/capped.json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json trace = nlohmann::json::parse(read_file(dir + "/capped.json"));
  std::map<std::string, int> phases;
  check_trace_structure(trace, phases);
  EXPECT_LE(phases["X"] + phases["b"] - 2, 100); // the 2 whole-stream slices are not capped
  EXPECT_TRUE(trace["otherData"]["capped"].get<bool>());
  int capped = 0;
  for (const auto &e : trace["traceEvents"])
    if (e["ph"] == "i" && e["name"] == "trace capped")
      ++capped;
  EXPECT_EQ(capped, 1);
}

TEST(Trace, RefusedTransferIsAnInstant) {
  // A peer write Linux's p2pdma refuses (NOT_SUPPORTED): GPU and NIC on two root ports of a
  // host bridge that is not on the allow-list.
  std::string dir = make_temp_dir("trace");
  nlohmann::json topology = nlohmann::json::parse(
      read_file(std::string(PCIESIM_SOURCE_DIR) + "/topologies/gpu-nic-root-ports-other.json"));
  nlohmann::json refused = {{"topology", topology},
                            {"transfers", nlohmann::json::array({{{"id", "dev2-write-dev0"},
                                                                  {"initiator", "nic0"},
                                                                  {"target", "gpu0"},
                                                                  {"direction", "write"},
                                                                  {"size", "64 KiB"}}})}};
  std::string scenario = dir + "/refused.json";
  {
    std::ofstream out(scenario);
    out << refused.dump();
  }
  CommandResult r = run_pciesim("run " + scenario + " --quiet --trace-max-events 1000 --trace " +
                                dir + "/d.json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json trace = nlohmann::json::parse(read_file(dir + "/d.json"));
  std::map<std::string, int> phases;
  check_trace_structure(trace, phases);
  bool found = false;
  for (const auto &e : trace["traceEvents"])
    if (e["ph"] == "i" && e["name"] == "not supported" &&
        e["args"]["transfer"] == "dev2-write-dev0")
      found = true;
  EXPECT_TRUE(found);
}

TEST(Trace, FailedTransfersAndModelInstantsAreOnTheirComponentsTrack) {
  // No shipped input makes a completer refuse a request at run time, so drive the recorder
  // as the engine would; instant() is the API later faults and migrations use.
  std::string text = run_in_child([] {
    EventCalendar calendar;
    TlpPool pool;
    SimContext context{calendar, pool};
    DmaEngine engine("nic0", DmaEngineParams{}, DmaEngineWiring{}, context);
    TraceRecorder trace("unit");
    int pid = trace.add_process("nic0");
    int tid = trace.add_thread(pid, "transfer w");
    trace.watch_stream(engine, 0, pid, tid, "w");
    trace.transfer_started(engine, 0, 0, 1000);
    trace.transfer_started(engine, 0, 1, 1500);
    trace.transfer_failed(engine, 0, 0, "Unsupported Request: refused", 2000);
    trace.transfer_finished(engine, 0, 0, 3000, true);
    trace.instant("nic0", "page fault", 2500, {{"address", "0x1000"}});
    // Transfer 1 and the stream never end: finish() closes them where the run stopped.
    return trace.finish(4000);
  });
  nlohmann::json trace = nlohmann::json::parse(text);
  std::map<std::string, int> phases;
  check_trace_structure(trace, phases);
  EXPECT_EQ(phases["b"], 3);
  EXPECT_EQ(phases["e"], 3);
  std::set<std::string> instants;
  for (const auto &e : trace["traceEvents"])
    if (e["ph"] == "i") {
      instants.insert(e["name"].get<std::string>());
      EXPECT_EQ(e["pid"], 1);
    }
  EXPECT_EQ(instants, (std::set<std::string>{"transfer failed", "page fault"}));
}

std::string vcd_identifier(std::string s) {
  for (char &c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)))
      c = '_';
  return s;
}

// The VCD path of what a port sends: "gpu0.up" -> "gpu0.up.tx_<what>".
std::string vcd_path(const std::string &port, const std::string &what) {
  std::string path;
  for (std::size_t start = 0;;) {
    std::size_t dot = port.find('.', start);
    path += vcd_identifier(port.substr(start, dot - start)) + ".";
    if (dot == std::string::npos)
      break;
    start = dot + 1;
  }
  return path + "tx_" + what;
}

TEST(Trace, VcdIsAcceptedByVcd2fstAndShowsTrafficOnEveryBusyLink) {
  std::string dir = make_temp_dir("trace");
  std::string scenario = small_scenario(dir);
  CommandResult plain = run_pciesim("run " + scenario + " --json");
  CommandResult r = run_pciesim("run " + scenario + " --json --vcd " + dir + "/w.vcd");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(plain.out, r.out);
  std::string vcd = read_file(dir + "/w.vcd");
  // Same run, same bytes: no wall-clock date in the header.
  CommandResult again = run_pciesim("run " + scenario + " --json --vcd " + dir + "/w2.vcd");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(read_file(dir + "/w2.vcd"), vcd);
  EXPECT_EQ(vcd.rfind("$version pciesim", 0), 0u);
  EXPECT_EQ(vcd.find("$date"), std::string::npos);
  ASSERT_NE(vcd.find("$timescale 1 ps $end"), std::string::npos);

  // Each variable's dotted path, type and width by its id; each id's value changes.
  std::istringstream in(vcd);
  std::string line;
  std::vector<std::string> scope;
  std::map<std::string, std::string> path_of, type_of;
  std::map<std::string, std::vector<std::string>> values; // id -> values in order
  std::map<std::string, std::string> last_time_of;        // id -> time of its last change
  std::string time;
  bool body = false;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string w;
    words >> w;
    if (w == "$scope") {
      std::string kind, name;
      words >> kind >> name;
      scope.push_back(name);
    } else if (w == "$upscope") {
      scope.pop_back();
    } else if (w == "$var") {
      std::string type, width, id, name;
      words >> type >> width >> id >> name;
      std::string p;
      for (const std::string &s : scope)
        p += s + ".";
      path_of[id] = p + name;
      type_of[id] = type + " " + width;
    } else if (w == "$enddefinitions") {
      body = true;
    } else if (body && !w.empty() && w[0] == '#') {
      time = w;
    } else if (body && !w.empty() && (w[0] == '0' || w[0] == '1' || w[0] == 'b')) {
      std::string id, value = w;
      if (w[0] == 'b')
        words >> id;
      else
        id = w.substr(1), value = w.substr(0, 1);
      values[id].push_back(value);
      if (time != "#0") { // one change per signal and time: a glitch is not a change
        EXPECT_NE(last_time_of[id], time) << path_of[id] << " changed twice at " << time;
      }
      last_time_of[id] = time;
    }
  }
  auto id_of = [&](const std::string &path) {
    for (const auto &[i, p] : path_of)
      if (p == path)
        return i;
    return std::string();
  };
  nlohmann::json results = nlohmann::json::parse(r.out);
  std::size_t busy_links = 0;
  for (const auto &l : results["links"]) {
    std::string busy = id_of(vcd_path(l["from"], "busy"));
    std::string depth = id_of(vcd_path(l["from"], "queue_depth"));
    if (tlps_of(l) == 0) {
      // A direction that never carried a TLP never changed: it is left out.
      EXPECT_TRUE(busy.empty()) << vcd_path(l["from"], "busy");
      continue;
    }
    ++busy_links;
    ASSERT_FALSE(busy.empty()) << "no signal " << vcd_path(l["from"], "busy");
    EXPECT_EQ(type_of[busy], "wire 1");
    EXPECT_GE(std::count(values[busy].begin(), values[busy].end(), "1"), 1)
        << vcd_path(l["from"], "busy") << " carried traffic but never went busy";
    // Consecutive values differ: only changes are written.
    for (std::size_t k = 1; k < values[busy].size(); ++k)
      EXPECT_NE(values[busy][k], values[busy][k - 1]) << vcd_path(l["from"], "busy");
    if (!depth.empty()) {
      EXPECT_EQ(type_of[depth], "integer 32"); // GTKWave shows integers in decimal
    }
  }
  EXPECT_GE(busy_links, 2u);
  // Nothing but the senders' tx_ signals: a receiving port's view is its partner's tx.
  for (const auto &[id, path] : path_of)
    EXPECT_NE(path.find(".tx_"), std::string::npos) << path;

  if (std::system("command -v vcd2fst >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "vcd2fst (Debian package gtkwave) is not installed; run "
                    "scripts/install-deps.sh to check the VCD with it";
  std::string cmd = "vcd2fst " + dir + "/w.vcd " + dir + "/w.fst >/dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  struct stat st {};
  EXPECT_EQ(::stat((dir + "/w.fst").c_str(), &st), 0);
  EXPECT_GT(st.st_size, 0);
}

} // namespace
} // namespace pciesim::test
