// The time-ordered server behind each inter-socket link direction: a request takes the
// earliest gap at or after its due time, so one booked later but due earlier is not delayed
// behind an earlier booking that is due later.
#include <gtest/gtest.h>

#include "models/socket/time_ordered_server.h"

namespace pciesim {
namespace {

TEST(TimeOrderedServer, ServesBackToBackWhenBookedInTimeOrder) {
  TimeOrderedServer s;
  EXPECT_EQ(s.book(0, 100, 0), 0);
  EXPECT_EQ(s.book(0, 100, 0), 100);   // waits for the first
  EXPECT_EQ(s.book(50, 100, 0), 200);  // and for the second
  EXPECT_EQ(s.book(500, 100, 0), 500); // idle until it is due
}

TEST(TimeOrderedServer, ARequestBookedLaterButDueEarlierIsNotDelayed) {
  TimeOrderedServer s;
  EXPECT_EQ(s.book(1000, 100, 0), 1000);
  // A busy-until server would start this one at 1100.
  EXPECT_EQ(s.book(0, 100, 0), 0);
  EXPECT_EQ(s.book(50, 100, 0), 100); // behind the one due before it, before the one due later
  // No gap before 1000 holds 900 more: it goes after the booking that started at 1000.
  EXPECT_EQ(s.book(150, 900, 0), 1100);
}

TEST(TimeOrderedServer, FillsAGapOnlyWhenTheWholeRequestFits) {
  TimeOrderedServer s;
  s.book(0, 100, 0);                 // [0, 100)
  s.book(150, 100, 0);               // [150, 250)
  EXPECT_EQ(s.book(90, 60, 0), 250); // 60 does not fit in [100, 150)
  EXPECT_EQ(s.book(90, 50, 0), 100); // 50 does
}

TEST(TimeOrderedServer, ZeroDurationNeverWaitsAndOldBookingsAreForgotten) {
  TimeOrderedServer s;
  s.book(0, 100, 0);
  EXPECT_EQ(s.book(10, 0, 0), 10);
  s.book(200, 100, 0);
  EXPECT_EQ(s.bookings(), 2u);
  s.book(1000, 10, 500); // at 500 both earlier bookings have ended
  EXPECT_EQ(s.bookings(), 1u);
}

} // namespace
} // namespace pciesim
