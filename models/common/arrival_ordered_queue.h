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
#include <memory>
#include <queue>
#include <utility>
#include <vector>

namespace pciesim {

// A first-in first-out queue in a ring buffer whose storage is reused: a queue that empties and
// fills again allocates nothing (a std::deque allocates and frees a block every few dozen
// items as its front and back move on). The TLPs on a link's wire arrive in the order they
// were sent, so they need no more.
template <class T> class FifoRing {
public:
  bool empty() const { return count_ == 0; }
  std::size_t size() const { return count_; }
  const T &front() const { return ring_[head_]; }
  // The i-th item from the front (0 = front).
  const T &operator[](std::size_t i) const { return ring_[(head_ + i) & mask_]; }
  void push_back(const T &item) {
    if (count_ == mask_ + 1)
      grow();
    at(count_) = item;
    ++count_;
  }
  void pop_front() {
    head_ = (head_ + 1) & mask_;
    --count_;
  }
  void clear() { head_ = count_ = 0; }
  // Removes the first item equal to `value`, keeping the others' order; false if none is.
  bool erase_first_of(const T &value) {
    std::size_t i = 0;
    while (i < count_ && !(at(i) == value))
      ++i;
    if (i == count_)
      return false;
    for (; i + 1 < count_; ++i)
      at(i) = std::move(at(i + 1));
    --count_;
    return true;
  }

protected:
  T &at(std::size_t i) { return ring_[(head_ + i) & mask_]; }
  // Rare, and kept out of line: inlined into every push it made the callers save more
  // registers on every call.
  [[gnu::noinline, gnu::cold]] void grow() {
    const std::size_t capacity = count_ == 0 ? 8 : 2 * count_;
    std::unique_ptr<T[]> larger(new T[capacity]);
    for (std::size_t i = 0; i < count_; ++i)
      larger[i] = std::move(at(i));
    ring_ = std::move(larger);
    head_ = 0;
    mask_ = capacity - 1;
  }

  // A power of two long. An array, not a std::vector: a link direction holds seven of these
  // rings, and its per-TLP fields fit in fewer cache lines without a vector's two spare words.
  std::unique_ptr<T[]> ring_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  // The ring's size less one; with no storage yet, SIZE_MAX, so that the test for a full ring
  // (count_ == mask_ + 1) holds.
  std::size_t mask_ = static_cast<std::size_t>(-1);
};

template <class T> class ArrivalOrderedQueue : private FifoRing<T> {
  using Ring = FifoRing<T>;

public:
  using Ring::empty;
  using Ring::size;
  using Ring::operator[];
  const T &top() const { return Ring::front(); }
  // The first item, to change in place: its new key must still leave before the second item's.
  T &top_for_update() { return this->at(0); }
  void pop() { Ring::pop_front(); }
  void push(const T &item) {
    if (this->count_ == this->mask_ + 1)
      this->grow();
    // Walk back from the end past every item that leaves after this one.
    std::size_t slot = this->count_;
    while (slot > 0 && this->at(slot - 1) > item) {
      this->at(slot) = std::move(this->at(slot - 1));
      --slot;
    }
    this->at(slot) = item;
    ++this->count_;
  }
  // As push, but only if the item leaves after all but the last `max_walk_back` queued items;
  // returns false (and leaves the queue as it was) otherwise.
  bool try_push(const T &item, std::size_t max_walk_back) {
    // The items that leave after it are a suffix of the sorted ring: it walks back further
    // than allowed exactly when the one just before that many does.
    if (this->count_ > max_walk_back && this->at(this->count_ - 1 - max_walk_back) > item)
      return false;
    push(item);
    return true;
  }
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
