// A server of one resource (a link direction, a bandwidth) whose requests are booked when
// they become known, which may be long before they are due: each request takes the earliest
// free interval at or after its due time that is long enough. So a request booked later but
// due earlier is not delayed behind one booked before it but due later; it is served in
// time order, in the gaps the earlier bookings left.
#pragma once

#include <cstdint>
#include <map>

namespace pciesim {

class TimeOrderedServer {
public:
  // Reserves `duration_ps` starting at or after `due_ps`; returns the start. `now_ps` lets it
  // forget bookings that ended before now (nothing new can be due before now).
  std::int64_t book(std::int64_t due_ps, std::int64_t duration_ps, std::int64_t now_ps);
  std::size_t bookings() const { return busy_.size(); }

private:
  std::map<std::int64_t, std::int64_t> busy_; // start -> end, disjoint
};

} // namespace pciesim
