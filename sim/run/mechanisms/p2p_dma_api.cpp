#include "sim/run/mechanisms/p2p_dma_api.h"

#include <algorithm>
#include <map>

#include "sim/run/mechanisms/revocation.h"

namespace pciesim {
namespace {

class P2pDmaApi final : public RevocablePeerMapping {
public:
  using RevocablePeerMapping::RevocablePeerMapping;

  Refusal peer_refused(const P2pVerdict &verdict) const override {
    return {true, "p2pdma refuses the peer mapping: " + verdict.reason};
  }

  // ibv_reg_mr over the BAR pages: pin + p2pdma map, per page.
  std::int64_t setup_buffer(std::size_t buffer, int peer, std::int64_t at_ps,
                            const SetupHold &) override {
    mrs_[buffer].peer = peer;
    return register_mr(buffer, at_ps);
  }

  // The peer-memory client's free callback (nvidia-peermem, MLNX_OFED's ib_peer_mem): the NIC
  // driver invalidates the MR's mkey and MTT (one notifier-like zap), and the client DMA-unmaps
  // and releases the pages. The MR is dead from then on.
  void revoke(std::size_t buffer, bool evict, Done done) override {
    auto it = mrs_.find(buffer);
    if (it == mrs_.end() || it->second.state != Mr::Registered) {
      done(now_ps());
      return;
    }
    Mr &mr = it->second;
    const std::int64_t released = drop_peer_mapping(context_, log_, buffer, mr.peer);
    mr.state = Mr::Revoked;
    mr.gpu_side_busy = true;
    context_.kernel.call_at(released, [this, buffer, evict, done] {
      auto finished = [this, buffer, done](std::int64_t at) {
        Mr &m = mrs_[buffer];
        m.gpu_side_busy = false;
        done(at);
        if (m.recovery_wanted)
          recover(buffer);
      };
      if (evict)
        evict_to_ram(context_, buffer, finished);
      else
        finished(now_ps());
    });
  }

private:
  struct Mr {
    int peer = -1;
    enum State { Registered, Revoked, Recovering } state = Registered;
    bool gpu_side_busy = false;   // the revocation's unmap or eviction still running
    bool recovery_wanted = false; // an access asked while it ran
  };

  bool peer_mapped(std::size_t buffer) const override {
    auto it = mrs_.find(buffer);
    return it == mrs_.end() || it->second.state == Mr::Registered;
  }
  // A peer access found the MR dead: the application starts its recovery.
  void restore(std::size_t buffer) override { recover(buffer); }

  // Pins and maps every page of the buffer, from `at_ps`; returns when the MR is usable.
  std::int64_t register_mr(std::size_t buffer, std::int64_t at_ps) {
    PageTable &table = *context_.tables[buffer];
    std::int64_t end_ps = at_ps + context_.kernel.registration_ps(table.page_count());
    context_.kernel.record(TimeKind::Setup, at_ps, end_ps, StepActor::nic(mrs_[buffer].peer),
                           "reg_mr", {{"pages", static_cast<std::int64_t>(table.page_count())}});
    context_.kernel.stats().pages_pinned += table.page_count();
    table.pin_all(); // once for the table: pinning touches no page's state
    return end_ps;
  }

  // The application saw the error completion: it recovers the QP (qp_recover) and registers
  // the buffer again, where it now is; the waiting accesses are then issued again.
  void recover(std::size_t buffer) {
    Mr &mr = mrs_[buffer];
    if (mr.state != Mr::Revoked)
      return;
    if (mr.gpu_side_busy) {
      mr.recovery_wanted = true;
      return;
    }
    mr.state = Mr::Recovering;
    OsKernel &kernel = context_.kernel;
    const std::int64_t start = now_ps(), recovered = start + kernel.costs().qp_recover.ps;
    kernel.record(TimeKind::Setup, start, recovered);
    const std::int64_t registered = register_mr(buffer, recovered);
    ++kernel.stats().reregistrations;
    kernel.call_at(registered, [this, buffer] {
      Mr &m = mrs_[buffer];
      m.state = Mr::Registered;
      m.recovery_wanted = false;
      restored(buffer);
    });
  }

  std::map<std::size_t, Mr> mrs_;
};

} // namespace

std::unique_ptr<MechanismPolicy> make_p2p_dma_api(MechanismContext &context) {
  return std::make_unique<P2pDmaApi>(context);
}

} // namespace pciesim
