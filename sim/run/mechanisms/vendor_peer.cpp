#include "sim/run/mechanisms/vendor_peer.h"

#include "sim/run/mechanisms/pinned_peer_mr.h"

namespace pciesim {
namespace {

class VendorPeer final : public PinnedPeerMr {
public:
  using PinnedPeerMr::PinnedPeerMr;

  // The GPU driver maps the pair whatever p2pdma would say; the result says what it would.
  Refusal peer_refused(const P2pVerdict &verdict) const override {
    return {false, "mapped by the GPU driver where p2pdma would refuse: " + verdict.reason};
  }
};

} // namespace

std::unique_ptr<MechanismPolicy> make_vendor_peer(MechanismContext &context) {
  return std::make_unique<VendorPeer>(context);
}

} // namespace pciesim
