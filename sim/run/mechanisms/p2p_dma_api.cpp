#include "sim/run/mechanisms/p2p_dma_api.h"

namespace pciesim {
namespace {

class P2pDmaApi final : public MechanismPolicy {
public:
  using MechanismPolicy::MechanismPolicy;

  Refusal peer_refused(const P2pVerdict &verdict) const override {
    return {true, "p2pdma refuses the peer mapping: " + verdict.reason};
  }

  // ibv_reg_mr over the BAR pages: pin + p2pdma map, per page.
  std::int64_t setup_buffer(std::size_t buffer, int peer, std::int64_t at_ps,
                            const SetupHold &) override {
    PageTable &table = *context_.tables[buffer];
    std::int64_t end_ps = at_ps + context_.kernel.registration_ps(table.page_count());
    context_.kernel.record(TimeKind::Setup, at_ps, end_ps, StepActor::nic(peer), "reg_mr",
                           {{"pages", static_cast<std::int64_t>(table.page_count())}});
    context_.kernel.stats().pages_pinned += table.page_count();
    table.pin_all(); // once for the table: pinning touches no page's state
    return end_ps;
  }
};

} // namespace

std::unique_ptr<MechanismPolicy> make_p2p_dma_api(MechanismContext &context) {
  return std::make_unique<P2pDmaApi>(context);
}

} // namespace pciesim
