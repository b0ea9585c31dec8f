// Test helpers. SystemC's kernel runs once per process, so simulations in tests run in a
// forked child that sends results.json back through a pipe; one TEST may then run many.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace pciesim::test {

// Runs `body` in a forked child and returns the string it produced (SystemC-using test code
// goes here so that each call gets a fresh kernel). Exceptions in the child are rethrown as
// std::runtime_error in the parent.
std::string run_in_child(const std::function<std::string()> &body);

// Runs the scenario given as JSON text (topology inline or as a path relative to the
// repository root) in a child process; returns the child's result_json().
nlohmann::json simulate_in_child(const std::string &scenario_json);
nlohmann::json simulate_in_child(const nlohmann::json &scenario);

// Reads a file of the repository (throws if it is missing).
std::string read_repo_file(const std::string &relative_path);

// Reads any file; "" if it cannot be read.
std::string read_file(const std::string &path);

// A new, empty directory /tmp/pciesim-<prefix>-XXXXXX, removed with all it holds when the
// test process exits.
std::string make_temp_dir(const std::string &prefix);

// topologies/gpu-nic-shared-switch.json with `nics` NICs on its switch, nic0 .. nic{nics-1}
// (at least one).
nlohmann::json shared_switch_with_nics(int nics);

// Runs the pciesim binary with arguments; captures stdout and stderr and the exit code.
struct CommandResult {
  int exit_code = -1;
  std::string out, err;
};
CommandResult run_pciesim(const std::string &arguments);
// Writes `scenario` to a new directory and runs `pciesim run` on it (`prefix` names the
// directory); the command's result, with its results.json parsed into `results` when it ran.
struct ScenarioRun {
  CommandResult command;
  nlohmann::json results;
};
ScenarioRun run_scenario_file(const nlohmann::json &scenario, const std::string &prefix);
// Runs a shell command line the same way.
CommandResult run_command(const std::string &command_line);

// The transfer named `id` in a result.
const nlohmann::json &transfer(const nlohmann::json &result, const std::string &id);

// The payload bytes a mechanism's run sent out of link port `port` (its "links" rows).
std::uint64_t payload_from(const nlohmann::json &mechanism, const std::string &port);

} // namespace pciesim::test
