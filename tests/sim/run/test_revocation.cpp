// Revocation's bookkeeping on its own (sim/run/mechanisms/revocation.h): an access fails only
// when its mapping went while its DMA was running.
#include <gtest/gtest.h>

#include "models/common/sim_time.h"
#include "sim/run/mechanisms/revocation.h"

namespace pciesim::test {
namespace {

// At simulated time 0 (nothing runs): DMA that started before 0 and ended now.
TEST(RevocationLog, AnAccessFailsOnlyIfItsMappingWentWhileItsDmaRan) {
  RevocationLog log;
  const int nic = 3, other_nic = 4;
  log.record(0, nic, 0, {4, 5});
  EXPECT_TRUE(log.overlapped(0, nic, 4096, 4 * 4096, 4096, -10)) << "running when page 4 went";
  EXPECT_TRUE(log.overlapped(0, nic, 4096, 3 * 4096, 2 * 4096, -10)) << "pages 3-4 hold page 4";
  EXPECT_FALSE(log.overlapped(0, nic, 4096, 0, 4 * 4096, -10)) << "pages 0-3 kept their mappings";
  EXPECT_FALSE(log.overlapped(0, nic, 4096, 4 * 4096, 4096, 0)) << "started once it had gone";
  EXPECT_FALSE(log.overlapped(1, nic, 4096, 4 * 4096, 4096, -10)) << "another buffer";
  EXPECT_FALSE(log.overlapped(0, other_nic, 4096, 4 * 4096, 4096, -10))
      << "another NIC's mapping of the same page stayed";
  log.record(1, nic, 5); // every page of buffer 1, in the future: the access ended before
  EXPECT_FALSE(log.overlapped(1, nic, 4096, 0, 4096, -10));
  log.record(1, nic, -5);
  EXPECT_TRUE(log.overlapped(1, nic, 4096, 1 << 20, 4096, -10));
}

} // namespace
} // namespace pciesim::test
