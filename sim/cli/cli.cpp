#include "sim/cli/cli.h"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iostream>
#include <new>
#include <sstream>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <systemc>

#include "sim/advise/advise.h"
#include "sim/batch/check.h"
#include "sim/batch/child_pool.h"
#include "sim/batch/comparison.h"
#include "sim/batch/sweep.h"
#include "sim/cli/describe.h"
#include "sim/cli/import_command.h"
#include "sim/config/overrides.h"
#include "sim/config/schema_check.h"
#include "sim/fabric/pci_view.h"
#include "sim/fabric/topo_print.h"
#include "sim/import/synthetic_snapshot.h"
#include "sim/plan/scenario.h"
#include "sim/report/report.h"
#include "sim/report/report_page.h"
#include "sim/report/run_output_dir.h"
#include "sim/run/mechanisms/registry.h"
#include "sim/run/simulation.h"
#include "sim/util/file_io.h"
#include "sim/util/output_directory.h"
#include "sim/util/progress_line.h"
#include "sim/util/standard_streams.h"

namespace pciesim {
namespace {

struct TopologyView {
  std::shared_ptr<LoadedTopology> topology;
  Enumeration enumeration;
};

// `topo` accepts a topology file or a scenario (whose topology it shows).
TopologyView load_any_topology(const std::string &path) {
  auto doc = load_json_file(path);
  Node root = Node::root(doc);
  TopologyView view;
  std::string kind = classify_document(root);
  // The loaders give the most precise errors; the schema check after them is a safety net.
  if (kind == "scenario") {
    ScenarioConfig s = load_scenario_file(path);
    validate_against_schema(root, "scenario");
    view.topology = s.topology;
    view.enumeration = s.enumeration;
    return view;
  }
  view.topology = std::make_shared<LoadedTopology>();
  view.topology->config = load_topology(root);
  view.topology->hierarchy = build_hierarchy(view.topology->config);
  view.enumeration = enumerate(view.topology->config, view.topology->hierarchy);
  validate_against_schema(root, "topology");
  return view;
}

// `run --set`: values put into the scenario and its topology files before they are loaded.
std::vector<JsonOverride> command_line_overrides;

// The scenario at `path` (the bundled default when empty), with the --set overrides in, loaded
// and checked.
ScenarioConfig load_checked_scenario(const std::string &path, std::size_t topology_index = 0) {
  const bool bundled = path.empty();
  DocumentReader read = bundled ? DocumentReader(&read_bundled_file) : &load_json_file;
  std::size_t topology_files = 0;
  DocumentReader read_with_overrides = [&](const std::string &file) {
    ++topology_files;
    return with_overrides(read(file), command_line_overrides, true);
  };
  auto doc = with_overrides(bundled ? bundled_default_scenario() : load_json_file(path),
                            command_line_overrides, false);
  ScenarioConfig scenario =
      load_scenario(Node::root(doc), bundled ? "scenarios" : directory_of(path),
                    read_with_overrides, topology_index);
  for (const JsonOverride &o : command_line_overrides)
    if (o.topology && topology_files == 0)
      throw InputError("--set", "",
                       fmt::format("topology:{}, but the scenario's topology is "
                                   "written inline, not in a file",
                                   o.pointer),
                       "--set /topology" + o.pointer + " for an inline topology");
  validate_against_schema(Node::root(doc), "scenario");
  return scenario;
}

extern "C" void on_wall_clock_timeout(int) {
  static const char message[] = "pciesim: the run exceeded its --timeout of wall-clock time and "
                                "was stopped; nothing was written\n";
  remove_staged_files_now(); // the --vcd being recorded
  ssize_t ignored = ::write(2, message, sizeof message - 1);
  (void)ignored;
  std::_Exit(kExitSimulationError);
}

// Every topology a workload scenario lists, loaded (and so checked). Results name a
// topology's mechanisms by its name, so two of one name would compare a mechanism with itself.
std::vector<ScenarioConfig> load_compared_topologies(const std::string &file,
                                                     ScenarioConfig first) {
  std::vector<ScenarioConfig> topologies;
  std::size_t count = first.topology_count;
  topologies.push_back(std::move(first));
  for (std::size_t k = 1; k < count; ++k) {
    topologies.push_back(load_checked_scenario(file, k));
    const std::string &name = topologies.back().topology->config.name;
    for (std::size_t j = 0; j < k; ++j)
      if (topologies[j].topology->config.name == name)
        throw InputError(
            topologies.back().file, fmt::format("/topology/{}", k),
            fmt::format("topology name \"{}\" is also the name of /topology/{}", name, j),
            "topologies with distinct names (results and expectations tell "
            "them apart by name)");
  }
  return topologies;
}

// A workload scenario: every listed topology loaded (and so checked) before anything runs.
int run_comparison(const std::string &file, ScenarioConfig first, ComparisonOptions o) {
  std::vector<ScenarioConfig> topologies = load_compared_topologies(file, std::move(first));
  const bool recording = !o.run.trace_path.empty() || !o.run.vcd_path.empty();
  const bool one_mechanism =
      !o.only_mechanism.empty() || topologies.front().workload->mechanisms.size() == 1;
  if (recording && one_mechanism && o.only_topology.empty() && topologies.size() > 1) {
    // A trace records one run: without --topology, that of the first topology listed.
    o.only_topology = topologies.front().topology->config.name;
    std::cerr << fmt::format("pciesim: recording the run on {}, the first of the scenario's {} "
                             "topologies (--topology NAME for another)\n",
                             o.only_topology, topologies.size());
  }
  keep_named_runs(topologies, o);
  const std::size_t count = topologies.size();
  if ((!o.run.trace_path.empty() || !o.run.vcd_path.empty()) &&
      (count > 1 ||
       (o.only_mechanism.empty() && topologies.front().workload->mechanisms.size() > 1)))
    throw InputError(topologies.front().file, "",
                     "--trace and --vcd record one run, but the workload compares several",
                     "--mechanism NAME (and --topology NAME for a topology other than the "
                     "first)");
  try {
    return command_compare(topologies, o);
  } catch (const std::bad_alloc &) {
    throw std::runtime_error("out of memory while running the comparison and collecting the "
                             "mechanisms' results");
  }
}

int command_run(const std::string &file, const std::string &out_dir, bool quiet, bool json,
                const PoolOptions &pool, const RunOptions &options,
                const std::string &only_mechanism, const std::string &only_topology) {
  ScenarioConfig scenario = load_checked_scenario(file);
  // Outputs that cannot be written are refused now, not after the run.
  std::vector<std::pair<std::string, std::string>> outputs;
  if (!out_dir.empty()) {
    check_output_directory(out_dir, "--out");
    check_run_output_dir(out_dir);
    // In an existing directory, what stands at the files' names (a directory, a FIFO without a
    // reader, an input of the run) is refused now too; a missing one holds none of them.
    std::error_code missing;
    const bool exists = std::filesystem::is_directory(out_dir, missing);
    for (const std::string &path : run_output_paths(out_dir)) {
      if (exists)
        check_output_file_inside(path, "--out");
      outputs.emplace_back("--out", path);
    }
    if (exists)
      check_report_outputs(out_dir); // a report there is written again
  }
  if (!options.trace_path.empty())
    check_output_file(options.trace_path, "--trace");
  if (!options.vcd_path.empty())
    check_output_file(options.vcd_path, "--vcd");
  outputs.emplace_back("--trace", options.trace_path);
  outputs.emplace_back("--vcd", options.vcd_path);
  check_distinct_outputs(outputs);
  if (scenario.workload) {
    ComparisonOptions o;
    o.out_dir = out_dir;
    o.quiet = quiet;
    o.json = json;
    o.pool = pool;
    o.only_mechanism = only_mechanism;
    o.only_topology = only_topology;
    o.run = options;
    return run_comparison(file, std::move(scenario), o);
  }
  if (!only_mechanism.empty() || !only_topology.empty())
    throw InputError(scenario.file, "",
                     (only_mechanism.empty() ? "--topology" : "--mechanism") +
                         std::string(" for a scenario without a workload"),
                     "a scenario with a \"workload\"");
  // A plain run is one process: its --timeout is an alarm in it (-j has nothing to run).
  if (pool.timeout_seconds > 0) {
    std::signal(SIGALRM, on_wall_clock_timeout);
    ::alarm(pool.timeout_seconds);
  }
  if (!options.vcd_path.empty())
    remove_staged_files_on_stop_signals(); // a stopped run leaves no half VCD
  ProgressLine line(ProgressLine::wanted(quiet));
  RunOptions with_progress = options;
  if (line.enabled())
    with_progress.progress = [&line](const RunProgress &p) {
      line.update([&p] { return "pciesim: " + format_run_progress(p); });
    };
  RunResult result = simulate(scenario, with_progress);
  line.clear();
  ::alarm(0);
  nlohmann::ordered_json results = result_json(result);
  auto outcomes = check_run_expectations(scenario, results);
  if (!out_dir.empty())
    write_results(result, out_dir, results);
  if (json)
    std::cout << results.dump(2) << "\n";
  else if (!quiet)
    std::cout << format_table(result);
  int expectations_code = report_run_expectations(outcomes, !json && !quiet);
  std::cerr << fmt::format("pciesim: simulated {:.3f} us in {:.3f} s of wall-clock time\n",
                           static_cast<double>(result.sim_time_ps) / 1e6, result.wall_seconds);
  if (!result.completed()) {
    std::cerr << "pciesim: " << result.stall_reason << "\n";
    for (const std::string &line : result.stall_diagnosis)
      std::cerr << "  " << line << "\n";
    return kExitSimulationError;
  }
  return expectations_code;
}

// Checks one file; throws its InputError.
void validate_file(const std::string &f) {
  {
    Node root = Node::root(load_json_file(f));
    std::string kind = classify_document(root);
    if (kind == "scenario") {
      ScenarioConfig scenario = load_checked_scenario(f);
      if (scenario.workload)
        load_compared_topologies(f, std::move(scenario));
    } else if (kind == "topology") {
      TopologyConfig t = load_topology(root);
      Hierarchy h = build_hierarchy(t);
      enumerate(t, h);
      validate_against_schema(root, "topology");
    } else if (kind == "sweep") {
      load_sweep_file(f); // materialises and checks every point
    } else {
      root.fail("not a topology or a scenario",
                "a topology (with \"components\" and \"links\"), a scenario (with \"topology\" "
                "and \"transfers\") or a sweep (with \"base\" and \"axes\")");
    }
    std::cout << f << ": ok (" << kind << ")\n";
  }
}

// Every file is checked, each bad one reported on its own line: a user fixing a directory of
// inputs sees all that is wrong at once.
int command_validate(const std::vector<std::string> &files) {
  int code = kExitOk;
  for (const std::string &f : files) {
    try {
      validate_file(f);
    } catch (const InputError &e) {
      std::cerr << e.what() << "\n";
      code = kExitBadInput;
    }
  }
  return code;
}

CLI::App *add_sweep_subcommand(CLI::App &app, SweepOptions &o) {
  CLI::App *sweep = app.add_subcommand("sweep", "run every point of a sweep file, -j at a time");
  sweep->add_option("file", o.file, "sweep JSON file")->required();
  sweep->add_option("--out", o.out_dir, "output directory (points/, results.csv, ...)")->required();
  add_pool_options(*sweep, o.pool, "points");
  sweep->add_flag("--resume", o.resume, "skip points already done in --out");
  sweep->add_option("--shard", o.shard,
                    "run only shard K of N (points with index % N == K-1; 1 <= K <= N <= 100000)");
  sweep->add_flag("--quiet", o.quiet, "print only failures");
  sweep->add_flag("--print-sbatch", o.print_sbatch, "print a Slurm array job script and exit");
  sweep->add_flag("--slurm", o.slurm, "write DIR/sweep.sbatch, submit it and a merge job");
  sweep->add_option("--array", o.array_tasks, "Slurm array tasks")
      ->check(CLI::Range(1u, 100000u))
      ->default_str("points, <= 64"); // computed from the sweep
  sweep
      ->add_option("--point-timeout", o.point_timeout_seconds,
                   "stop a point that runs longer than this many seconds of wall-clock time "
                   "(it fails, the sweep goes on)")
      ->check(CLI::Range(1u, kMaxTimeoutSeconds))
      ->default_str("none");
  sweep
      ->add_option("--set", o.overrides,
                   "POINTER=VALUE: put VALUE at that JSON pointer of the base scenario of every "
                   "point (topology:POINTER: of its topologies) before the axes; repeatable")
      ->allow_extra_args(false);
  sweep
      ->add_option("--sbatch-arg", o.sbatch_args,
                   "with --print-sbatch or --slurm: add an `#SBATCH ARG` line, e.g. "
                   "--sbatch-arg=--time=01:00:00; repeatable")
      ->allow_extra_args(false);
  return sweep;
}

// --trace-window FROM..TO: refused unless it parses and a --trace is written.
TraceWindow trace_window_option(const std::string &text, const RunOptions &options) {
  Parsed<TraceWindow> window = parse_trace_window(text);
  if (!window.value)
    throw InputError("--trace-window", "", fmt::format("\"{}\" is not a time window", text),
                     window.error);
  if (options.trace_path.empty())
    throw InputError("--trace-window", "", "a window for a trace, but no --trace FILE",
                     "--trace FILE with --trace-window");
  return *window.value;
}

// Path arguments of `command`: "" (an unset shell variable, say) is refused, not taken as
// absent; so is "-" (standard input) unless `standard_input` is allowed: a sweep and a check
// hand their files to other processes.
void check_path_arguments(const CLI::App &command, std::initializer_list<const char *> names,
                          bool standard_input) {
  for (const char *name : names) {
    const CLI::Option *option = command.get_option_no_throw(name);
    for (const std::string &value : option ? option->results() : std::vector<std::string>{}) {
      if (value.empty())
        throw InputError(name, "", "an empty path", "a path");
      if (value == "-" && !standard_input)
        throw InputError(
            kStandardInputName, "",
            fmt::format("`pciesim {}` does not read standard input", command.get_name()),
            "a file path (- is for run, validate and topo)");
    }
  }
}

// `--help` shows each option's default; an empty list ("=[]") says nothing worth the space.
void hide_empty_list_defaults(CLI::App &command) {
  for (CLI::Option *option : command.get_options())
    if (option->get_default_str() == "[]")
      option->default_str("");
  for (CLI::App *sub : command.get_subcommands([](CLI::App *) { return true; }))
    hide_empty_list_defaults(*sub);
}

// Output lost to a full disk must not pass for success: what the command printed is flushed
// and checked at the end. `code` is the command's exit code.
int finish_standard_output(int code) {
  int error = standard_output_error();
  if (error == 0)
    return code;
  std::cerr << "pciesim: cannot write to standard output: " << std::strerror(error) << "\n";
  return kExitInternalError;
}

int run_command_line(int argc, char **argv) {
  CLI::App app{"pciesim: discrete-event simulator of PCIe topologies and memory migration"};
  app.set_version_flag("--version", std::string("pciesim ") + PCIESIM_VERSION);
  // Every option's default is shown in --help (subcommands inherit this), from the variable it
  // fills, so the help cannot drift from the code.
  app.option_defaults()->always_capture_default();

  std::string run_file, out_dir;
  bool quiet = false, json = false;
  CLI::App *run = app.add_subcommand("run", "run a scenario (the bundled default without FILE)");
  run->add_option("file", run_file, "scenario JSON file (- for standard input)");
  run->add_option("--out", out_dir, "write results.json, results.csv, links.csv into DIR");
  run->add_flag("--quiet", quiet, "print no table");
  run->add_flag("--json", json, "print results.json to stdout instead of the table");
  // -j: the mechanism runs of a workload comparison at once; --timeout: the whole run.
  PoolOptions run_pool{ComparisonOptions().pool.jobs, 0};
  add_pool_options(*run, run_pool, "mechanism runs of a workload");
  RunOptions run_options;
  run->add_option("--trace", run_options.trace_path,
                  "write a Chrome/Perfetto trace (JSON) of links, transfers and mechanism steps to "
                  "FILE");
  run->add_option("--vcd", run_options.vcd_path,
                  "write link busy and queue depth waveforms (VCD, for GTKWave) to FILE");
  run->add_option("--trace-max-events", run_options.trace_max_events,
                  "TLP and per-transfer events kept in --trace, and mechanism steps apart")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 40));
  std::string trace_window;
  run->add_option("--trace-window", trace_window,
                  "keep in --trace only the events overlapping FROM..TO (times with units, "
                  "e.g. 10us..2ms; an empty side is the start or the end of the run)");
  std::string only_mechanism;
  run->add_option("--mechanism", only_mechanism,
                  "a workload scenario: run only this mechanism (e.g. with --trace)")
      ->check(CLI::IsMember(mechanism_type_names()));
  std::string only_topology;
  run->add_option("--topology", only_topology,
                  "a workload scenario: run only on the topology of this name (with --trace or "
                  "--vcd: the first when not given)");
  std::vector<std::string> run_overrides;
  run->add_option("--set", run_overrides,
                  "POINTER=VALUE: put VALUE at that JSON pointer of the scenario before loading "
                  "it (topology:POINTER: of its topology files); repeatable, checked as the file "
                  "is, e.g. --set /workload/iterations=8")
      ->allow_extra_args(false);

