// A min-queue for items that mostly arrive in the order they leave: TLPs queued for a link at
// now + a small delay, credits returning after a fixed latency. It keeps the items sorted in a
// ring buffer, so the common push is an append and every pop takes the front, where a binary
// heap pays a logarithmic sift for both; the ring's storage is reused, so a queue that empties
// and fills again (one TLP at a time) allocates nothing. An item that arrives out of order is
// inserted by walking back past every item that leaves after it, so this suits queues whose
// items are at most a few places out of order; a workload of random times wants a heap.
//
// T orders with operator> and must be a strict total order (every pciesim item carries a unique
// request sequence number as its last key), so the items leave in exactly the order a
// std::priority_queue<T, std::vector<T>, std::greater<T>> would give them.
#pragma once

#include <cstddef>
#include <functional>
#include <queue>
#include <utility>
#include <vector>

namespace pciesim {

template <class T> class ArrivalOrderedQueue {
public:
  bool empty() const { return count_ == 0; }
  std::size_t size() const { return count_; }
  const T &top() const { return ring_[head_]; }
  void pop() {
    head_ = (head_ + 1) & mask_;
    --count_;
  }
  void push(const T &item) {
    if (count_ == ring_.size())
      grow();
    // Walk back from the end past every item that leaves after this one.
    std::size_t slot = count_;
    while (slot > 0 && at(slot - 1) > item) {
      at(slot) = std::move(at(slot - 1));
      --slot;
    }
    at(slot) = item;
    ++count_;
  }
  // As push, but only if the item leaves after all but the last `max_walk_back` queued items;
  // returns false (and leaves the queue as it was) otherwise.
  bool try_push(const T &item, std::size_t max_walk_back) {
    // The items that leave after it are a suffix of the sorted ring: it walks back further
    // than allowed exactly when the one just before that many does.
    if (count_ > max_walk_back && at(count_ - 1 - max_walk_back) > item)
      return false;
    push(item);
    return true;
  }
  // The i-th item in leaving order (0 = top).
  const T &operator[](std::size_t i) const { return ring_[(head_ + i) & mask_]; }

private:
  T &at(std::size_t i) { return ring_[(head_ + i) & mask_]; }
  void grow() {
    std::vector<T> larger(ring_.empty() ? 8 : 2 * ring_.size());
    for (std::size_t i = 0; i < count_; ++i)
      larger[i] = std::move(at(i));
    ring_ = std::move(larger);
    head_ = 0;
    mask_ = ring_.size() - 1;
  }

  std::vector<T> ring_; // a power of two long
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::size_t mask_ = 0;
};

// The same order for a queue whose items are mostly, not always, in order: the timed actions of
// a device (a completion's tag drains and its channel finishes, interleaved; a stream starting
// far ahead). An item that would walk back more than a few places goes to a binary heap
// beside the ring instead, so a push never costs more than the heap's, and the common in-order
// push and every pop stay the ring's. Items leave in the exact order of one heap (T as above).
template <class T> class MostlyOrderedQueue {
public:
  bool empty() const { return in_order_.empty() && out_of_order_.empty(); }
  std::size_t size() const { return in_order_.size() + out_of_order_.size(); }
  const T &top() const { return ring_first() ? in_order_.top() : out_of_order_.top(); }
  void pop() {
    if (ring_first())
      in_order_.pop();
    else
      out_of_order_.pop();
  }
  void push(const T &item) {
    if (!in_order_.try_push(item, kMaxWalkBack))
      out_of_order_.push(item);
  }

private:
  // Whether the ring's front leaves before the heap's (not empty).
  bool ring_first() const {
    return out_of_order_.empty() ||
           (!in_order_.empty() && !(in_order_.top() > out_of_order_.top()));
  }
  static constexpr std::size_t kMaxWalkBack = 4;
  ArrivalOrderedQueue<T> in_order_;
  std::priority_queue<T, std::vector<T>, std::greater<T>> out_of_order_;
};

} // namespace pciesim
