#include "sim/batch/check.h"

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

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
  check->add_option("-j,--jobs", options.jobs, "run up to N scenarios at once (default 1)")
      ->check(CLI::Range(1u, 256u));
  check
      ->add_option("--timeout", options.timeout_seconds,
                   "stop each run after this many seconds of wall-clock time")
      ->check(CLI::Range(1u, 86400u));
  return check;
}

int anonymous_file() {
  const char *dir = std::getenv("TMPDIR");
  std::string path = std::string(dir && *dir ? dir : "/tmp") + "/pciesim-check-XXXXXX";
  int fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0)
    throw std::runtime_error("cannot create a temporary file in " + path + ": " +
                             std::strerror(errno));
  ::unlink(path.c_str());
  return fd;
}

std::string read_all(int fd) {
  std::string text;
  if (::lseek(fd, 0, SEEK_SET) != 0)
    return text;
  char buffer[65536];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0)
    text.append(buffer, static_cast<std::size_t>(n));
  return text;
}

namespace {

using Clock = std::chrono::steady_clock;

std::string self_executable() {
  char buffer[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  if (n <= 0)
    throw std::runtime_error(std::string("cannot find the pciesim executable: ") +
                             std::strerror(errno));
  return std::string(buffer, static_cast<std::size_t>(n));
}

// An unlinked temporary file for a child's output: nothing is left behind, whatever happens.
std::string first_line(const std::string &text) {
  std::string line = text.substr(0, text.find('\n'));
  return line.empty() ? "(no message)" : line;
}

struct Running {
  std::size_t index;
  pid_t pid;
  int out, err;
  Clock::time_point start;
};

Running launch(const std::string &exe, const CheckOptions &options, std::size_t index) {
  Running r{index, -1, anonymous_file(), anonymous_file(), Clock::now()};
  std::vector<std::string> args = {exe, "run", "--json", "--quiet"};
  if (options.timeout_seconds > 0) {
    args.push_back("--timeout");
    args.push_back(std::to_string(options.timeout_seconds));
  }
  args.push_back("--"); // a file named like an option stays a file
  args.push_back(options.files[index]);
  std::vector<char *> argv;
  for (std::string &a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  std::cout.flush();
  r.pid = ::fork();
  if (r.pid < 0)
    throw std::runtime_error(std::string("cannot start a run: ") + std::strerror(errno));
  if (r.pid == 0) {
    ::dup2(r.out, 1);
    ::dup2(r.err, 2);
    ::execv(exe.c_str(), argv.data());
    static const char message[] = "pciesim check: cannot execute the pciesim program\n";
    ssize_t ignored = ::write(2, message, sizeof message - 1);
    (void)ignored;
    ::_exit(kExitInternalError);
  }
  return r;
}

// Reads what a finished child printed into a ScenarioCheck.
ScenarioCheck collect(const Running &r, int status, const std::string &file) {
  ScenarioCheck c;
  c.file = file;
  c.seconds = std::chrono::duration<double>(Clock::now() - r.start).count();
  std::string out = read_all(r.out), err = read_all(r.err);
  ::close(r.out);
  ::close(r.err);
  c.details = err;
  if (!WIFEXITED(status)) {
    c.message = fmt::format("the run was killed by signal {}", WTERMSIG(status));
    return c;
  }
  int code = WEXITSTATUS(status);
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
    // A run stopped by --timeout prints no results: its reason is on stderr.
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
  if (!options.junit.empty()) // refused now, not after every scenario ran
    check_output_file(options.junit, "--junit");
  const std::string exe = self_executable();
  std::vector<ScenarioCheck> checks(options.files.size());
  std::vector<bool> done(options.files.size(), false);
  std::vector<Running> running;
  std::size_t next = 0, printed = 0;
  while (printed < options.files.size()) {
    while (next < options.files.size() && running.size() < options.jobs)
      running.push_back(launch(exe, options, next++));
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR)
        continue;
      throw std::runtime_error(std::string("waiting for a run failed: ") + std::strerror(errno));
    }
    for (std::size_t i = 0; i < running.size(); ++i)
      if (running[i].pid == pid) {
        std::size_t index = running[i].index;
        checks[index] = collect(running[i], status, options.files[index]);
        done[index] = true;
        running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
    // Reports in the order of the files, each as soon as it and those before it are done.
    for (; printed < options.files.size() && done[printed]; ++printed) {
      std::cout << format_check(checks[printed]);
      std::cout.flush();
    }
  }
  std::cout << summary(checks);
  if (!options.junit.empty())
    write_file_atomically(options.junit, junit_xml(checks));
  int code = kExitOk;
  for (const ScenarioCheck &c : checks)
    code = std::max(code, c.exit_code);
  return code;
}

} // namespace pciesim
