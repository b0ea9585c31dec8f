// The progress line of a long run or comparison on a terminal: simulated time and the share of
// the bytes done, rewritten in place on standard error a few times a second of wall-clock time
// and cleared at the end. It only looks at the run, so it changes no result; nothing is
// written when standard error is not a terminal or the user asked for --quiet, so logs, pipes
// and the tests' captured output never see it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace pciesim {

// Where one run is: its simulated time and the bytes its transfers or workload phases have
// moved, of those they will move in all (0 when not known yet).
struct RunProgress {
  std::int64_t sim_time_ps = 0;
  std::uint64_t bytes_done = 0, bytes_total = 0;
};

// "42% of 64.0 MiB, 1.250 ms simulated": what a progress line says of one run.
std::string format_run_progress(const RunProgress &progress);

class ProgressLine {
public:
  // Shown only when `enabled` (see wanted()); `interval` is the least wall-clock time between
  // two rewrites, and before the first.
  explicit ProgressLine(bool enabled,
                        std::chrono::milliseconds interval = std::chrono::milliseconds(250));
  // Clears the line if one is shown.
  ~ProgressLine();
  ProgressLine(const ProgressLine &) = delete;
  ProgressLine &operator=(const ProgressLine &) = delete;

  // Whether a progress line is wanted: standard error is a terminal and not --quiet.
  static bool wanted(bool quiet);

  // Rewrites the line with `text()` if the interval has passed (text is not built otherwise).
  void update(const std::function<std::string()> &text);
  // Removes the line, leaving the cursor where it was before it.
  void clear();
  bool enabled() const { return enabled_; }

private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point next_;
};

} // namespace pciesim
