#include "sim/run/transfer_starts.h"

#include <algorithm>

namespace pciesim {

TransferStarts::TransferStarts(const std::vector<TransferConfig> &transfers)
    : transfers_(transfers), released_by_(transfers.size()), finished_at_ps_(transfers.size(), -1) {
  for (std::size_t d = 0; d < transfers.size(); ++d)
    for (int t : transfers[d].start_after)
      released_by_[static_cast<std::size_t>(t)].push_back(static_cast<int>(d));
}

std::vector<std::pair<int, std::int64_t>> TransferStarts::finished(int t, std::int64_t at_ps) {
  finished_at_ps_[static_cast<std::size_t>(t)] = at_ps;
  std::vector<std::pair<int, std::int64_t>> ready;
  for (int d : released_by_[static_cast<std::size_t>(t)]) {
    std::int64_t last_ps = 0;
    bool all_finished = true;
    for (int w : transfers_[static_cast<std::size_t>(d)].start_after) {
      const std::int64_t finished = finished_at_ps_[static_cast<std::size_t>(w)];
      all_finished = all_finished && finished >= 0;
      last_ps = std::max(last_ps, finished);
    }
    if (all_finished)
      ready.emplace_back(d, last_ps);
  }
  return ready;
}

std::string TransferStarts::waiting_for(int t) const {
  std::string ids;
  int count = 0;
  for (int w : transfers_[static_cast<std::size_t>(t)].start_after)
    if (finished_at_ps_[static_cast<std::size_t>(w)] < 0) {
      ids += (count++ ? " and " : "") + transfers_[static_cast<std::size_t>(w)].id;
    }
  if (count == 0)
    return "";
  return (count > 1 ? "transfers " : "transfer ") + ids;
}

} // namespace pciesim
