#include "sim/run/mechanisms/dmabuf.h"

#include <map>
#include <vector>

#include "sim/run/mechanisms/revocation.h"

namespace pciesim {
namespace {

class DmabufP2p final : public RevocablePeerMapping {
public:
  using RevocablePeerMapping::RevocablePeerMapping;

  Refusal peer_refused(const P2pVerdict &) const override {
    return {false, "p2pdma distance < 0: the exporter placed the buffer in system memory"};
  }

  std::int64_t setup_buffer(std::size_t buffer, int peer, std::int64_t at_ps,
                            const SetupHold &hold) override {
    imports_[{buffer, peer}] = Import{};
    std::int64_t end_ps = attach_and_map(buffer, peer, at_ps, TimeKind::Setup);
    if (context_.peer_ok(peer, static_cast<int>(buffer))) {
      context_.tables[buffer]->pin_all(); // the exporter pins it where it is (dma_buf_pin)
      return end_ps;
    }
    // The exporter evicts the buffer to GTT (system memory).
    Done done = hold();
    context_.kernel.call_at(end_ps, [this, buffer, done] { evict_to_ram(context_, buffer, done); });
    return end_ps;
  }

  // The exporter's move_notify to each importer of the buffer in turn: a dynamic importer
  // (mlx5_ib_dmabuf_invalidate_cb) zaps its MTT and unmaps the attachment; the exporter may
  // then move the buffer. A pinned importer forbids both: the buffer stays where it is, still
  // mapped.
  void revoke(std::size_t buffer, bool evict, Done done) override {
    const std::vector<int> peers = peers_of(imports_, buffer);
    OsKernel &kernel = context_.kernel;
    if (peers.empty() || !context_.workload.dmabuf_dynamic) {
      if (!peers.empty() && evict)
        ++kernel.stats().migrations_refused_pinned;
      done(now_ps());
      return;
    }
    std::int64_t gone = now_ps();
    for (int peer : peers) {
      Import &imp = imports_[{buffer, peer}];
      if (imp.mapped) {
        gone = drop_peer_mapping(context_, log_, buffer, peer, gone);
        imp.mapped = false;
      }
    }
    if (!evict) {
      kernel.call_at(gone, [done] { done(now_ps()); });
      return;
    }
    for (int peer : peers)
      imports_[{buffer, peer}].moving = true;
    kernel.call_at(gone, [this, buffer, done, peers] {
      evict_to_ram(context_, buffer, [this, buffer, done, peers](std::int64_t at) {
        for (int peer : peers)
          imports_[{buffer, peer}].moving = false;
        done(at);
        for (int peer : peers)
          if (someone_waits(buffer, peer))
            refault(buffer, peer);
      });
    });
  }

private:
  struct Import {
    bool mapped = true;    // the attachment is mapped and the MTT holds it
    bool faulting = false; // a re-fault is mapping it again
    bool moving = false;   // the exporter is moving the buffer (the fault waits on its fence)
  };

  bool peer_mapped(std::size_t buffer, int peer) const override {
    auto it = imports_.find({buffer, peer});
    return it == imports_.end() || it->second.mapped;
  }
  void restore(std::size_t buffer, int peer) override { refault(buffer, peer); }

  // `peer`'s dma_buf_map_attachment over the whole buffer: a DMA mapping per page, after
  // the fixed part. At setup that is ibv_reg_dmabuf_mr: the MR itself, as any registration
  // (mlx5's reg_user_mr_dmabuf allocates its mkey as reg_user_mr does: alloc_cacheable_mr),
  // then the dynamic attachment; a re-fault keeps the MR and maps the attachment again.
  std::int64_t attach_and_map(std::size_t buffer, int peer, std::int64_t at_ps, TimeKind kind) {
    OsKernel &kernel = context_.kernel;
    const OsCosts &c = kernel.costs();
    const bool setup = kind == TimeKind::Setup;
    const StepActor nic = StepActor::nic(peer);
    if (setup) {
      kernel.record(kind, at_ps, at_ps + c.register_mr.ps, nic, "ibv_reg_dmabuf_mr");
      at_ps += c.register_mr.ps;
    }
    const std::int64_t attached = at_ps + (setup ? c.dmabuf_attach.ps : c.odp_fault.ps);
    const std::int64_t pages = static_cast<std::int64_t>(context_.tables[buffer]->page_count());
    const std::int64_t end_ps = attached + pages * c.dma_map_page.ps;
    kernel.record(kind, at_ps, attached, nic, setup ? "dma_buf attach" : "dma_buf fault");
    kernel.record(kind, attached, end_ps, nic, "dma_map", {{"pages", pages}});
    return end_ps;
  }

  // The NIC touched its unmapped MR: one page fault (pagefault_dmabuf_mr) maps the whole
  // buffer again, once the exporter's move is over; every access of that NIC waiting on it
  // then goes on.
  void refault(std::size_t buffer, int peer) {
    Import &imp = imports_[{buffer, peer}];
    if (imp.mapped || imp.faulting || imp.moving)
      return;
    imp.faulting = true;
    OsKernel &kernel = context_.kernel;
    ++kernel.stats().odp_faults;
    ++kernel.stats().dmabuf_refaults;
    const std::int64_t mapped = attach_and_map(buffer, peer, now_ps(), TimeKind::FaultHandling);
    kernel.call_at(mapped, [this, buffer, peer] {
      Import &i = imports_[{buffer, peer}];
      i.mapped = true;
      i.faulting = false;
      restored(buffer, peer);
    });
  }

  std::map<PeerKey, Import> imports_;
};

} // namespace

std::unique_ptr<MechanismPolicy> make_dmabuf_p2p(MechanismContext &context) {
  return std::make_unique<DmabufP2p>(context);
}

} // namespace pciesim
