#include "sim/batch/run_progress_board.h"

#include <sys/mman.h>

#include <fmt/format.h>

namespace pciesim {

static_assert(std::atomic<std::int64_t>::is_always_lock_free &&
                  std::atomic<std::uint64_t>::is_always_lock_free,
              "lock-free atomics are address-free, so they work in memory shared by processes");

RunProgressBoard::RunProgressBoard(std::size_t runs) {
  if (runs == 0)
    return;
  void *memory = ::mmap(nullptr, runs * sizeof(Slot), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED)
    return;
  slots_ = static_cast<Slot *>(memory); // zero-filled: every run at 0 ps, 0 of 0 bytes
  runs_ = runs;
}

RunProgressBoard::~RunProgressBoard() {
  if (slots_)
    ::munmap(slots_, runs_ * sizeof(Slot));
}

void RunProgressBoard::store(std::size_t run, const RunProgress &p) {
  if (run >= runs_)
    return;
  slots_[run].sim_time_ps.store(p.sim_time_ps, std::memory_order_relaxed);
  slots_[run].bytes_done.store(p.bytes_done, std::memory_order_relaxed);
  slots_[run].bytes_total.store(p.bytes_total, std::memory_order_relaxed);
}

RunProgress RunProgressBoard::load(std::size_t run) const {
  if (run >= runs_)
    return {};
  return {slots_[run].sim_time_ps.load(std::memory_order_relaxed),
          slots_[run].bytes_done.load(std::memory_order_relaxed),
          slots_[run].bytes_total.load(std::memory_order_relaxed)};
}

std::string format_comparison_progress(std::size_t done, std::size_t total,
                                       const std::vector<RunningRun> &running) {
  std::string text = fmt::format("pciesim: {}/{} done", done, total);
  for (const RunningRun &r : running)
    text += fmt::format("; {}: {}", r.name, format_run_progress(r.progress));
  return text;
}

} // namespace pciesim
