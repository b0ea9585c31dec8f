// The main job: a workload scenario run under each memory mechanism on each listed topology,
// every (topology, mechanism) pair in its own process (the SystemC kernel cannot restart),
// then presented side by side: time, throughput, latency, faults, migrations,
// invalidations, the time breakdown, bytes per link, the reuse crossover of migration
// against peer access, and a one-line verdict per topology.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/batch/child_pool.h"
#include "sim/run/simulation.h"

namespace pciesim {

struct ComparisonOptions {
  std::string out_dir;
  bool quiet = false, json = false;
  std::string only_mechanism; // run just this one (e.g. with a trace)
  std::string only_topology;  // run on just this topology of the scenario's (the same)
  RunOptions run;
  PoolOptions pool{2, 0}; // -j (mechanism runs at once) and --timeout (the whole comparison)
};

// One mechanism's entry of results.json "mechanisms" (also used by the tests).
nlohmann::ordered_json mechanism_json(const RunResult &run, const std::string &topology);

// Orderings and figures derived from the mechanism entries of one run: "crossover" entries
// and one verdict line per topology.
nlohmann::ordered_json crossovers(const nlohmann::ordered_json &mechanisms,
                                  const nlohmann::ordered_json &workload);
std::string verdict_line(const nlohmann::ordered_json &mechanisms, const std::string &topology);

std::string format_comparison(const nlohmann::ordered_json &results);
// results.csv: a row per mechanism (sim/report/csv_tables.h).
std::string comparison_csv(const nlohmann::ordered_json &results);
// links.csv: "topology,mechanism," and a run's link columns, a row per link direction that
// carried TLPs under the mechanism; the columns, one mechanism's rows (each starting with
// `row_start`: the sweep merge's point columns) and the whole file.
std::vector<std::string> comparison_links_columns();
std::string comparison_links_rows(const nlohmann::ordered_json &mechanism,
                                  const std::string &row_start);
std::string comparison_links_csv(const nlohmann::ordered_json &results);

// Keeps of a workload scenario's topologies the one --topology names, and makes the one
// --mechanism names the only run: one the workload lists or, if it lists none, any (a
// mechanism outside the default set, vendor_peer, too). A name not among them is an input
// error naming the choices.
void keep_named_runs(std::vector<ScenarioConfig> &topologies, const ComparisonOptions &o);

// Loads `file` (the bundled default when empty), runs the comparison, prints and writes it.
// Returns the process exit code.
int command_compare(const std::vector<ScenarioConfig> &topologies, const ComparisonOptions &o);

} // namespace pciesim
