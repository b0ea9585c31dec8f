#include "sim/batch/sweep.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <iostream>
#include <limits.h>
#include <map>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "sim/batch/sweep_output_dir.h"
#include "sim/config/json_input.h"
#include "sim/report/report.h"
#include "sim/report/report_page.h"
#include "sim/util/input_error.h"

extern char **environ;

namespace pciesim {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string self_executable() {
  char path[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0)
    throw std::runtime_error("cannot find the pciesim executable (/proc/self/exe)");
  return std::string(path, static_cast<std::size_t>(n));
}

// The report is a view of the results: failing to write it must not fail the sweep.
void write_report_or_warn(const std::string &dir) {
  try {
    write_report(dir);
  } catch (const std::exception &e) {
    std::cerr << "pciesim: no report written: " << e.what() << "\n";
  }
}

std::string shell_quote(const std::string &s) {
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string absolute(const std::string &path) { return fs::absolute(path).lexically_normal(); }

// The reason a point failed: the first line the child wrote that is not its timing note.
std::string complaint_of(const std::string &stderr_path, int exit_code) {
  std::istringstream lines(read_text_file(stderr_path));
  std::string line;
  // Indented lines are details under the line that says what went wrong.
  while (std::getline(lines, line))
    if (!line.empty() && !std::isspace(static_cast<unsigned char>(line[0])) &&
        line.find(" of wall-clock time") == std::string::npos)
      return line;
  return fmt::format("exit code {}", exit_code);
}

// --shard K/N: two plain decimal numbers, 1 <= K <= N <= kMaxSweepPoints (no sign, no space).
void parse_shard(const std::string &text, unsigned &k, unsigned &n) {
  auto number = [](const std::string &digits, unsigned &out) {
    if (digits.empty() || digits.size() > 6 ||
        digits.find_first_not_of("0123456789") != std::string::npos)
      return false;
    out = static_cast<unsigned>(std::stoul(digits));
    return true;
  };
  auto slash = text.find('/');
  if (slash == std::string::npos || !number(text.substr(0, slash), k) ||
      !number(text.substr(slash + 1), n) || k < 1 || k > n || n > kMaxSweepPoints)
    throw SweepUsageError(fmt::format("--shard {}: expected K/N with 1 <= K <= N <= {}, e.g. 2/8",
                                      OrderedJson(text).dump(), kMaxSweepPoints));
}

struct Child {
  std::size_t point = 0;
  Clock::time_point started;
};

class PointPool {
public:
  PointPool(const SweepSpec &spec, const SweepOptions &options, std::vector<std::size_t> todo)
      : spec_(spec), options_(options), todo_(std::move(todo)), exe_(self_executable()),
        tty_(!options.quiet && ::isatty(2)) {}

  // Runs every point of `todo`; returns the signal that interrupted it, or 0.
  int run() {
    sigset_t watched, old;
    sigemptyset(&watched);
    for (int s : {SIGCHLD, SIGINT, SIGTERM})
      sigaddset(&watched, s);
    ::sigprocmask(SIG_BLOCK, &watched, &old);
    start_ = Clock::now();
    std::size_t next = 0;
    while (true) {
      while (!interrupted_ && running_.size() < options_.jobs && next < todo_.size())
        launch(todo_[next++], old);
      if (running_.empty())
        break;
      if (reap())
        continue;
      timespec tick{1, 0};
      int sig = ::sigtimedwait(&watched, nullptr, &tick);
      if (sig == SIGINT || sig == SIGTERM) {
        interrupted_ = sig;
        for (const auto &[pid, child] : running_)
          ::kill(pid, sig);
      }
      show_progress();
    }
    if (tty_)
      std::cerr << "\r\033[K";
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    return interrupted_;
  }

  std::size_t ran() const { return finished_; }
  std::size_t failed() const { return failed_; }

private:
  std::string point_dir(std::size_t i) const {
    return options_.out_dir + "/points/" + spec_.points[i].id;
  }

  void launch(std::size_t i, const sigset_t &original_mask) {
    std::string dir = point_dir(i);
    std::vector<std::string> args = {exe_, "run", dir + "/scenario.json", "--out", dir, "--quiet"};
    std::vector<char *> argv;
    for (std::string &a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    std::string err = dir + "/stderr.txt";
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int s : {SIGCHLD, SIGINT, SIGTERM})
      sigaddset(&defaults, s);
    posix_spawnattr_setsigmask(&attr, &original_mask);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = 0;
    int rc = ::posix_spawn(&pid, exe_.c_str(), &actions, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
      finish(i, 127, fmt::format("cannot start {}: {}", exe_, std::strerror(rc)), 0.0);
      return;
    }
    running_[pid] = Child{i, Clock::now()};
  }

  // Collects every child that has exited; false if none had.
  bool reap() {
    bool any = false;
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      auto it = running_.find(pid);
      if (it == running_.end())
        continue;
      Child child = it->second;
      running_.erase(it);
      any = true;
      double wall = seconds_since(child.started);
      if (WIFSIGNALED(status)) {
        // Stopped by our forwarded signal: not done, so that --resume runs it again.
        if (interrupted_)
          continue;
        finish(child.point, 128 + WTERMSIG(status),
               fmt::format("killed by signal {} ({})", WTERMSIG(status),
                           ::strsignal(WTERMSIG(status))),
               wall);
      } else {
        int code = WEXITSTATUS(status);
        finish(child.point, code,
               code == 0 ? "" : complaint_of(point_dir(child.point) + "/stderr.txt", code), wall);
      }
    }
    return any;
  }

  void finish(std::size_t i, int exit_code, const std::string &error, double wall) {
    PointOutcome outcome{exit_code == 0 ? "completed" : "failed", exit_code, error};
    std::string dir = point_dir(i);
    if (exit_code != 0) {
      write_file_atomically(dir + "/error.txt",
                            fmt::format("exit code {}\n{}\n", exit_code, error));
      ++failed_;
    }
    write_point_done(dir, outcome); // last: the point counts as done only once complete
    ++finished_;
    // On a terminal only failures get a line of their own, above the progress line.
    if ((!tty_ && !options_.quiet) || exit_code != 0) {
      std::size_t width = std::to_string(todo_.size()).size();
      std::cerr << fmt::format("{}[{:>{}}/{}] {} {}", tty_ ? "\r\033[K" : "", finished_, width,
                               todo_.size(), spec_.points[i].id,
                               exit_code == 0
                                   ? fmt::format("completed in {:.2f} s", wall)
                                   : fmt::format("failed (exit {}): {}", exit_code, error))
                << std::endl;
    }
    show_progress();
  }

  void show_progress() {
    if (!tty_)
      return;
    double elapsed = seconds_since(start_);
    std::string eta =
        finished_ == 0 ? "?"
                       : fmt::format("{:.0f} s", elapsed / static_cast<double>(finished_) *
                                                     static_cast<double>(todo_.size() - finished_));
    std::cerr << fmt::format("\r\033[K{}/{} done, {} failed, {} running, {:.0f} s elapsed, ETA {}",
                             finished_, todo_.size(), failed_, running_.size(), elapsed, eta)
              << std::flush;
  }

  const SweepSpec &spec_;
  const SweepOptions &options_;
  std::vector<std::size_t> todo_;
  std::string exe_;
  bool tty_;
  Clock::time_point start_;
  std::map<pid_t, Child> running_;
  std::size_t finished_ = 0, failed_ = 0;
  int interrupted_ = 0;
};

// Slurm job names end up in shell commands and squeue columns: keep them plain.
std::string job_name(const SweepSpec &spec) {
  std::string name = "pciesim-";
  for (char c : spec.name)
    name += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ? c : '-';
  return name;
}

std::string sbatch_script(const SweepSpec &spec, const SweepOptions &o, unsigned tasks,
                          bool output_in_dir) {
  std::string dir = absolute(o.out_dir);
  // Shell quoting does not help in a comment or an #SBATCH line, where a line break would
  // start a command of its own (or end the #SBATCH block): such paths are refused, and the
  // name (free of control characters since loading) is written JSON-quoted.
  for (const auto &[what, path] : {std::pair<const char *, std::string>{"--out", dir},
                                   {"the sweep file", absolute(o.file)},
                                   {"the pciesim executable", self_executable()}})
    for (unsigned char c : path)
      if (c < 0x20 || c == 0x7f)
        throw SweepUsageError(
            fmt::format("{} {}: the path has the control character U+{:04X}, which "
                        "a Slurm script cannot hold",
                        what, OrderedJson(path).dump(), c));
  std::string s = "#!/bin/bash\n";
  s += fmt::format(
      "# pciesim sweep {}: {} points in {} array tasks; task K runs the points\n"
      "# whose index % {} == K-1, skipping points already done (safe to requeue).\n"
      "# When every task has finished: {} merge {} --out {}\n",
      OrderedJson(spec.name).dump(-1, ' ', false, OrderedJson::error_handler_t::replace),
      spec.points.size(), tasks, tasks, shell_quote(self_executable()), shell_quote(dir),
      shell_quote(dir));
  s += fmt::format("#SBATCH --job-name={}\n", job_name(spec));
  s += fmt::format("#SBATCH --array=1-{}\n", tasks);
  s += "#SBATCH --ntasks=1\n";
  s += fmt::format("#SBATCH --cpus-per-task={}\n", o.jobs);
  if (output_in_dir)
    s += fmt::format("#SBATCH --output={}/slurm-%A_%a.out\n", dir);
  s += "set -euo pipefail\n";
  s += fmt::format("exec {} sweep {} --shard \"${{SLURM_ARRAY_TASK_ID}}/{}\" -j {} --out {} "
                   "--resume --quiet\n",
                   shell_quote(self_executable()), shell_quote(absolute(o.file)), tasks, o.jobs,
                   shell_quote(dir));
  return s;
}

// Runs a command line through the shell; returns its stdout, or throws with its stderr.
std::string run_shell(const std::string &command) {
  FILE *pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe)
    throw std::runtime_error("cannot run: " + command);
  std::string out;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0)
    out.append(buffer, n);
  int status = ::pclose(pipe);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error(fmt::format("`{}` failed: {}", command, out));
  return out;
}

