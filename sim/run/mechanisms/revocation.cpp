#include "sim/run/mechanisms/revocation.h"

#include <algorithm>

namespace pciesim {

void RevocationLog::record(std::size_t buffer, int peer, std::int64_t gone_ps,
                           std::vector<std::uint64_t> pages) {
  entries_.push_back(Entry{buffer, peer, gone_ps, std::move(pages)});
}

bool RevocationLog::overlapped(std::size_t buffer, int peer, std::uint64_t page_bytes,
                               std::uint64_t offset, std::uint64_t bytes,
                               std::int64_t dma_start_ps) const {
  const std::uint64_t first = offset / page_bytes, last = (offset + bytes - 1) / page_bytes;
  const std::int64_t now = now_ps();
  for (const Entry &e : entries_) {
    // An access that ended before the mapping went succeeded; one that started after it went
    // through the mapping made since.
    if (e.buffer != buffer || e.peer != peer || e.gone_ps <= dma_start_ps || e.gone_ps > now)
      continue;
    if (e.pages.empty())
      return true;
    auto it = std::lower_bound(e.pages.begin(), e.pages.end(), first);
    if (it != e.pages.end() && *it <= last)
      return true;
  }
  return false;
}

bool RevocablePeerMapping::make_reachable(const PhaseConfig &phase,
                                          std::vector<std::uint64_t> &pages, Done again) {
  if (!phase.actor_is_peer) // the owner's and the CPU's accesses: managed memory faults
    return MechanismPolicy::make_reachable(phase, pages, std::move(again));
  const std::size_t buffer = static_cast<std::size_t>(phase.buffer);
  if (peer_mapped(buffer, phase.actor))
    return true;
  waiting_[{buffer, phase.actor}].add(std::move(again));
  restore(buffer, phase.actor);
  return false;
}

bool RevocablePeerMapping::access_revoked(const PhaseConfig &phase, std::uint64_t offset,
                                          std::uint64_t bytes, std::int64_t dma_start_ps) {
  return peer_access_revoked(context_, log_, phase, offset, bytes, dma_start_ps);
}

void Waiters::release(std::int64_t at_ps) {
  std::vector<Done> ready;
  ready.swap(waiting_);
  for (Done &again : ready)
    again(at_ps);
}

namespace {

// The buffer's pages in device memory (only those not pinned, with `movable_only`).
std::vector<std::uint64_t> device_pages(PageTable &table, bool movable_only) {
  std::vector<std::uint64_t> device;
  for (std::uint64_t i = 0; i < table.page_count(); ++i)
    if (table.page(i).home == PageHome::Device && !(movable_only && table.pinned(i)))
      device.push_back(i);
  return device;
}

} // namespace

std::int64_t drop_peer_mapping(MechanismContext &context, RevocationLog &log, std::size_t buffer,
                               int peer, std::int64_t at_ps) {
  OsKernel &kernel = context.kernel;
  const BufferConfig &b = context.workload.buffers[buffer];
  PageTable &table = *context.tables[buffer];
  ++kernel.stats().revocations;
  const std::int64_t gone = at_ps + kernel.costs().notifier_invalidate.ps;
  kernel.record(TimeKind::Invalidation, at_ps, gone);
  if (context.zap_peer) {
    context.zap_peer(peer, b.device_address, b.bytes);
    context.zap_peer(peer, b.ram_address, b.bytes);
  }
  log.record(buffer, peer, gone);
  const bool on_device = table.page(0).home == PageHome::Device;
  if (!context.unmap_translated(peer, static_cast<int>(buffer), on_device))
    return gone;
  return kernel.iommu_unmap(gone, table.page_count());
}

void evict_to_ram(MechanismContext &context, std::size_t buffer, Done done) {
  std::vector<std::uint64_t> device = device_pages(*context.tables[buffer], false);
  if (device.empty()) {
    done(now_ps());
    return;
  }
  OsKernel &kernel = context.kernel;
  context.drivers[buffer]->move_pages(device, PageHome::SystemRam,
                                      [&kernel, n = device.size(), done](std::int64_t at) {
                                        kernel.stats().pages_to_ram += n;
                                        done(at);
                                      });
}

void revoke_by_migration(MechanismContext &context, RevocationLog &log, std::size_t buffer,
                         Done done) {
  PageTable &table = *context.tables[buffer];
  std::vector<std::uint64_t> device = device_pages(table, true);
  HmmDriver &driver = *context.drivers[buffer];
  driver.when_settled(device, [&context, &log, &table, &driver, buffer, device, done]() {
    // Pages a fault moved meanwhile are no longer the driver's to evict.
    std::vector<std::uint64_t> still;
    for (std::uint64_t page : device)
      if (table.page(page).home == PageHome::Device)
        still.push_back(page);
    if (still.empty()) {
      done(now_ps());
      return;
    }
    OsKernel &kernel = context.kernel;
    driver.nic_mappings_gone = [&kernel, &log, buffer, still](int nic, std::int64_t gone_ps) {
      ++kernel.stats().revocations;
      log.record(buffer, nic, gone_ps, still);
    };
    driver.migrate(still, PageHome::SystemRam, done);
    driver.nic_mappings_gone = nullptr;
  });
}

bool peer_access_revoked(const MechanismContext &context, const RevocationLog &log,
                         const PhaseConfig &phase, std::uint64_t offset, std::uint64_t bytes,
                         std::int64_t dma_start_ps) {
  if (!phase.actor_is_peer)
    return false;
  const std::size_t b = static_cast<std::size_t>(phase.buffer);
  return log.overlapped(b, phase.actor, context.tables[b]->page_bytes(), offset, bytes,
                        dma_start_ps);
}

} // namespace pciesim
