// A window of bytes in flight: a requester that may keep at most `limit` bytes of accesses
// outstanding, each holding its share from when it leaves until its answer (read data, a
// write's acknowledgement) comes back. Its rate is then the window over the round trip, the
// shape every tag or credit pool gives: a root port's writes crossing to the other socket
// (remote_peer_write_window), its reads and writes to the other socket's memory
// (remote_memory_window).
//
// Shares come back in the order their answers arrive, which need not be the order they left
// (a write's acknowledgement overtakes an earlier read's data), so they wait in a min-heap by
// return time. Accesses take their room in the order they are offered, as a tag allocator
// hands out tags.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <utility>
#include <vector>

namespace pciesim {

class InFlightWindow {
public:
  explicit InFlightWindow(std::uint64_t limit_bytes) : limit_bytes_(limit_bytes) {}

  // When an access of `bytes`, ready to leave at `due_ps`, finds room: shares back by then
  // return first; while the window is still too full it waits for the earliest share still
  // out, and counts one in `waits` when it had to (the owner's statistic).
  std::int64_t opens(std::uint32_t bytes, std::int64_t due_ps, std::uint64_t &waits);
  // The access of `bytes` that opens() admitted is out until `back_ps`.
  void hold(std::uint32_t bytes, std::int64_t back_ps) {
    in_flight_.emplace(back_ps, bytes);
    bytes_in_flight_ += bytes;
  }
  std::uint64_t bytes_in_flight() const { return bytes_in_flight_; }

private:
  using Share = std::pair<std::int64_t, std::uint32_t>; // (back at ps, bytes)
  std::uint64_t limit_bytes_;
  std::uint64_t bytes_in_flight_ = 0;
  std::priority_queue<Share, std::vector<Share>, std::greater<Share>> in_flight_;
};

} // namespace pciesim
