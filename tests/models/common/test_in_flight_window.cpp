// The window of bytes in flight behind a root port's writes to the other socket's root ports
// and its DMA to the other socket's memory: an access waits only while the window is full,
// for the earliest share to come back, whatever order the shares were taken in.
#include <gtest/gtest.h>

#include "models/common/in_flight_window.h"

namespace pciesim {
namespace {

TEST(InFlightWindow, AnAccessThatFitsLeavesWhenDue) {
  InFlightWindow window(1024);
  bool waited = true;
  EXPECT_EQ(window.opens(512, 100, waited), 100);
  EXPECT_FALSE(waited);
  window.hold(512, 500);
  EXPECT_EQ(window.opens(512, 200, waited), 200); // 1024 in all: still fits
  EXPECT_FALSE(waited);
  window.hold(512, 600);
  EXPECT_EQ(window.bytes_in_flight(), 1024u);
}

TEST(InFlightWindow, AFullWindowWaitsForTheEarliestShareBack) {
  InFlightWindow window(1024);
  bool waited = false;
  window.opens(512, 0, waited);
  window.hold(512, 900); // a read: its data come back late
  window.opens(512, 10, waited);
  window.hold(512, 300); // a write after it: acknowledged sooner
  // Full: the next waits for the write's share, which comes back first, not for the read's.
  EXPECT_EQ(window.opens(512, 20, waited), 300);
  EXPECT_TRUE(waited);
  window.hold(512, 700);
  EXPECT_EQ(window.bytes_in_flight(), 1024u);
  // Full again: the share back at 700 is the earliest now.
  EXPECT_EQ(window.opens(256, 310, waited), 700);
  EXPECT_TRUE(waited);
}

TEST(InFlightWindow, SharesBackByTheDueTimeFreeTheirRoom) {
  InFlightWindow window(1024);
  bool waited = false;
  for (int i = 0; i < 4; ++i) {
    window.opens(256, i, waited);
    window.hold(256, 100 + i);
  }
  // Due after every share is back: all returned, nothing waits.
  EXPECT_EQ(window.opens(1024, 200, waited), 200);
  EXPECT_FALSE(waited);
  EXPECT_EQ(window.bytes_in_flight(), 0u);
}

// Steady state: a requester that always has the next access ready moves window / round trip.
TEST(InFlightWindow, ItsRateIsTheWindowOverTheRoundTrip) {
  const std::int64_t round_trip_ps = 400000;
  InFlightWindow window(8192);
  bool waited = false;
  std::int64_t left_ps = 0;
  const int accesses = 64000;
  for (int i = 0; i < accesses; ++i) {
    left_ps = window.opens(256, left_ps, waited);
    window.hold(256, left_ps + round_trip_ps);
  }
  const double bytes_per_ps = 256.0 * accesses / static_cast<double>(left_ps + round_trip_ps);
  EXPECT_NEAR(bytes_per_ps * 1e12 / 1e9, 8192.0 / 400.0, 0.05); // 20.48 GB/s
}

} // namespace
} // namespace pciesim
