#include "sim/run/mechanisms/pinned_peer_mr.h"

namespace pciesim {

std::int64_t PinnedPeerMr::setup_buffer(std::size_t buffer, int peer, std::int64_t at_ps,
                                        const SetupHold &) {
  mrs_[buffer].peer = peer;
  return register_mr(buffer, at_ps);
}

void PinnedPeerMr::revoke(std::size_t buffer, bool evict, Done done) {
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

bool PinnedPeerMr::peer_mapped(std::size_t buffer) const {
  auto it = mrs_.find(buffer);
  return it == mrs_.end() || it->second.state == Mr::Registered;
}

std::int64_t PinnedPeerMr::registration_ps(const PageTable &table) const {
  return context_.kernel.registration_ps(table.page_count());
}

std::int64_t PinnedPeerMr::register_mr(std::size_t buffer, std::int64_t at_ps) {
  PageTable &table = *context_.tables[buffer];
  const std::int64_t end_ps = charge_registration(
      context_.kernel, table, StepActor::nic(mrs_[buffer].peer), at_ps, registration_ps(table));
  context_.kernel.stats().pages_pinned += table.page_count();
  table.pin_all(); // once for the table: pinning touches no page's state
  return end_ps;
}

void PinnedPeerMr::recover(std::size_t buffer) {
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

} // namespace pciesim
