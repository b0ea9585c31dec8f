// Simulated time as the models read it: now_ps(), and conversions between picoseconds and
// SystemC's sc_time. Any model reads the clock through this header, so that a memory or OS
// model does not include a PCIe header to know the time.
//
// now_ps() is the one static access to the event calendar: there is one calendar per process,
// as there is one SystemC kernel (its simcontext), and a static read keeps the models' hot
// paths free of plumbing. Everything else about the calendar is passed explicitly
// (SimContext, sim_context.h).
#pragma once

#include <cstdint>

#include <systemc>

#include "models/common/event_calendar.h"

namespace pciesim {

// Links keep their timing in femtoseconds (a wire byte at Gen5 x16 lasts about 16 fs) and wake on
// whole picoseconds; traces convert back.
constexpr std::int64_t kFsPerPs = 1000;
// The first whole picosecond at or after `fs` (>= 0).
constexpr std::int64_t ps_ceil_of_fs(std::int64_t fs) { return (fs + kFsPerPs - 1) / kFsPerPs; }

inline sc_core::sc_time ps_to_time(std::int64_t ps) {
  if (ps <= 0)
    return sc_core::SC_ZERO_TIME; // the common case, without from_value's out-of-line call
  return sc_core::sc_time::from_value(static_cast<sc_dt::uint64>(ps));
}
inline std::int64_t time_to_ps(const sc_core::sc_time &t) {
  return static_cast<std::int64_t>(t.value());
}
// ps_to_time remembering its last answer: a model whose delays mostly repeat (a fixed
// latency, an idle memory's access time) skips from_value's library call on every TLP.
class RememberedTime {
public:
  const sc_core::sc_time &of_ps(std::int64_t ps) {
    if (ps != ps_) {
      ps_ = ps;
      time_ = ps_to_time(ps);
    }
    return time_;
  }

private:
  std::int64_t ps_ = 0;
  sc_core::sc_time time_; // zero, as ps_to_time(0)
};
// Simulated time: the event calendar's clock, which may run ahead of sc_time_stamp().
inline std::int64_t now_ps() { return EventCalendar::now_ps(); }

} // namespace pciesim
