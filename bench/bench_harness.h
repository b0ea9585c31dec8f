// What every pciesim benchmark shares: one forked child per measurement (the SystemC kernel
// cannot be restarted in a process, and each child's peak RSS is then its own), and one
// table row per figure, each row starting with a stable id that the smoke test looks for.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace pciesim_bench {

struct Measurement {
  bool ok = false;
  double wall_seconds = 0;
  double work = 0; // events, hops, TLP hops or sweep points, as the row says
  long peak_rss_kib = 0;
};

// Runs `body` in a forked child and returns what it measured, with the child's peak resident
// memory. A child that crashes or exits early gives ok = false.
Measurement in_child(const std::function<Measurement()> &body);

// Runs a program (argv[0] is its path) to completion; wall time and the peak RSS of the
// process (and of the children it waited for). ok when it exits 0.
Measurement run_program(const std::vector<std::string> &argv);

// The fastest of repeated runs of one measurement: on a shared or virtual machine a run can
// be slowed by half by others, never sped up, so the least wall time is the one that says most
// about the code. Peak RSS is the largest seen. A failed run, or one whose work differs from
// the others' (every measurement here is deterministic), makes the result failed.
class BestOf {
public:
  void add(const Measurement &m);
  const Measurement &best() const { return best_; }

private:
  Measurement best_;
  int runs_ = 0;
};

// Seconds since an arbitrary point, monotonic.
double now_seconds();

class Table {
public:
  explicit Table(double floor_rate_per_s = 0) : floor_rate_per_s_(floor_rate_per_s) {}
  void set_floor(double rate_per_s) { floor_rate_per_s_ = rate_per_s; }
  void header() const;
  // One measurement: wall, work/wall as the rate, rate/floor (when comparable to hops), peak
  // RSS. Failure rows say so.
  void row(const std::string &id, const std::string &what, const Measurement &m,
           bool versus_floor = true);
  // A derived figure (a ratio of two rows) and what it should be.
  void ratio(const std::string &id, const std::string &what, double value,
             const std::string &target);
  void note(const std::string &id, const std::string &what, const std::string &text);
  bool all_ok() const { return all_ok_; }

private:
  double floor_rate_per_s_;
  bool all_ok_ = true;
};

} // namespace pciesim_bench
