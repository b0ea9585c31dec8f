// Watching the processes a command starts (see process_tree.h), through /proc.
#include "tests/sim/batch/process_tree.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/support/sim_harness.h"

namespace pciesim::test {

pid_t spawn(const std::vector<std::string> &arguments, const std::string &stderr_path,
            const std::string &stdout_path) {
  pid_t pid = ::fork();
  if (pid != 0)
    return pid;
  std::FILE *err = std::freopen(stderr_path.c_str(), "w", stderr);
  std::FILE *out = std::freopen(stdout_path.c_str(), "w", stdout);
  (void)err;
  (void)out;
  std::vector<char *> argv;
  std::vector<std::string> args = arguments;
  for (std::string &a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto &task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "children");
    pid_t child;
    while (in >> child)
      out.push_back(child);
  }
  return out;
}

std::vector<pid_t> descendants_of(pid_t pid) {
  std::vector<pid_t> out;
  for (pid_t child : children_of(pid)) {
    out.push_back(child);
    for (pid_t grandchild : descendants_of(child))
      out.push_back(grandchild);
  }
  return out;
}

std::size_t live_children_of(pid_t pid) {
  std::size_t n = 0;
  for (pid_t child : children_of(pid))
    n += dead(child) ? 0 : 1;
  return n;
}

bool dead(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line))
    return true;
  std::size_t paren = line.rfind(')');
  return paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] == 'Z' ||
         line[paren + 2] == 'X';
}

bool all_dead(const std::vector<pid_t> &pids) {
  for (pid_t pid : pids)
    if (!dead(pid))
      return false;
  return true;
}

bool wait_until(const std::function<bool()> &condition, double seconds) {
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (condition())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

int reap_within(pid_t pid, double seconds) {
  int status = -1;
  bool reaped = wait_until([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, seconds);
  return reaped ? status : -1;
}

void kill_leftovers(const std::vector<pid_t> &pids) {
  for (pid_t pid : pids)
    if (!dead(pid))
      ::kill(pid, SIGKILL);
}

namespace {

// Adds the descendants of `pid` not yet in `seen`.
void note_descendants(pid_t pid, std::vector<pid_t> &seen) {
  for (pid_t p : descendants_of(pid))
    if (std::find(seen.begin(), seen.end(), p) == seen.end())
      seen.push_back(p);
}

} // namespace

WatchedCommand watch_and_stop(const std::vector<std::string> &arguments, std::size_t expected,
                              int sig, const std::string &dir, double watch_seconds) {
  WatchedCommand w;
  pid_t parent = spawn(arguments, dir + "/stderr.txt", dir + "/stdout.txt");
  EXPECT_GT(parent, 0);
  if (parent <= 0)
    return w;
  std::vector<pid_t> tree;
  bool started = wait_until(
      [&] {
        note_descendants(parent, tree);
        w.most_children = std::max(w.most_children, live_children_of(parent));
        int status = 0;
        if (::waitpid(parent, &status, WNOHANG) == parent)
          w.status = status;
        return tree.size() >= expected || w.status != -1;
      },
      30);
  if (!started || w.status != -1) {
    ::kill(parent, SIGKILL);
    reap_within(parent, 5);
    kill_leftovers(descendants_of(parent));
    kill_leftovers(tree);
    w.err = read_file(dir + "/stderr.txt");
    ADD_FAILURE() << "only " << tree.size() << " processes started under " << parent << ": "
                  << w.err;
    return w;
  }
  auto watch_end = std::chrono::steady_clock::now() + std::chrono::duration<double>(watch_seconds);
  while (std::chrono::steady_clock::now() < watch_end) {
    note_descendants(parent, tree);
    w.most_children = std::max(w.most_children, live_children_of(parent));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (sig != 0) {
    EXPECT_EQ(::kill(parent, sig), 0);
  }
  w.status = reap_within(parent, 10);
  if (w.status == -1) {
    ::kill(parent, SIGKILL);
    reap_within(parent, 5);
  }
  EXPECT_NE(w.status, -1) << "the command did not stop (signal " << sig << ")";
  bool gone = wait_until([&] { return all_dead(tree); }, 5);
  std::string survivors;
  for (pid_t pid : tree)
    if (!dead(pid))
      survivors += " " + std::to_string(pid);
  kill_leftovers(tree);
  EXPECT_TRUE(gone) << "still running after the command stopped:" << survivors;
  w.err = read_file(dir + "/stderr.txt");
  return w;
}

} // namespace pciesim::test
