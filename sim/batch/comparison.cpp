#include "sim/batch/comparison.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <new>
#include <set>
#include <sstream>
#include <utility>

#include <fmt/format.h>
#include <unistd.h>

#include "sim/batch/check.h"
#include "sim/batch/child_pool.h"
#include "sim/batch/run_progress_board.h"
#include "sim/fabric/topo_print.h"
#include "sim/plan/expect.h"
#include "sim/report/report.h"
#include "sim/report/run_output_dir.h"
#include "sim/util/file_io.h"
#include "sim/util/input_error.h"

namespace pciesim {

namespace {

// What a mechanism's child reports when memory runs out, made before its run: reporting it
// must not allocate.
std::string out_of_memory_result;
int result_fd = -1;

// Replaces whatever the child wrote with the out-of-memory result and exits: allocation
// failures are reported as what they are, not as a failed (stalled) run or a SystemC error
// (an exception thrown inside a SystemC process would reach us as one).
void on_out_of_memory() {
  if (::ftruncate(result_fd, 0) == 0 && ::lseek(result_fd, 0, SEEK_SET) == 0)
    write_all(result_fd, out_of_memory_result.data(), out_of_memory_result.size());
  ::_exit(kExitInternalError);
}

std::string out_of_memory_error(Mechanism mechanism, const std::string &topology) {
  return fmt::format("out of memory while simulating {} on topology {} (the page state, "
                     "events and results of the run); raise the memory limit or touch less of "
                     "the buffers",
                     mechanism_name(mechanism), topology);
}

// A child runs one mechanism and writes its entry of "mechanisms" (or {"error": ...}) to
// `out`; returns its exit code.
int run_mechanism(const ScenarioConfig &base, Mechanism mechanism, const ComparisonOptions &o,
                  int out) {
  const std::string topology = base.topology->config.name;
  int code = 0;
  std::string text;
  try {
    result_fd = out;
    out_of_memory_result =
        nlohmann::ordered_json{{"error", out_of_memory_error(mechanism, topology)}}.dump();
    std::set_new_handler(on_out_of_memory);
    ScenarioConfig s = base;
    s.mechanism = mechanism;
    RunResult r = simulate(s, o.run);
    text = mechanism_json(r, topology).dump();
  } catch (const std::bad_alloc &) {
    on_out_of_memory();
  } catch (const std::exception &e) {
    text = nlohmann::ordered_json{{"error", e.what()}}.dump();
    code = kExitInternalError;
  }
  write_all(out, text.data(), text.size());
  return code;
}

// A mechanism entry for a run that produced none.
nlohmann::ordered_json failed_entry(Mechanism mechanism, const std::string &topology,
                                    const std::string &reason) {
  return nlohmann::ordered_json{{"id", std::string(mechanism_name(mechanism)) + "@" + topology},
                                {"name", mechanism_name(mechanism)},
                                {"topology", topology},
                                {"status", "failed"},
                                {"reason", reason}};
}

} // namespace

void keep_named_runs(std::vector<ScenarioConfig> &topologies, const ComparisonOptions &o) {
  if (!o.only_topology.empty()) {
    std::vector<std::string> names;
    for (const ScenarioConfig &s : topologies)
      names.push_back(s.topology->config.name);
    auto chosen = std::find(names.begin(), names.end(), o.only_topology);
    if (chosen == names.end())
      throw InputError(topologies.front().file, "/topology",
                       "--topology " + o.only_topology + " is not among the topologies",
                       "one of: " + join(names, ", "));
    ScenarioConfig only = std::move(topologies[static_cast<std::size_t>(chosen - names.begin())]);
    topologies.clear();
    topologies.push_back(std::move(only));
  }
  if (o.only_mechanism.empty())
    return;
  const WorkloadConfig &workload = *topologies.front().workload;
  const std::optional<Mechanism> named = mechanism_named(o.only_mechanism);
  const bool listed = named && std::find(workload.mechanisms.begin(), workload.mechanisms.end(),
                                         *named) != workload.mechanisms.end();
  if (listed)
    return;
  if (!named || workload.mechanisms_listed)
    throw InputError(topologies.front().file, "/workload/mechanisms",
                     "--mechanism " + o.only_mechanism + " is not among the mechanisms",
                     "a mechanism the workload lists");
  // The workload lists none and so runs the default set; the one asked for outside it runs
  // alone.
  for (ScenarioConfig &s : topologies)
    s.workload->mechanisms = {*named};
}

int command_compare(const std::vector<ScenarioConfig> &topologies, const ComparisonOptions &o) {
  const ScenarioConfig &first = topologies.front();
  struct Job {
    std::size_t topology;
    Mechanism mechanism;
  };
  std::vector<Job> jobs;
  for (std::size_t k = 0; k < topologies.size(); ++k)
    for (Mechanism m : topologies[k].workload->mechanisms)
      if (o.only_mechanism.empty() || o.only_mechanism == mechanism_name(m))
        jobs.push_back(Job{k, m});
  std::vector<nlohmann::ordered_json> entries(jobs.size());
  bool internal_error = false; // a run that crashed or ran out of memory: exit 4
  std::vector<CapturedOutput> results_of(jobs.size()); // what each child writes
  ChildPool::End end;
  int stop_signal = 0;
  std::size_t done = 0; // runs reaped
  {
    // On a terminal: runs done, and where each running child is (it tells the board).
    ProgressLine line(ProgressLine::wanted(o.quiet));
    RunProgressBoard board(line.enabled() ? jobs.size() : 0);
    std::set<std::size_t> running;
    auto show_progress = [&] {
      line.update([&] {
        std::vector<RunningRun> now;
        for (std::size_t i : running)
          now.push_back({std::string(mechanism_name(jobs[i].mechanism)) + "@" +
                             topologies[jobs[i].topology].topology->config.name,
                         board.load(i)});
        return format_comparison_progress(done, jobs.size(), now);
      });
    };
    ChildPool pool(o.pool);
    auto start = [&](std::size_t i) {
      const Job &job = jobs[i];
      int out = results_of[i].open();
      running.insert(i);
      pid_t pid = pool.start_function(
          [&] {
            ComparisonOptions child = o;
            if (line.enabled())
              child.run.progress = [&board, i](const RunProgress &p) { board.store(i, p); };
            return run_mechanism(topologies[job.topology], job.mechanism, child, out);
          },
          {});
      if (pid < 0)
        running.erase(i);
      return pid;
    };
    auto finished = [&](std::size_t i, const ChildExit &how) {
      const Job &job = jobs[i];
      running.erase(i);
      ++done;
      std::string text = results_of[i].text();
      results_of[i].close();
      if (how.stopped)
        return; // nothing is reported of a comparison that did not finish
      nlohmann::ordered_json j = nlohmann::ordered_json::parse(text, nullptr, false);
      const std::string topology = topologies[job.topology].topology->config.name;
      if (!how.exited() || j.is_discarded() || j.contains("error")) {
        internal_error = true;
        std::string why = !how.exited()      ? "the run was " + how.describe()
                          : j.is_discarded() ? "the run printed no result"
                                             : j["error"].get<std::string>();
        j = failed_entry(job.mechanism, topology, why);
      }
      entries[i] = j;
    };
    end = pool.run(jobs.size(), start, finished, show_progress);
    line.clear();
    stop_signal = pool.stop_signal();
  }
  if (end == ChildPool::End::Stopped) {
    std::cerr << fmt::format("pciesim: stopped by signal {} ({}); the mechanism runs were "
                             "stopped and nothing was written\n",
                             stop_signal, ::strsignal(stop_signal));
    ChildPool::die_of(stop_signal);
  }
  if (end == ChildPool::End::TimedOut) {
    std::cerr << "pciesim: the run exceeded its --timeout of wall-clock time and was "
                 "stopped; nothing was written\n";
    return kExitSimulationError;
  }
  nlohmann::ordered_json results;
  results["pciesim_version"] = PCIESIM_VERSION;
  results["scenario"] = first.name;
  results["workload"] = first.workload->resolved;
  // The topologies as pciesim draws them (`topo --dot`, a line per array element), so that a
  // report of this directory has their pictures wherever it is made.
  results["topologies"] = nlohmann::ordered_json::array();
  for (const ScenarioConfig &s : topologies) {
    nlohmann::ordered_json dot_lines = nlohmann::ordered_json::array();
    std::istringstream dot(topology_dot(s.topology->config, s.topology->hierarchy, s.enumeration));
    for (std::string line; std::getline(dot, line);)
      dot_lines.push_back(line);
    results["topologies"].push_back({{"name", s.topology->config.name}, {"dot", dot_lines}});
  }
  results["mechanisms"] = nlohmann::ordered_json::array();
  for (auto &e : entries)
    results["mechanisms"].push_back(e);
  results["crossover"] = crossovers(results["mechanisms"], first.workload->resolved);
  results["verdicts"] = nlohmann::ordered_json::array();
  for (const ScenarioConfig &s : topologies)
    results["verdicts"].push_back(verdict_line(results["mechanisms"], s.topology->config.name));
  std::vector<std::string> lines;
  for (const auto &v : results["verdicts"])
    lines.push_back(v.get<std::string>());
  results["verdict"] = join(lines, " | ");
  // Expectations compare mechanisms and topologies: with --mechanism or --topology the others
  // are missing, so none apply.
  std::vector<ExpectationOutcome> outcomes;
  if (o.only_mechanism.empty() && o.only_topology.empty())
    outcomes = check_run_expectations(first, results);
  if (!o.out_dir.empty() && !internal_error) {
    OutputSet files;
    files.add(o.out_dir + "/results.json", results.dump(2) + "\n");
    files.add(o.out_dir + "/results.csv", comparison_csv(results));
    files.add(o.out_dir + "/links.csv", comparison_links_csv(results));
    write_run_output(o.out_dir, files);
  }
  const bool table_shown = !o.json && !o.quiet;
  if (o.json)
    std::cout << results.dump(2) << "\n";
  else if (table_shown)
    std::cout << format_comparison(results);
  std::cout.flush();
  // Failures first on stderr (a sweep takes a point's first line there as its complaint),
  // then, where no table shows it, the verdict: what a plain run's summary line is to it.
  bool failed = false;
  for (const auto &m : results["mechanisms"])
    if (m.value("status", "") == "failed") {
      failed = true;
      std::cerr << fmt::format("pciesim: {} failed: {}\n", m["id"].get<std::string>(),
                               m.value("reason", ""));
    }
  int code = report_run_expectations(outcomes, table_shown);
  if (!table_shown)
    for (const auto &v : results["verdicts"])
      std::cerr << "pciesim: verdict " << v.get<std::string>() << "\n";
  return internal_error ? kExitInternalError : failed ? kExitSimulationError : code;
}

} // namespace pciesim
