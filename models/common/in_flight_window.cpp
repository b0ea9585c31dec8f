#include "models/common/in_flight_window.h"

namespace pciesim {

std::int64_t InFlightWindow::opens(std::uint32_t bytes, std::int64_t due_ps, std::uint64_t &waits) {
  bool waited = false;
  while (!in_flight_.empty()) {
    const auto [back_ps, share] = in_flight_.top();
    if (back_ps > due_ps) {
      if (bytes_in_flight_ + bytes <= limit_bytes_)
        break;
      due_ps = back_ps;
      waited = true;
    }
    bytes_in_flight_ -= share;
    in_flight_.pop();
  }
  waits += waited;
  return due_ps;
}

} // namespace pciesim
