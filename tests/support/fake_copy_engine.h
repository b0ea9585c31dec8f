// What the OS-model tests that migrate pages without a fabric share: 4 KiB pages and a fake
// copy engine that takes a fixed 10 us a copy (the tests call kernel.call_at with it).
#pragma once

#include <cstdint>

namespace pciesim::test {

inline constexpr std::uint64_t kFakePageBytes = 4096;
inline constexpr std::int64_t kFakeCopyPs = 10000000;

} // namespace pciesim::test
