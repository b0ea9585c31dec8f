// The event calendar: the order it runs wake-ups in, and that its clock never runs past
// anything else pending in the SystemC kernel or past the time limit.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "models/common/event_calendar.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

// Records when it ran (calendar clock and kernel clock) and asks for the next wake-ups.
class Recorder : public CalendarProcess {
public:
  Recorder(std::string name, std::vector<std::string> &log) : name_(std::move(name)), log_(log) {}
  void ask(std::int64_t at_ps) { EventCalendar::current().wake_at(*this, at_ps); }
  std::vector<std::int64_t> then_ps; // wake-ups to ask for, one per run
  std::vector<std::int64_t> kernel_ps;

private:
  void run() override {
    log_.push_back(name_ + "@" + std::to_string(EventCalendar::now_ps()));
    kernel_ps.push_back(static_cast<std::int64_t>(sc_core::sc_time_stamp().value()));
    if (!then_ps.empty()) {
      std::int64_t next = then_ps.front();
      then_ps.erase(then_ps.begin());
      ask(next);
    }
  }
  std::string name_;
  std::vector<std::string> &log_;
};

std::string joined(const std::vector<std::string> &log) {
  std::string out;
  for (const std::string &entry : log)
    out += (out.empty() ? "" : " ") + entry;
  return out;
}

TEST(EventCalendar, TiesRunInRequestOrderAndTheEarliestRequestHolds) {
  std::string log = run_in_child([] {
    sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
    EventCalendar calendar;
    std::vector<std::string> log;
    Recorder a("a", log), b("b", log), c("c", log);
    b.ask(100);
    a.ask(100);
    c.ask(300);
    c.ask(100);        // earlier: replaces 300, and queues behind a and b
    a.ask(200);        // later than its pending 100: ignored
    b.then_ps = {100}; // asked while running at 100: after everything already due then
    sc_core::sc_start();
    return joined(log) + " end@" + std::to_string(sc_core::sc_time_stamp().value()) +
           " superseded " + std::to_string(calendar.stats().superseded);
  });
  EXPECT_EQ(log, "b@100 a@100 c@100 b@100 end@100 superseded 1");
}

// Asks for its next wake-up while it runs, and notes what the calendar says it asked for
// before and after.
class AsksWhileRunning : public CalendarProcess {
public:
  std::int64_t next_ps = -1;
  std::string seen;

private:
  void run() override {
    EventCalendar &calendar = EventCalendar::current();
    seen += std::to_string(calendar.requested_ps(*this));
    if (next_ps >= 0)
      calendar.wake_at(*this, next_ps);
    seen += "," + std::to_string(calendar.requested_ps(*this)) + " ";
    next_ps = -1;
  }
};

// What a process has asked for and not yet run: the earliest request, nothing once it ran,
// and while it runs only the request it made for itself in that run.
TEST(EventCalendar, SaysWhatAProcessHasAskedFor) {
  std::string seen = run_in_child([] {
    sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
    EventCalendar calendar;
    calendar.set_time_limit_ps(450);
    AsksWhileRunning a, b;
    std::string out = std::to_string(calendar.requested_ps(a)) + " ";
    calendar.wake_at(a, 300);
    calendar.wake_at(a, 200);
    calendar.wake_at(a, 250);
    out += std::to_string(calendar.requested_ps(a)) + " ";
    a.next_ps = 500; // beyond the time limit: asked for, never run
    calendar.wake_at(b, 100);
    sc_core::sc_start(sc_core::sc_time(450, sc_core::SC_PS));
    return out + std::to_string(calendar.requested_ps(a)) + " " +
           std::to_string(calendar.requested_ps(b)) + " | " + a.seen + "| " + b.seen;
  });
  EXPECT_EQ(seen, "-1 200 500 -1 | -1,500 | -1,-1 ");
}

