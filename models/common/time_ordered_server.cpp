// The time-ordered booking server: see the header for the rules and why they were chosen.
#include "models/common/time_ordered_server.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace pciesim {

std::int64_t TimeOrderedServer::earliest_start(std::int64_t due_ps) const {
  if (in_order(due_ps))
    return std::max(due_ps, max_end_ps_); // every booking is due no later
  std::int64_t start = due_ps;
  for (const Booking &b : bookings_) {
    if (b.due_ps > due_ps)
      break;
    start = std::max(start, b.end_ps);
  }
  return start;
}

std::int64_t TimeOrderedServer::book(std::int64_t due_ps, std::int64_t start_ps,
                                     std::int64_t end_ps) {
  max_end_ps_ = std::max(max_end_ps_, end_ps);
  if (in_order(due_ps)) {
    bookings_.push_back(Booking{due_ps, start_ps, end_ps}); // nothing is due later
    return 0;
  }
  auto later = std::upper_bound(bookings_.begin(), bookings_.end(), due_ps,
                                [](std::int64_t due, const Booking &b) { return due < b.due_ps; });
  // The work done twice at once: the part of [start, end) the later-due bookings already
  // keep the server busy in, counted once where they overlap each other (an earlier debt or
  // out-of-order booking shares its time with the bookings it overlapped).
  std::vector<std::pair<std::int64_t, std::int64_t>> &busy = overlaps_;
  busy.clear();
  for (auto it = later; it != bookings_.end(); ++it)
    if (it->end_ps > start_ps && it->start_ps < end_ps)
      busy.emplace_back(std::max(start_ps, it->start_ps), std::min(end_ps, it->end_ps));
  std::sort(busy.begin(), busy.end());
  std::int64_t owed = 0, covered_to = start_ps;
  for (const auto &[from, to] : busy) {
    owed += std::max<std::int64_t>(0, to - std::max(from, covered_to));
    covered_to = std::max(covered_to, to);
  }
  bookings_.insert(later, Booking{due_ps, start_ps, end_ps});
  if (owed > 0) {
    // The work done twice at once is paid after everything booked so far.
    bookings_.push_back(Booking{bookings_.back().due_ps, max_end_ps_, max_end_ps_ + owed});
    max_end_ps_ += owed;
    debt_ps_ += owed;
  }
  return owed;
}

std::int64_t TimeOrderedServer::serve_out_of_order(std::int64_t due_ps, std::int64_t service_ps) {
  std::int64_t start = earliest_start(due_ps);
  book(due_ps, start, start + service_ps);
  return start;
}

std::int64_t TimeOrderedServer::next_later_start(std::int64_t due_ps) const {
  std::int64_t first = std::numeric_limits<std::int64_t>::max();
  for (auto it = bookings_.rbegin(); it != bookings_.rend() && it->due_ps > due_ps; ++it)
    first = std::min(first, it->start_ps);
  return first;
}

void TimeOrderedServer::drop_ended(std::int64_t now_ps) {
  bookings_.erase(std::remove_if(bookings_.begin(), bookings_.end(),
                                 [now_ps](const Booking &b) { return b.end_ps <= now_ps; }),
                  bookings_.end());
  prune_above_ = std::max(kPruneAbove, 2 * bookings_.size());
}

} // namespace pciesim
