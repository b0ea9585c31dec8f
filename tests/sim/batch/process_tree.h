// Watching the processes a command starts, for the tests of child processes (check, sweep, a
// workload run and the pool behind them): starting a command, finding its children and
// descendants through /proc, and telling a dead process from a live one.
#pragma once

#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace pciesim::test {

// Starts `arguments` (argv[0] a path) with stderr to `stderr_path`, stdout to `stdout_path`.
pid_t spawn(const std::vector<std::string> &arguments, const std::string &stderr_path,
            const std::string &stdout_path = "/dev/null");

// The children of `pid` (zombies included), and all its descendants.
std::vector<pid_t> children_of(pid_t pid);
std::vector<pid_t> descendants_of(pid_t pid);
// The children of `pid` that still run (not zombies).
std::size_t live_children_of(pid_t pid);

// Gone, or a zombie nobody reaped yet (it runs no more).
bool dead(pid_t pid);
bool all_dead(const std::vector<pid_t> &pids);

// Polls `condition` every 20 ms for up to `seconds`; its last value.
bool wait_until(const std::function<bool()> &condition, double seconds);

// Reaps `pid` (our child) within `seconds`; its wait status, or -1 when it did not exit.
int reap_within(pid_t pid, double seconds);

// Whatever a failed test left running, killed by pid.
void kill_leftovers(const std::vector<pid_t> &pids);

// What became of a command that watch_and_stop ran.
struct WatchedCommand {
  int status = -1;               // its wait status, -1 when it did not stop
  std::size_t most_children = 0; // the most of its children seen running at once
  std::string err;               // its standard error
};

// Starts `arguments` with its output in DIR/stdout.txt and DIR/stderr.txt, waits until `expected`
// processes descend from it, watches its running children for `watch_seconds`, then sends `sig` (0:
// none, it ends by itself) and reaps it. Fails the test if it does not stop within a few
// seconds or any process seen under it survives it.
WatchedCommand watch_and_stop(const std::vector<std::string> &arguments, std::size_t expected,
                              int sig, const std::string &dir, double watch_seconds = 0);

} // namespace pciesim::test
