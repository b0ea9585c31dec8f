// The window of bytes in flight behind a root port's writes to the other socket's root ports
// and its DMA to the other socket's memory: an access waits only while the window is full,
// for the earliest share to come back, whatever order the shares were taken in.
#include <gtest/gtest.h>

#include "models/common/in_flight_window.h"

namespace pciesim {
namespace {

TEST(InFlightWindow, AnAccessThatFitsLeavesWhenDue) {
  InFlightWindow window(1024);
  std::uint64_t waits = 0;
  EXPECT_EQ(window.opens(512, 100, waits), 100);
  EXPECT_EQ(waits, 0u);
  window.hold(512, 500);
  EXPECT_EQ(window.opens(512, 200, waits), 200); // 1024 in all: still fits
  EXPECT_EQ(waits, 0u);
  window.hold(512, 600);
  EXPECT_EQ(window.bytes_in_flight(), 1024u);
}

TEST(InFlightWindow, AFullWindowWaitsForTheEarliestShareBack) {
  InFlightWindow window(1024);
  std::uint64_t waits = 0;
  window.opens(512, 0, waits);
  window.hold(512, 900); // a read: its data come back late
  window.opens(512, 10, waits);
  window.hold(512, 300); // a write after it: acknowledged sooner
  // Full: the next waits for the write's share, which comes back first, not for the read's.
  EXPECT_EQ(window.opens(512, 20, waits), 300);
  EXPECT_EQ(waits, 1u);
  window.hold(512, 700);
  EXPECT_EQ(window.bytes_in_flight(), 1024u);
  // Full again: the share back at 700 is the earliest now.
  EXPECT_EQ(window.opens(256, 310, waits), 700);
  EXPECT_EQ(waits, 2u);
}

TEST(InFlightWindow, SharesBackByTheDueTimeFreeTheirRoom) {
  InFlightWindow window(1024);
  std::uint64_t waits = 0;
  for (int i = 0; i < 4; ++i) {
    window.opens(256, i, waits);
    window.hold(256, 100 + i);
  }
  // Due after every share is back: all returned, nothing waits.
  EXPECT_EQ(window.opens(1024, 200, waits), 200);
  EXPECT_EQ(waits, 0u);
  EXPECT_EQ(window.bytes_in_flight(), 0u);
}

// Steady state: a requester that always has the next access ready moves window / round trip.
TEST(InFlightWindow, ItsRateIsTheWindowOverTheRoundTrip) {
  const std::int64_t round_trip_ps = 400000;
  InFlightWindow window(8192);
  std::uint64_t waits = 0;
  std::int64_t left_ps = 0;
  const int accesses = 64000;
  for (int i = 0; i < accesses; ++i) {
    left_ps = window.opens(256, left_ps, waits);
    window.hold(256, left_ps + round_trip_ps);
  }
  const double bytes_per_ps = 256.0 * accesses / static_cast<double>(left_ps + round_trip_ps);
  EXPECT_NEAR(bytes_per_ps * 1e12 / 1e9, 8192.0 / 400.0, 0.05); // 20.48 GB/s
}

} // namespace
} // namespace pciesim