  std::string topo_file;
  bool dot = false;
  CLI::App *topo =
      app.add_subcommand("topo", "print the enumerated topology (BDFs, BARs, windows)");
  topo->add_option("file", topo_file, "topology or scenario JSON file (- for standard input)")
      ->required();
  topo->add_flag("--dot", dot, "write Graphviz DOT instead of the tree");
  std::string topo_snapshot;
  topo->add_option("--snapshot", topo_snapshot,
                   "write the snapshot scripts/snapshot-machine.sh would take of this machine "
                   "(for `pciesim import`)");
  bool p2p = false, p2p_pair_list = false;
  CLI::Option *p2p_option = topo->add_flag(
      "--p2p", p2p, "print the p2pdma map type of every initiator and target memory, as a matrix");
  topo->add_flag("--list", p2p_pair_list,
                 "with --p2p: a line per pair instead, with its distance and the kernel's reason")
      ->needs(p2p_option);

  std::vector<std::string> validate_files;
  CLI::App *validate = app.add_subcommand("validate", "check input files without running");
  validate
      ->add_option("files", validate_files,
                   "topology, scenario or sweep JSON files (- for standard input)")
      ->required();

  SweepOptions sweep_options;
  CLI::App *sweep = add_sweep_subcommand(app, sweep_options);
  std::vector<std::string> merge_dirs;
  std::string merge_out;
  CLI::App *merge = app.add_subcommand("merge", "merge the output directories of sweep shards");
  merge->add_option("dirs", merge_dirs, "--out directories of `pciesim sweep --shard`")->required();
  merge->add_option("--out", merge_out, "write the merged sweep here")->required();

