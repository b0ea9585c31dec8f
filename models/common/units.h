// Physical quantities with their unit in the type, and strict parsing of the unit strings
// that topology and scenario files use ("256 MiB", "110 ns", "16 GT/s", "100 GB/s").
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pciesim {

// A byte count. Sizes in files accept B, KiB, MiB, GiB, TiB (powers of 1024) and
// KB, MB, GB, TB (powers of 1000).
struct Bytes {
  std::uint64_t count = 0;
  friend bool operator==(Bytes a, Bytes b) { return a.count == b.count; }
  friend bool operator!=(Bytes a, Bytes b) { return a.count != b.count; }
  friend bool operator<(Bytes a, Bytes b) { return a.count < b.count; }
};

// A span of simulated time in integer picoseconds (SystemC's resolution in pciesim).
struct Duration {
  std::int64_t ps = 0;
  static Duration from_ns(double ns) { return Duration{static_cast<std::int64_t>(ns * 1000.0)}; }
  double ns() const { return static_cast<double>(ps) / 1000.0; }
  friend bool operator==(Duration a, Duration b) { return a.ps == b.ps; }
  friend bool operator<(Duration a, Duration b) { return a.ps < b.ps; }
};

// A data rate in bytes per second. Files accept B/s, KB/s, MB/s, GB/s, TB/s (decimal),
// KiB/s, MiB/s, GiB/s, and bit rates Gb/s, Mb/s, Kb/s (divided by 8).
struct Bandwidth {
  double bytes_per_second = 0.0;
  double gb_per_s() const { return bytes_per_second / 1e9; }
  // The same rate exactly (ParamSetSharing joins only sets that resolve to the same values).
  friend bool operator==(Bandwidth a, Bandwidth b) {
    return a.bytes_per_second == b.bytes_per_second;
  }
};

// `exact_ps`, the time a server is busy moving some bytes, rounded to the nearest ps, and at
// least 1 ps for any non-zero amount. Without that floor a tiny access to a fast server (1 B at
// 2 TB/s or more, with no latency) would take no time at all, and a stream of them would keep
// simulated time still forever, out of reach of the run's time limit.
inline std::int64_t busy_ps(double exact_ps) {
  if (!(exact_ps > 0))
    return 0;
  if (!(exact_ps < 0x1p62))
    return std::llround(exact_ps);
  // std::llround, inline (the libm call ran for every memory access and DMA request): for
  // 0 < x < 2^62, x minus its integer part is exact in double arithmetic, so this rounds half
  // away from zero exactly as llround does.
  const auto whole = static_cast<std::int64_t>(exact_ps);
  const std::int64_t rounded = whole + (exact_ps - static_cast<double>(whole) >= 0.5 ? 1 : 0);
  return std::max<std::int64_t>(1, rounded);
}

// Result of parsing: either the value, or a message saying what was expected.
template <class T> struct Parsed {
  std::optional<T> value;
  std::string error; // empty when value is set
};

Parsed<Bytes> parse_bytes(std::string_view text);
Parsed<Duration> parse_duration(std::string_view text);
Parsed<Bandwidth> parse_bandwidth(std::string_view text);
// A PCIe link generation given as "16 GT/s" (the transfer rate of one generation).
Parsed<int> parse_generation_rate(std::string_view text);

// Formatting for reports and resolved-config echoes; round-trips through the parsers.
std::string format_bytes(Bytes b);
std::string format_duration(Duration d);
std::string format_bandwidth(Bandwidth bw);

} // namespace pciesim
