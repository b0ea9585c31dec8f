// What every mechanism does for the owner's and the CPU's accesses to managed memory (the
// HMM/UVM fault paths of models/os/hmm.h); the mechanisms differ in how a peer reaches a
// buffer, not in this.
#include "sim/run/mechanisms/mechanism.h"

namespace pciesim {

void record_registration(OsKernel &kernel, StepActor actor, std::int64_t start_ps,
                         std::int64_t end_ps, std::uint64_t pages, std::uint64_t faulted_in) {
  const auto count = [](std::uint64_t n) { return static_cast<std::int64_t>(n); };
  if (faulted_in == 0)
    kernel.record(TimeKind::Setup, start_ps, end_ps, actor, "reg_mr", {{"pages", count(pages)}});
  else
    kernel.record(TimeKind::Setup, start_ps, end_ps, actor, "reg_mr",
                  {{"pages", count(pages)}, {"faulted_in", count(faulted_in)}});
}

bool MechanismPolicy::fault_in(const PhaseConfig &phase, const std::vector<std::uint64_t> &pages,
                               Done again) {
  const std::size_t b = static_cast<std::size_t>(phase.buffer);
  const PageTable &table = *context_.tables[b];
  std::vector<std::uint64_t> missing;
  for (std::uint64_t page : pages) {
    const PageState &ps = table.page(page);
    const bool reachable =
        phase.actor < 0 ? ps.home == PageHome::SystemRam && !ps.migrating : ps.gpu_reachable();
    if (!reachable)
      missing.push_back(page);
  }
  if (missing.empty())
    return true;
  HmmDriver &driver = *context_.drivers[b];
  if (phase.actor < 0)
    driver.cpu_fault(missing, std::move(again));
  else
    driver.gpu_fault(missing, std::move(again));
  return false;
}

} // namespace pciesim
