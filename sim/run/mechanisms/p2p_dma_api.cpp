#include "sim/run/mechanisms/p2p_dma_api.h"

#include "sim/run/mechanisms/pinned_peer_mr.h"

namespace pciesim {
namespace {

// Linux's p2pdma maps the BAR pages for the NIC (pin_user_pages + dma_map with the p2pdma map
// type): refused outright when it says NOT_SUPPORTED.
class P2pDmaApi final : public PinnedPeerMr {
public:
  using PinnedPeerMr::PinnedPeerMr;

  Refusal peer_refused(const P2pVerdict &verdict) const override {
    return {true, "p2pdma refuses the peer mapping: " + verdict.reason};
  }
};

} // namespace

std::unique_ptr<MechanismPolicy> make_p2p_dma_api(MechanismContext &context) {
  return std::make_unique<P2pDmaApi>(context);
}

} // namespace pciesim
