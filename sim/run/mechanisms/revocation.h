// Revocation of peer mappings (docs/mechanisms.md, "Revocation"): what the mechanisms share
// when the owning GPU's driver takes a buffer back from the NIC. The log of when each buffer's
// peer mappings were torn down tells whether an access was running through a mapping that
// vanished under it (it then failed, or stalled on a fault, and is issued again); the
// exporter's eviction moves a buffer's device pages to system RAM; under HMM a revocation is a
// migration of the device pages to RAM, whose notifier invalidates the NIC's mappings.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "sim/run/mechanisms/mechanism.h"

namespace pciesim {

class RevocationLog {
public:
  // `peer`'s mappings of `pages` (ascending; empty: every page) of `buffer` are gone at
  // `gone_ps`.
  void record(std::size_t buffer, int peer, std::int64_t gone_ps,
              std::vector<std::uint64_t> pages = {});
  // Whether `peer`'s access to [offset, offset + bytes) of `buffer` (pages of `page_bytes`)
  // whose DMA ran from `dma_start_ps` until now was running when one of its pages' mappings
  // went.
  bool overlapped(std::size_t buffer, int peer, std::uint64_t page_bytes, std::uint64_t offset,
                  std::uint64_t bytes, std::int64_t dma_start_ps) const;

private:
  struct Entry {
    std::size_t buffer;
    int peer;
    std::int64_t gone_ps;
    std::vector<std::uint64_t> pages;
  };
  std::vector<Entry> entries_;
};

// Accesses that wait for a piece of work (a re-registration, a re-fault, an eviction) to end.
class Waiters {
public:
  void add(Done again) { waiting_.push_back(std::move(again)); }
  bool empty() const { return waiting_.empty(); }
  // Runs every waiter (each may add itself again).
  void release(std::int64_t at_ps);

private:
  std::vector<Done> waiting_;
};

// A mechanism whose peer mappings of a buffer (one a NIC) the GPU side can revoke and each NIC
// then restores (the DMA-API MR by recovery and re-registration, a dynamic DMA-BUF import by a
// re-fault): a NIC's accesses wait while its mapping is down, and those its revocation
// interrupted go again.
class RevocablePeerMapping : public MechanismPolicy {
public:
  using MechanismPolicy::MechanismPolicy;
  bool make_reachable(const PhaseConfig &phase, std::vector<std::uint64_t> &pages,
                      Done again) override;
  bool access_revoked(const PhaseConfig &phase, std::uint64_t offset, std::uint64_t bytes,
                      std::int64_t dma_start_ps) override;

protected:
  // A buffer's mapping for one peer (NIC).
  using PeerKey = std::pair<std::size_t, int>; // buffer, peer
  // The peers that have a mapping of `buffer` in `by_peer`, in ascending order.
  template <typename Mapping>
  static std::vector<int> peers_of(const std::map<PeerKey, Mapping> &by_peer, std::size_t buffer) {
    std::vector<int> peers;
    for (auto it = by_peer.lower_bound({buffer, std::numeric_limits<int>::min()});
         it != by_peer.end() && it->first.first == buffer; ++it)
      peers.push_back(it->first.second);
    return peers;
  }

  // Whether `peer` may use its mapping of `buffer` now.
  virtual bool peer_mapped(std::size_t buffer, int peer) const = 0;
  // A peer asked for its mapping while it is down: start restoring it (once).
  virtual void restore(std::size_t buffer, int peer) = 0;
  // The mapping is back: that peer's waiting accesses go on.
  void restored(std::size_t buffer, int peer) { waiting_[{buffer, peer}].release(now_ps()); }
  bool someone_waits(std::size_t buffer, int peer) const {
    auto it = waiting_.find({buffer, peer});
    return it != waiting_.end() && !it->second.empty();
  }
  RevocationLog log_;

private:
  std::map<PeerKey, Waiters> waiting_;
};

// A NIC driver drops its mapping of the whole of `buffer` for `peer`, from `at_ps`: one MTT zap
// (notifier_invalidate), the peer's cached translations dropped, `log` told when the mapping
// went, then one dma_unmap of every page (through the IOMMU where it translates). Counts a
// revocation; returns when the unmap returns.
std::int64_t drop_peer_mapping(MechanismContext &context, RevocationLog &log, std::size_t buffer,
                               int peer, std::int64_t at_ps);

// The exporter (or driver) moves `buffer`'s device pages to system RAM with the owner's copy
// engine, from now on; done(at_ps) when the last byte is in.
void evict_to_ram(MechanismContext &context, std::size_t buffer, Done done);

// HMM: the driver revokes by migrating the buffer's device pages (none pinned) to system RAM;
// the migration's notifier invalidation zaps the NIC's mappings, which `log` records.
void revoke_by_migration(MechanismContext &context, RevocationLog &log, std::size_t buffer,
                         Done done);

// Whether `phase` is a peer's access that a revocation in `log` interrupted.
bool peer_access_revoked(const MechanismContext &context, const RevocationLog &log,
                         const PhaseConfig &phase, std::uint64_t offset, std::uint64_t bytes,
                         std::int64_t dma_start_ps);

} // namespace pciesim
