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
  if (process.due_ps_ >= 0) {
    if (process.due_ps_ <= at_ps)
      return;
    ++stats_.superseded;
  }
  process.due_ps_ = at_ps;
  process.request_ = seq_;
  requests_.push(Request{at_ps, seq_++, &process});
  // Inside dispatch() the loop sees the new request; from outside (a SystemC process of a
  // test, elaboration) the kernel must be asked to run the calendar then.
  if (!running_)
    notify_kernel(at_ps, now);
}

std::int64_t EventCalendar::next_due_ps() {
  while (!requests_.empty()) {
    const Request &top = requests_.top();
    if (top.process->request_ == top.seq && top.process->due_ps_ == top.at_ps)
      return top.at_ps;
    requests_.pop(); // superseded by an earlier request of the same process
  }
  return -1;
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
  const std::int64_t kernel_now = static_cast<std::int64_t>(sc_core::sc_time_stamp().value());
  // Requests due now always run; later ones only before anything else in the kernel, which
  // nothing the calendar runs can change (its processes do not notify SystemC events).
  const std::int64_t horizon = lockstep_ ? kernel_now : kernel_horizon_ps(kernel_now);
  std::int64_t last_ps = kernel_now;
  running_ = true;
  for (std::int64_t due = next_due_ps(); due >= 0; due = next_due_ps()) {
    if (due > kernel_now && (due >= horizon || due > time_limit_ps_))
      break;
    CalendarProcess &process = *requests_.top().process;
    requests_.pop();
    process.due_ps_ = -1;
    now_ps_ = last_ps = due;
    ++stats_.wake_ups;
    process.run();
  }
  running_ = false;
  // The kernel's clock first catches up with the last wake-up run, so that it ends (or stops
  // at the time limit) where the models are, as it would have without the calendar.
  std::int64_t next_ps = next_due_ps();
  if (last_ps > kernel_now)
    notify_kernel(last_ps, kernel_now);
  else if (next_ps >= 0)
    notify_kernel(next_ps, kernel_now);
}

} // namespace pciesim
