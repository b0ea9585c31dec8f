#include "bench/bench_harness.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

namespace pciesim_bench {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Measurement in_child(const std::function<Measurement()> &body) {
  int fds[2];
  if (pipe(fds) != 0)
    return {};
  std::fflush(stdout); // the child must not print the parent's buffered rows again
  pid_t pid = fork();
  if (pid < 0)
    return {};
  if (pid == 0) {
    close(fds[0]);
    Measurement m = body();
    struct rusage usage {};
    getrusage(RUSAGE_SELF, &usage);
    m.peak_rss_kib = usage.ru_maxrss;
    if (write(fds[1], &m, sizeof m) != static_cast<ssize_t>(sizeof m))
      _exit(1);
    _exit(0); // no static destructors: the SystemC kernel of the child is never torn down
  }
  close(fds[1]);
  Measurement m;
  if (read(fds[0], &m, sizeof m) != static_cast<ssize_t>(sizeof m))
    m = {};
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    m.ok = false;
  return m;
}

Measurement run_program(const std::vector<std::string> &argv) {
  std::fflush(stdout);
  double start = now_seconds();
  pid_t pid = fork();
  if (pid < 0)
    return {};
  if (pid == 0) {
    std::vector<char *> args;
    for (const std::string &a : argv)
      args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  struct rusage usage {};
  wait4(pid, &status, 0, &usage);
  Measurement m;
  m.wall_seconds = now_seconds() - start;
  m.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  // wait4 reports the larger of the process's own peak and those of the children it waited
  // for (Linux getrusage RUSAGE_BOTH), so a sweep's worst point counts.
  m.peak_rss_kib = usage.ru_maxrss;
  return m;
}

void Table::header() const {
  std::printf("%-22s %-52s %9s %12s %10s %8s\n", "id", "benchmark", "wall s", "rate /s", "x floor",
              "RSS MiB");
}

void BestOf::add(const Measurement &m) {
  if (runs_++ == 0) {
    best_ = m;
    return;
  }
  const long peak_rss_kib = std::max(best_.peak_rss_kib, m.peak_rss_kib);
  const bool ok = best_.ok && m.ok && m.work == best_.work;
  if (m.wall_seconds < best_.wall_seconds)
    best_ = m;
  best_.ok = ok;
  best_.peak_rss_kib = peak_rss_kib;
}

void Table::row(const std::string &id, const std::string &what, const Measurement &m,
                bool versus_floor) {
  if (!m.ok) {
    all_ok_ = false;
    std::printf("%-22s %-52s FAILED\n", id.c_str(), what.c_str());
    return;
  }
  double rate = m.wall_seconds > 0 ? m.work / m.wall_seconds : 0;
  std::string x_floor = versus_floor && floor_rate_per_s_ > 0
                            ? fmt::format("{:.3f}", rate / floor_rate_per_s_)
                            : std::string("-");
  std::printf("%-22s %-52s %9.3f %12.4g %10s %8.1f\n", id.c_str(), what.c_str(), m.wall_seconds,
              rate, x_floor.c_str(), static_cast<double>(m.peak_rss_kib) / 1024.0);
}

void Table::ratio(const std::string &id, const std::string &what, double value,
                  const std::string &target) {
  std::printf("%-22s %-52s %9.3f   (target %s)\n", id.c_str(), what.c_str(), value, target.c_str());
}

void Table::note(const std::string &id, const std::string &what, const std::string &text) {
  std::printf("%-22s %-52s %s\n", id.c_str(), what.c_str(), text.c_str());
}

} // namespace pciesim_bench
