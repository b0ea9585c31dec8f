// What comes out of the SystemC kernel when a model's process throws: an allocation failure
// stays std::bad_alloc (reported as running out of memory, exit 4), where SystemC hands any
// exception escaping a process back as its own error, E549 "uncaught exception"; every other
// error keeps SystemC's report and its message.
#include <new>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>
#include <systemc>

#include "models/common/event_calendar.h"
#include "sim/run/kernel_run.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

// Throws what `thrower` throws when it runs.
class Throwing : public CalendarProcess {
public:
  explicit Throwing(void (*thrower)()) : thrower_(thrower) {}

private:
  void run() override { thrower_(); }
  void (*thrower_)();
};

// Runs the kernel with a process that throws at 100 ps; says what reached the caller.
std::string what_reaches_the_caller(void (*thrower)()) {
  return run_in_child([thrower] {
    sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
    EventCalendar calendar;
    Throwing process(thrower);
    calendar.wake_at(process, 100);
    try {
      run_kernel_until(1000);
    } catch (const std::bad_alloc &) {
      return std::string("std::bad_alloc");
    } catch (const sc_core::sc_report &e) {
      return std::string("sc_report: ") + e.get_msg();
    }
    return std::string("nothing");
  });
}

TEST(KernelErrors, AnAllocationFailureInAProcessStaysOutOfMemory) {
  EXPECT_EQ(what_reaches_the_caller([] { throw std::bad_alloc(); }), "std::bad_alloc");
}

TEST(KernelErrors, OtherExceptionsKeepSystemCsReport) {
  EXPECT_EQ(what_reaches_the_caller([] { throw std::runtime_error("a model's own error"); }),
            "sc_report: a model's own error");
}

} // namespace
} // namespace pciesim::test
