#include "models/common/event_calendar.h"

#include <algorithm>
#include <stdexcept>

namespace pciesim {

EventCalendar::EventCalendar(sc_core::sc_module_name name)
    : sc_module(name), ring_(static_cast<std::size_t>(kRingBuckets)) {
  if (current_)
    throw std::logic_error("a second EventCalendar in one process");
  current_ = this;
  SC_HAS_PROCESS(EventCalendar);
  SC_METHOD(dispatch);
  sensitive << wake_;
  dont_initialize();
}

EventCalendar::~EventCalendar() {
  if (current_ == this)
    current_ = nullptr;
}

EventCalendar &EventCalendar::current() {
  if (!current_)
    throw std::logic_error("no EventCalendar: create one before the models it drives");
  return *current_;
}

inline void EventCalendar::add(CalendarProcess &process, std::int64_t due_ps,
                               std::uint64_t request) {
  process.due_ps_ = due_ps;
  process.request_ = request;
  if (process.place_ == CalendarProcess::Place::Heap) {
    // An earlier request of a process in the heap: it moves up there.
    heap_sift_up(process.heap_slot_);
    return;
  }
  if ((ring_mode_ || heap_.size() + ring_requests_ >= kRingFromRequests) && ring_took(process))
    return;
  process.place_ = CalendarProcess::Place::Heap;
  heap_.push_back(&process);
  heap_sift_up(static_cast<int>(heap_.size()) - 1);
}

void EventCalendar::wake_other_at(CalendarProcess &process, std::int64_t at_ps) {
  std::int64_t now = now_ps();
  at_ps = std::max(at_ps, now);
  if (process.due_ps_ >= 0) {
    if (process.due_ps_ <= at_ps)
      return;
    ++stats_.superseded;
    if (process.place_ == CalendarProcess::Place::Ring)
      ring_remove(process, process.due_ps_);
  }
  add(process, at_ps, seq_++);
  // Inside dispatch() the loop sees the new request; from outside (a SystemC process of a
  // test, elaboration) the kernel must be asked to run the calendar then.
  if (!running_)
    notify_kernel(at_ps, now);
}

bool EventCalendar::ring_took(CalendarProcess &process) {
  // Requests stay where they are when the calendar changes structure: first() looks at both.
  ring_mode_ = heap_.size() + ring_requests_ >= kHeapBelowRequests;
  if (!ring_mode_)
    return false;
  if (ring_requests_ == 0) // an empty ring starts where the calendar's clock is
    ring_start_bucket_ = bucket_of(now_ps());
  const std::int64_t bucket = bucket_of(process.due_ps_);
  if (bucket < ring_start_bucket_ || bucket - ring_start_bucket_ >= kRingBuckets)
    return false; // outside the ring's window: the heap
  ring_insert(process);
  return true;
}

void EventCalendar::ring_insert(CalendarProcess &process) {
  const std::size_t index = ring_index(bucket_of(process.due_ps_));
  Bucket &bucket = ring_[index];
  process.later_ = nullptr;
  if (!bucket.first) {
    bucket.first = bucket.last = &process;
    ring_occupied_[index / 64] |= std::uint64_t{1} << (index % 64);
    ring_occupied_words_ |= std::uint64_t{1} << (index / 64);
  } else if (key_before(bucket.last_due_ps, bucket.last_request, process.due_ps_,
                        process.request_)) {
    // Last: the common case (the bucket knows its last one's key, so no other process is
    // read). Not always: a process's request for itself enters when its run returns, after
    // requests it made for others during the run.
    bucket.last->later_ = &process;
    bucket.last = &process;
  } else {
    CalendarProcess **link = &bucket.first;
    while (!before(process, **link))
      link = &(*link)->later_;
    process.later_ = *link;
    *link = &process;
  }
  if (!process.later_) {
    bucket.last_due_ps = process.due_ps_;
    bucket.last_request = process.request_;
  }
  process.place_ = CalendarProcess::Place::Ring;
  ++ring_requests_;
}

void EventCalendar::ring_remove(CalendarProcess &process, std::int64_t due_ps) {
  const std::size_t index = ring_index(bucket_of(due_ps));
  Bucket &bucket = ring_[index];
  // Mostly the first (its run); an earlier request of a waiting process is found by a walk.
  CalendarProcess *earlier = nullptr;
  CalendarProcess **link = &bucket.first;
  while (*link != &process) {
    earlier = *link;
    link = &earlier->later_;
  }
  *link = process.later_;
  if (bucket.last == &process) {
    bucket.last = earlier;
    if (earlier) {
      bucket.last_due_ps = earlier->due_ps_;
      bucket.last_request = earlier->request_;
    }
  }
  if (!bucket.first) {
    std::uint64_t &word = ring_occupied_[index / 64];
    word &= ~(std::uint64_t{1} << (index % 64));
    if (!word)
      ring_occupied_words_ &= ~(std::uint64_t{1} << (index / 64));
  }
  process.place_ = CalendarProcess::Place::None;
  --ring_requests_;
}

CalendarProcess *EventCalendar::ring_first() const {
  // The first occupied bucket from the window's start, round the ring once: first the start's
  // own word from the start on, then the next occupied word (the summary rotated to begin
  // after the start's word; the start's word itself comes last, its buckets before the start
  // being the window's last).
  const std::size_t start = ring_index(ring_start_bucket_);
  std::size_t word = start / 64;
  std::uint64_t bits = ring_occupied_[word] & (~std::uint64_t{0} << (start % 64));
  if (!bits) {
    const unsigned shift = static_cast<unsigned>((word + 1) % 64);
    const std::uint64_t rotated =
        shift ? (ring_occupied_words_ >> shift | ring_occupied_words_ << (64 - shift))
              : ring_occupied_words_;
    word = (word + 1 + static_cast<std::size_t>(__builtin_ctzll(rotated))) % 64;
    bits = ring_occupied_[word];
  }
  return ring_[word * 64 + static_cast<std::size_t>(__builtin_ctzll(bits))].first;
}

CalendarProcess *EventCalendar::first() const {
  CalendarProcess *far = heap_.empty() ? nullptr : heap_.front();
  if (ring_requests_ == 0)
    return far;
  CalendarProcess *near = ring_first();
  return far && before(*far, *near) ? far : near;
}

void EventCalendar::ring_take(CalendarProcess &process, std::int64_t due_ps) {
  ring_remove(process, due_ps);
  // Nothing in the ring is earlier: the window starts at this bucket now.
  ring_start_bucket_ = bucket_of(due_ps);
}

// Both sifts hold the moving process's key in locals and the heap's data pointer: the writes
// to the processes' slots would otherwise make the compiler reload them at every level.
void EventCalendar::heap_sift_up(int slot) {
  CalendarProcess **heap = heap_.data();
  CalendarProcess *moving = heap[slot];
  const std::int64_t due = moving->due_ps_;
  const std::uint64_t request = moving->request_;
  while (slot > 0) {
    int parent = (slot - 1) / 2;
    CalendarProcess *above = heap[parent];
    if (!key_before(due, request, above->due_ps_, above->request_))
      break;
    heap[slot] = above;
    above->heap_slot_ = slot;
    slot = parent;
  }
  heap[slot] = moving;
  moving->heap_slot_ = slot;
}

void EventCalendar::heap_sift_down_first() {
  const int size = static_cast<int>(heap_.size());
  CalendarProcess **heap = heap_.data();
  CalendarProcess *moving = heap[0];
  const std::int64_t due = moving->due_ps_;
  const std::uint64_t request = moving->request_;
  int slot = 0;
  for (;;) {
    int child = 2 * slot + 1;
    if (child >= size)
      break;
    CalendarProcess *below = heap[child];
    if (child + 1 < size && before(*heap[child + 1], *below))
      below = heap[++child];
    if (!key_before(below->due_ps_, below->request_, due, request))
      break;
    heap[slot] = below;
    below->heap_slot_ = slot;
    slot = child;
  }
  heap[slot] = moving;
  moving->heap_slot_ = slot;
}

void EventCalendar::heap_remove_first() {
  CalendarProcess *taken = heap_.front();
  taken->heap_slot_ = -1;
  taken->place_ = CalendarProcess::Place::None;
  heap_.front() = heap_.back();
  heap_.pop_back();
  if (!heap_.empty())
    heap_sift_down_first();
}

std::int64_t EventCalendar::kernel_horizon_ps(std::int64_t kernel_now_ps) {
  if (sc_core::sc_pending_activity_at_current_time())
    return kernel_now_ps;
  sc_dt::uint64 to_next = sc_core::sc_time_to_pending_activity().value();
  constexpr auto kNever = static_cast<sc_dt::uint64>(std::numeric_limits<std::int64_t>::max() / 2);
  if (to_next >= kNever)
    return std::numeric_limits<std::int64_t>::max();
  return kernel_now_ps + static_cast<std::int64_t>(to_next);
}

void EventCalendar::notify_kernel(std::int64_t at_ps, std::int64_t kernel_now_ps) {
  if (kernel_wake_ps_ >= 0 && kernel_wake_ps_ <= at_ps)
    return;
  kernel_wake_ps_ = at_ps;
  wake_.notify(sc_core::sc_time::from_value(static_cast<sc_dt::uint64>(at_ps - kernel_now_ps)));
}

// Per wake-up: flattened (docs/models.md, "Hot paths").
[[gnu::flatten]] void EventCalendar::dispatch() {
  ++stats_.kernel_activations;
  kernel_wake_ps_ = -1;
  const std::int64_t kernel_now = kernel_now_ps();
  // Requests due now always run; later ones only before anything else in the kernel, which
  // nothing the calendar runs can change (its processes do not notify SystemC events).
  const std::int64_t horizon = lockstep_ ? kernel_now : kernel_horizon_ps(kernel_now);
  std::int64_t last_ps = kernel_now;
  running_ = true;
  for (;;) {
    CalendarProcess *next = first();
    if (!next)
      break;
    CalendarProcess &process = *next;
    std::int64_t due = process.due_ps_;
    if (due > kernel_now && (due >= horizon || due > time_limit_ps_))
      break;
    // A process first in the heap stays there while it runs (time -1: nothing another
    // process asks for moves it), so that a new request of its own is one sift down.
    const bool stays_first = process.place_ == CalendarProcess::Place::Heap;
    process.due_ps_ = -1;
    if (!stays_first)
      ring_take(process, due);
    running_process_ = &process;
    running_due_ps_ = -1;
    now_ps_ = last_ps = due;
    ++stats_.wake_ups;
    process.run();
    running_process_ = nullptr;
    if (stays_first && running_due_ps_ >= 0 && !ring_mode_) {
      process.due_ps_ = running_due_ps_;
      process.request_ = running_request_;
      heap_sift_down_first();
    } else {
      if (stays_first)
        heap_remove_first();
      if (running_due_ps_ >= 0)
        add(process, running_due_ps_, running_request_);
    }
    if (progress_observer_ && stats_.wake_ups % kProgressWakeUps == 0)
      progress_observer_(due);
  }
  running_ = false;
  // The kernel's clock first catches up with the last wake-up run, so that it ends (or stops
  // at the time limit) where the models are, as it would have without the calendar.
  const CalendarProcess *next = first();
  std::int64_t next_ps = next ? next->due_ps_ : -1;
  if (last_ps > kernel_now)
    notify_kernel(last_ps, kernel_now);
  else if (next_ps >= 0)
    notify_kernel(next_ps, kernel_now);
}

} // namespace pciesim