int submit_to_slurm(const SweepSpec &spec, const SweepOptions &o, unsigned tasks) {
  std::string text = sbatch_script(spec, o, tasks, true);
  fs::create_directories(o.out_dir);
  std::string script = o.out_dir + "/sweep.sbatch";
  write_file_atomically(script, text);
  std::string dir = absolute(o.out_dir);
  std::string array = run_shell("sbatch --parsable " + shell_quote(script));
  array = array.substr(0, array.find_first_of(";\n"));
  // afterany: a shard with a failed point exits 1, and its results still belong in the merge.
  std::string merge = run_shell(
      fmt::format("sbatch --parsable --dependency=afterany:{} --job-name={}-merge "
                  "--output={}/slurm-merge-%j.out --wrap {}",
                  array, job_name(spec), shell_quote(dir),
                  shell_quote(fmt::format("{} merge {} --out {}", shell_quote(self_executable()),
                                          shell_quote(dir), shell_quote(dir)))));
  merge = merge.substr(0, merge.find_first_of(";\n"));
  std::cout << fmt::format("submitted array job {} ({} tasks, script {}) and merge job {}, which "
                           "runs after it; results will be in {}/results.csv\n",
                           array, tasks, script, merge, o.out_dir);
  return kExitOk;
}

// --resume: whether a point's done marker says it ran. A corrupt marker is reported, and the
// point runs again.
bool done_before(const std::string &point_dir) {
  try {
    return read_point_done(point_dir).has_value();
  } catch (const InputError &e) {
    std::cerr << "pciesim: " << e.what() << "; running the point again\n";
    return false;
  }
}

