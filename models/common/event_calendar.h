// The models' timed wake-ups, in one SystemC process.
//
// Every model process (links, DMA engines and the devices built on them, the OS kernel)
// asks this calendar, not its own sc_event, to wake it at a time. The calendar is one
// SC_METHOD holding the wake-ups ordered by (time, request order) (in a heap, or with many
// pending in a ring of time buckets: see below), and when the SystemC kernel runs it, it runs
// every wake-up that is due before anything else in the kernel is: its own clock (now_ps()) may run
// ahead of sc_time_stamp() up to the kernel's next pending activity, never past it and never past
// the time limit, so the order of events is exactly what one process per model woken by the kernel
// would see. Why a calendar rather than one SystemC process per model, and what it saved:
// docs/performance.md, "How the hop target was reached".
//
// Ties: wake-ups due at the same picosecond run in the order they were requested, which is
// fixed by the model alone, not by the kernel's event-queue history.
//
// Rules for the processes it drives: wake only through the calendar (a SystemC notification
// from inside a wake-up would be timed against the kernel's clock, which may be behind); read
// the time with now_ps() (models/common/sim_time.h). Something that must see the kernel's clock
// move with the models (a SystemC signal traced to VCD) puts the calendar in lockstep.
#pragma once

#include <algorithm>
#include <array>
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
  // Where its request waits: nowhere (none, or it is running), a ring bucket, or the heap.
  enum class Place : std::uint8_t { None, Ring, Heap };
  // The time it asked for (-1 when none, and while it runs) and the request's order among
  // requests for that time.
  std::int64_t due_ps_ = -1;
  std::uint64_t request_ = 0;
  // The next request in its ring bucket.
  CalendarProcess *later_ = nullptr;
  int heap_slot_ = -1; // -1: not in the heap
  Place place_ = Place::None;
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
  // Inline for the common case, a running process asking for itself (a link at the end of
  // its run): its request waits outside the calendar until its run returns.
  void wake_at(CalendarProcess &process, std::int64_t at_ps) {
    if (&process != running_process_) {
      wake_other_at(process, at_ps);
      return;
    }
    at_ps = std::max(at_ps, now_ps());
    if (running_due_ps_ >= 0) {
      if (running_due_ps_ <= at_ps)
        return;
      ++stats_.superseded;
    }
    running_due_ps_ = at_ps;
    running_request_ = seq_++;
  }
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
  static bool before(const CalendarProcess &a, const CalendarProcess &b) {
    return key_before(a.due_ps_, a.request_, b.due_ps_, b.request_);
  }
  void dispatch();
  // wake_at for a process other than the one running.
  void wake_other_at(CalendarProcess &process, std::int64_t at_ps);
  // Enters a request of `process` (in neither structure, or in the heap with a later one).
  void add(CalendarProcess &process, std::int64_t due_ps, std::uint64_t request);
  // The first request of all (nullptr when none): the earlier of the ring's and the heap's.
  CalendarProcess *first() const;

  // Two structures hold the requests. While few are pending, a binary min-heap of processes,
  // each at most once (its heap_slot_ says where) so that an earlier request moves it up;
  // the process being run stays first in it (time -1: nothing another process asks for moves
  // it), and a request it makes for itself is then one sift down.
  //
  // From kRingFromRequests pending (a machine's many devices at once), new requests go to a
  // ring of time buckets instead, until fewer than kHeapBelowRequests are pending: a heap's
  // cost grows with the number it holds (each level of a sift is a chain of dependent loads
  // and a mispredicted branch; with 25 pending they were a sixth of the 8-pair machine's run),
  // the ring's does not. The ring holds requests due within kRingBuckets buckets of
  // 2^kBucketPsBits ps from its window's start (the bucket of its last wake-up), each bucket a list
  // in calendar order (a new request mostly goes last), and a bitmap of the buckets holding any;
  // later requests go to the heap. Requests stay where they were put when the calendar
  // changes structure: first() compares both.
  static constexpr int kBucketPsBits = 10; // 1.024 ns
  static constexpr int kRingBits = 12;     // 4,096 buckets: 4.2 us ahead
  static constexpr std::int64_t kRingBuckets = std::int64_t{1} << kRingBits;
  static_assert(kRingBuckets == 64 * 64, "one summary word of 64 bitmap words");
  struct Bucket {
    CalendarProcess *first = nullptr;
    CalendarProcess *last = nullptr;
    std::int64_t last_due_ps = 0; // the last one's key
    std::uint64_t last_request = 0;
  };
  static std::int64_t bucket_of(std::int64_t due_ps) { return due_ps >> kBucketPsBits; }
  static std::size_t ring_index(std::int64_t bucket) {
    return static_cast<std::size_t>(bucket & (kRingBuckets - 1));
  }
  // With many requests pending: enters `process`'s request in the ring if it falls in the
  // ring's window, and says whether it did (else the request goes to the heap).
  bool ring_took(CalendarProcess &process);
  void ring_insert(CalendarProcess &process);
  void ring_remove(CalendarProcess &process, std::int64_t due_ps);
  // The ring's first request; the ring holds one at least.
  CalendarProcess *ring_first() const;
  // Takes the ring's first request out, for its run.
  void ring_take(CalendarProcess &process, std::int64_t due_ps);
  void heap_sift_up(int slot);
  // The first entry has a new, later key: moved down to its place.
  void heap_sift_down_first();
  void heap_remove_first();
  // The earliest time anything else in the kernel is pending at.
  static std::int64_t kernel_horizon_ps(std::int64_t kernel_now_ps);
  void notify_kernel(std::int64_t at_ps, std::int64_t kernel_now_ps);

  static inline EventCalendar *current_ = nullptr;
  static inline bool running_ = false;
  static inline std::int64_t now_ps_ = 0;

  std::vector<Bucket> ring_;
  std::array<std::uint64_t, kRingBuckets / 64> ring_occupied_{}; // a bit per bucket: not empty
  std::uint64_t ring_occupied_words_ = 0; // a bit per word of those: not all zero
  std::int64_t ring_start_bucket_ = 0;    // the window's first bucket, absolute
  std::size_t ring_requests_ = 0;
  std::vector<CalendarProcess *> heap_;
  static constexpr std::size_t kRingFromRequests = 16;
  static constexpr std::size_t kHeapBelowRequests = 8;
  bool ring_mode_ = false; // new requests go to the ring
  std::uint64_t seq_ = 0;
  // The process being run (out of the ring, or first in the heap); a request it makes for
  // itself is kept here and enters the calendar when its run returns.
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
