// The progress line of a comparison (`pciesim run` of a workload on a terminal): each mechanism
// run is a child process, so each writes where it is (simulated time, bytes) into its own slot
// of memory shared with the parent, and the parent, between reaping children, shows how many
// runs are done and where the running ones are. Children only store numbers; nothing they do
// depends on the board, so results are the same with or without it.
#pragma once

#include <atomic>
#include <cstddef>
#include <string>
#include <vector>

#include "sim/util/progress_line.h"

namespace pciesim {

class RunProgressBoard {
public:
  // Slots for `runs` runs, shared with children forked after this; none when `runs` is 0 or
  // the memory cannot be had (the line then only counts runs).
  explicit RunProgressBoard(std::size_t runs);
  ~RunProgressBoard();
  RunProgressBoard(const RunProgressBoard &) = delete;
  RunProgressBoard &operator=(const RunProgressBoard &) = delete;

  // In the child of run `run`.
  void store(std::size_t run, const RunProgress &progress);
  // In the parent.
  RunProgress load(std::size_t run) const;

private:
  struct Slot {
    std::atomic<std::int64_t> sim_time_ps;
    std::atomic<std::uint64_t> bytes_done, bytes_total;
  };
  Slot *slots_ = nullptr;
  std::size_t runs_ = 0;
};

// "pciesim: 3/10 done; hmm_migrate@gpu-nic-shared-switch: 42% of 64.0 MiB, 1.250 ms simulated":
// the runs done of `total`, then each running one by name.
struct RunningRun {
  std::string name;
  RunProgress progress;
};
std::string format_comparison_progress(std::size_t done, std::size_t total,
                                       const std::vector<RunningRun> &running);

} // namespace pciesim
