// The event calendar: the order it runs wake-ups in, and that its clock never runs past
// anything else pending in the SystemC kernel or past the time limit.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "models/common/event_calendar.h"
#include "models/common/splitmix64.h"
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

// Many processes at once, as on a big machine: each run asks for its own next wake-up and
// now and then for another process's (earlier or later than what it has asked for), at times
// from now to 10 us ahead (beyond the ring's window), on a coarse grid so that ties and
// shared buckets are common; runs stop after kRuns, so that the pending requests drain and
// the calendar goes back to its heap. The order must be the one a plain ordered set of
// (time, request order) gives, with the same choices drawn in the same order.
struct Draws {
  static constexpr int kProcesses = 48;
  static constexpr int kRuns = 30000;
  std::uint64_t state = 18;
  std::int64_t ahead_ps() {
    std::uint64_t r = splitmix64_next(state);
    // Mostly within a few ns, sometimes within a us, rarely up to 10 us.
    std::int64_t span = r % 16 == 0 ? 10'000'000 : r % 4 == 0 ? 1'000'000 : 4'000;
    return static_cast<std::int64_t>(splitmix64_next(state) % static_cast<std::uint64_t>(span)) /
           256 * 256;
  }
  // What a run at `now` asks for: its own next wake-up, and now and then another's.
  template <class Ask> void after_run(int id, std::int64_t now, Ask ask) {
    ask(id, now + ahead_ps());
    if (splitmix64_next(state) % 3 == 0) {
      int other = static_cast<int>(splitmix64_next(state) % kProcesses);
      ask(other, now + ahead_ps());
    }
  }
};

class Drawer : public CalendarProcess {
public:
  Drawer(int id, Draws &draws, std::vector<Drawer> &all, std::string &log, int &runs)
      : id_(id), draws_(draws), all_(all), log_(log), runs_(runs) {}
  void ask(std::int64_t at_ps) { EventCalendar::current().wake_at(*this, at_ps); }

private:
  void run() override {
    std::int64_t now = EventCalendar::now_ps();
    log_ += std::to_string(id_) + "@" + std::to_string(now) + " ";
    if (++runs_ > Draws::kRuns)
      return;
    draws_.after_run(id_, now, [this](int id, std::int64_t at_ps) {
      all_[static_cast<std::size_t>(id)].ask(at_ps);
    });
  }
  int id_;
  Draws &draws_;
  std::vector<Drawer> &all_;
  std::string &log_;
  int &runs_;
};

// The same processes and draws against an ordered set.
std::string reference_order(std::uint64_t &superseded) {
  Draws draws;
  std::set<std::tuple<std::int64_t, std::uint64_t, int>> order;
  std::map<int, std::pair<std::int64_t, std::uint64_t>> pending;
  std::uint64_t request = 0;
  std::int64_t now = 0;
  auto ask = [&](int id, std::int64_t at_ps) {
    at_ps = std::max(at_ps, now);
    auto it = pending.find(id);
    if (it != pending.end()) {
      if (it->second.first <= at_ps)
        return;
      ++superseded;
      order.erase({it->second.first, it->second.second, id});
    }
    pending[id] = {at_ps, request};
    order.insert({at_ps, request++, id});
  };
  for (int id = 0; id < Draws::kProcesses; ++id)
    ask(id, (id % 5) * 1000);
  std::string log;
  int runs = 0;
  while (!order.empty()) {
    auto [due, ignored, id] = *order.begin();
    order.erase(order.begin());
    pending.erase(id);
    now = due;
    log += std::to_string(id) + "@" + std::to_string(now) + " ";
    if (++runs > Draws::kRuns)
      continue;
    draws.after_run(id, now, ask);
  }
  return log + "superseded " + std::to_string(superseded);
}

TEST(EventCalendar, ManyProcessesRunInTheOrderOfAnOrderedSet) {
  std::string log = run_in_child([] {
    sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
    EventCalendar calendar;
    Draws draws;
    std::string log;
    int runs = 0;
    std::vector<Drawer> all;
    all.reserve(Draws::kProcesses);
    for (int id = 0; id < Draws::kProcesses; ++id)
      all.emplace_back(id, draws, all, log, runs);
    for (int id = 0; id < Draws::kProcesses; ++id)
      all[static_cast<std::size_t>(id)].ask((id % 5) * 1000);
    sc_core::sc_start();
    return log + "superseded " + std::to_string(calendar.stats().superseded);
  });
  std::uint64_t superseded = 0;
  std::string expected = reference_order(superseded);
  EXPECT_GT(superseded, 1000u); // the draws do exercise earlier requests
  EXPECT_EQ(std::count(expected.begin(), expected.end(), '@'), Draws::kRuns + Draws::kProcesses);
  EXPECT_EQ(log.size(), expected.size());
  EXPECT_TRUE(log == expected); // (not EXPECT_EQ: a mismatch would print two 400 kB strings)
  if (log != expected) {
    std::size_t at = 0;
    while (at < log.size() && log[at] == expected[at])
      ++at;
    ADD_FAILURE() << "first difference at character " << at << ": calendar \""
                  << log.substr(at > 40 ? at - 40 : 0, 120) << "\", set \""
                  << expected.substr(at > 40 ? at - 40 : 0, 120) << "\"";
  }
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
