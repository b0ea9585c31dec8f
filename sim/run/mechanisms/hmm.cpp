#include "sim/run/mechanisms/hmm.h"

#include <deque>
#include <map>
#include <numeric>

#include "sim/run/mechanisms/revocation.h"

namespace pciesim {
namespace {

class Hmm final : public MechanismPolicy {
public:
  // `peer_map`: a NIC fault maps device pages peer-to-peer instead of migrating them.
  Hmm(MechanismContext &context, bool peer_map) : MechanismPolicy(context), peer_map_(peer_map) {}

  Refusal peer_refused(const P2pVerdict &verdict) const override {
    if (!peer_map_)
      return {};
    return {false,
            "peer mapping NOT_SUPPORTED, fell back to migration (hmm_migrate): " + verdict.reason};
  }

  std::int64_t setup_buffer(std::size_t buffer, int peer, std::int64_t at_ps,
                            const SetupHold &hold) override {
    context_.drivers[buffer]->add_nic(peer);
    if (!context_.workload.nic_odp_prefetch && !context_.workload.nic_mr_pinned)
      return at_ps;
    // Each NIC's setup of the buffer after the previous NIC's: the application calls
    // ibv_advise_mr or ibv_reg_mr for one NIC, then for the next.
    std::deque<NicSetup> &queue = setups_[buffer];
    queue.push_back(NicSetup{peer, hold()});
    if (queue.size() == 1)
      context_.kernel.call_at(at_ps, [this, buffer] { set_up_next(buffer); });
    return at_ps;
  }

  // HMM manages every buffer.
  bool managed(const BufferConfig &) const override { return true; }

  bool make_reachable(const PhaseConfig &phase, std::vector<std::uint64_t> &pages,
                      Done again) override {
    if (!phase.actor_is_peer)
      return fault_in(phase, pages, std::move(again));
    const std::size_t b = static_cast<std::size_t>(phase.buffer);
    const PageTable &table = *context_.tables[b];
    const std::uint16_t nic = context_.drivers[b]->nic_bit(phase.actor);
    std::vector<std::uint64_t> missing;
    for (std::uint64_t page : pages) {
      const PageState &ps = table.page(page);
      if (!ps.nic_mapped(nic) || ps.migrating)
        missing.push_back(page);
    }
    if (missing.empty())
      return true;
    context_.drivers[b]->nic_fault(phase.actor, missing,
                                   peer_map_ && context_.peer_ok(phase.actor, phase.buffer), again);
    return false;
  }

  // The driver takes the buffer back by migrating it to RAM (docs/mechanisms.md, Revocation).
  void revoke(std::size_t buffer, bool, Done done) override {
    revoke_by_migration(context_, revocations_, buffer, std::move(done));
  }
  bool access_revoked(const PhaseConfig &phase, std::uint64_t offset, std::uint64_t bytes,
                      std::int64_t dma_start_ps) override {
    return peer_access_revoked(context_, revocations_, phase, offset, bytes, dma_start_ps);
  }

private:
  struct NicSetup {
    int peer;
    Done done;
  };

  // The first NIC waiting to set `buffer` up does so now; the next one when it has finished.
  void set_up_next(std::size_t buffer) {
    const int peer = setups_[buffer].front().peer;
    std::vector<std::uint64_t> all(context_.tables[buffer]->page_count());
    std::iota(all.begin(), all.end(), 0);
    Done finished = [this, buffer](std::int64_t at) {
      std::deque<NicSetup> &queue = setups_[buffer];
      Done done = std::move(queue.front().done);
      queue.pop_front();
      if (!queue.empty())
        set_up_next(buffer);
      done(at);
    };
    HmmDriver &driver = *context_.drivers[buffer];
    if (context_.workload.nic_odp_prefetch) {
      // ibv_advise_mr(IBV_ADVISE_MR_ADVICE_PREFETCH, IBV_ADVISE_MR_FLAG_FLUSH) over the whole
      // ODP MR before the first send: the same page faults (odp_fault_max at a time, their
      // migrations or peer mappings), done at setup instead of on the data path.
      driver.nic_fault(peer, std::move(all),
                       peer_map_ && context_.peer_ok(peer, static_cast<int>(buffer)), finished);
      return;
    }
    // A pinned MR over HMM memory: get_user_pages faults every page to RAM (none left on the
    // device after the first NIC's), then pins and maps it; later GPU migrations of these
    // pages are refused.
    driver.get_user_pages(std::move(all), [this, buffer, peer, finished](std::int64_t at) {
      pin_and_register(buffer, peer, at, finished);
    });
  }

  void pin_and_register(std::size_t buffer, int peer, std::int64_t at_ps, const Done &done) {
    OsKernel &kernel = context_.kernel;
    PageTable &table = *context_.tables[buffer];
    const std::int64_t end_ps =
        charge_registration(kernel, table, StepActor::nic(peer), at_ps,
                            kernel.registration_ps(table.page_count(), table.page_bytes()));
    HmmDriver &driver = *context_.drivers[buffer];
    const std::uint16_t nic = driver.add_nic(peer);
    for (std::uint64_t i = 0; i < table.page_count(); ++i) {
      driver.pin(i);
      table.page(i).nic_mapped_by |= nic;
    }
    kernel.stats().pages_pinned += table.page_count();
    kernel.call_at(end_ps, [done] { done(now_ps()); });
  }

  bool peer_map_;
  RevocationLog revocations_;
  std::map<std::size_t, std::deque<NicSetup>> setups_; // by buffer: NICs setting it up, in turn
};

} // namespace

std::unique_ptr<MechanismPolicy> make_hmm_migrate(MechanismContext &context) {
  return std::make_unique<Hmm>(context, false);
}

std::unique_ptr<MechanismPolicy> make_hmm_p2p(MechanismContext &context) {
  return std::make_unique<Hmm>(context, true);
}

} // namespace pciesim
