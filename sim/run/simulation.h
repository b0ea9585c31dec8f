// Elaboration and one simulation run: a SystemC module per component, a Link per topology
// edge, sockets bound as the hierarchy says, transfers handed to their DMA engines, then
// sc_start until everything completed, the event queue ran dry, or the time limit passed.
// The SystemC kernel cannot be restarted: call simulate() once per process.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/common/latency_samples.h"
#include "sim/plan/scenario.h"
#include "sim/run/trace.h"
#include "sim/run/workload_runner.h"
#include "sim/util/progress_line.h"

namespace pciesim {

struct LatencySummary {
  double mean_ns = 0, p50_ns = 0, p99_ns = 0, max_ns = 0;
};

struct TransferResult {
  std::string id, initiator, target, direction;
  std::uint64_t transfer_bytes = 0;
  std::uint64_t count = 0;
  std::uint64_t transfers_done = 0;
  std::uint64_t bytes = 0;
  std::int64_t start_ps = 0, end_ps = 0;
  double bandwidth_gbps = 0; // 1e9 bytes per second of payload
  LatencySummary latency;
  std::string error;
  std::string route;     // components crossed
  std::string mechanism; // peer transfers: how the initiator reaches the target
  std::string map_type;  // peer transfers: the p2pdma map type
  int distance = -1;     // peer transfers: the p2pdma distance
};

struct LinkDirectionResult {
  std::string link; // "a.port - b.port"
  std::string from, to;
  int generation = 0, width = 0;
  double usable_gbps = 0;
  std::uint64_t tlps = 0, mrd = 0, mwr = 0, cpld = 0, cpl = 0;
  std::uint64_t payload_bytes = 0, wire_bytes = 0;
  double utilization = 0;
  std::uint64_t credit_stalls = 0, max_queue_depth = 0;
};

struct RunResult {
  std::string scenario;
  std::int64_t sim_time_ps = 0;
  std::vector<TransferResult> transfers;
  std::vector<LinkDirectionResult> links;
  nlohmann::ordered_json component_stats;
  nlohmann::ordered_json config; // resolved scenario
  // Set when the run could not finish: the watchdog's diagnosis, one line per component.
  std::vector<std::string> stall_diagnosis;
  std::string stall_reason;
  // A workload run: what its mechanism did (sim/run/workload_runner.h).
  std::optional<MechanismResult> mechanism;
  bool completed() const { return stall_reason.empty(); }
  // Wall clock, kept apart from the deterministic results.
  double wall_seconds = 0;
};

// Optional outputs of a run, written even when the run stalls (they help to see why).
struct RunOptions {
  std::string trace_path;                  // Chrome/Perfetto trace-event JSON (sim/run/trace.h)
  std::string vcd_path;                    // VCD of link busy and queue depth (sim/run/vcd_trace.h)
  std::uint64_t trace_max_events = 200000; // TLP and per-transfer events, and steps, in a trace
  TraceWindow trace_window;                // the span of time the trace keeps
  // Told where the run is every few thousand wake-ups (a progress line, sim/util/progress_line.h);
  // it only looks, so the results are the same with or without it.
  std::function<void(const RunProgress &)> progress;
};

RunResult simulate(const ScenarioConfig &scenario, const RunOptions &options = {});

LatencySummary summarize_latencies(std::vector<std::int64_t> samples_ps);
LatencySummary summarize_latencies(const LatencySamples &samples); // the same, bounded memory

} // namespace pciesim
