#include "sim/run/mechanisms/pinned_peer_mr.h"

#include <vector>

namespace pciesim {

std::int64_t PinnedPeerMr::setup_buffer(std::size_t buffer, int peer, std::int64_t at_ps,
                                        const SetupHold &) {
  mrs_[{buffer, peer}] = Mr{};
  return register_mr(buffer, peer, at_ps);
}

void PinnedPeerMr::revoke(std::size_t buffer, bool evict, Done done) {
  std::vector<int> revoked;
  std::int64_t released = now_ps();
  for (int peer : peers_of(mrs_, buffer)) {
    Mr &mr = mrs_[{buffer, peer}];
    if (mr.state != Mr::Registered)
      continue;
    released = drop_peer_mapping(context_, log_, buffer, peer, released);
    mr.state = Mr::Revoked;
    mr.gpu_side_busy = true;
    revoked.push_back(peer);
  }
  if (revoked.empty()) {
    done(now_ps());
    return;
  }
  context_.kernel.call_at(released, [this, buffer, evict, done, revoked] {
    auto finished = [this, buffer, done, revoked](std::int64_t at) {
      for (int peer : revoked)
        mrs_[{buffer, peer}].gpu_side_busy = false;
      done(at);
      for (int peer : revoked)
        if (mrs_[{buffer, peer}].recovery_wanted)
          recover(buffer, peer);
    };
    if (evict)
      evict_to_ram(context_, buffer, finished);
    else
      finished(now_ps());
  });
}

bool PinnedPeerMr::peer_mapped(std::size_t buffer, int peer) const {
  auto it = mrs_.find({buffer, peer});
  return it == mrs_.end() || it->second.state == Mr::Registered;
}

std::int64_t PinnedPeerMr::registration_ps(const PageTable &table) const {
  // p2pdma's BAR pages are 4 KiB pages whatever the buffer's page size (the provider's
  // ZONE_DEVICE pages, mapped one by one); a buffer an eviction moved to RAM is host memory.
  if (table.page(0).home == PageHome::Device)
    return context_.kernel.registration_ps(table.page_count() * table.page_bytes() /
                                           OsKernel::kBasePage);
  return context_.kernel.registration_ps(table.page_count(), table.page_bytes());
}

std::int64_t PinnedPeerMr::register_mr(std::size_t buffer, int peer, std::int64_t at_ps) {
  PageTable &table = *context_.tables[buffer];
  const std::int64_t end_ps = charge_registration(context_.kernel, table, StepActor::nic(peer),
                                                  at_ps, registration_ps(table));
  context_.kernel.stats().pages_pinned += table.page_count();
  table.pin_all(); // once for the table: pinning touches no page's state
  return end_ps;
}

void PinnedPeerMr::recover(std::size_t buffer, int peer) {
  Mr &mr = mrs_[{buffer, peer}];
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
  const std::int64_t registered = register_mr(buffer, peer, recovered);
  ++kernel.stats().reregistrations;
  kernel.call_at(registered, [this, buffer, peer] {
    Mr &m = mrs_[{buffer, peer}];
    m.state = Mr::Registered;
    m.recovery_wanted = false;
    restored(buffer, peer);
  });
}

} // namespace pciesim
