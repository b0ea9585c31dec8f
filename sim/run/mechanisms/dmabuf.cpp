#include "sim/run/mechanisms/dmabuf.h"

#include <map>

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
    imports_[buffer].peer = peer;
    std::int64_t end_ps = attach_and_map(buffer, at_ps, TimeKind::Setup);
    if (context_.peer_ok(peer, static_cast<int>(buffer))) {
      context_.tables[buffer]->pin_all(); // the exporter pins it where it is (dma_buf_pin)
      return end_ps;
    }
    // The exporter evicts the buffer to GTT (system memory).
    Done done = hold();
    context_.kernel.call_at(end_ps, [this, buffer, done] { evict_to_ram(context_, buffer, done); });
    return end_ps;
  }

  // The exporter's move_notify: a dynamic importer (mlx5_ib_dmabuf_invalidate_cb) zaps its
  // MTT and unmaps the attachment; the exporter may then move the buffer. A pinned importer
  // forbids both: the buffer stays where it is, still mapped.
  void revoke(std::size_t buffer, bool evict, Done done) override {
    auto it = imports_.find(buffer);
    OsKernel &kernel = context_.kernel;
    if (it == imports_.end() || !context_.workload.dmabuf_dynamic) {
      if (it != imports_.end() && evict)
        ++kernel.stats().migrations_refused_pinned;
      done(now_ps());
      return;
    }
    Import &imp = it->second;
    std::int64_t gone = now_ps();
    if (imp.mapped) {
      gone = drop_peer_mapping(context_, log_, buffer, imp.peer);
      imp.mapped = false;
    }
    if (!evict) {
      kernel.call_at(gone, [done] { done(now_ps()); });
      return;
    }
    imp.moving = true;
    kernel.call_at(gone, [this, buffer, done] {
      evict_to_ram(context_, buffer, [this, buffer, done](std::int64_t at) {
        Import &i = imports_[buffer];
        i.moving = false;
        done(at);
        if (someone_waits(buffer))
          refault(buffer);
      });
    });
  }

private:
  struct Import {
    int peer = -1;
    bool mapped = true;    // the attachment is mapped and the MTT holds it
    bool faulting = false; // a re-fault is mapping it again
    bool moving = false;   // the exporter is moving the buffer (the fault waits on its fence)
  };

  bool peer_mapped(std::size_t buffer) const override {
    auto it = imports_.find(buffer);
    return it == imports_.end() || it->second.mapped;
  }
  void restore(std::size_t buffer) override { refault(buffer); }

  // dma_buf_map_attachment over the whole buffer: a DMA mapping per page, after `fixed`.
  std::int64_t attach_and_map(std::size_t buffer, std::int64_t at_ps, TimeKind kind) {
    OsKernel &kernel = context_.kernel;
    const OsCosts &c = kernel.costs();
    const bool setup = kind == TimeKind::Setup;
    const std::int64_t attached = at_ps + (setup ? c.dmabuf_attach.ps : c.odp_fault.ps);
    const std::int64_t pages = static_cast<std::int64_t>(context_.tables[buffer]->page_count());
    const std::int64_t end_ps = attached + pages * c.dma_map_page.ps;
    const StepActor nic = StepActor::nic(imports_[buffer].peer);
    kernel.record(kind, at_ps, attached, nic, setup ? "dma_buf attach" : "dma_buf fault");
    kernel.record(kind, attached, end_ps, nic, "dma_map", {{"pages", pages}});
    return end_ps;
  }

  // The NIC touched the unmapped MR: one page fault (pagefault_dmabuf_mr) maps the whole
  // buffer again, once the exporter's move is over; every access waiting on it then goes on.
  void refault(std::size_t buffer) {
    Import &imp = imports_[buffer];
    if (imp.mapped || imp.faulting || imp.moving)
      return;
    imp.faulting = true;
    OsKernel &kernel = context_.kernel;
    ++kernel.stats().odp_faults;
    ++kernel.stats().dmabuf_refaults;
    const std::int64_t mapped = attach_and_map(buffer, now_ps(), TimeKind::FaultHandling);
    kernel.call_at(mapped, [this, buffer] {
      Import &i = imports_[buffer];
      i.mapped = true;
      i.faulting = false;
      restored(buffer);
    });
  }

  std::map<std::size_t, Import> imports_;
};

} // namespace

std::unique_ptr<MechanismPolicy> make_dmabuf_p2p(MechanismContext &context) {
  return std::make_unique<DmabufP2p>(context);
}

} // namespace pciesim
