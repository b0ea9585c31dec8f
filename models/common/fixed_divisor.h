// Division by a value fixed at elaboration (an interleave granule, a channel count, a table's
// entries per line), by a shift and a mask when it is a power of two, as it mostly is. A 64-bit
// division costs tens of cycles, and the paths that divide run once per TLP.
#pragma once

#include <cstdint>

namespace pciesim {

class FixedDivisor {
public:
  explicit FixedDivisor(std::uint64_t divisor) // not 0
      : divisor_(divisor),
        shift_(divisor != 0 && (divisor & (divisor - 1)) == 0 ? __builtin_ctzll(divisor)
                                                              : kNotAPowerOfTwo) {}
  std::uint64_t divisor() const { return divisor_; }
  std::uint64_t quotient(std::uint64_t value) const {
    return shift_ != kNotAPowerOfTwo ? value >> shift_ : value / divisor_;
  }
  std::uint64_t remainder(std::uint64_t value) const {
    return shift_ != kNotAPowerOfTwo ? value & (divisor_ - 1) : value % divisor_;
  }

private:
  static constexpr int kNotAPowerOfTwo = -1;
  std::uint64_t divisor_;
  int shift_;
};

} // namespace pciesim
