// `pciesim run`'s expectations and `pciesim check`: each scenario file a `pciesim run --json`
// child of the shared pool, its outcome read back from what the child printed.
#include "sim/batch/check.h"

#include <csignal>
#include <cstring>
#include <iostream>
#include <unistd.h>
#include <utility>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "sim/batch/child_pool.h"
#include "sim/batch/junit.h"
#include "sim/config/overrides.h"
#include "sim/plan/scenario.h"
#include "sim/report/report.h"
#include "sim/util/file_io.h"
#include "sim/util/input_error.h"

namespace pciesim {

std::vector<ExpectationOutcome> check_run_expectations(const ScenarioConfig &scenario,
                                                       nlohmann::ordered_json &results) {
  std::vector<Expectation> expectations = scenario_expectations(scenario);
  if (expectations.empty())
    return {};
  // Evaluated before "expectations" exists, so that no metric can point at an outcome.
  std::vector<ExpectationOutcome> outcomes = evaluate_expectations(expectations, results);
  results["expectations"] = expectations_json(outcomes);
  return outcomes;
}

int report_run_expectations(const std::vector<ExpectationOutcome> &outcomes, bool table_shown) {
  std::size_t failed = 0;
  for (const ExpectationOutcome &o : outcomes)
    failed += o.passed ? 0 : 1;
  if (table_shown && !outcomes.empty()) {
    std::cout << fmt::format("\nexpectations: {} passed, {} failed\n", outcomes.size() - failed,
                             failed);
    for (const ExpectationOutcome &o : outcomes)
      std::cout << format_outcome(o) << "\n";
  } else {
    for (const ExpectationOutcome &o : outcomes)
      if (!o.passed)
        std::cerr << "pciesim: " << format_outcome(o) << "\n";
  }
  return failed ? kExitExpectationFailed : kExitOk;
}

std::size_t ScenarioCheck::failed() const {
  std::size_t n = 0;
  for (const Outcome &o : outcomes)
    n += o.passed ? 0 : 1;
  return n;
}

CLI::App *add_check_command(CLI::App &app, CheckOptions &options) {
  CLI::App *check = app.add_subcommand(
      "check", "run scenarios and check their expectations (exit 1 if any fails)");
  check->add_option("files", options.files, "scenario JSON files")->required();
  check->add_option("--junit", options.junit, "also write a JUnit XML report to FILE");
  add_pool_options(*check, options.pool, "scenarios");
  check
      ->add_option("--set", options.overrides,
                   "POINTER=VALUE: put VALUE at that JSON pointer of every scenario (as run "
                   "--set); repeatable")
      ->allow_extra_args(false);
  return check;
}

namespace {

std::string first_line(const std::string &text) {
  std::string line = text.substr(0, text.find('\n'));
  return line.empty() ? "(no message)" : line;
}

std::string stopped_by_timeout(unsigned timeout_seconds) {
  return fmt::format("the run was stopped: the check exceeded its --timeout of {} s of "
                     "wall-clock time",
                     timeout_seconds);
}

// Reads what a finished child printed into a ScenarioCheck.
ScenarioCheck collect(const ChildExit &how, const std::string &out, const std::string &err,
                      const std::string &file, unsigned timeout_seconds) {
  ScenarioCheck c;
  c.file = file;
  c.seconds = how.seconds;
  c.details = err;
  if (how.stopped) {
    c.status = ScenarioCheck::Status::Stalled;
    c.exit_code = kExitSimulationError;
    c.message = stopped_by_timeout(timeout_seconds);
    return c;
  }
  if (!how.exited()) {
    c.message = "the run was " + how.describe();
    return c;
  }
  int code = how.code;
  if (code == kExitBadInput) {
    c.status = ScenarioCheck::Status::BadInput;
    c.exit_code = kExitBadInput;
    c.message = first_line(err);
    return c;
  }
  nlohmann::ordered_json results;
  if (code == kExitOk || code == kExitExpectationFailed || code == kExitSimulationError)
    results = nlohmann::ordered_json::parse(out, nullptr, false);
  if (code == kExitSimulationError) {
    // A stalled run reports its stall in its results; without them, the reason is on stderr.
    c.status = ScenarioCheck::Status::Stalled;
    c.exit_code = kExitSimulationError;
    bool have = results.is_object() && results.contains("stall");
    c.message = "the run stalled: " +
                (have ? results["stall"].value("reason", std::string()) : first_line(err));
    if (have && results["stall"].contains("diagnosis"))
      for (const auto &line : results["stall"]["diagnosis"])
        c.details += line.get<std::string>() + "\n";
    return c;
  }
  if (!results.is_object() || (code != kExitOk && code != kExitExpectationFailed)) {
    c.message = fmt::format("the run exited with code {}: {}", code, first_line(err));
    return c;
  }
  c.status = ScenarioCheck::Status::Completed;
  c.scenario = results.value("scenario", std::string());
  if (results.contains("expectations"))
    for (const auto &e : results["expectations"]) {
      ScenarioCheck::Outcome o;
      o.name = e.value("name", std::string());
      o.metric = e.value("metric", std::string());
      o.message = e.value("message", std::string());
      o.passed = e.value("passed", false);
      c.outcomes.push_back(o);
    }
  c.exit_code = c.failed() ? kExitExpectationFailed : kExitOk;
  return c;
}

std::string format_check(const ScenarioCheck &c) {
  std::string time = fmt::format("({:.2f} s)", c.seconds);
  switch (c.status) {
  case ScenarioCheck::Status::Completed: {
    if (c.failed() == 0)
      return fmt::format("PASS {}: {} {}\n", c.file,
                         c.outcomes.empty()
                             ? std::string("completed, no expectations")
                             : fmt::format("{} expectation{} passed", c.outcomes.size(),
                                           c.outcomes.size() == 1 ? "" : "s"),
                         time);
    std::string text = fmt::format("FAIL {}: {} of {} expectations failed {}\n", c.file, c.failed(),
                                   c.outcomes.size(), time);
    for (const ScenarioCheck::Outcome &o : c.outcomes)
      if (!o.passed)
        text += fmt::format("  FAIL {}: {}\n", o.name, o.message);
    return text;
  }
  case ScenarioCheck::Status::BadInput:
    return fmt::format("ERROR {}: bad input: {}\n", c.file, c.message);
  case ScenarioCheck::Status::Stalled:
    return fmt::format("STALL {}: {} {}\n", c.file, c.message, time);
  case ScenarioCheck::Status::InternalError:
    break;
  }
  return fmt::format("ERROR {}: internal error: {}\n", c.file, c.message);
}

std::string summary(const std::vector<ScenarioCheck> &checks) {
  std::size_t passed = 0, failed = 0, bad = 0, stalled = 0, errors = 0, expectations = 0,
              expectations_failed = 0;
  for (const ScenarioCheck &c : checks) {
    expectations += c.outcomes.size();
    expectations_failed += c.failed();
    switch (c.status) {
    case ScenarioCheck::Status::Completed:
      (c.failed() ? failed : passed)++;
      break;
    case ScenarioCheck::Status::BadInput:
      bad++;
      break;
    case ScenarioCheck::Status::Stalled:
      stalled++;
      break;
    case ScenarioCheck::Status::InternalError:
      errors++;
      break;
    }
  }
  return fmt::format("check: {} scenario{}: {} passed, {} failed, {} bad input, {} stalled, {} "
                     "internal error; {} expectations, {} failed\n",
                     checks.size(), checks.size() == 1 ? "" : "s", passed, failed, bad, stalled,
                     errors, expectations, expectations_failed);
}

} // namespace

int command_check(const CheckOptions &options) {
  // Refused now, not after every scenario ran; nor may it be one of the scenarios, which the
  // runs read in child processes.
  for (const std::string &file : options.files)
    note_input_file(file);
  if (!options.junit.empty())
    check_output_file(options.junit, "--junit");
  for (const std::string &o : options.overrides)
    parse_override(o); // a malformed one is refused once, not in every scenario's run
  const std::string exe = self_executable();
  const std::size_t count = options.files.size();
  std::vector<ScenarioCheck> checks(count);
  std::vector<bool> done(count, false);
  struct Output {
    CapturedOutput out, err;
  };
  std::vector<Output> outputs(count);
  std::size_t printed = 0;
  // Reports in the order of the files, each as soon as it and those before it are done.
  auto print_done = [&] {
    for (; printed < count && done[printed]; ++printed) {
      std::cout << format_check(checks[printed]);
      std::cout.flush();
    }
  };
  ChildPool::End end;
  int stop_signal = 0;
  {
    ChildPool pool(options.pool);
    auto start = [&](std::size_t i) {
      ChildOutput output{outputs[i].out.open(), outputs[i].err.open()};
      // "--": a file named like an option stays a file.
      std::vector<std::string> argv = {exe, "run", "--json", "--quiet"};
      for (const std::string &o : options.overrides)
        argv.insert(argv.end(), {"--set", o});
      argv.insert(argv.end(), {"--", options.files[i]});
      return pool.start_this_program(argv, output);
    };
    auto finished = [&](std::size_t i, const ChildExit &how) {
      if (how.stopped && pool.stop_signal())
        return; // a check stopped by a signal reports nothing more
      checks[i] = collect(how, outputs[i].out.text(), outputs[i].err.text(), options.files[i],
                          options.pool.timeout_seconds);
      outputs[i].out.close();
      outputs[i].err.close();
      done[i] = true;
      print_done();
    };
    end = pool.run(count, start, finished);
    stop_signal = pool.stop_signal();
  }
  if (end == ChildPool::End::Stopped) {
    std::cerr << fmt::format("pciesim: check stopped by signal {} ({}); its runs were stopped\n",
                             stop_signal, ::strsignal(stop_signal));
    ChildPool::die_of(stop_signal);
  }
  // After a --timeout, the scenarios never started count as stalled too.
  for (std::size_t i = 0; i < count; ++i)
    if (!done[i]) {
      checks[i].file = options.files[i];
      checks[i].status = ScenarioCheck::Status::Stalled;
      checks[i].exit_code = kExitSimulationError;
      checks[i].message = "not run: the check exceeded its --timeout of " +
                          std::to_string(options.pool.timeout_seconds) +
                          " s of wall-clock time first";
      done[i] = true;
    }
  print_done();
  std::cout << summary(checks);
  if (!options.junit.empty())
    write_file_atomically(options.junit, junit_xml(checks));
  int code = kExitOk;
  for (const ScenarioCheck &c : checks)
    code = std::max(code, c.exit_code);
  return code;
}

} // namespace pciesim
