#include "models/socket/time_ordered_server.h"

#include <algorithm>

namespace pciesim {

std::int64_t TimeOrderedServer::book(std::int64_t due_ps, std::int64_t duration_ps,
                                     std::int64_t now_ps) {
  while (!busy_.empty() && busy_.begin()->second <= now_ps)
    busy_.erase(busy_.begin());
  if (duration_ps <= 0)
    return due_ps; // takes no time on the server: never waits
  std::int64_t start = due_ps;
  // The booking that may still cover `due_ps` is the last one starting at or before it.
  auto next = busy_.upper_bound(due_ps);
  if (next != busy_.begin()) {
    auto previous = std::prev(next);
    start = std::max(start, previous->second);
  }
  // Walk the later bookings until a gap holds the whole request.
  while (next != busy_.end() && next->first < start + duration_ps) {
    start = std::max(start, next->second);
    ++next;
  }
  // Merge with a booking that ends exactly where this starts, to keep the map short.
  auto inserted = busy_.emplace(start, start + duration_ps).first;
  if (inserted != busy_.begin()) {
    auto previous = std::prev(inserted);
    if (previous->second == inserted->first) {
      previous->second = inserted->second;
      busy_.erase(inserted);
      inserted = previous;
    }
  }
  auto after = std::next(inserted);
  if (after != busy_.end() && after->first == inserted->second) {
    inserted->second = after->second;
    busy_.erase(after);
  }
  return start;
}

} // namespace pciesim