int run_sweep(const SweepOptions &o) {
  unsigned shard_k = 1, shard_n = 1;
  if (!o.shard.empty())
    parse_shard(o.shard, shard_k, shard_n);
  SweepSpec spec = load_sweep_file(o.file);
  if (o.print_sbatch || o.slurm) {
    unsigned tasks = o.array_tasks
                         ? o.array_tasks
                         : static_cast<unsigned>(std::min<std::size_t>(spec.points.size(), 64));
    if (o.slurm) {
      // Refused now rather than in every array task.
      require_same_sweep(o.out_dir, sweep_manifest(spec));
      return submit_to_slurm(spec, o, tasks);
    }
    std::cout << sbatch_script(spec, o, tasks, false);
    return kExitOk;
  }

  auto start = Clock::now();
  OrderedJson manifest = sweep_manifest(spec);
  fs::create_directories(o.out_dir);
  OutputDirLock lock(o.out_dir, shard_k, shard_n);
  claim_output_dir(o.out_dir, manifest);
  std::vector<std::size_t> selected, todo;
  for (const SweepPoint &p : spec.points) {
    if (p.index % shard_n != shard_k - 1)
      continue;
    selected.push_back(p.index);
    std::string dir = o.out_dir + "/points/" + p.id;
    if (o.resume && done_before(dir))
      continue;
    fs::create_directories(dir);
    for (const char *stale : {"done", "error.txt"})
      fs::remove(dir + "/" + stale);
    write_file_atomically(dir + "/scenario.json", spec.scenario_of(p).dump(2) + "\n");
    todo.push_back(p.index);
  }
  std::size_t skipped = selected.size() - todo.size();
  PointPool pool(spec, o, todo);
  int interrupted = pool.run();
  if (interrupted) {
    std::cerr << fmt::format("pciesim: sweep interrupted by signal {}: {} points finished, the "
                             "rest not started or stopped; resume with --resume\n",
                             interrupted, pool.ran());
    return 130;
  }

  OrderedJson info;
  info["wall_seconds"] = seconds_since(start);
  info["jobs"] = o.jobs;
  info["points_run"] = pool.ran();
  info["points_skipped"] = skipped;
  std::size_t not_completed = 0;
  if (shard_n > 1) {
    // Other shards may be writing into the same directory: only `merge` writes results.*.
    info["shard"] = fmt::format("{}/{}", shard_k, shard_n);
    info["points"] = OrderedJson::array();
    for (std::size_t i : selected) {
      info["points"].push_back(spec.points[i].id);
      std::optional<PointOutcome> done =
          read_point_done(o.out_dir + "/points/" + spec.points[i].id);
      not_completed += !done || done->status != "completed";
    }
    write_file_atomically(fmt::format("{}/shards/shard-{}-of-{}.json", o.out_dir, shard_k, shard_n),
                          info.dump(2) + "\n");
  } else {
    std::vector<std::string> dirs;
    for (const SweepPoint &p : spec.points)
      dirs.push_back(o.out_dir + "/points/" + p.id);
    not_completed = write_sweep_results(manifest, dirs, o.out_dir);
    write_file_atomically(o.out_dir + "/sweep-info.json", info.dump(2) + "\n");
    write_report_or_warn(o.out_dir);
  }
  if (!o.quiet || not_completed)
    std::cerr << fmt::format(
        "pciesim: sweep {}: ran {} points ({} already done), {} failed, in {:.1f} s; {}\n",
        spec.name, pool.ran(), skipped, not_completed, seconds_since(start),
        shard_n > 1 ? fmt::format("merge the shards with: pciesim merge {} --out DIR", o.out_dir)
                    : "results in " + o.out_dir + "/results.csv and report.html");
  return not_completed ? kExitExpectationFailed : kExitOk;
}

