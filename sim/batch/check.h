// Expectations at the command line: `pciesim run` evaluating a scenario's "expect" list, and
// `pciesim check FILE...`, which runs many scenarios (each in its own child process, since
// the SystemC kernel cannot be restarted within one) and reports them, also as JUnit XML.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/batch/child_pool.h"
#include "sim/plan/expect.h"

namespace CLI {
class App;
}

namespace pciesim {

// For `pciesim run`: evaluates the scenario's expectations against `results` (result_json)
// and adds the "expectations" array to it when the scenario has any.
std::vector<ExpectationOutcome> check_run_expectations(const ScenarioConfig &scenario,
                                                       nlohmann::ordered_json &results);
// Prints the outcomes: every line on stdout after the table when `table_shown`, otherwise
// only the failures, on stderr (stdout then holds JSON or nothing). Returns kExitOk or
// kExitExpectationFailed.
int report_run_expectations(const std::vector<ExpectationOutcome> &outcomes, bool table_shown);

// What became of one scenario file under `pciesim check`.
struct ScenarioCheck {
  enum class Status { Completed, BadInput, Stalled, InternalError };
  struct Outcome {
    std::string name, metric, message;
    bool passed = false;
  };
  std::string file;
  std::string scenario; // its name, from results.json
  Status status = Status::InternalError;
  int exit_code = 4;   // of the scenario alone: 0, 1 (an expectation failed), 2, 3 or 4
  double seconds = 0;  // wall clock
  std::string message; // why it did not complete (the error line, the stall reason)
  std::string details; // more of the same (stderr of the run, stall diagnosis)
  std::vector<Outcome> outcomes;
  std::size_t failed() const;
};

struct CheckOptions {
  std::vector<std::string> files;
  std::string junit;                  // path of the JUnit XML report, or empty
  PoolOptions pool;                   // -j (scenarios at once) and --timeout (for the whole check)
  std::vector<std::string> overrides; // --set POINTER=VALUE, passed to every scenario's run
};

// Adds the `check` subcommand to the program's parser; `options` receives its arguments.
CLI::App *add_check_command(CLI::App &app, CheckOptions &options);
// Runs `pciesim check`. Exit code: the highest of its scenarios' (0 when every expectation of
// every scenario passed; 1 some failed; 2 a bad input; 3 a stalled run; 4 an internal error).
int command_check(const CheckOptions &options);

} // namespace pciesim
