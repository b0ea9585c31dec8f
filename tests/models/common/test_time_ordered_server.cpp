// The time-ordered booking server behind host memory channels, the root complex's P2P engines
// and the IOMMU's walkers: in order it is a busy-until server; booked out of order it serves
// the earlier-due request first and owes the work done twice at once, once.
#include <limits>

#include <gtest/gtest.h>

#include "models/common/time_ordered_server.h"

namespace pciesim {
namespace {

TEST(TimeOrderedServer, InOrderItIsABusyUntilServer) {
  TimeOrderedServer server;
  EXPECT_EQ(server.serve(0, 100), 0);
  EXPECT_EQ(server.serve(0, 100), 100);   // queued behind the first
  EXPECT_EQ(server.serve(500, 100), 500); // the server had freed
  EXPECT_EQ(server.busy_until_ps(), 600);
  EXPECT_EQ(server.debt_ps(), 0);
}

TEST(TimeOrderedServer, AnEarlierDueRequestBookedSecondIsNotDelayedByALaterDueOne) {
  TimeOrderedServer server;
  EXPECT_EQ(server.serve(1000, 100), 1000); // booked first, due later
  EXPECT_EQ(server.serve(0, 100), 0);       // booked second, due first: served at once
  EXPECT_EQ(server.debt_ps(), 0);           // it ended before the later one started
  // A request due at 50 still waits for the one due at 0, which was there first.
  EXPECT_EQ(server.serve(50, 100), 100);
}

TEST(TimeOrderedServer, AnOverlapIsOwedAfterEverythingBooked) {
  TimeOrderedServer server;
  EXPECT_EQ(server.serve(50, 100), 50); // [50, 150)
  EXPECT_EQ(server.serve(0, 100), 0);   // [0, 100): 50 of it overlaps the later-due booking
  EXPECT_EQ(server.debt_ps(), 50);
  // The next request, due after both, starts after the later one and the 50 owed: the three
  // requests take 300 of server time in all, as they would have served in time order.
  EXPECT_EQ(server.serve(60, 100), 200);
}

TEST(TimeOrderedServer, TimeTwoLaterBookingsAlreadyShareIsOwedOnce) {
  TimeOrderedServer server;
  EXPECT_EQ(server.serve(50, 100), 50); // [50, 150)
  EXPECT_EQ(server.serve(20, 100), 20); // [20, 120): overlaps the first by 70, owed
  EXPECT_EQ(server.debt_ps(), 70);
  // Due at 10, [10, 110) overlaps both, [20, 110) and [50, 110), but the two share [50, 110):
  // 90 of its time is already busy, not 150, and it owes 90.
  EXPECT_EQ(server.serve(10, 100), 10);
  EXPECT_EQ(server.debt_ps(), 160);
  // Three requests of 100 from 10 on: the server is busy until 310, as in time order.
  EXPECT_EQ(server.busy_until_ps(), 310);
}

TEST(TimeOrderedServer, ASaturatedServerBookedOutOfOrderEndsWhenOneBookedInOrderWould) {
  // 128 requests of 32 ns, booked 1.3 ns apart, each due up to 50 ns after it was booked
  // (memory channels answering out of order): the server is never idle after the first, so
  // it is busy until the first due time plus 128 x 32 ns, whatever the order.
  TimeOrderedServer server;
  std::int64_t first_due = std::numeric_limits<std::int64_t>::max();
  std::uint64_t jitter = 12345;
  for (int i = 0; i < 128; ++i) {
    jitter = jitter * 6364136223846793005ull + 1442695040888963407ull; // an LCG
    const std::int64_t due = 150000 + 1300 * i + static_cast<std::int64_t>(jitter >> 33) % 50000;
    first_due = std::min(first_due, due);
    server.serve(due, 32000);
  }
  EXPECT_GT(server.debt_ps(), 0); // it was booked out of order
  EXPECT_EQ(server.busy_until_ps(), first_due + 128 * 32000);
}

TEST(TimeOrderedServer, ForgettingEndedBookingsChangesNoAnswer) {
  TimeOrderedServer kept, pruned;
  for (int i = 0; i < 40; ++i) {
    std::int64_t due = 1000 * i + (i % 3 == 0 ? 700 : 0); // every third one booked ahead
    pruned.forget_before(1000 * i);
    EXPECT_EQ(kept.serve(due, 400), pruned.serve(due, 400)) << i;
  }
  EXPECT_LT(pruned.bookings(), kept.bookings());
}

TEST(TimeOrderedServer, ABookingRunFarAheadIsScannedOnlyAsItDoubles) {
  // Requests booked ahead of now (a link whose TLPs are taken before they arrive): none has
  // ended when the caller forgets, so pruning finds nothing. It then waits until the bookings
  // have doubled instead of scanning them all at every request; once time passes them, the
  // ended ones go at the next prune, and the live ones are never more than twice what
  // survived it (plus the floor of 16).
  TimeOrderedServer kept, pruned;
  for (int i = 0; i < 1000; ++i) {
    pruned.forget_before(0);
    EXPECT_EQ(kept.serve(1000 * i, 100), pruned.serve(1000 * i, 100)) << i;
  }
  EXPECT_EQ(pruned.bookings(), 1000u);
  for (int i = 1000; i < 3000; ++i) {
    pruned.forget_before(1000 * i);
    EXPECT_EQ(kept.serve(1000 * i, 100), pruned.serve(1000 * i, 100)) << i;
    EXPECT_LE(pruned.bookings(), 2 * 1000u + 1) << i;
  }
  EXPECT_LT(pruned.bookings(), 40u);
}

TEST(TimeOrderedServer, NextLaterStartIsTheFirstStartOfALaterDueBooking) {
  TimeOrderedServer server;
  EXPECT_EQ(server.next_later_start(0), std::numeric_limits<std::int64_t>::max());
  server.serve(1000, 100);
  server.serve(700, 100);
  EXPECT_EQ(server.next_later_start(0), 700);
  EXPECT_EQ(server.next_later_start(800), 1000);
}

} // namespace
} // namespace pciesim
