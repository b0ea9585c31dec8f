#include "sim/batch/comparison.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <new>
#include <tuple>

#include <fmt/format.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/batch/check.h"
#include "sim/plan/expect.h"
#include "sim/report/report.h"
#include "sim/util/file_io.h"
#include "sim/util/input_error.h"

namespace pciesim {

namespace {

struct Child {
  pid_t pid = -1;
  int out = -1;
  std::size_t topology = 0;
  Mechanism mechanism = Mechanism::P2pDmaApi;
};

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
// `out`. It dies with the comparison: SIGKILL when its parent goes, whatever the cause.
[[noreturn]] void run_mechanism_child(const ScenarioConfig &base, Mechanism mechanism,
                                      const ComparisonOptions &o, pid_t parent, int out,
                                      const sigset_t &original_mask) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) // the parent died before the line above
    ::_exit(kExitInternalError);
  ::sigprocmask(SIG_SETMASK, &original_mask, nullptr);
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
  ::_exit(code);
}

Child launch(const ScenarioConfig &base, std::size_t topology, Mechanism mechanism,
             const ComparisonOptions &o, const sigset_t &original_mask) {
  Child c{-1, anonymous_file(), topology, mechanism};
  std::cout.flush();
  std::cerr.flush();
  const pid_t parent = ::getpid();
  c.pid = ::fork();
  if (c.pid < 0) {
    ::close(c.out);
    throw std::runtime_error("cannot start a mechanism run: fork failed");
  }
  if (c.pid == 0)
    run_mechanism_child(base, mechanism, o, parent, c.out, original_mask);
  return c;
}

// The signals that stop a comparison, unless they were ignored when it started (nohup).
std::vector<int> stop_signals() {
  std::vector<int> out;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction current {};
    if (::sigaction(sig, nullptr, &current) == 0 && current.sa_handler != SIG_IGN)
      out.push_back(sig);
  }
  return out;
}

// The mechanism runs, owned by the comparison: none outlives it, whether it finishes, meets
// its --timeout or is stopped by a signal.
class ChildPool {
public:
  explicit ChildPool(const std::vector<int> &stop) : stop_(stop) {
    sigemptyset(&watched_);
    sigaddset(&watched_, SIGCHLD);
    for (int sig : stop_)
      sigaddset(&watched_, sig);
    // Blocked from here on, they wait for sigtimedwait: none can land between a check of
    // the children and the wait.
    ::sigprocmask(SIG_BLOCK, &watched_, &original_);
  }
  ~ChildPool() {
    kill_all();
    ::sigprocmask(SIG_SETMASK, &original_, nullptr);
  }
  ChildPool(const ChildPool &) = delete;
  ChildPool &operator=(const ChildPool &) = delete;

  const sigset_t &original_mask() const { return original_; }
  void add(std::size_t job, const Child &c) { running_[c.pid] = {job, c}; }
  std::size_t size() const { return running_.size(); }

  // A child that has exited, if any; its exit status in `status`.
  bool reap(std::size_t &job, Child &child, int &status) {
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      auto it = running_.find(pid);
      if (it == running_.end())
        continue;
      std::tie(job, child) = it->second;
      running_.erase(it);
      return true;
    }
    return false;
  }

  // A stop signal that arrived (it stays pending), or 0: checked before starting more runs,
  // since a terminal's ^C also reaches the children, which then exit first.
  int pending_stop() const {
    sigset_t pending;
    if (::sigpending(&pending) != 0)
      return 0;
    for (int sig : stop_)
      if (sigismember(&pending, sig))
        return sig;
    return 0;
  }

  // Waits until a child may have exited, the deadline passes or a stop signal arrives;
  // returns that signal, or 0.
  int wait(std::chrono::steady_clock::time_point deadline) {
    auto left = deadline - std::chrono::steady_clock::now();
    auto tick = std::min<std::chrono::steady_clock::duration>(left, std::chrono::seconds(1));
    if (tick <= tick.zero())
      return 0;
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(tick).count();
    timespec t{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    int sig = ::sigtimedwait(&watched_, nullptr, &t);
    return std::find(stop_.begin(), stop_.end(), sig) != stop_.end() ? sig : 0;
  }

  void kill_all() {
    for (const auto &[pid, entry] : running_)
      ::kill(pid, SIGKILL);
    for (const auto &[pid, entry] : running_) {
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
      ::close(entry.second.out);
    }
    running_.clear();
  }

  // Dies of `sig` as if it had not been caught (the shell sees 128 + sig, a sweep sees a
  // point stopped by its signal), after the children.
  [[noreturn]] void die_of(int sig) {
    kill_all();
    std::cout.flush();
    std::cerr << fmt::format("pciesim: stopped by signal {} ({}); the mechanism runs were "
                             "stopped and nothing was written\n",
                             sig, ::strsignal(sig));
    std::cerr.flush();
    ::signal(sig, SIG_DFL);
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, sig);
    ::sigprocmask(SIG_UNBLOCK, &only, nullptr);
    ::raise(sig);
    ::_exit(128 + sig);
  }

