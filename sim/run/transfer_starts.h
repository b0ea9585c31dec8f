// When a scenario's transfers start after others (`start_after`): a transfer that names
// several starts once the last of them has finished. Kept apart from the system so the order
// is one piece of bookkeeping: which transfers each one releases, found once at load.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/plan/transfer.h"

namespace pciesim {

class TransferStarts {
public:
  explicit TransferStarts(const std::vector<TransferConfig> &transfers);

  // Transfer `t` finished at `at_ps`: the transfers it releases, in index order, each with the
  // time the last of the transfers it waits for finished.
  std::vector<std::pair<int, std::int64_t>> finished(int t, std::int64_t at_ps);
  // What transfer `t` still waits for, for a stall's diagnosis: "transfer a" or
  // "transfers a and b"; empty when it waits for none.
  std::string waiting_for(int t) const;

private:
  const std::vector<TransferConfig> &transfers_;
  std::vector<std::vector<int>> released_by_; // per transfer: those naming it in start_after
  std::vector<std::int64_t> finished_at_ps_;  // per transfer: when it finished, -1 until then
};

} // namespace pciesim
