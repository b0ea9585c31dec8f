// Mechanism steps in `pciesim run --trace`, and `--trace-window`: a traced hmm_migrate workload
// shows its ODP faults, GPU fault batches, migrations (collect, copy-engine setup, copy,
// finalize), TLB shootdowns and notifier invalidations as slices on the track of the actor that
// did them, in the order the kernel runs them, adding up to the time breakdown of the results;
// tracing changes no result; a window keeps exactly the events that overlap it; a bad window
// is one line and exit 2.
#include <algorithm>
#include <cstdint>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "models/os/os_kernel.h"
#include "sim/run/trace.h"
#include "tests/support/probe_endpoint.h"
#include "tests/support/sim_harness.h"
#include "tests/support/trace_check.h"

namespace pciesim::test {
namespace {

// The default scenario's question, small: the GPU writes a 256 KiB buffer, the NIC sends it,
// twice, under hmm_migrate on the shared switch. The first send faults every page to RAM; the
// second write faults them back to the GPU, zapping the NIC's mappings on the way.
std::string hmm_scenario(const std::string &dir) {
  nlohmann::json phase = {{"buffer", "buf"}, {"access_size", "64 KiB"}};
  nlohmann::json produce = phase, send = phase;
  produce.update({{"id", "produce"}, {"actor", "gpu0"}, {"op", "write"}});
  send.update({{"id", "send"}, {"actor", "nic0"}, {"op", "read"}, {"concurrency", 4}});
  nlohmann::json s = {
      {"name", "hmm-trace"},
      {"topology", std::string(PCIESIM_SOURCE_DIR) + "/topologies/gpu-nic-shared-switch.json"},
      {"workload",
       {{"mechanisms", {"hmm_migrate"}},
        {"buffers", {{{"id", "buf"}, {"gpu", "gpu0"}, {"size", "256 KiB"}}}},
        {"iterations", 2},
        // One NIC fault at a time, so that no two steps' intervals overlap (below).
        {"costs", {{"odp_fault_workers", 1}}},
        {"phases", {produce, send}}}}};
  std::string path = dir + "/hmm.json";
  std::ofstream(path) << s.dump(2);
  return path;
}

struct Slice {
  std::string process, thread, name, category;
  std::int64_t start_ns = 0, end_ns = 0;
  nlohmann::json args;
};

// The mechanism-step slices of a trace (X events that are not TLPs), in time order, with the
// names of their process and thread.
std::vector<Slice> step_slices(const nlohmann::json &trace) {
  std::map<int, std::string> process;
  std::map<std::pair<int, int>, std::string> thread;
  for (const auto &e : trace["traceEvents"])
    if (e["ph"] == "M" && e["name"] == "process_name")
      process[e["pid"]] = e["args"]["name"];
    else if (e["ph"] == "M" && e["name"] == "thread_name")
      thread[{e["pid"], e["tid"]}] = e["args"]["name"];
  std::vector<Slice> slices;
  for (const auto &e : trace["traceEvents"])
    if (e["ph"] == "X" && e["cat"] != "tlp") {
      std::int64_t start = trace_ns(e["ts"]);
      slices.push_back(Slice{process[e["pid"]], thread[{e["pid"], e["tid"]}], e["name"], e["cat"],
                             start, start + trace_ns(e["dur"]), e["args"]});
    }
  std::stable_sort(slices.begin(), slices.end(),
                   [](const Slice &a, const Slice &b) { return a.start_ns < b.start_ns; });
  return slices;
}

// The first slice named `name` that starts at or after `from_ns`.
const Slice *first(const std::vector<Slice> &slices, const std::string &name,
                   std::int64_t from_ns = 0) {
  for (const Slice &s : slices)
    if (s.name == name && s.start_ns >= from_ns)
      return &s;
  return nullptr;
}

TEST(TraceMechanisms, HmmMigrateShowsFaultsMigrationsAndInvalidationsOnTheirActorsTracks) {
  std::string dir = make_temp_dir("trace-mech");
  std::string scenario = hmm_scenario(dir);
  // Tracing watches the kernel's steps; it never changes a result.
  std::string printed = run_untraced_and_traced(scenario, "-j1", dir + "/t.json");
  ASSERT_FALSE(printed.empty());

  nlohmann::json trace = nlohmann::json::parse(read_file(dir + "/t.json"));
  std::map<std::string, int> phases;
  check_trace_structure(trace, phases);
  EXPECT_FALSE(trace["otherData"]["capped"].get<bool>());
  const nlohmann::json m = nlohmann::json::parse(printed)["mechanisms"][0];
  ASSERT_EQ(m["status"], "ok") << m.dump();
  std::vector<Slice> slices = step_slices(trace);

  // Each step on its actor's track: the NIC's ODP work and notifier callbacks on nic0, the
  // GPU driver's fault batches, migrations and unmaps on gpu0, the shootdown on the host's CPUs.
  const std::map<std::string, std::pair<std::string, std::string>> track_of = {
      {"odp fault", {"nic0", "nic driver"}},
      {"hmm_range_fault", {"nic0", "nic driver"}},
      {"dma_map", {"nic0", "nic driver"}},
      {"notifier invalidation", {"nic0", "nic driver"}},
      {"gpu fault batch", {"gpu0", "gpu driver"}},
      {"migrate collect", {"gpu0", "gpu driver"}},
      {"gpu unmap", {"gpu0", "gpu driver"}},
      {"copy engine setup", {"gpu0", "gpu driver"}},
      {"migrate copy", {"gpu0", "gpu driver"}},
      {"migrate finalize", {"gpu0", "gpu driver"}},
      {"tlb shootdown", {"host kernel", "cpu"}}};
  std::map<std::string, std::int64_t> count, pages, sum_ns;
  for (const Slice &s : slices) {
    SCOPED_TRACE(s.name);
    auto track = track_of.find(s.name);
    ASSERT_NE(track, track_of.end()) << "a step this run does not take";
    EXPECT_EQ(s.process, track->second.first);
    EXPECT_EQ(s.thread.substr(0, track->second.second.size()), track->second.second);
    ++count[s.name];
    pages[s.name] += s.args.value("pages", std::int64_t{0}) + s.args.value("faults", 0);
    sum_ns[s.category] += s.end_ns - s.start_ns;
  }
  const nlohmann::json &os = m["os"];
  EXPECT_EQ(count["odp fault"], os["odp_faults"]);
  EXPECT_EQ(count["gpu fault batch"], os["gpu_fault_batches"]);
  EXPECT_EQ(pages["gpu fault batch"], os["gpu_faults"]); // the faults each batch carried
  EXPECT_EQ(count["notifier invalidation"], m["invalidations"]);
  EXPECT_GT(count["notifier invalidation"], 0);
  // One per migration batch: a CPU TLB shootdown for pages the CPU maps (to the device), the
  // GPU's unmap for pages leaving it (to RAM); the run migrates both ways.
  EXPECT_EQ(count["tlb shootdown"] + count["gpu unmap"], count["migrate collect"]);
  EXPECT_GT(count["tlb shootdown"], 0);
  EXPECT_GT(count["gpu unmap"], 0);
  EXPECT_EQ(pages["migrate finalize"], m["pages_migrated"]);
  EXPECT_EQ(count["migrate copy"], count["migrate collect"]);
  // The steps' slices add up to the breakdown's parts: they are the intervals it is computed
  // from, and in this run no two of them overlap (one fault at a time per actor, phases in
  // turn).
  const nlohmann::json &b = m["breakdown_ns"];
  for (const char *part : {"fault_handling", "shootdown", "invalidation"})
    EXPECT_EQ(static_cast<double>(sum_ns[part]), b[part].get<double>()) << part;
  EXPECT_GT(sum_ns["invalidation"], 0);

  // The first NIC fault, step by step: fault, walk, then for its first page migrate_to_ram's
  // collect, the GPU's unmap, copy-engine setup, copy and finalize, each where the previous
  // ended (no CPU TLB shootdown: the CPU mapped no device-private page);
  // the DMA mapping after the migrations.
  const Slice *fault = first(slices, "odp fault");
  ASSERT_NE(fault, nullptr);
  const Slice *walk = first(slices, "hmm_range_fault");
  ASSERT_NE(walk, nullptr);
  EXPECT_EQ(walk->start_ns, fault->end_ns);
  std::int64_t at = walk->end_ns;
  for (const char *step :
       {"migrate collect", "gpu unmap", "copy engine setup", "migrate copy", "migrate finalize"}) {
    const Slice *s = first(slices, step);
    ASSERT_NE(s, nullptr) << step;
    EXPECT_EQ(s->start_ns, at) << step;
    at = s->end_ns;
  }
  const Slice *map = first(slices, "dma_map");
  ASSERT_NE(map, nullptr);
  EXPECT_GE(map->start_ns, at);
  // The second write faults on the GPU: its batch comes first, then the migration to the
  // device, whose notifier invalidation zaps the NIC's mappings after the shootdown.
  const Slice *batch = first(slices, "gpu fault batch");
  const Slice *zap = first(slices, "notifier invalidation");
  ASSERT_TRUE(batch && zap);
  EXPECT_GE(zap->start_ns, batch->end_ns);
  const Slice *shootdown = first(slices, "tlb shootdown", batch->end_ns);
  ASSERT_NE(shootdown, nullptr);
  EXPECT_EQ(zap->start_ns, shootdown->end_ns);
  const Slice *setup = first(slices, "copy engine setup", zap->start_ns);
  ASSERT_NE(setup, nullptr);
  EXPECT_EQ(setup->start_ns, zap->end_ns);
}

// Every event of `windowed` overlaps [from, to) ns (counters: from the bucket holding `from`);
// the X slices are exactly those of `full` that overlap it.
void check_window(const nlohmann::json &full, const nlohmann::json &windowed, std::int64_t from,
                  std::int64_t to) {
  using Key = std::tuple<int, std::string, std::int64_t, std::int64_t>;
  auto overlaps = [&](std::int64_t s, std::int64_t e) {
    return s == e ? s >= from && s < to : s < to && e > from;
  };
  std::set<Key> kept, expected;
  std::int64_t bucket = windowed["otherData"]["counter_bucket_ns"];
  std::map<std::pair<std::string, std::string>, std::int64_t> begun;
  for (const auto &e : windowed["traceEvents"]) {
    SCOPED_TRACE(e.dump());
    std::int64_t ts = trace_ns(e["ts"]);
    if (e["ph"] == "X") {
      std::int64_t end = ts + trace_ns(e["dur"]);
      EXPECT_TRUE(overlaps(ts, end));
      kept.insert({e["pid"].get<int>(), e["name"], ts, end});
    } else if (e["ph"] == "i" && e["name"] != "trace capped") {
      EXPECT_TRUE(overlaps(ts, ts));
    } else if (e["ph"] == "b") {
      begun[{e["cat"], e["id"].dump()}] = ts;
    } else if (e["ph"] == "e") {
      EXPECT_TRUE(overlaps(begun[{e["cat"], e["id"].dump()}], ts));
    } else if (e["ph"] == "C") {
      EXPECT_GE(ts, from / bucket * bucket);
      EXPECT_LT(ts, to);
    }
  }
  std::size_t outside = 0;
  for (const auto &e : full["traceEvents"])
    if (e["ph"] == "X") {
      std::int64_t ts = trace_ns(e["ts"]), end = ts + trace_ns(e["dur"]);
      if (overlaps(ts, end))
        expected.insert({e["pid"].get<int>(), e["name"], ts, end});
      else
        ++outside;
    }
  EXPECT_GT(outside, 0u) << "the window must leave something out for this test to mean anything";
  EXPECT_FALSE(kept.empty());
  EXPECT_EQ(kept, expected);
}

TEST(TraceMechanisms, WindowKeepsOnlyTheEventsOverlappingIt) {
  std::string dir = make_temp_dir("trace-window");
  std::string scenario = hmm_scenario(dir);
  CommandResult full = run_pciesim("run " + scenario + " --quiet -j1 --trace " + dir + "/f.json");
  ASSERT_EQ(full.exit_code, 0) << full.err;
  CommandResult windowed = run_pciesim("run " + scenario + " --json -j1 --trace " + dir +
                                       "/w.json --trace-window 300us..0.6ms");
  ASSERT_EQ(windowed.exit_code, 0) << windowed.err;
  nlohmann::json f = nlohmann::json::parse(read_file(dir + "/f.json"));
  nlohmann::json w = nlohmann::json::parse(read_file(dir + "/w.json"));
  std::map<std::string, int> phases;
  check_trace_structure(w, phases);
  EXPECT_EQ(w["otherData"]["window_from_ns"], 300000);
  EXPECT_EQ(w["otherData"]["window_to_ns"], 600000);
  check_window(f, w, 300000, 600000);
  // An open side: from 0.7 ms to the end of the run (0.93 ms).
  CommandResult tail = run_pciesim("run " + scenario + " --quiet -j1 --trace " + dir +
                                   "/tail.json --trace-window '0.7 ms..'");
  ASSERT_EQ(tail.exit_code, 0) << tail.err;
  nlohmann::json t = nlohmann::json::parse(read_file(dir + "/tail.json"));
  check_trace_structure(t, phases);
  EXPECT_FALSE(t["otherData"].contains("window_to_ns"));
  check_window(f, t, 700000, std::numeric_limits<std::int64_t>::max());
}

TEST(TraceMechanisms, BadWindowIsOneLineAndExit2) {
  std::string dir = make_temp_dir("trace-window");
  std::string scenario = hmm_scenario(dir);
  for (const char *window :
       {"2ms..1ms", "10us", "abc..", "..5 parsecs", "1us..2us..3us", "1ms..1ms"}) {
    SCOPED_TRACE(window);
    CommandResult r = run_pciesim("run " + scenario + " --quiet --trace " + dir +
                                  "/t.json --trace-window '" + window + "'");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.rfind("--trace-window", 0), 0u) << r.err;
  }
  CommandResult no_trace = run_pciesim("run " + scenario + " --quiet --trace-window 1us..");
  EXPECT_EQ(no_trace.exit_code, 2);
  EXPECT_NE(no_trace.err.find("--trace FILE"), std::string::npos) << no_trace.err;
}

// A shipped comparison lists two topologies: --topology picks the one to trace (the first
// without it).
TEST(TraceMechanisms, OneMechanismOnOneTopologyOfAShippedScenarioIsTraced) {
  std::string dir = make_temp_dir("trace-topology");
  const std::string scenario =
      std::string(PCIESIM_SOURCE_DIR) + "/scenarios/nic-reuse-crossover.json";
  CommandResult r = run_pciesim("run " + scenario +
                                " --json --mechanism hmm_migrate --topology gpu-nic-root-ports-amd "
                                "--trace " +
                                dir + "/t.json --trace-window ..1ms");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json results = nlohmann::json::parse(r.out);
  ASSERT_EQ(results["mechanisms"].size(), 1u);
  EXPECT_EQ(results["mechanisms"][0]["id"], "hmm_migrate@gpu-nic-root-ports-amd");
  std::vector<Slice> slices = step_slices(nlohmann::json::parse(read_file(dir + "/t.json")));
  EXPECT_NE(first(slices, "odp fault"), nullptr);
  EXPECT_NE(first(slices, "migrate copy"), nullptr);
  // Without --topology the trace records the run on the first topology, and says so; an
  // unknown name is refused.
  CommandResult first_only = run_pciesim("run " + scenario +
                                         " --json --mechanism hmm_migrate --trace-window ..1ms "
                                         "--trace " +
                                         dir + "/t2.json");
  ASSERT_EQ(first_only.exit_code, 0) << first_only.err;
  EXPECT_EQ(nlohmann::json::parse(first_only.out)["mechanisms"][0]["topology"],
            "gpu-nic-shared-switch");
  EXPECT_NE(first_only.err.find("--topology NAME for another"), std::string::npos)
      << first_only.err;
  CommandResult unknown = run_pciesim("run " + scenario + " --topology nowhere");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("gpu-nic-shared-switch, gpu-nic-root-ports-amd"), std::string::npos)
      << unknown.err;
}

