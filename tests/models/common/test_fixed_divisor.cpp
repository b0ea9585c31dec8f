#include <cstdint>

#include <gtest/gtest.h>

#include "models/common/fixed_divisor.h"
#include "models/common/splitmix64.h"

namespace pciesim {
namespace {

// The shift-and-mask path must give exactly what division gives, and other divisors must
// still divide: the interleave, the completion split and the MTT lines rely on it.
TEST(FixedDivisor, QuotientAndRemainderAreThoseOfDivision) {
  std::uint64_t state = 7;
  for (std::uint64_t divisor : {1ull, 2ull, 3ull, 6ull, 8ull, 12ull, 64ull, 256ull, 4096ull,
                                1ull << 40, 1000000007ull, (1ull << 63) + 1}) {
    const FixedDivisor fixed(divisor);
    EXPECT_EQ(fixed.divisor(), divisor);
    for (int i = 0; i < 1000; ++i) {
      const std::uint64_t value =
          i < 3 ? std::uint64_t{0} - static_cast<unsigned>(i) : splitmix64_next(state) >> (i % 64);
      ASSERT_EQ(fixed.quotient(value), value / divisor) << value << " / " << divisor;
      ASSERT_EQ(fixed.remainder(value), value % divisor) << value << " % " << divisor;
    }
  }
}

} // namespace
} // namespace pciesim