private:
  std::vector<int> stop_;
  sigset_t watched_, original_;
  std::map<pid_t, std::pair<std::size_t, Child>> running_;
};

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

int command_compare(const std::vector<ScenarioConfig> &topologies, const ComparisonOptions &o) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = o.timeout_seconds > 0
                                         ? Clock::now() + std::chrono::seconds(o.timeout_seconds)
                                         : Clock::time_point::max();
  const ScenarioConfig &first = topologies.front();
  std::vector<std::pair<std::size_t, Mechanism>> jobs;
  for (std::size_t k = 0; k < topologies.size(); ++k)
    for (Mechanism m : topologies[k].workload->mechanisms)
      if (o.only_mechanism.empty() || o.only_mechanism == mechanism_name(m))
        jobs.emplace_back(k, m);
  std::vector<nlohmann::ordered_json> entries(jobs.size());
  bool internal_error = false; // a run that crashed or ran out of memory: exit 4
  {
    ChildPool pool(stop_signals());
    std::size_t next = 0;
    while (next < jobs.size() || pool.size() > 0) {
      if (int sig = pool.pending_stop())
        pool.die_of(sig);
      if (Clock::now() >= deadline) {
        pool.kill_all();
        std::cerr << "pciesim: the run exceeded its --timeout of wall-clock time and was "
                     "stopped; nothing was written\n";
        return kExitSimulationError;
      }
      while (next < jobs.size() && static_cast<int>(pool.size()) < std::max(1, o.jobs)) {
        const auto &[topology, mechanism] = jobs[next];
        pool.add(next++,
                 launch(topologies[topology], topology, mechanism, o, pool.original_mask()));
      }
      std::size_t index = 0;
      Child child;
      int status = 0;
      if (!pool.reap(index, child, status)) {
        if (int sig = pool.wait(deadline))
          pool.die_of(sig);
        continue;
      }
      std::string text = read_all(child.out);
      ::close(child.out);
      nlohmann::ordered_json j = nlohmann::ordered_json::parse(text, nullptr, false);
      const std::string topology = topologies[child.topology].topology->config.name;
      if (!WIFEXITED(status) || j.is_discarded() || j.contains("error")) {
        internal_error = true;
        std::string why = !WIFEXITED(status)
                              ? fmt::format("the run was killed by signal {} ({})",
                                            WTERMSIG(status), ::strsignal(WTERMSIG(status)))
                          : j.is_discarded() ? "the run printed no result"
                                             : j["error"].get<std::string>();
        j = failed_entry(child.mechanism, topology, why);
      }
      entries[index] = j;
    }
  }
  nlohmann::ordered_json results;
  results["pciesim_version"] = PCIESIM_VERSION;
  results["scenario"] = first.name;
  results["workload"] = first.workload->resolved;
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
  // Expectations compare mechanisms: with --mechanism the others are missing, so none apply.
  std::vector<ExpectationOutcome> outcomes;
  if (o.only_mechanism.empty())
    outcomes = check_run_expectations(first, results);
  if (!o.out_dir.empty() && !internal_error) {
    create_output_directory(o.out_dir);
    OutputSet files;
    files.add(o.out_dir + "/results.json", results.dump(2) + "\n");
    files.add(o.out_dir + "/results.csv", comparison_csv(results));
    files.write();
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