TEST(EventCalendar, RunsAheadOfTheKernelOnlyUpToItsNextActivity) {
  std::string log = run_in_child([] {
    sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
    EventCalendar calendar;
    std::vector<std::string> log;
    Recorder a("a", log);
    a.ask(10);
    a.then_ps = {40, 60, 90};
    // A plain SystemC process at 50 ps must see the calendar at 40, not at 60.
    struct Foreign : sc_core::sc_module {
      SC_HAS_PROCESS(Foreign);
      Foreign(sc_core::sc_module_name n, std::vector<std::string> &log) : sc_module(n), log_(log) {
        SC_METHOD(go);
        sensitive << at_50_;
        dont_initialize();
      }
      void start_of_simulation() override { at_50_.notify(sc_core::sc_time::from_value(50)); }
      void go() {
        log_.push_back("foreign@" + std::to_string(EventCalendar::now_ps()) + "/" +
                       std::to_string(sc_core::sc_time_stamp().value()));
      }
      sc_core::sc_event at_50_;
      std::vector<std::string> &log_;
    } foreign("foreign", log);
    sc_core::sc_start();
    std::string kernel;
    for (std::int64_t k : a.kernel_ps)
      kernel += " " + std::to_string(k);
    return joined(log) + " end@" + std::to_string(sc_core::sc_time_stamp().value()) + " kernel" +
           kernel + " activations " + std::to_string(calendar.stats().kernel_activations) +
           " wake-ups " + std::to_string(calendar.stats().wake_ups);
  });
  // a runs at 10 and 40 in one kernel activation (at 10), yields to the process at 50, then
  // runs 60 and 90 ahead of the kernel; the kernel's clock ends at the last wake-up. Two of
  // the four activations only bring the kernel's clock to the models' (40 and 90).
  EXPECT_EQ(log, "a@10 a@40 foreign@50/50 a@60 a@90 end@90 kernel 10 10 60 60 activations 4 "
                 "wake-ups 4");
}

// Wake-ups at 30, 70 and 150 ps under sc_start(100 ps); the log ends with the kernel's clock
// at the end, whether anything is still pending, and the kernel's clock at each wake-up.
std::string run_to_time_limit(bool lockstep) {
  return run_in_child([lockstep] {
    sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
    EventCalendar calendar;
    calendar.set_lockstep(lockstep);
    calendar.set_time_limit_ps(100);
    std::vector<std::string> log;
    Recorder a("a", log);
    a.ask(30);
    a.then_ps = {70, 150};
    sc_core::sc_start(sc_core::sc_time::from_value(100), sc_core::SC_EXIT_ON_STARVATION);
    std::string kernel;
    for (std::int64_t k : a.kernel_ps)
      kernel += " " + std::to_string(k);
    return joined(log) + " end@" + std::to_string(sc_core::sc_time_stamp().value()) +
           (sc_core::sc_pending_activity() ? " pending" : " idle") + " kernel" + kernel;
  });
}

TEST(EventCalendar, StopsAtTheTimeLimitWhereTheModelsAre) {
  // The wake-up at 150 stays pending. With SC_EXIT_ON_STARVATION the kernel's clock stays at
  // its last activity, as without the calendar: the calendar has it catch up to 70 first.
  EXPECT_EQ(run_to_time_limit(false), "a@30 a@70 end@70 pending kernel 30 30");
}

TEST(EventCalendar, InLockstepTheKernelsClockFollowsTheModels) {
  EXPECT_EQ(run_to_time_limit(true), "a@30 a@70 end@70 pending kernel 30 70");
}

TEST(EventCalendar, ModelsNeedOne) {
  std::string message = run_in_child([] {
    try {
      EventCalendar::current();
    } catch (const std::logic_error &e) {
      return std::string(e.what());
    }
    return std::string("no error");
  });
  EXPECT_NE(message.find("no EventCalendar"), std::string::npos) << message;
}

} // namespace
} // namespace pciesim::test