  std::string report_dir;
  CLI::App *report = app.add_subcommand(
      "report", "write DIR/report.html and report.md from the --out directory of a sweep or run");
  report->add_option("dir", report_dir, "output directory of `sweep`, `merge` or `run --out`")
      ->required();

  bool markdown = false, stats = false, schema = false, platforms = false, drivers = false,
       devices = false;
  CLI::App *describe = app.add_subcommand("describe", "list every component type and parameter");
  describe->add_flag("--markdown", markdown, "as the Markdown reference in docs/file-formats.md");
  describe->add_flag("--stats", stats, "the statistics reference in docs/statistics.md");
  describe->add_flag("--schema", schema, "schemas/topology.schema.json, generated parts filled in");
  describe->add_flag("--platforms", platforms,
                     "every platform file's values and sources, as in docs/references.md");
  describe->add_flag("--devices", devices,
                     "every device file's values and sources, as in docs/references.md");
  describe->add_flag("--drivers", drivers,
                     "every driver profile's values and sources, as in docs/references.md");

  CheckOptions check_options;
  CLI::App *check = add_check_command(app, check_options);
  ImportCommandOptions import_options;
  CLI::App *import = add_import_command(app, import_options);

  AdviseOptions advise_options;
  CLI::App *advise = app.add_subcommand(
      "advise", "per device pair: the p2pdma map type, what blocks a better one, the changes "
                "that lift it and the time each saves (simulated)");
  advise->add_option("file", advise_options.file, "topology or scenario JSON file")->required();
  advise->add_flag("--json", advise_options.json, "print the advice as JSON");
  advise
      ->add_option("--pairs", advise_options.pair_kinds,
                   "kinds of pairs: gpu-nic (a NIC reads GPU memory), nvme-gpu, gpu-gpu")
      ->delimiter(',');
  advise
      ->add_option("--pair", advise_options.pairs,
                   "INITIATOR,TARGET: only this pair (repeatable), e.g. --pair nic0,gpu0")
      ->allow_extra_args(false);
  bool advise_no_simulate = false;
  advise->add_flag("--no-simulate", advise_no_simulate, "give the advice without the times");
  advise->add_option("--out", advise_options.out, "also write the JSON to FILE");
  advise->add_option("--size", advise_options.size,
                     "the workload's buffer size (default: the default comparison's, 16 MiB)");
  advise
      ->add_option("--iommu", advise_options.iommu,
                   "set every root complex's IOMMU first (e.g. the box with its IOMMU on)")
      ->check(CLI::IsMember({"off", "passthrough", "translated"}));
  add_pool_options(*advise, advise_options.pool, "simulations");