int merge_shards(const std::vector<std::string> &dirs, const std::string &out_dir) {
  OrderedJson manifest;
  for (const std::string &d : dirs) {
    if (!fs::is_regular_file(d + "/sweep-manifest.json"))
      throw SweepUsageError(
          fmt::format("{}: no sweep-manifest.json, not the --out directory of a sweep", d));
    OrderedJson m = read_sweep_manifest(d);
    if (manifest.is_null()) {
      manifest = m;
    } else if (std::string difference = manifest_difference(manifest, dirs.front(), m, d);
               !difference.empty()) {
      throw SweepUsageError(fmt::format("cannot merge {} and {}: {}", dirs.front(), d, difference));
    }
  }
  check_merge_target(out_dir, manifest);
  fs::create_directories(out_dir);
  OutputDirLock lock(out_dir, 1, 1);
  check_merge_target(out_dir, manifest); // again, now that no sweep can be writing into it
  fs::create_directories(out_dir + "/points");
  // The manifest first: a merge stopped halfway leaves a directory that says whose it is.
  if (!fs::exists(out_dir + "/sweep-manifest.json"))
    write_file_atomically(out_dir + "/sweep-manifest.json", manifest.dump(2) + "\n");
  std::vector<std::string> point_dirs;
  for (const OrderedJson &p : manifest.at("points")) {
    std::string id = p.at("id").get<std::string>(), found;
    for (const std::string &d : dirs) {
      try {
        if (read_point_done(d + "/points/" + id)) {
          found = d + "/points/" + id;
          break;
        }
      } catch (const InputError &e) {
        std::cerr << "pciesim: " << e.what() << "; that copy of the point is not merged\n";
      }
    }
    std::string target = out_dir + "/points/" + id;
    if (!found.empty() && !(fs::exists(target) && fs::equivalent(found, target))) {
      fs::remove_all(target);
      fs::copy(found, target, fs::copy_options::recursive);
    }
    point_dirs.push_back(found.empty() ? "" : target);
  }
  std::size_t not_completed = write_sweep_results(manifest, point_dirs, out_dir);
  write_report_or_warn(out_dir);
  std::cerr << fmt::format("pciesim: merged {} points from {} directories into {}; {} did not "
                           "complete\n",
                           point_dirs.size(), dirs.size(), out_dir, not_completed);
  return not_completed ? kExitExpectationFailed : kExitOk;
}

} // namespace

int command_sweep(const SweepOptions &options) {
  try {
    return run_sweep(options);
  } catch (const SweepUsageError &e) {
    std::cerr << "pciesim: " << e.what() << "\n";
    return kExitBadInput;
  }
}

int command_merge(const std::vector<std::string> &dirs, const std::string &out_dir) {
  try {
    return merge_shards(dirs, out_dir);
  } catch (const SweepUsageError &e) {
    std::cerr << "pciesim: " << e.what() << "\n";
    return kExitBadInput;
  }
}

} // namespace pciesim
