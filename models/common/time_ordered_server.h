// A single server (a memory channel, a GPU's device memory, a root complex's forwarding engine,
// a page-table walker) that its callers book ahead of time and that still serves requests in
// the order they are due, not the order they were booked.
//
// Why a booking server and not scheduling on the event calendar: the models that use these
// servers answer at once with a completion time (HostMemory's b_transport annotates its delay,
// the IOMMU returns when a translation is ready, the root complex queues a TLP on its egress
// port for a future time), and a page walk is a chain of dependent reads whose times are known
// only as each is booked. Making every one of them an event-driven state machine would turn
// these synchronous answers into callbacks throughout the root complex and the IOMMU. Instead
// the server keeps its bookings sorted by the time each request is due and never makes an
// earlier-due request wait behind a later-due one:
//
// - A request due at `t` needing `service` starts once every booking due at or before `t` has
//   ended (first come, first served by due time), and not before `t`. Bookings due later than
//   `t` do not delay it: it was there first.
// - A later-due booking was already answered, so it cannot be moved back. Where the new
//   request overlaps it, the server has done that much work twice at once; the overlap is
//   owed and booked as a debt at the end of the server's bookings, so the work the server does
//   over time never exceeds its capacity and later requests pay for it as they would have had
//   the bookings arrived in time order. Where later-due bookings already overlap each other
//   (one booked out of order, or a debt), their time counts once: the work owed is never more
//   than the request's own, and a saturated server booked out of order ends its bookings when
//   one served in order would have.
//
// In order (every request due no earlier than the last one booked) this is exactly the classic
// busy-until server: start = max(due, previous end), in O(1).
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace pciesim {

class TimeOrderedServer {
public:
  // When a request due at `due_ps` can start: at `due_ps`, or when the last booking due at
  // or before it ends.
  std::int64_t earliest_start(std::int64_t due_ps) const;
  // Books [start_ps, end_ps) for a request due at `due_ps`, with start_ps from
  // earliest_start(due_ps) or later. Returns the work owed because the booking overlaps
  // bookings due later (0 when it overlaps none), which the server appends as a debt.
  std::int64_t book(std::int64_t due_ps, std::int64_t start_ps, std::int64_t end_ps);
  // earliest_start then book for `service_ps`; returns the start. Inline for the common
  // in-order case (it runs once per memory access).
  std::int64_t serve(std::int64_t due_ps, std::int64_t service_ps) {
    if (!in_order(due_ps))
      return serve_out_of_order(due_ps, service_ps);
    std::int64_t start = std::max(due_ps, max_end_ps_);
    max_end_ps_ = start + service_ps;
    bookings_.push_back(Booking{due_ps, start, max_end_ps_});
    return start;
  }
  // Start of the first booking due after `due_ps` (INT64_MAX when none): how long a request
  // due then could run before it overlaps a later-due one.
  std::int64_t next_later_start(std::int64_t due_ps) const;
  // The caller promises that no request will be due before `now_ps`: bookings that ended by
  // then can no longer delay anything and are dropped.
  void forget_before(std::int64_t now_ps) {
    if (bookings_.size() > prune_above_)
      drop_ended(now_ps);
  }

  std::int64_t busy_until_ps() const { return max_end_ps_; }
  std::size_t bookings() const { return bookings_.size(); }
  std::int64_t debt_ps() const { return debt_ps_; } // total work owed to overlaps so far

private:
  // Bookings are pruned only when there are more than prune_above_: pruning never changes an
  // answer (a booking that ended by now cannot delay or overlap a request due now or later),
  // so this only trades memory for time. After a prune the bound is twice what is left: a
  // server booked far ahead (a link whose TLPs are taken before they arrive) keeps many
  // bookings that have not ended, and scanning them at every request made each request cost
  // their number; doubling makes the scans cost O(1) a booking, with at most twice the
  // bookings alive.
  static constexpr std::size_t kPruneAbove = 16;
  std::size_t prune_above_ = kPruneAbove;

  // Every booking is due no later than `due_ps`.
  bool in_order(std::int64_t due_ps) const {
    return bookings_.empty() || due_ps >= bookings_.back().due_ps;
  }
  std::int64_t serve_out_of_order(std::int64_t due_ps, std::int64_t service_ps);
  void drop_ended(std::int64_t now_ps);

  struct Booking {
    std::int64_t due_ps, start_ps, end_ps;
  };
  std::vector<Booking> bookings_; // sorted by due_ps; equal due times in booking order
  std::vector<std::pair<std::int64_t, std::int64_t>> overlaps_; // book()'s, kept for its room
  std::int64_t max_end_ps_ = 0;
  std::int64_t debt_ps_ = 0;
};

} // namespace pciesim