  hide_empty_list_defaults(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitBadInput;
  }

  try {
    check_path_arguments(*run, {"--out", "--trace", "--vcd"}, true);
    for (const std::string &text : run_overrides)
      command_line_overrides.push_back(parse_override(text));
    if (run->count("--trace-window") > 0)
      run_options.trace_window = trace_window_option(trace_window, run_options);
    check_path_arguments(*check, {"files", "--junit"}, false);
    check_path_arguments(*sweep, {"file", "--out"}, false);
    check_path_arguments(*merge, {"--out"}, true);
    check_path_arguments(*report, {"dir"}, true);
    check_path_arguments(*advise, {"file", "--out"}, false);
    if (*topo) {
      if (!topo_snapshot.empty())
        check_output_file(topo_snapshot, "--snapshot");
      TopologyView v = load_any_topology(topo_file);
      const LoadedTopology &t = *v.topology;
      if (!topo_snapshot.empty()) {
        write_file_atomically(
            topo_snapshot, synthetic_snapshot(t.config, t.hierarchy, v.enumeration).dump(2) + "\n");
        return kExitOk;
      }
      std::cout << (p2p_pair_list ? p2p_list(t.config, t.hierarchy)
                    : p2p         ? p2p_matrix(t.config, t.hierarchy)
                    : dot         ? topology_dot(t.config, t.hierarchy, v.enumeration)
                                  : format_topology_tree(t.config, t.hierarchy, v.enumeration));
      return kExitOk;
    }
    if (*import)
      return command_import(import_options);
    if (*sweep)
      return command_sweep(sweep_options);
    if (*merge)
      return command_merge(merge_dirs, merge_out);
    if (*report) {
      check_output_directory(report_dir, "dir");
      check_report_outputs(report_dir);
      return command_report(report_dir);
    }
    if (*validate)
      return command_validate(validate_files);
    if (*check)
      return command_check(check_options);
    if (*advise) {
      advise_options.simulate = !advise_no_simulate;
      return command_advise(advise_options);
    }
    if (*describe) {
      std::cout << (schema      ? describe_schema()
                    : platforms ? describe_platforms_markdown()
                    : devices   ? describe_devices_markdown()
                    : drivers   ? describe_drivers_markdown()
                    : stats     ? describe_stats_markdown()
                    : markdown  ? describe_markdown()
                                : describe_text());
      return kExitOk;
    }
    return command_run(run_file, out_dir, quiet, json, run_pool, run_options, only_mechanism,
                       only_topology);
  } catch (const InputError &e) {
    std::cerr << e.what() << "\n";
    return kExitBadInput;
  } catch (const sc_core::sc_report &e) {
    std::cerr << "pciesim: SystemC error: " << printable_on_one_line(e.what()) << "\n";
    return kExitInternalError;
  } catch (const std::bad_alloc &) {
    // Resource exhaustion is what it is, never a stall or a bare "std::bad_alloc".
    std::cerr << "pciesim: out of memory while loading or simulating the scenario\n";
    return kExitInternalError;
  } catch (const std::exception &e) {
    std::cerr << "pciesim: " << printable_on_one_line(e.what()) << "\n";
    return kExitInternalError;
  }
}

} // namespace

int run_cli(int argc, char **argv) {
  hold_closed_standard_descriptors();
  // Over `ulimit -f`, write() fails with EFBIG and the path is reported, instead of the process
  // being killed without a word.
  std::signal(SIGXFSZ, SIG_IGN);
  install_checked_standard_output();
  return finish_standard_output(run_command_line(argc, argv));
}

} // namespace pciesim
