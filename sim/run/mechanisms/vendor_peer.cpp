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

protected:
  // The GPU driver pins its own memory in 64 KiB pages (nvidia_p2p_get_pages): a fixed cost
  // per region that dwarfs the per-page part, where p2pdma pins 4 KiB pages one by one.
  std::int64_t registration_ps(const PageTable &table) const override {
    return context_.kernel.gpu_memory_registration_ps(table.page_count() * table.page_bytes());
  }
};

} // namespace

std::unique_ptr<MechanismPolicy> make_vendor_peer(MechanismContext &context) {
  return std::make_unique<VendorPeer>(context);
}

} // namespace pciesim
