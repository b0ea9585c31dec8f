#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "models/pcie/completion.h"

namespace pciesim {
namespace {

std::vector<std::uint32_t> completion_sizes(std::uint64_t address, std::uint32_t bytes,
                                            std::uint64_t max_payload, std::uint64_t rcb) {
  std::vector<std::uint32_t> sizes;
  for_each_read_completion(
      address, bytes, max_payload, rcb,
      [&](std::uint64_t, std::uint32_t chunk, std::uint32_t) { sizes.push_back(chunk); });
  return sizes;
}

// PCIe 2.3.1.1: every completion but the last ends on an RCB multiple, none carries more than
// the MPS. 1 KiB from 0x1030 (4,144), MPS 256: with a 64-byte RCB the first ends at 0x1100
// (208 bytes), then 256 each, and 48 are left.
TEST(Completion, ReadCompletionsEndOnTheCompletionBoundary) {
  EXPECT_EQ(completion_sizes(0x1030, 1024, 256, 64),
            (std::vector<std::uint32_t>{208, 256, 256, 256, 48}));
  EXPECT_EQ(completion_sizes(0x1000, 512, 256, 128), (std::vector<std::uint32_t>{256, 256}));
  // A boundary that is no power of two takes the division: 96 bytes, so the first ends at
  // 4,320 (176 bytes), the next four at 4,512, 4,704, 4,896 and 5,088 (192 each), and 80 are
  // left.
  EXPECT_EQ(completion_sizes(0x1030, 1024, 256, 96),
            (std::vector<std::uint32_t>{176, 192, 192, 192, 192, 80}));
}

} // namespace
} // namespace pciesim
