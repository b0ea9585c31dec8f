// Checks on a Chrome/Perfetto trace written by `pciesim run --trace` (sim/run/trace.h), shared by
// the trace tests: the structure Perfetto relies on, and times in whole nanoseconds.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/sim_harness.h"

namespace pciesim::test {

// `pciesim run SCENARIO --json ARGS` without a trace, then with `--trace TRACE_PATH`: tracing
// only watches, so both print the same results. The traced run's results ("" if it failed).
inline std::string run_untraced_and_traced(const std::string &scenario, const std::string &args,
                                           const std::string &trace_path) {
  CommandResult plain = run_pciesim("run " + scenario + " --json " + args);
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  CommandResult traced =
      run_pciesim("run " + scenario + " --json " + args + " --trace " + trace_path);
  EXPECT_EQ(traced.exit_code, 0) << traced.err;
  EXPECT_EQ(plain.out, traced.out) << "tracing changed a result";
  return traced.exit_code == 0 ? traced.out : "";
}

// A trace time (microseconds, fixed decimals of whole nanoseconds) in nanoseconds.
inline std::int64_t trace_ns(const nlohmann::json &us) {
  return std::llround(us.get<double>() * 1000.0);
}

// Checks every structural rule of Chrome trace-event JSON that the writer promises (every
// used pid and tid named, every b with its e, X slices of one thread never overlapping);
// counts the events by phase. (void: gtest's ASSERT_* return from the function.)
inline void check_trace_structure(const nlohmann::json &trace, std::map<std::string, int> &phases) {
  EXPECT_TRUE(trace.is_object());
  EXPECT_EQ(trace.value("displayTimeUnit", ""), "ns");
  const nlohmann::json &events = trace.at("traceEvents");
  EXPECT_TRUE(events.is_array());
  std::set<int> named_pids, used_pids;
  std::set<std::pair<int, int>> named_threads;
  std::map<std::pair<std::string, std::string>, std::int64_t> open; // (cat,id) -> begin ns
  std::map<std::pair<int, int>, std::vector<std::pair<std::int64_t, std::int64_t>>> slices;
  for (const nlohmann::json &e : events) {
    SCOPED_TRACE(e.dump());
    ASSERT_TRUE(e.contains("ph") && e["ph"].is_string());
    ASSERT_TRUE(e.contains("ts") && e["ts"].is_number());
    ASSERT_TRUE(e.contains("pid") && e["pid"].is_number_integer());
    ASSERT_TRUE(e.contains("name") && e["name"].is_string());
    EXPECT_GE(e["ts"].get<double>(), 0.0);
    std::string ph = e["ph"];
    ++phases[ph];
    int pid = e["pid"];
    if (ph != "M" || e["name"] == "thread_name") {
      ASSERT_TRUE(e.contains("tid") && e["tid"].is_number_integer());
    }
    if (ph == "M") {
      ASSERT_TRUE(e["args"]["name"].is_string());
      if (e["name"] == "process_name")
        named_pids.insert(pid);
      else if (e["name"] == "thread_name")
        named_threads.insert({pid, e["tid"].get<int>()});
      continue;
    }
    used_pids.insert(pid);
    if (ph == "X") {
      ASSERT_TRUE(e.contains("dur") && e["dur"].is_number());
      EXPECT_GE(e["dur"].get<double>(), 0.0);
      slices[{pid, e["tid"].get<int>()}].push_back(
          {trace_ns(e["ts"]), trace_ns(e["ts"]) + trace_ns(e["dur"])});
    } else if (ph == "b" || ph == "e") {
      ASSERT_TRUE(e.contains("id") && e.contains("cat") && e["cat"].is_string());
      std::pair<std::string, std::string> key{e["cat"], e["id"].dump()};
      if (ph == "b") {
        EXPECT_EQ(open.count(key), 0u) << "a second b before the e";
        open[key] = trace_ns(e["ts"]);
      } else {
        auto it = open.find(key);
        ASSERT_NE(it, open.end()) << "an e without its b";
        EXPECT_GE(trace_ns(e["ts"]), it->second) << "e before its b";
        open.erase(it);
      }
    } else if (ph == "C") {
      ASSERT_TRUE(e["args"].is_object() && !e["args"].empty());
      for (const auto &item : e["args"].items())
        EXPECT_TRUE(item.value().is_number()) << item.key();
    } else if (ph == "i") {
      std::string scope = e.value("s", "t");
      EXPECT_TRUE(scope == "t" || scope == "p" || scope == "g");
    } else {
      ADD_FAILURE() << "unexpected phase " << ph;
    }
  }
  EXPECT_TRUE(open.empty()) << open.size() << " async slices never end";
  for (int pid : used_pids)
    EXPECT_EQ(named_pids.count(pid), 1u) << "pid " << pid << " has no process_name";
  // Wire occupancy is serial: X slices of one link direction never overlap.
  for (auto &[track, list] : slices) {
    EXPECT_EQ(named_threads.count(track), 1u) << "tid " << track.second << " has no name";
    std::sort(list.begin(), list.end());
    for (std::size_t i = 1; i < list.size(); ++i)
      EXPECT_GE(list[i].first, list[i - 1].second) << "overlapping X on tid " << track.second;
  }
}

} // namespace pciesim::test
