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

} // namespace
} // namespace pciesim
