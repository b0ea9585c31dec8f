#include "sim/util/progress_line.h"

#include <algorithm>
#include <cstdio>
#include <sys/ioctl.h>
#include <unistd.h>

#include <fmt/format.h>

namespace pciesim {

namespace {

// Carriage return and "erase to the end of the line" (ECMA-48 EL): the line is rewritten where
// it stands and leaves nothing behind when cleared.
constexpr char kRewind[] = "\r\033[K";

std::string time_text(std::int64_t ps) {
  const double value = static_cast<double>(ps);
  if (ps >= 1'000'000'000)
    return fmt::format("{:.3f} ms", value / 1e9);
  if (ps >= 1'000'000)
    return fmt::format("{:.3f} us", value / 1e6);
  return fmt::format("{:.3f} ns", value / 1e3);
}

std::string size_text(std::uint64_t bytes) {
  const double value = static_cast<double>(bytes);
  if (bytes >= (std::uint64_t{1} << 30))
    return fmt::format("{:.1f} GiB", value / (1 << 30));
  if (bytes >= (std::uint64_t{1} << 20))
    return fmt::format("{:.1f} MiB", value / (1 << 20));
  if (bytes >= (std::uint64_t{1} << 10))
    return fmt::format("{:.1f} KiB", value / (1 << 10));
  return fmt::format("{} B", bytes);
}

void write_to_terminal(const std::string &text) {
  // One write, so the line is never seen half rewritten; a failure only loses the line.
  if (::write(2, text.data(), text.size()) < 0)
    return;
}

// A line longer than the terminal wraps, and "\r" then rewrites only its last row: the text is
// cut to the width (the columns of an unknown terminal taken as 80).
std::string fit_terminal_width(std::string text) {
  winsize size{};
  std::size_t columns = ::ioctl(2, TIOCGWINSZ, &size) == 0 && size.ws_col > 0 ? size.ws_col : 80;
  if (text.size() >= columns)
    text.resize(columns - 1);
  return text;
}

} // namespace

std::string format_run_progress(const RunProgress &p) {
  std::string text = time_text(p.sim_time_ps) + " simulated";
  if (p.bytes_total == 0)
    return text;
  // Floor, so 100% means done; a workload may move a little more than it planned (retries).
  // The share first: a line cut to the terminal's width keeps it.
  const std::uint64_t done = std::min(p.bytes_done, p.bytes_total);
  const auto percent = static_cast<unsigned>(done * 100.0 / static_cast<double>(p.bytes_total));
  return fmt::format("{}% of {}, ", percent, size_text(p.bytes_total)) + text;
}

ProgressLine::ProgressLine(bool enabled, std::chrono::milliseconds interval)
    : enabled_(enabled), interval_(interval), next_(std::chrono::steady_clock::now() + interval) {}

ProgressLine::~ProgressLine() { clear(); }

bool ProgressLine::wanted(bool quiet) { return !quiet && ::isatty(2) == 1; }

void ProgressLine::update(const std::function<std::string()> &text) {
  if (!enabled_)
    return;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_)
    return;
  next_ = now + interval_;
  std::fflush(stderr);
  write_to_terminal(kRewind + fit_terminal_width(text()));
  shown_ = true;
}

void ProgressLine::clear() {
  if (!shown_)
    return;
  write_to_terminal(kRewind);
  shown_ = false;
}

} // namespace pciesim
