#include "models/common/units.h"

#include <array>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace pciesim {
namespace {

struct Unit {
  std::string_view name;
  double scale; // multiplier to the base unit
};

// Splits "<number><optional single space><unit>" and parses the number as a finite,
// non-negative decimal (no exponent, no sign, no hex) so that "1e3 MiB" or "-5 ns" fail.
struct NumberAndUnit {
  double number = 0;
  std::string_view unit;
  bool ok = false;
};

NumberAndUnit split(std::string_view text) {
  NumberAndUnit out;
  std::size_t i = 0;
  bool digits = false;
  bool dot = false;
  while (i < text.size()) {
    char c = text[i];
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
    ++i;
  }
  if (!digits || text.empty() || text[0] == '.' || text[i - 1] == '.')
    return out;
  std::string number(text.substr(0, i));
  if (number.size() > 24)
    return out; // beyond any sensible precision; also bounds strtod
  std::string_view rest = text.substr(i);
  if (!rest.empty() && rest[0] == ' ')
    rest.remove_prefix(1);
  out.number = std::strtod(number.c_str(), nullptr);
  out.unit = rest;
  out.ok = std::isfinite(out.number);
  return out;
}

template <std::size_t N>
const Unit *find_unit(const std::array<Unit, N> &units, std::string_view name) {
  for (const Unit &u : units)
    if (u.name == name)
      return &u;
  return nullptr;
}

constexpr std::array<Unit, 9> kSizeUnits{{{"B", 1.0},
                                          {"KiB", 1024.0},
                                          {"MiB", 1048576.0},
                                          {"GiB", 1073741824.0},
                                          {"TiB", 1099511627776.0},
                                          {"KB", 1e3},
                                          {"MB", 1e6},
                                          {"GB", 1e9},
                                          {"TB", 1e12}}};
constexpr std::array<Unit, 7> kTimeUnits{{{"ps", 1.0},
                                          {"ns", 1e3},
                                          {"us", 1e6},
                                          {"\xC2\xB5s", 1e6}, // µs
                                          {"ms", 1e9},
                                          {"s", 1e12},
                                          {"fs", 1e-3}}};
constexpr std::array<Unit, 11> kRateUnits{{{"B/s", 1.0},
                                           {"KB/s", 1e3},
                                           {"MB/s", 1e6},
                                           {"GB/s", 1e9},
                                           {"TB/s", 1e12},
                                           {"KiB/s", 1024.0},
                                           {"MiB/s", 1048576.0},
                                           {"GiB/s", 1073741824.0},
                                           {"Kb/s", 1e3 / 8},
                                           {"Mb/s", 1e6 / 8},
                                           {"Gb/s", 1e9 / 8}}};

} // namespace

Parsed<Bytes> parse_bytes(std::string_view text) {
  const char *expected = "a size such as \"4 KiB\", \"256 MiB\" or \"512 B\"";
  NumberAndUnit nu = split(text);
  const Unit *unit = nu.ok ? find_unit(kSizeUnits, nu.unit) : nullptr;
  if (!unit)
    return {std::nullopt, expected};
  double value = nu.number * unit->scale;
  if (value >= 1.8e19)
    return {std::nullopt, "a size below 16 EiB"};
  if (value != std::floor(value))
    return {std::nullopt, "a whole number of bytes"};
  return {Bytes{static_cast<std::uint64_t>(value)}, ""};
}

Parsed<Duration> parse_duration(std::string_view text) {
  const char *expected = "a time such as \"110 ns\", \"1.5 us\" or \"2 ms\"";
  NumberAndUnit nu = split(text);
  const Unit *unit = nu.ok ? find_unit(kTimeUnits, nu.unit) : nullptr;
  if (!unit)
    return {std::nullopt, expected};
  double value = nu.number * unit->scale;
  if (value >= 9.2e18)
    return {std::nullopt, "a time below 106 days"};
  if (value != std::floor(value))
    return {std::nullopt, "a time that is a whole number of ps"};
  return {Duration{static_cast<std::int64_t>(value)}, ""};
}

Parsed<Bandwidth> parse_bandwidth(std::string_view text) {
  const char *expected = "a rate such as \"100 GB/s\", \"400 Gb/s\" or \"512 MiB/s\"";
  NumberAndUnit nu = split(text);
  const Unit *unit = nu.ok ? find_unit(kRateUnits, nu.unit) : nullptr;
  if (!unit)
    return {std::nullopt, expected};
  double value = nu.number * unit->scale;
  if (!std::isfinite(value) || value > 1e16)
    return {std::nullopt, "a rate below 10 PB/s"};
  return {Bandwidth{value}, ""};
}

Parsed<int> parse_generation_rate(std::string_view text) {
  static constexpr std::array<std::string_view, 6> rates{"2.5 GT/s", "5 GT/s",  "8 GT/s",
                                                         "16 GT/s",  "32 GT/s", "64 GT/s"};
  for (std::size_t i = 0; i < rates.size(); ++i) {
    std::string_view r = rates[i];
    std::string no_space(r);
    no_space.erase(no_space.find(' '), 1);
    if (text == r || text == no_space)
      return {static_cast<int>(i) + 1, ""};
  }
  return {std::nullopt, "a generation 1-6 or its rate: 2.5, 5, 8, 16, 32 or 64 GT/s"};
}

std::string format_bytes(Bytes b) {
  static constexpr std::array<std::pair<std::string_view, std::uint64_t>, 4> units{
      {{"TiB", 1ull << 40}, {"GiB", 1ull << 30}, {"MiB", 1ull << 20}, {"KiB", 1ull << 10}}};
  for (const auto &[name, scale] : units)
    if (b.count >= scale && b.count % scale == 0)
      return fmt::format("{} {}", b.count / scale, name);
  return fmt::format("{} B", b.count);
}

std::string format_duration(Duration d) {
  if (d.ps != 0 && d.ps % 1000000000 == 0)
    return fmt::format("{} ms", d.ps / 1000000000);
  if (d.ps != 0 && d.ps % 1000000 == 0)
    return fmt::format("{} us", d.ps / 1000000);
  if (d.ps != 0 && d.ps % 1000 == 0)
    return fmt::format("{} ns", d.ps / 1000);
  return fmt::format("{} ps", d.ps);
}

std::string format_bandwidth(Bandwidth bw) {
  return fmt::format("{} GB/s", bw.bytes_per_second / 1e9);
}

} // namespace pciesim
