// `pciesim sweep` and `pciesim merge`: the points of a sweep run as `pciesim run` children of
// the shared pool, marked done as they finish, then gathered into results and a report.
#include "sim/batch/sweep.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "sim/batch/sweep_output_dir.h"
#include "sim/batch/sweep_slurm.h"
#include "sim/config/json_input.h"
#include "sim/config/overrides.h"
#include "sim/report/report.h"
#include "sim/report/report_page.h"
#include "sim/util/file_io.h"
#include "sim/util/input_error.h"
#include "sim/util/output_directory.h"

namespace pciesim {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The report is a view of the results: failing to write it must not fail the sweep.
void write_report_or_warn(const std::string &dir) {
  try {
    write_report(dir);
  } catch (const std::exception &e) {
    std::cerr << "pciesim: no report written: " << e.what() << "\n";
  }
}

// A point's stderr.txt, made or emptied for its run: only a regular file, never through a
// symbolic link or into a FIFO (a stale point directory may hold anything). -1 with `problem`.
int open_point_stderr(const std::string &path, std::string &problem) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
  if (fd < 0) {
    problem = errno == ELOOP ? "a symbolic link stands there" : std::strerror(errno);
    return -1;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || ::ftruncate(fd, 0) != 0) {
    problem = S_ISREG(st.st_mode) ? std::strerror(errno) : "not a regular file";
    ::close(fd);
    return -1;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

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

// The points of a sweep, each a `pciesim run` child of the shared pool; a point that
// finishes is marked done, one the pool stopped is left to --resume.
class PointPool {
public:
  PointPool(const SweepSpec &spec, const SweepOptions &options, std::vector<std::size_t> todo)
      : spec_(spec), options_(options), todo_(std::move(todo)), exe_(self_executable()),
        tty_(!options.quiet && ::isatty(2)) {}

  // Runs every point of `todo` unless the --timeout passes or a stop signal comes.
  ChildPool::End run() {
    start_ = Clock::now();
    // Signals wait for the pool only while points run: not while the results are written.
    ChildPool pool(options_.pool);
    pool_ = &pool;
    ChildPool::End end = pool.run(
        todo_.size(), [this](std::size_t i) { return launch(todo_[i]); },
        [this](std::size_t i, const ChildExit &how) { reaped(todo_[i], how); },
        [this] { show_progress(); });
    stop_signal_ = pool.stop_signal();
    pool_ = nullptr;
    if (tty_)
      std::cerr << "\r\033[K";
    return end;
  }

  int stop_signal() const { return stop_signal_; }
  std::size_t ran() const { return finished_; }
  std::size_t failed() const { return failed_; }

private:
  std::string point_dir(std::size_t i) const {
    return options_.out_dir + "/points/" + spec_.points[i].id;
  }

  pid_t launch(std::size_t i) {
    std::string dir = point_dir(i);
    std::string err = dir + "/stderr.txt";
    int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    std::string problem = null_fd < 0 ? std::strerror(errno) : "";
    int err_fd = null_fd < 0 ? -1 : open_point_stderr(err, problem);
    pid_t pid = -1;
    if (null_fd < 0 || err_fd < 0)
      finish(i, 127, fmt::format("cannot open {}: {}", null_fd < 0 ? "/dev/null" : err, problem),
             0.0);
    else
      pid = pool_->start_this_program(point_command(dir), ChildOutput{null_fd, err_fd});
    for (int fd : {null_fd, err_fd})
      if (fd >= 0)
        ::close(fd);
    return pid;
  }

  // `pciesim run` of the point; with --point-timeout, its own --timeout stops it (exit 3).
  std::vector<std::string> point_command(const std::string &dir) const {
    std::vector<std::string> command = {exe_,    "run", dir + "/scenario.json",
                                        "--out", dir,   "--quiet"};
    if (options_.point_timeout_seconds > 0) {
      command.push_back("--timeout");
      command.push_back(std::to_string(options_.point_timeout_seconds));
    }
    return command;
  }

  // The reason a point failed, in the words of the sweep when its --point-timeout stopped it.
  std::string failure(std::size_t point, int exit_code) const {
    const std::string stderr_path = point_dir(point) + "/stderr.txt";
    if (options_.point_timeout_seconds > 0 && exit_code == kExitSimulationError &&
        read_text_file(stderr_path).find("exceeded its --timeout") != std::string::npos)
      return fmt::format("timed out: still running after the --point-timeout of {} s of "
                         "wall-clock time, and stopped",
                         options_.point_timeout_seconds);
    return complaint_of(stderr_path, exit_code);
  }

  void reaped(std::size_t point, const ChildExit &how) {
    // Stopped by the --timeout or a signal: not done, so that --resume runs it again.
    if (how.stopped)
      return;
    if (!how.exited())
      finish(point, how.shell_code(), how.describe(), how.seconds);
    else
      finish(point, how.code, how.code == 0 ? "" : failure(point, how.code), how.seconds);
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
                             finished_, todo_.size(), failed_, pool_ ? pool_->running() : 0,
                             elapsed, eta)
              << std::flush;
  }

  const SweepSpec &spec_;
  const SweepOptions &options_;
  std::vector<std::size_t> todo_;
  std::string exe_;
  bool tty_;
  ChildPool *pool_ = nullptr; // while run() runs
  int stop_signal_ = 0;
  Clock::time_point start_;
  std::size_t finished_ = 0, failed_ = 0;
};

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
  std::vector<JsonOverride> overrides;
  for (const std::string &text : o.overrides)
    overrides.push_back(parse_override(text));
  for (const std::string &arg : o.sbatch_args)
    check_sbatch_arg(arg);
  SweepSpec spec = load_sweep_file(o.file, overrides);
  if (o.print_sbatch || o.slurm) {
    unsigned tasks = o.array_tasks
                         ? o.array_tasks
                         : static_cast<unsigned>(std::min<std::size_t>(spec.points.size(), 64));
    if (o.slurm) {
      // Refused now rather than in every array task.
      require_same_sweep(o.out_dir, sweep_manifest(spec));
      return submit_to_slurm(spec, o, tasks);
    }
    std::cout << sbatch_script(spec, o, tasks, /*output_in_dir=*/false);
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
    create_output_subdirectory(dir);
    for (const char *stale : {"done", "error.txt"})
      fs::remove(dir + "/" + stale);
    write_file_atomically(dir + "/scenario.json", spec.scenario_of(p).dump(2) + "\n");
    todo.push_back(p.index);
  }
  std::size_t skipped = selected.size() - todo.size();
  PointPool pool(spec, o, todo);
  ChildPool::End end = pool.run();
  if (end == ChildPool::End::Stopped) {
    std::cerr << fmt::format("pciesim: sweep interrupted by signal {}: {} points finished, the "
                             "rest not started or stopped; resume with --resume\n",
                             pool.stop_signal(), pool.ran());
    return kExitSweepInterrupted;
  }
  if (end == ChildPool::End::TimedOut) {
    std::cerr << fmt::format("pciesim: sweep stopped by its --timeout of {} s of wall-clock time: "
                             "{} points finished, the rest not started or stopped; resume with "
                             "--resume\n",
                             o.pool.timeout_seconds, pool.ran());
    return kExitSimulationError;
  }

  OrderedJson info;
  info["wall_seconds"] = seconds_since(start);
  info["jobs"] = o.pool.jobs;
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
  create_output_subdirectory(out_dir + "/points");
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
