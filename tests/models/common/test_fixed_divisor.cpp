#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "models/common/fixed_divisor.h"
#include "models/common/splitmix64.h"

namespace pciesim {
namespace {

// The shift-and-mask path must give exactly what division gives, and other divisors must
// still divide: the interleave, the completion split and the MTT lines rely on it.
TEST(FixedDivisor, QuotientAndRemainderAreThoseOfDivision) {
  std::uint64_t state = 7;
  std::vector<std::uint64_t> divisors;
  for (std::uint64_t d = 1; d <= 300; ++d)
    divisors.push_back(d);
  for (std::uint64_t d :
       {1000000007ull, (1ull << 32) - 1, 1ull << 40, (1ull << 63) - 25, (1ull << 63) + 1, ~0ull})
    divisors.push_back(d);
  for (std::uint64_t divisor : divisors) {
    const FixedDivisor fixed(divisor);
    EXPECT_EQ(fixed.divisor(), divisor);
    for (int i = 0; i < 400; ++i) {
      // The largest values first (where a multiply-and-shift would lose a bit), then random
      // ones of every magnitude.
      const std::uint64_t value =
          i < 4 ? ~std::uint64_t{0} - static_cast<unsigned>(i) : splitmix64_next(state) >> (i % 64);
      ASSERT_EQ(fixed.quotient(value), value / divisor) << value << " / " << divisor;
      ASSERT_EQ(fixed.remainder(value), value % divisor) << value << " % " << divisor;
    }
  }
}

} // namespace
} // namespace pciesim
