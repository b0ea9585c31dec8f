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

} // namespace pciesim
