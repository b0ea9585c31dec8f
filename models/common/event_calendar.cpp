#include "models/common/event_calendar.h"

#include <algorithm>
#include <stdexcept>

namespace pciesim {

EventCalendar::EventCalendar(sc_core::sc_module_name name) : sc_module(name) {
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

void EventCalendar::wake_at(CalendarProcess &process, std::int64_t at_ps) {
  std::int64_t now = now_ps();
  at_ps = std::max(at_ps, now);
  // The running process's own request waits beside the heap until its run returns.
  const bool running = &process == running_process_;
  std::int64_t &due = running ? running_due_ps_ : process.due_ps_;
  if (due >= 0) {
    if (due <= at_ps)
      return;
    ++stats_.superseded;
  }
  due = at_ps;
  (running ? running_request_ : process.request_) = seq_++;
  if (running)
    return;
  if (process.slot_ < 0) {
    heap_.push_back(&process);
    process.slot_ = static_cast<int>(heap_.size()) - 1;
  }
  sift_up(process.slot_);
  // Inside dispatch() the loop sees the new request; from outside (a SystemC process of a
  // test, elaboration) the kernel must be asked to run the calendar then.
  if (!running_)
    notify_kernel(at_ps, now);
}

void EventCalendar::place(CalendarProcess *process, int slot) {
  heap_[static_cast<std::size_t>(slot)] = process;
  process->slot_ = slot;
}

// Both sifts hold the moving process's key in locals and the heap's data pointer: the writes
// to the processes' slots would otherwise make the compiler reload them at every level.
void EventCalendar::sift_up(int slot) {
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
    above->slot_ = slot;
    slot = parent;
  }
  heap[slot] = moving;
  moving->slot_ = slot;
}

void EventCalendar::sift_down(int slot) {
  const int size = static_cast<int>(heap_.size());
  CalendarProcess **heap = heap_.data();
  CalendarProcess *moving = heap[slot];
  const std::int64_t due = moving->due_ps_;
  const std::uint64_t request = moving->request_;
  for (;;) {
    int child = 2 * slot + 1;
    if (child >= size)
      break;
    CalendarProcess *below = heap[child];
    if (child + 1 < size && before(heap[child + 1], below))
      below = heap[++child];
    if (!key_before(below->due_ps_, below->request_, due, request))
      break;
    heap[slot] = below;
    below->slot_ = slot;
    slot = child;
  }
  heap[slot] = moving;
  moving->slot_ = slot;
}

void EventCalendar::remove_first() {
  heap_.front()->slot_ = -1;
  CalendarProcess *last = heap_.back();
  heap_.pop_back();
  if (!heap_.empty()) {
    place(last, 0);
    sift_down(0);
  }
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

void EventCalendar::dispatch() {
  ++stats_.kernel_activations;
  kernel_wake_ps_ = -1;
  const std::int64_t kernel_now = kernel_now_ps();
  // Requests due now always run; later ones only before anything else in the kernel, which
  // nothing the calendar runs can change (its processes do not notify SystemC events).
  const std::int64_t horizon = lockstep_ ? kernel_now : kernel_horizon_ps(kernel_now);
  std::int64_t last_ps = kernel_now;
  running_ = true;
  while (!heap_.empty()) {
    CalendarProcess &process = *heap_.front();
    std::int64_t due = process.due_ps_;
    if (due > kernel_now && (due >= horizon || due > time_limit_ps_))
      break;
    // While it runs it stays first (time -1): nothing another process asks for moves it.
    process.due_ps_ = -1;
    running_process_ = &process;
    running_due_ps_ = -1;
    now_ps_ = last_ps = due;
    ++stats_.wake_ups;
    process.run();
    running_process_ = nullptr;
    if (running_due_ps_ >= 0) {
      process.due_ps_ = running_due_ps_;
      process.request_ = running_request_;
      sift_down(0);
    } else {
      remove_first();
    }
    if (progress_observer_ && stats_.wake_ups % kProgressWakeUps == 0)
      progress_observer_(due);
  }
  running_ = false;
  // The kernel's clock first catches up with the last wake-up run, so that it ends (or stops
  // at the time limit) where the models are, as it would have without the calendar.
  std::int64_t next_ps = heap_.empty() ? -1 : heap_.front()->due_ps_;
  if (last_ps > kernel_now)
    notify_kernel(last_ps, kernel_now);
  else if (next_ps >= 0)
    notify_kernel(next_ps, kernel_now);
}

} // namespace pciesim
