#include "models/common/units.h"

#include <array>
#include <limits>

#include <fmt/format.h>

namespace pciesim {
namespace {

// Decimal numbers are scaled exactly, in integers: "4.1 us" is 41 x 10^6 / 10 ps, which is
// whole, while 4.1 * 1e6 in binary floating point is not. A unit's size in the base unit (B,
// ps, B/s) is `factor` / 10^`tenths_exp` so that "fs" (1/1000 ps) is exact too.
using Wide = unsigned __int128; // 24 digits x the largest factor (10^12) stays below 2^128

struct Unit {
  std::string_view name;
  std::uint64_t factor;
  int ten_exp = 0; // the unit is factor / 10^ten_exp base units
};

// "<number><optional single space><unit>", the number as decimal digits with an optional
// fraction (no exponent, no sign, no hex) so that "1e3 MiB" or "-5 ns" fail: `mantissa` is
// the digits without the dot and the number is mantissa / 10^`fraction_digits`.
struct NumberAndUnit {
  Wide mantissa = 0;
  int fraction_digits = 0;
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
  if (i > 24)
    return out; // beyond any sensible precision; also keeps the mantissa below 10^24
  bool in_fraction = false;
  for (char c : text.substr(0, i)) {
    if (c == '.') {
      in_fraction = true;
      continue;
    }
    out.mantissa = out.mantissa * 10 + static_cast<unsigned>(c - '0');
    out.fraction_digits += in_fraction ? 1 : 0;
  }
  std::string_view rest = text.substr(i);
  if (!rest.empty() && rest[0] == ' ')
    rest.remove_prefix(1);
  out.unit = rest;
  out.ok = true;
  return out;
}

// The number times the unit in base units, if it is a whole number; nullopt if it is not.
// Cannot overflow: mantissa < 10^24, factor <= 2^40 or 10^12, and 10^(24 + 3) < 2^128.
std::optional<Wide> scale_exactly(const NumberAndUnit &nu, const Unit &unit) {
  Wide product = nu.mantissa * unit.factor;
  Wide divisor = 1;
  for (int k = 0; k < nu.fraction_digits + unit.ten_exp; ++k)
    divisor *= 10;
  if (product % divisor != 0)
    return std::nullopt;
  return product / divisor;
}

template <std::size_t N>
const Unit *find_unit(const std::array<Unit, N> &units, std::string_view name) {
  for (const Unit &u : units)
    if (u.name == name)
      return &u;
  return nullptr;
}

constexpr std::array<Unit, 9> kSizeUnits{{{"B", 1},
                                          {"KiB", 1ull << 10},
                                          {"MiB", 1ull << 20},
                                          {"GiB", 1ull << 30},
                                          {"TiB", 1ull << 40},
                                          {"KB", 1000},
                                          {"MB", 1000000},
                                          {"GB", 1000000000},
                                          {"TB", 1000000000000}}};
constexpr std::array<Unit, 7> kTimeUnits{{{"ps", 1},
                                          {"ns", 1000},
                                          {"us", 1000000},
                                          {"\xC2\xB5s", 1000000}, // µs
                                          {"ms", 1000000000},
                                          {"s", 1000000000000},
                                          {"fs", 1, 3}}};
constexpr std::array<Unit, 11> kRateUnits{{{"B/s", 1},
                                           {"KB/s", 1000},
                                           {"MB/s", 1000000},
                                           {"GB/s", 1000000000},
                                           {"TB/s", 1000000000000},
                                           {"KiB/s", 1ull << 10},
                                           {"MiB/s", 1ull << 20},
                                           {"GiB/s", 1ull << 30},
                                           {"Kb/s", 125},         // 1000 bits / 8
                                           {"Mb/s", 125000},      // 10^6 bits / 8
                                           {"Gb/s", 125000000}}}; // 10^9 bits / 8

} // namespace

Parsed<Bytes> parse_bytes(std::string_view text) {
  const char *expected = "a size such as \"4 KiB\", \"256 MiB\" or \"512 B\"";
  NumberAndUnit nu = split(text);
  const Unit *unit = nu.ok ? find_unit(kSizeUnits, nu.unit) : nullptr;
  if (!unit)
    return {std::nullopt, expected};
  std::optional<Wide> value = scale_exactly(nu, *unit);
  if (!value)
    return {std::nullopt, "a whole number of bytes"};
  if (*value > std::numeric_limits<std::uint64_t>::max())
    return {std::nullopt, "a size below 16 EiB"};
  return {Bytes{static_cast<std::uint64_t>(*value)}, ""};
}

Parsed<Duration> parse_duration(std::string_view text) {
  const char *expected = "a time such as \"110 ns\", \"1.5 us\" or \"2 ms\"";
  NumberAndUnit nu = split(text);
  const Unit *unit = nu.ok ? find_unit(kTimeUnits, nu.unit) : nullptr;
  if (!unit)
    return {std::nullopt, expected};
  std::optional<Wide> value = scale_exactly(nu, *unit);
  if (!value)
    return {std::nullopt, "a time that is a whole number of ps"};
  if (*value > static_cast<Wide>(std::numeric_limits<std::int64_t>::max()))
    return {std::nullopt, "a time below 106 days"};
  return {Duration{static_cast<std::int64_t>(*value)}, ""};
}

Parsed<Bandwidth> parse_bandwidth(std::string_view text) {
  const char *expected = "a rate such as \"100 GB/s\", \"400 Gb/s\" or \"512 MiB/s\"";
  NumberAndUnit nu = split(text);
  const Unit *unit = nu.ok ? find_unit(kRateUnits, nu.unit) : nullptr;
  if (!unit)
    return {std::nullopt, expected};
  std::optional<Wide> value = scale_exactly(nu, *unit);
  if (!value)
    return {std::nullopt, "a rate that is a whole number of B/s"};
  if (*value > 10000000000000000ull) // 10^16 B/s
    return {std::nullopt, "a rate below 10 PB/s"};
  return {Bandwidth{static_cast<double>(static_cast<std::uint64_t>(*value))}, ""};
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
