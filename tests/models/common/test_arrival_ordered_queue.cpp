// The sorted ring behind a link's transmit queues and credit returns, and the ring with an
// overflow heap behind a DMA engine's timed actions: each must give items in exactly the order
// of the std::priority_queue it replaced (results stay byte-identical), for items that arrive
// in order, out of order, with equal times, and across growth and wrap-around. The plain ring
// behind a link's TLPs on the wire must be the std::deque it replaced.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <queue>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "models/common/arrival_ordered_queue.h"

namespace pciesim {
namespace {

struct TimedItem {
  std::int64_t at;
  std::uint64_t seq;
  bool operator>(const TimedItem &o) const { return at != o.at ? at > o.at : seq > o.seq; }
};

// Pushes and pops at random against a heap; `spread` is how far an item's time may fall
// before the latest pushed (0: always in order).
template <class Queue>
void expect_same_order_as_a_heap(std::uint32_t seed, std::int64_t spread, int operations) {
  std::mt19937 random(seed);
  Queue ring;
  std::priority_queue<TimedItem, std::vector<TimedItem>, std::greater<TimedItem>> heap;
  std::int64_t now = 0;
  std::uint64_t seq = 0;
  for (int i = 0; i < operations; ++i) {
    if (random() % 3 != 0 || heap.empty()) {
      now += static_cast<std::int64_t>(random() % 4); // times repeat: ties on `at`
      std::int64_t back = spread > 0 ? static_cast<std::int64_t>(random() % spread) : 0;
      TimedItem item{now - back, seq++};
      ring.push(item);
      heap.push(item);
    } else {
      ASSERT_EQ(ring.top().seq, heap.top().seq) << "operation " << i;
      ring.pop();
      heap.pop();
    }
    ASSERT_EQ(ring.size(), heap.size());
  }
  while (!heap.empty()) {
    ASSERT_EQ(ring.top().seq, heap.top().seq);
    ring.pop();
    heap.pop();
  }
  EXPECT_TRUE(ring.empty());
}

using Ring = ArrivalOrderedQueue<TimedItem>;
using RingAndHeap = MostlyOrderedQueue<TimedItem>;

TEST(ArrivalOrderedQueue, InOrderArrivalsLeaveAsAHeapWouldGiveThem) {
  expect_same_order_as_a_heap<Ring>(1, 0, 20000);
}

TEST(ArrivalOrderedQueue, OutOfOrderArrivalsLeaveAsAHeapWouldGiveThem) {
  expect_same_order_as_a_heap<Ring>(2, 8, 20000);
  expect_same_order_as_a_heap<Ring>(3, 1000, 20000);
}

TEST(MostlyOrderedQueue, LeavesAsAHeapWouldWhateverTheDisorder) {
  // In order (the ring alone), a few places out (the ring's walk back), far out (the heap).
  expect_same_order_as_a_heap<RingAndHeap>(4, 0, 20000);
  expect_same_order_as_a_heap<RingAndHeap>(5, 8, 20000);
  expect_same_order_as_a_heap<RingAndHeap>(6, 1000, 20000);
}

TEST(MostlyOrderedQueue, AnItemFarOutOfOrderGoesToTheHeapNotAWalk) {
  MostlyOrderedQueue<TimedItem> queue;
  std::uint64_t seq = 0;
  for (int i = 0; i < 100; ++i)
    queue.push({1000 + i, seq++});
  queue.push({5, seq++});  // before all 100: would walk back 100 places
  queue.push({1050, seq}); // ties with the 51st on time, after it on sequence
  ASSERT_EQ(queue.size(), 102u);
  EXPECT_EQ(queue.top().at, 5);
  queue.pop();
  std::int64_t last = -1;
  std::size_t count = 0;
  while (!queue.empty()) {
    EXPECT_GE(queue.top().at, last);
    if (queue.top().at == 1050 && last == 1050) {
      EXPECT_EQ(queue.top().seq, seq); // the later request of the tie leaves second
    }
    last = queue.top().at;
    queue.pop();
    ++count;
  }
  EXPECT_EQ(count, 101u);
}

TEST(ArrivalOrderedQueue, GrowsAndWrapsWithoutLosingOrder) {
  ArrivalOrderedQueue<TimedItem> ring;
  std::uint64_t seq = 0;
  // Fill past the first capacity with the head moved, so the growth copies a wrapped ring.
  for (int i = 0; i < 6; ++i)
    ring.push({i, seq++});
  for (int i = 0; i < 5; ++i)
    ring.pop();
  for (int i = 0; i < 40; ++i)
    ring.push({100 - i, seq++}); // each one earlier than the last: inserted at the front
  std::int64_t last = -1;
  std::size_t count = 0;
  while (!ring.empty()) {
    EXPECT_GE(ring.top().at, last);
    last = ring.top().at;
    ring.pop();
    ++count;
  }
  EXPECT_EQ(count, 41u);
  EXPECT_EQ(last, 100);
}

TEST(FifoRing, IsTheDequeItReplacedAcrossGrowthAndWrapAround) {
  std::mt19937 random(7);
  FifoRing<TimedItem> ring;
  std::deque<TimedItem> deque;
  std::uint64_t seq = 0;
  // Bursts longer than the first capacity (8) with the front moving, so that growth copies a
  // wrapped ring, then drains, so that the storage is reused.
  for (int round = 0; round < 200; ++round) {
    const int pushes = static_cast<int>(random() % 40), pops = static_cast<int>(random() % 40);
    for (int i = 0; i < pushes; ++i) {
      ring.push_back({round, seq});
      deque.push_back({round, seq++});
    }
    for (int i = 0; i < pops && !deque.empty(); ++i) {
      ASSERT_EQ(ring.front().seq, deque.front().seq);
      ring.pop_front();
      deque.pop_front();
    }
    ASSERT_EQ(ring.size(), deque.size());
    for (std::size_t i = 0; i < deque.size(); ++i)
      ASSERT_EQ(ring[i].seq, deque[i].seq);
  }
  ring.clear();
  EXPECT_TRUE(ring.empty());
  ring.push_back({0, seq});
  EXPECT_EQ(ring.front().seq, seq);
}

TEST(FifoRing, ErasesTheFirstEqualItemAndKeepsTheOthersInOrder) {
  // As a DMA engine drops a failed transfer from the slots still to issue: the ring wrapped
  // around, the item in its middle, then its last, then one it does not hold.
  FifoRing<int> ring;
  std::deque<int> deque;
  for (int i = 0; i < 6; ++i)
    ring.push_back(i);
  for (int i = 0; i < 4; ++i)
    ring.pop_front();
  for (int i = 6; i < 12; ++i)
    ring.push_back(i);
  for (int i = 4; i < 12; ++i)
    deque.push_back(i);
  for (int value : {7, 11, 4, 42}) {
    auto at = std::find(deque.begin(), deque.end(), value);
    const bool held = at != deque.end();
    if (held)
      deque.erase(at);
    EXPECT_EQ(ring.erase_first_of(value), held) << value;
    ASSERT_EQ(ring.size(), deque.size());
    for (std::size_t i = 0; i < deque.size(); ++i)
      EXPECT_EQ(ring[i], deque[i]) << "after erasing " << value;
  }
}

} // namespace
} // namespace pciesim
