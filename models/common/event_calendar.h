// The models' timed wake-ups, in one SystemC process.
//
// Every model process (links, DMA engines and the devices built on them, the OS kernel)
// asks this calendar, not its own sc_event, to wake it at a time. The calendar is one
// SC_METHOD holding the wake-ups in a heap ordered by (time, request order), and when the
// SystemC kernel runs it, it runs every wake-up that is due before anything else in the
// kernel is: its own clock (now_ps()) may run ahead of sc_time_stamp() up to the kernel's next
// pending activity, never past it and never past the time limit, so the order of events is
// exactly what one process per model woken by the kernel would see. Why a calendar rather than
// one SystemC process per model, and what it saved: docs/performance.md, "How the hop target
// was reached".
//
// Ties: wake-ups due at the same picosecond run in the order they were requested, which is
// fixed by the model alone, not by the kernel's event-queue history.
//
// Rules for the processes it drives: wake only through the calendar (a SystemC notification
// from inside a wake-up would be timed against the kernel's clock, which may be behind); read
// the time with now_ps() (models/common/sim_time.h). Something that must see the kernel's clock
// move with the models (a SystemC signal traced to VCD) puts the calendar in lockstep.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include <systemc>

namespace pciesim {

class EventCalendar;

// A model process the calendar wakes.
class CalendarProcess {
public:
  virtual ~CalendarProcess() = default;

protected:
  // Runs at the time asked for; now_ps() returns it.
  virtual void run() = 0;

private:
  friend class EventCalendar;
  // Its place in the calendar: the request's time (-1 when none, and while it runs, which
  // keeps it first) and order, and its slot in the heap (-1 when not there).
  std::int64_t due_ps_ = -1;
  std::uint64_t request_ = 0;
  int slot_ = -1;
};

struct EventCalendarStats {
  std::uint64_t wake_ups = 0;           // process runs
  std::uint64_t kernel_activations = 0; // times the SystemC kernel ran the calendar
  std::uint64_t superseded = 0;         // requests replaced by an earlier one before they ran
};

class EventCalendar : public sc_core::sc_module {
public:
  explicit EventCalendar(sc_core::sc_module_name name = "calendar");
  ~EventCalendar() override;
  EventCalendar(const EventCalendar &) = delete;
  EventCalendar &operator=(const EventCalendar &) = delete;

  // The calendar of this simulation. There is one per process, as there is one SystemC
  // kernel; models are handed it at construction (SimContext) and do not look it up.
  static EventCalendar &current();

  // Simulated time in ps: the calendar's clock while it runs a process, else the kernel's.
  static std::int64_t now_ps() { return running_ ? now_ps_ : kernel_now_ps(); }

  // Wakes `process` at `at_ps` (now, if that is in the past). Of several requests before it
  // runs, the earliest holds, as with sc_event::notify.
  void wake_at(CalendarProcess &process, std::int64_t at_ps);
  // The time `process` asked to be woken at and has not been yet (-1: none). A request for a
  // time no sooner than this changes nothing.
  std::int64_t requested_ps(const CalendarProcess &process) const {
    return &process == running_process_ ? running_due_ps_ : process.due_ps_;
  }

  // sc_start's duration: nothing later runs (the kernel stops there too).
  void set_time_limit_ps(std::int64_t limit_ps) { time_limit_ps_ = limit_ps; }
  std::int64_t time_limit_ps() const { return time_limit_ps_; }
  // Never run ahead of the kernel's clock: for SystemC processes that observe the models at
  // the kernel's time, such as the VCD probe. Slower; the same results.
  void set_lockstep(bool on) { lockstep_ = on; }

  // Called with the calendar's time after every kProgressWakeUps-th wake-up (a progress line
  // on a terminal); it may only look at the models, so results are the same with or without.
  static constexpr std::uint64_t kProgressWakeUps = 4096;
  void set_progress_observer(std::function<void(std::int64_t now_ps)> observer) {
    progress_observer_ = std::move(observer);
  }

  const EventCalendarStats &stats() const { return stats_; }

private:
  static std::int64_t kernel_now_ps() {
    return static_cast<std::int64_t>(sc_core::sc_time_stamp().value());
  }
  // The calendar's order: time, then request order.
  static bool key_before(std::int64_t due_a, std::uint64_t request_a, std::int64_t due_b,
                         std::uint64_t request_b) {
    return due_a != due_b ? due_a < due_b : request_a < request_b;
  }
  static bool before(const CalendarProcess *a, const CalendarProcess *b) {
    return key_before(a->due_ps_, a->request_, b->due_ps_, b->request_);
  }
  void dispatch();
  // Binary min-heap of processes with a request, each at most once (a process's slot_ says
  // where), so an earlier request moves it up instead of leaving a dead entry behind.
  void place(CalendarProcess *process, int slot);
  void sift_up(int slot);
  void sift_down(int slot);
  void remove_first();
  // The earliest time anything else in the kernel is pending at.
  static std::int64_t kernel_horizon_ps(std::int64_t kernel_now_ps);
  void notify_kernel(std::int64_t at_ps, std::int64_t kernel_now_ps);

  static inline EventCalendar *current_ = nullptr;
  static inline bool running_ = false;
  static inline std::int64_t now_ps_ = 0;

  std::vector<CalendarProcess *> heap_;
  std::uint64_t seq_ = 0;
  // The process being run stays first in the heap; a request it makes for itself is kept
  // here and takes effect when its run returns, with a single sift down.
  CalendarProcess *running_process_ = nullptr;
  std::int64_t running_due_ps_ = -1;
  std::uint64_t running_request_ = 0;
  std::int64_t kernel_wake_ps_ = -1; // when the kernel will run dispatch() next, -1: never
  std::int64_t time_limit_ps_ = std::numeric_limits<std::int64_t>::max();
  bool lockstep_ = false;
  sc_core::sc_event wake_;
  EventCalendarStats stats_;
  std::function<void(std::int64_t)> progress_observer_;
};

} // namespace pciesim
