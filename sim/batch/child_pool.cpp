// The child-process pool of check, sweep and a workload run (see child_pool.h): starting
// children that die with their parent, one deadline, reaping in completion order, and
// forwarding the stop signals so that no child is left behind.
#include "sim/batch/child_pool.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <stdexcept>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "sim/util/file_io.h"
#include "sim/util/input_error.h"

namespace pciesim {

namespace {

using Clock = std::chrono::steady_clock;

// How long children asked to stop get before they are killed: enough for a run to remove its
// temporaries and stop its own children, short enough not to keep a Ctrl-C waiting.
constexpr auto kStopGrace = std::chrono::seconds(2);

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The signals that stop the pool, unless they were ignored when it started (nohup).
std::vector<int> stop_signals() {
  std::vector<int> out;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction current {};
    if (::sigaction(sig, nullptr, &current) == 0 && current.sa_handler != SIG_IGN)
      out.push_back(sig);
  }
  return out;
}

void write_message(const char *text) {
  ssize_t ignored = ::write(2, text, std::strlen(text));
  (void)ignored;
}

} // namespace

void add_pool_options(CLI::App &command, PoolOptions &options, const std::string &children) {
  command.add_option("-j,--jobs", options.jobs, fmt::format("run up to N {} at once", children))
      ->check(CLI::Range(1u, kMaxJobs));
  command
      .add_option("--timeout", options.timeout_seconds,
                  "stop everything after this many seconds of wall-clock time (exit 3)")
      ->check(CLI::Range(1u, kMaxTimeoutSeconds))
      ->default_str(options.timeout_seconds == 0 ? "none"
                                                 : std::to_string(options.timeout_seconds));
}

std::string ChildExit::describe() const {
  if (signal)
    return fmt::format("killed by signal {} ({})", signal, ::strsignal(signal));
  return fmt::format("exit code {}", code);
}

ChildPool::ChildPool(const PoolOptions &options)
    : options_(options), stop_signals_(stop_signals()) {
  options_.jobs = std::max(1u, options_.jobs);
  sigemptyset(&watched_);
  sigaddset(&watched_, SIGCHLD);
  for (int sig : stop_signals_)
    sigaddset(&watched_, sig);
  ::sigprocmask(SIG_BLOCK, &watched_, &original_);
}

ChildPool::~ChildPool() {
  for (const auto &[pid, child] : running_)
    ::kill(pid, SIGKILL);
  for (const auto &[pid, child] : running_)
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  // A second stop signal that came while the pool was stopping has been answered: it must
  // not kill the caller, which is choosing its own ending, once the mask is restored. (When
  // the pool was not stopped, a pending one is delivered as usual.)
  if (stop_signal_) {
    timespec now{0, 0};
    sigset_t stops = watched_;
    sigdelset(&stops, SIGCHLD);
    while (::sigtimedwait(&stops, nullptr, &now) > 0) {
    }
  }
  ::sigprocmask(SIG_SETMASK, &original_, nullptr);
}

ChildPool::End ChildPool::run(std::size_t count, const Start &start, const Finished &finished,
                              const std::function<void()> &tick) {
  const Clock::time_point deadline =
      options_.timeout_seconds > 0 ? Clock::now() + std::chrono::seconds(options_.timeout_seconds)
                                   : Clock::time_point::max();
  std::size_t next = 0;
  while (next < count || !running_.empty()) {
    // Looked at before starting more: a terminal's ^C also reaches the children, which may
    // exit (and be reaped) before the parent's signal is taken.
    if (int sig = pending_stop()) {
      stop_all(sig, finished);
      return End::Stopped;
    }
    if (Clock::now() >= deadline) {
      stop_all(0, finished);
      return End::TimedOut;
    }
    while (next < count && running_.size() < options_.jobs) {
      pid_t pid = start(next);
      if (pid > 0)
        running_[pid] = Running{next, Clock::now()};
      ++next;
    }
    if (reap(finished, false))
      continue;
    if (running_.empty())
      continue;
    if (int sig = wait(deadline)) {
      stop_all(sig, finished);
      return End::Stopped;
    }
    if (tick)
      tick();
  }
  return End::Finished;
}

bool ChildPool::reap(const Finished &finished, bool stopped) {
  bool any = false;
  int status = 0;
  pid_t pid;
  while ((pid = ::waitpid(-1, &status, WNOHANG)) != 0) {
    if (pid < 0) {
      if (errno == EINTR)
        continue;
      break; // ECHILD: nothing left to reap
    }
    auto it = running_.find(pid);
    if (it == running_.end())
      continue;
    Running child = it->second;
    running_.erase(it);
    any = true;
    ChildExit how;
    how.code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
    how.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    how.stopped = stopped;
    how.seconds = seconds_since(child.started);
    finished(child.job, how);
  }
  return any;
}

