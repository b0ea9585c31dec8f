// What every mechanism does for the owner's and the CPU's accesses to managed memory (the
// HMM/UVM fault paths of models/os/hmm.h); the mechanisms differ in how a peer reaches a
// buffer, not in this.
#include "sim/run/mechanisms/mechanism.h"

namespace pciesim {

std::int64_t charge_registration(OsKernel &kernel, PageTable &table, StepActor actor,
                                 std::int64_t at_ps, std::int64_t registration_ps) {
  const std::uint64_t faulted_in = table.populate_all();
  const std::int64_t end_ps =
      at_ps + kernel.first_touch_ps(faulted_in, table.page_bytes()) + registration_ps;
  const auto pages = static_cast<std::int64_t>(table.page_count());
  if (faulted_in == 0)
    kernel.record(TimeKind::Setup, at_ps, end_ps, actor, "reg_mr", {{"pages", pages}});
  else
    kernel.record(TimeKind::Setup, at_ps, end_ps, actor, "reg_mr",
                  {{"pages", pages}, {"faulted_in", static_cast<std::int64_t>(faulted_in)}});
  return end_ps;
}

bool MechanismPolicy::fault_in(const PhaseConfig &phase, std::vector<std::uint64_t> &pages,
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
  pages = missing; // what the actor has yet to reach, once the fault has run
  HmmDriver &driver = *context_.drivers[b];
  if (phase.actor < 0)
    driver.cpu_fault(missing, std::move(again));
  else
    driver.gpu_fault(missing, std::move(again));
  return false;
}

} // namespace pciesim
