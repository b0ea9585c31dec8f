// `pciesim run --trace` and `--vcd`: the trace obeys the structural rules of Chrome trace-event
// JSON that Perfetto relies on (the Trace Event Format; Perfetto's "Visualizing external trace
// formats"), is the same bytes every run,
// and does not change results; the VCD is accepted by GTKWave's vcd2fst and shows traffic.
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

TEST(Trace, VcdIsAcceptedByVcd2fstAndShowsTrafficOnEveryBusyLink) {
  std::string dir = make_temp_dir("trace");
  std::string scenario = small_scenario(dir);
  CommandResult plain = run_pciesim("run " + scenario + " --json");
  CommandResult r = run_pciesim("run " + scenario + " --json --vcd " + dir + "/w.vcd");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(plain.out, r.out);
  std::string vcd = read_file(dir + "/w.vcd");
  ASSERT_NE(vcd.find("$timescale"), std::string::npos);
  // Same run, same bytes: SystemC's wall-clock date is blanked out of the header.
  CommandResult again = run_pciesim("run " + scenario + " --json --vcd " + dir + "/w2.vcd");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(read_file(dir + "/w2.vcd"), vcd);
  EXPECT_EQ(vcd.rfind("$date", 0), 0u);
  EXPECT_EQ(vcd.find_first_not_of(" \n", 5), vcd.find("$end"));
  ASSERT_NE(vcd.find("1 ps"), std::string::npos);

  // Map each variable's id to its dotted path.
  std::istringstream in(vcd);
  std::string line;
  std::vector<std::string> scope;
  std::map<std::string, std::string> path_of;
  std::map<std::string, int> rises; // id -> number of 0->1 changes
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
    } else if (w == "$enddefinitions") {
      body = true;
    } else if (body && !w.empty() && w[0] == '1') {
      ++rises[w.substr(1)];
    }
  }
  nlohmann::json results = nlohmann::json::parse(r.out);
  std::size_t index = 0;
  for (const auto &l : results["links"]) {
    std::string path = "SystemC.link" + std::to_string(index / 2) + "." +
                       vcd_identifier(l["from"]) + "_to_" + vcd_identifier(l["to"]) + ".busy";
    ++index;
    std::string id;
    for (const auto &[i, p] : path_of)
      if (p == path)
        id = i;
    ASSERT_FALSE(id.empty()) << "no signal " << path;
    if (tlps_of(l) > 0)
      EXPECT_GT(rises[id], 0) << path << " carried traffic but never went busy";
    else
      EXPECT_EQ(rises[id], 0) << path;
  }

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