// Waits until a child may have exited, `until` passes (at most a second, for the caller's
// tick) or a stop signal comes; returns that signal, or 0.
int ChildPool::wait(Clock::time_point until) {
  auto left = until - Clock::now();
  auto tick = std::min<Clock::duration>(left, std::chrono::seconds(1));
  if (tick <= tick.zero())
    return 0;
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(tick).count();
  timespec t{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  int sig = ::sigtimedwait(&watched_, nullptr, &t); // -1 on timeout or EINTR: look again
  if (std::find(stop_signals_.begin(), stop_signals_.end(), sig) == stop_signals_.end())
    return 0;
  stop_signal_ = sig;
  return sig;
}

// A stop signal that arrived (consumed), or 0.
int ChildPool::pending_stop() {
  sigset_t pending;
  if (::sigpending(&pending) != 0)
    return 0;
  for (int sig : stop_signals_)
    if (sigismember(&pending, sig)) {
      sigset_t only;
      sigemptyset(&only);
      sigaddset(&only, sig);
      timespec now{0, 0};
      ::sigtimedwait(&only, nullptr, &now);
      return sig;
    }
  return 0;
}

// Asks every child to stop (with the stop signal `sig`, or SIGTERM when the deadline passed),
// kills those still running after the grace period, and reaps them all.
void ChildPool::stop_all(int sig, const Finished &finished) {
  stop_signal_ = sig;
  for (const auto &[pid, child] : running_)
    ::kill(pid, sig ? sig : SIGTERM);
  const Clock::time_point grace_end = Clock::now() + kStopGrace;
  while (!running_.empty() && Clock::now() < grace_end)
    if (!reap(finished, true))
      wait(grace_end); // another stop signal changes nothing now
  for (const auto &[pid, child] : running_)
    ::kill(pid, SIGKILL);
  while (!running_.empty())
    if (!reap(finished, true))
      wait(Clock::now() + std::chrono::milliseconds(100));
  stop_signal_ = sig;
}

pid_t ChildPool::fork_child(ChildOutput output) const {
  std::cout.flush(); // or the child would print what is buffered again
  std::cerr.flush();
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0)
    throw std::runtime_error(std::string("cannot start a run: fork failed: ") +
                             std::strerror(errno));
  if (pid == 0)
    prepare_child(output, parent);
  return pid;
}

void ChildPool::prepare_child(ChildOutput output, pid_t parent) const {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) // the parent died before the line above
    ::_exit(kExitInternalError);
  ::sigprocmask(SIG_SETMASK, &original_, nullptr);
  if (output.out >= 0)
    ::dup2(output.out, 1);
  if (output.err >= 0)
    ::dup2(output.err, 2);
}

pid_t ChildPool::start_this_program(const std::vector<std::string> &argv,
                                    ChildOutput output) const {
  // Made before the fork: the child only execs.
  std::vector<std::string> args = argv;
  std::vector<char *> pointers;
  for (std::string &a : args)
    pointers.push_back(a.data());
  pointers.push_back(nullptr);
  pid_t pid = fork_child(output);
  if (pid == 0) {
    // The program this process runs, not whatever has the name now: rebuilt in the middle of
    // a sweep, the later points would run another build into the same results.
    ::execv("/proc/self/exe", pointers.data());
    write_message("pciesim: cannot execute the pciesim program\n");
    ::_exit(127);
  }
  return pid;
}

pid_t ChildPool::start_function(const std::function<int()> &body, ChildOutput output) const {
  pid_t pid = fork_child(output);
  if (pid == 0) {
    int code = kExitInternalError;
    try {
      code = body();
    } catch (...) {
    }
    ::_exit(code);
  }
  return pid;
}

void ChildPool::die_of(int sig) {
  std::cout.flush();
  std::cerr.flush();
  ::signal(sig, SIG_DFL);
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, sig);
  ::sigprocmask(SIG_UNBLOCK, &only, nullptr);
  ::raise(sig);
  ::_exit(128 + sig);
}

std::string self_executable() {
  char buffer[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  if (n <= 0)
    throw std::runtime_error(std::string("cannot find the pciesim executable (/proc/self/exe): ") +
                             std::strerror(errno));
  return std::string(buffer, static_cast<std::size_t>(n));
}

CapturedOutput::~CapturedOutput() { close(); }

void CapturedOutput::close() {
  if (fd_ >= 0)
    ::close(std::exchange(fd_, -1));
}

int CapturedOutput::open() {
  close();
  // An anonymous memory file: no file system needed, none written outside the output.
  fd_ = ::memfd_create("pciesim-child", MFD_CLOEXEC);
  if (fd_ >= 0)
    return fd_;
  if (errno != ENOSYS && errno != EPERM)
    throw std::runtime_error(std::string("cannot capture a child's output: ") +
                             std::strerror(errno));
  // A kernel or sandbox without memfd_create: a file in the temporary directory, unlinked.
  std::string path = temporary_directory() + "/pciesim-child-XXXXXX";
  fd_ = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd_ < 0)
    throw std::runtime_error("cannot create a temporary file in " + path + ": " +
                             std::strerror(errno));
  ::unlink(path.c_str());
  return fd_;
}

std::string CapturedOutput::text() const {
  std::string text;
  if (fd_ >= 0 && ::lseek(fd_, 0, SEEK_SET) == 0)
    read_at_most(fd_, UINT64_MAX - 1, text); // what a failed read leaves is what there is
  return text;
}

} // namespace pciesim
