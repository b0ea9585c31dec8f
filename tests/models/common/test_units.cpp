#include <cmath>

#include <gtest/gtest.h>

#include "models/common/units.h"

namespace pciesim {
namespace {

TEST(Units, SizesAcceptBinaryAndDecimalUnits) {
  EXPECT_EQ(parse_bytes("256 MiB").value->count, 256ull << 20);
  EXPECT_EQ(parse_bytes("4KiB").value->count, 4096u);
  EXPECT_EQ(parse_bytes("1.5 KiB").value->count, 1536u);
  EXPECT_EQ(parse_bytes("2 GB").value->count, 2000000000u);
  EXPECT_EQ(parse_bytes("512 B").value->count, 512u);
}

TEST(Units, SizesRejectWhatIsNotASize) {
  for (const char *bad :
       {"", "MiB", "256", "256 mib", "-1 B", "1e3 B", "0x10 B", "1.2 B", "256  MiB", "256 MB/s",
        "NaN B", "99999999999999999999 TiB", ".5 KiB", "5. KiB", " 5 B"})
    EXPECT_FALSE(parse_bytes(bad).value) << bad;
}

TEST(Units, TimesAreIntegerPicoseconds) {
  EXPECT_EQ(parse_duration("110 ns").value->ps, 110000);
  EXPECT_EQ(parse_duration("1.5 us").value->ps, 1500000);
  EXPECT_EQ(parse_duration("2 ms").value->ps, 2000000000);
  EXPECT_EQ(parse_duration("1 s").value->ps, 1000000000000);
  EXPECT_EQ(parse_duration("3 ps").value->ps, 3);
  EXPECT_FALSE(parse_duration("0.5 ps").value); // below the resolution
  EXPECT_FALSE(parse_duration("5").value);
  EXPECT_FALSE(parse_duration("-5 ns").value);
  EXPECT_FALSE(parse_duration("5 min").value);
  EXPECT_FALSE(parse_duration("200000000 s").value); // beyond 64-bit picoseconds
}

TEST(Units, DecimalsThatAreWholeInTheBaseUnitAreExact) {
  // Scaled as integers, not binary floating point (4.1 * 1e6 != 4100000.0 in doubles).
  EXPECT_EQ(parse_duration("4.1 us").value->ps, 4100000);
  EXPECT_EQ(parse_bytes("4.1 MB").value->count, 4100000u);
  EXPECT_EQ(parse_bytes("0.1 KB").value->count, 100u);
  EXPECT_EQ(parse_bytes("1.50 KiB").value->count, 1536u);
  EXPECT_EQ(parse_bytes("0.25 KiB").value->count, 256u);
  EXPECT_EQ(parse_bytes("0 B").value->count, 0u);
  EXPECT_EQ(parse_bytes("0.000000001 GB").value->count, 1u);
  EXPECT_EQ(parse_duration("0.001 ns").value->ps, 1);
  EXPECT_EQ(parse_duration("3000 fs").value->ps, 3);
  EXPECT_EQ(parse_duration("1.1 s").value->ps, 1100000000000);
  EXPECT_EQ(parse_duration("2.3 \xC2\xB5s").value->ps, 2300000);
  EXPECT_DOUBLE_EQ(parse_bandwidth("12.3 GB/s").value->bytes_per_second, 12300000000.0);
  EXPECT_DOUBLE_EQ(parse_bandwidth("0.1 Gb/s").value->bytes_per_second, 12500000.0);
  // Every decimal with up to 3 fraction digits in a decimal unit of 10^6 is whole.
  for (int milli = 0; milli < 10000; ++milli) {
    std::string text =
        std::to_string(milli / 1000) + "." + std::to_string(1000 + milli % 1000).substr(1) + " us";
    ASSERT_TRUE(parse_duration(text).value) << text;
    EXPECT_EQ(parse_duration(text).value->ps, static_cast<std::int64_t>(milli) * 1000) << text;
  }
}

TEST(Units, DecimalsThatAreNotWholeInTheBaseUnitAreRefused) {
  EXPECT_FALSE(parse_bytes("1.5 B").value);
  EXPECT_EQ(parse_bytes("1.5 B").error, "a whole number of bytes");
  EXPECT_FALSE(parse_bytes("0.0001 KB").value);
  EXPECT_FALSE(parse_bytes("1.0001 KiB").value);
  EXPECT_FALSE(parse_duration("0.0001 ps").value);
  EXPECT_EQ(parse_duration("0.0001 ps").error, "a time that is a whole number of ps");
  EXPECT_FALSE(parse_duration("1 fs").value);
  EXPECT_FALSE(parse_duration("0.0001 ns").value);
  EXPECT_FALSE(parse_bandwidth("0.5 B/s").value);
  EXPECT_DOUBLE_EQ(parse_bandwidth("1 Kb/s").value->bytes_per_second, 125.0);
  EXPECT_FALSE(parse_bandwidth("0.001 Kb/s").value); // 0.125 B/s
}

TEST(Units, LimitsAreExactAtTheTopOf64Bits) {
  EXPECT_EQ(parse_bytes("18446744073709551615 B").value->count, 18446744073709551615ull);
  EXPECT_FALSE(parse_bytes("18446744073709551616 B").value);
  EXPECT_EQ(parse_bytes("18446744073709551616 B").error, "a size below 16 EiB");
  EXPECT_EQ(parse_bytes("16777215 TiB").value->count, 16777215ull << 40);
  EXPECT_FALSE(parse_bytes("16777216 TiB").value);
  EXPECT_FALSE(parse_bytes("999999999999999999999999 TiB").value); // 24 digits: no overflow
  EXPECT_FALSE(parse_bytes("9999999999999999999999999 B").value);  // 25 digits: refused
  EXPECT_EQ(parse_duration("9223372036854775807 ps").value->ps, 9223372036854775807ll);
  EXPECT_FALSE(parse_duration("9223372036854775808 ps").value);
  EXPECT_FALSE(parse_duration("999999999999999999999999 s").value);
  EXPECT_DOUBLE_EQ(parse_bandwidth("10000 TB/s").value->bytes_per_second, 1e16);
  EXPECT_FALSE(parse_bandwidth("10000.000001 TB/s").value);
  EXPECT_FALSE(parse_bandwidth("10001 TB/s").value);
}

TEST(Units, RatesInBytesAndBits) {
  EXPECT_DOUBLE_EQ(parse_bandwidth("100 GB/s").value->bytes_per_second, 100e9);
  EXPECT_DOUBLE_EQ(parse_bandwidth("400 Gb/s").value->bytes_per_second, 50e9);
  EXPECT_DOUBLE_EQ(parse_bandwidth("1 MiB/s").value->bytes_per_second, 1048576.0);
  EXPECT_FALSE(parse_bandwidth("100 GB").value);
  EXPECT_FALSE(parse_bandwidth("fast").value);
}

TEST(Units, GenerationRates) {
  EXPECT_EQ(*parse_generation_rate("2.5 GT/s").value, 1);
  EXPECT_EQ(*parse_generation_rate("16 GT/s").value, 4);
  EXPECT_EQ(*parse_generation_rate("64GT/s").value, 6);
  EXPECT_FALSE(parse_generation_rate("10 GT/s").value);
}

TEST(Units, FormattingRoundTrips) {
  for (const char *text : {"256 MiB", "4 KiB", "77 B", "1 GiB"})
    EXPECT_EQ(format_bytes(*parse_bytes(text).value), text);
  for (const char *text : {"110 ns", "2 ms", "7 ps", "3 us"})
    EXPECT_EQ(format_duration(*parse_duration(text).value), text);
}

// busy_ps rounds as std::llround does (half away from zero), at least 1 ps for any work: its
// inline rounding is checked against llround where rounding is delicate (halves, the largest
// double below a half, the ends of exact integer arithmetic) and on random values.
TEST(Units, BusyTimeRoundsAsLlround) {
  const double delicate[] = {0.5,
                             1.5,
                             2.5,
                             0.49999999999999994,
                             1.4999999999999998,
                             12345.5,
                             12345.499999999998,
                             0x1p52 - 0.5,
                             0x1p52 + 1,
                             0x1p53 - 1,
                             0x1p53,
                             0x1p61 + 0x1p10,
                             0x1p62,
                             1e18};
  for (double x : delicate)
    EXPECT_EQ(busy_ps(x), std::max<std::int64_t>(1, std::llround(x))) << x;
  std::uint64_t state = 42;
  for (int i = 0; i < 100000; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const double x = static_cast<double>(state >> 11) / static_cast<double>(1ull << (state % 50));
    ASSERT_EQ(busy_ps(x), std::max<std::int64_t>(1, std::llround(x))) << x;
  }
  EXPECT_EQ(busy_ps(0.0), 0);
  EXPECT_EQ(busy_ps(-3.0), 0);
  EXPECT_EQ(busy_ps(1e-9), 1);
}

} // namespace
} // namespace pciesim
