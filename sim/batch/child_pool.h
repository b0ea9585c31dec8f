// The one pool of child processes behind `pciesim check`, `pciesim sweep` and a workload
// `pciesim run` (the SystemC kernel cannot be restarted within a process, so every run is a
// child): up to -j children at once, each a program (fork + exec) or a function of this
// program (fork), one wall-clock deadline (--timeout) for all of them, children reaped in
// the order they finish. None outlives the pool: each dies with its parent
// (PR_SET_PDEATHSIG), and SIGINT, SIGTERM or SIGHUP to the parent is forwarded to every
// child, each of which is reaped (killed if it does not stop within a grace period) before
// the caller decides how to end. Callers keep their own output and exit codes.
#pragma once

#include <chrono>
#include <csignal>
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

namespace CLI {
class App;
}

namespace pciesim {

// -j/--jobs and --timeout: the same meaning and range on `run`, `check` and `sweep`.
struct PoolOptions {
  unsigned jobs = 1;            // children at once
  unsigned timeout_seconds = 0; // wall clock for the whole command, 0 for none
};
inline constexpr unsigned kMaxJobs = 1024;
inline constexpr unsigned kMaxTimeoutSeconds = 86400;

// Adds -j/--jobs (whose default is `options.jobs` as given) and --timeout to `command`;
// `children` says what runs in parallel ("scenarios", "points", "mechanism runs").
void add_pool_options(CLI::App &command, PoolOptions &options, const std::string &children);

// How a child ended, in one form for every caller.
struct ChildExit {
  int code = 0;         // its exit code, when it exited
  int signal = 0;       // the signal that killed it, or 0 when it exited
  bool stopped = false; // the pool stopped it: the deadline passed or a stop signal came
  double seconds = 0;   // wall clock from its start
  bool exited() const { return signal == 0; }
  // As a shell shows it: the exit code, or 128 + the signal.
  int shell_code() const { return signal ? 128 + signal : code; }
  // "exit code 3", "killed by signal 9 (Killed)".
  std::string describe() const;
};

// Where a child's standard output and error go: descriptors dup'ed onto 1 and 2 in the child
// (-1: the parent's).
struct ChildOutput {
  int out = -1;
  int err = -1;
};

class ChildPool {
public:
  enum class End { Finished, TimedOut, Stopped };
  // Starts job `job` (0 to the count given to run) with start_this_program or start_function and
  // returns its pid, or -1 when it started no child (the caller has recorded why).
  using Start = std::function<pid_t(std::size_t job)>;
  using Finished = std::function<void(std::size_t job, const ChildExit &how)>;

  // Blocks SIGCHLD and the stop signals (SIGINT, SIGTERM, SIGHUP, but not one ignored when
  // the pool is made, as under nohup) until the pool goes: they wait for the pool's loop,
  // so none lands between a look at the children and the wait.
  explicit ChildPool(const PoolOptions &options);
  // Kills and reaps any child still running (an exception left the loop), restores the mask.
  ~ChildPool();
  ChildPool(const ChildPool &) = delete;
  ChildPool &operator=(const ChildPool &) = delete;

  // Runs jobs 0..count-1, at most -j at once; `finished` hears of each child as it is reaped
  // (also of those the pool stopped, with `stopped` set), `tick` at least once a second.
  // Returns Finished when every job ran, TimedOut when the deadline passed, Stopped when a
  // stop signal came (stop_signal() says which): every child is then reaped and the jobs not
  // yet started never start.
  End run(std::size_t count, const Start &start, const Finished &finished,
          const std::function<void()> &tick = {});
  int stop_signal() const { return stop_signal_; }
  std::size_t running() const { return running_.size(); }

  // Starts this very program (the file this process was started from, even if another has
  // since taken its name) as a child, with `argv` (argv[0] its path, for the child's
  // messages). An exec failure is a message on the child's standard error and exit code 127.
  pid_t start_this_program(const std::vector<std::string> &argv, ChildOutput output) const;
  // Starts a child that runs `body` and exits with what it returns (4 if it throws).
  pid_t start_function(const std::function<int()> &body, ChildOutput output) const;

  // Dies of `sig` as if it had not been caught (the shell sees 128 + sig).
  [[noreturn]] static void die_of(int sig);

private:
  struct Running {
    std::size_t job;
    std::chrono::steady_clock::time_point started;
  };
  bool reap(const Finished &finished, bool stopped);
  int wait(std::chrono::steady_clock::time_point until);
  int pending_stop();
  void stop_all(int sig, const Finished &finished);
  // Forks a child that dies with the parent and has `output`; 0 in the child.
  pid_t fork_child(ChildOutput output) const;
  // In a new child: dies with `parent`, gets the original mask and `output`.
  void prepare_child(ChildOutput output, pid_t parent) const;

  PoolOptions options_;
  std::vector<int> stop_signals_;
  sigset_t watched_, original_;
  std::map<pid_t, Running> running_;
  int stop_signal_ = 0;
};

// The running pciesim executable, for children that run it again.
std::string self_executable();
// An unlinked temporary file for a child's output (never fills like a pipe; nothing is left
// behind, whatever happens), closed when it goes.
class CapturedOutput {
public:
  CapturedOutput() = default;
  ~CapturedOutput();
  CapturedOutput(const CapturedOutput &) = delete;
  CapturedOutput &operator=(const CapturedOutput &) = delete;
  // Creates the file (closing one made before); its descriptor.
  int open();
  int fd() const { return fd_; }
  // All that was written to it.
  std::string text() const;
  void close();

private:
  int fd_ = -1;
};

} // namespace pciesim
