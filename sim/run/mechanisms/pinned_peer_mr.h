// A peer's memory region pinned over a GPU's BAR pages (docs/mechanisms.md): registered once
// before the first access, every access then straight to device memory; the GPU driver may
// revoke it (the peer-memory free callback), after which an access running through it fails
// and the application recovers its queue pair and registers again. What the MR's pages are
// mapped by, and so who may refuse the pair, is the mechanism's: Linux's p2pdma
// (p2p_dma_api) or the GPU driver itself (vendor_peer).
#pragma once

#include <cstdint>
#include <map>

#include "sim/run/mechanisms/revocation.h"

namespace pciesim {

class PinnedPeerMr : public RevocablePeerMapping {
public:
  using RevocablePeerMapping::RevocablePeerMapping;

  // ibv_reg_mr over the BAR pages by `peer`: pin + map, per page (each NIC registers its own MR).
  std::int64_t setup_buffer(std::size_t buffer, int peer, std::int64_t at_ps,
                            const SetupHold &) override;
  // The peer-memory client's free callback (nvidia-peermem, MLNX_OFED's ib_peer_mem), for each
  // NIC's MR of the buffer in turn: the NIC driver invalidates the MR's mkey and MTT (one
  // notifier-like zap), and the client DMA-unmaps and releases the pages. The MRs are dead from
  // then on.
  void revoke(std::size_t buffer, bool evict, Done done) override;

protected:
  // What registering the buffer costs: Linux's p2pdma pins and maps the BAR's 4 KiB pages one
  // by one, as host memory's.
  virtual std::int64_t registration_ps(const PageTable &table) const;

private:
  struct Mr {
    enum State { Registered, Revoked, Recovering } state = Registered;
    bool gpu_side_busy = false;   // the revocation's unmap or eviction still running
    bool recovery_wanted = false; // an access asked while it ran
  };

  bool peer_mapped(std::size_t buffer, int peer) const override;
  // A peer access found its MR dead: the application starts its recovery.
  void restore(std::size_t buffer, int peer) override { recover(buffer, peer); }
  // `peer` pins and maps every page of the buffer, from `at_ps`; returns when the MR is usable.
  std::int64_t register_mr(std::size_t buffer, int peer, std::int64_t at_ps);
  // The application saw the error completion: it recovers the QP (qp_recover) and registers
  // the buffer again, where it now is; the waiting accesses are then issued again.
  void recover(std::size_t buffer, int peer);

  std::map<PeerKey, Mr> mrs_;
};

} // namespace pciesim