TEST(TraceMechanisms, WindowParsesTimesWithUnitsAndEmptySides) {
  Parsed<TraceWindow> w = parse_trace_window("10us..2ms");
  ASSERT_TRUE(w.value) << w.error;
  EXPECT_EQ(w.value->from_ps, 10000000);
  EXPECT_EQ(w.value->to_ps, 2000000000);
  w = parse_trace_window("1.5 us..");
  ASSERT_TRUE(w.value) << w.error;
  EXPECT_EQ(w.value->from_ps, 1500000);
  EXPECT_EQ(w.value->to_ps, TraceWindow().to_ps);
  w = parse_trace_window("..500 ns");
  ASSERT_TRUE(w.value) << w.error;
  EXPECT_EQ(w.value->from_ps, 0);
  EXPECT_EQ(w.value->to_ps, 500000);
  EXPECT_TRUE(parse_trace_window("..").value->whole());
  EXPECT_FALSE(parse_trace_window("2ms..1ms").value);
  EXPECT_FALSE(parse_trace_window("1 ms").value);
}

// Steps of one actor that overlap go on separate lanes of its track; a step of no length is an
// instant; a step not charged to the breakdown has the category "mechanism".
TEST(TraceMechanisms, OverlappingStepsGetLanesAndMomentsAreInstants) {
  std::string lanes = run_in_child([] {
    sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
    ModelTestContext test;
    OsKernel kernel("os", OsCosts{}, test.context);
    TraceRecorder trace("unit");
    int gpu = trace.add_process("gpu0");
    trace.watch_kernel(kernel, {gpu});
    kernel.record(TimeKind::FaultHandling, 1000000, 5000000, StepActor::gpu_driver(0), "a",
                  {{"pages", 2}});
    kernel.record(TimeKind::Copy, 2000000, 3000000, StepActor::gpu_driver(0), "b");
    kernel.record(TimeKind::Copy, 5000000, 6000000, StepActor::gpu_driver(0), "c");
    kernel.trace_step(StepActor::gpu_driver(0), "revoke", 7000000, 7000000, {{"pages", 1}});
    kernel.trace_step(StepActor::kernel(), "evict", 8000000, 9000000);
    return trace.finish(10000000);
  });
  nlohmann::json trace = nlohmann::json::parse(lanes);
  std::map<std::string, int> phases;
  check_trace_structure(trace, phases);
  std::map<std::string, nlohmann::json> by_name;
  std::map<std::pair<int, int>, std::string> thread;
  for (const auto &e : trace["traceEvents"])
    if (e["ph"] == "X" || e["ph"] == "i")
      by_name[e["name"]] = e;
    else if (e["ph"] == "M" && e["name"] == "thread_name")
      thread[{e["pid"], e["tid"]}] = e["args"]["name"];
  auto thread_of = [&](const std::string &step) {
    return thread[{by_name[step]["pid"], by_name[step]["tid"]}];
  };
  EXPECT_EQ(thread_of("a"), "gpu driver");
  EXPECT_EQ(thread_of("b"), "gpu driver 2");
  EXPECT_EQ(thread_of("evict"), "cpu");
  EXPECT_EQ(by_name["a"]["cat"], "fault_handling");
  EXPECT_EQ(by_name["a"]["args"]["pages"], 2);
  EXPECT_NE(by_name["b"]["tid"], by_name["a"]["tid"]) << "b overlaps a: another lane";
  EXPECT_EQ(by_name["c"]["tid"], by_name["a"]["tid"]) << "c starts where a ends: same lane";
  EXPECT_EQ(by_name["revoke"]["ph"], "i");
  EXPECT_EQ(by_name["revoke"]["cat"], "mechanism");
  EXPECT_EQ(by_name["evict"]["cat"], "mechanism");
  EXPECT_NE(by_name["evict"]["pid"], by_name["a"]["pid"]) << "the kernel's own process";
}

} // namespace
} // namespace pciesim::test
