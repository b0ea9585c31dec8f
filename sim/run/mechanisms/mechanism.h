// A memory mechanism (docs/mechanisms.md) as a policy the workload runner consults: what the
// mechanism does when the platform refuses a peer mapping, what it sets up before the first
// access, and what it does to make an access's pages reachable by its actor. The runner owns
// the phases and issues the accesses; a policy decides and charges everything else, through
// the context's OS kernel and page drivers. Every page move goes through
// HmmDriver::move_pages (models/os/hmm.h), which charges the copy. One file pair per
// mechanism in this folder, one row in registry.cpp (docs/architecture.md, "Adding a memory
// mechanism").
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/common/sim_time.h"
#include "models/dma/dma_engine.h"
#include "models/os/hmm.h"
#include "models/os/os_kernel.h"
#include "models/os/page_table.h"
#include "sim/plan/workload.h"
#include "sim/run/mechanisms/bounce.h"

namespace pciesim {

// What a policy sees of the run: the workload, the OS kernel that keeps time and stats, and
// per buffer its page table and driver. Owned by the runner, alive as long as the policy.
struct MechanismContext {
  MechanismContext(const WorkloadConfig &workload_, OsKernel &kernel_,
                   std::vector<std::unique_ptr<PageTable>> &tables_,
                   std::vector<std::unique_ptr<HmmDriver>> &drivers_)
      : workload(workload_), kernel(kernel_), tables(tables_), drivers(drivers_) {}
  const WorkloadConfig &workload;
  OsKernel &kernel;
  std::vector<std::unique_ptr<PageTable>> &tables;  // by buffer
  std::vector<std::unique_ptr<HmmDriver>> &drivers; // by buffer
  // Whether `peer` may reach `buffer` peer-to-peer (p2pdma does not say NOT_SUPPORTED).
  bool peer_ok(int peer, int buffer) const {
    const BufferConfig &b = workload.buffers[static_cast<std::size_t>(buffer)];
    return workload.verdict(peer, b.gpu).type != P2pMapType::NotSupported;
  }
  // Whether tearing down `peer`'s DMA mapping of a page of `buffer` goes through a translating
  // IOMMU: the peer's DMA is translated, and the page is not a device page it reaches at its
  // PCI bus address (p2pdma BUS_ADDR bypasses the IOMMU).
  bool unmap_translated(int peer, int buffer, bool device_page) const {
    const BufferConfig &b = workload.buffers[static_cast<std::size_t>(buffer)];
    std::size_t p = static_cast<std::size_t>(peer);
    return p < workload.iommu_translated.size() && workload.iommu_translated[p] &&
           !(device_page && workload.verdict(peer, b.gpu).type == P2pMapType::BusAddr);
  }
  // Drops `peer`'s cached translations (MTT cache) of [address, address + bytes); set by the
  // runner.
  std::function<void(int peer, std::uint64_t address, std::uint64_t bytes)> zap_peer;
};

// Setup work that ends later than the setup's own timeline takes a hold, and calls the Done
// it gets when it ends; the first phase starts once every hold is released.
using SetupHold = std::function<Done()>;

// A memory registration over every page of `table`, from `at_ps`, charged to setup on
// `actor`'s track of the trace: `registration_ps` for the resident pages, after
// pin_user_pages faulted in those never touched. Returns when it ends.
std::int64_t charge_registration(OsKernel &kernel, PageTable &table, StepActor actor,
                                 std::int64_t at_ps, std::int64_t registration_ps);

class MechanismPolicy {
public:
  explicit MechanismPolicy(MechanismContext &context) : context_(context) {}
  virtual ~MechanismPolicy() = default;

  // The platform refused the peer mapping of a peer actor to a buffer (p2pdma NOT_SUPPORTED):
  // whether the mechanism cannot run at all, and the reason (or how it degrades; empty when
  // it does not care).
  struct Refusal {
    bool not_supported = false;
    std::string reason;
  };
  virtual Refusal peer_refused(const P2pVerdict & /*verdict*/) const { return {}; }

  // Before the first access, for each buffer a peer actor uses (`peer`, its component): the
  // setup charged from `at_ps` on; returns when its synchronous part ends.
  virtual std::int64_t setup_buffer(std::size_t /*buffer*/, int /*peer*/, std::int64_t at_ps,
                                    const SetupHold & /*hold*/) {
    return at_ps;
  }
  // After the buffers: setup shared by all of them.
  virtual std::int64_t setup_shared(std::int64_t at_ps) { return at_ps; }

  // A peer actor's phase that does not access the buffer directly but through another path
  // (bounce: staging in host memory): its pipeline; nullptr for direct accesses.
  virtual std::unique_ptr<BouncePipeline>
  peer_pipeline(const PhaseConfig & /*phase*/, DmaEngine & /*peer*/, DmaEngine & /*owner*/) {
    return nullptr;
  }

  // Whether a buffer is managed memory under this mechanism (HMM/UVM: its owner's faults
  // migrate it and the driver may evict it); otherwise it stays where it is, and in device
  // memory it is never evicted (a cudaMalloc'd buffer).
  virtual bool managed(const BufferConfig &buffer) const { return buffer.managed; }

  // Makes `pages` of the phase's buffer reachable by its actor. True when they already are
  // (the access goes ahead now); false when the policy started work (faults, migrations)
  // that calls `again` once it ended, with `pages` cut to those the actor has yet to reach
  // (left as they are when true).
  // By default only the owner's and the CPU's accesses to a managed buffer fault. They touch
  // an access's pages one by one, so a page they reached stays reached for the access when
  // another actor's fault takes it away before the rest come (a CPU store to it has happened):
  // otherwise a CPU and a GPU that each need a range at once could take pages from each other
  // forever. A NIC's message is all or nothing: a fault replays the whole of it.
  virtual bool make_reachable(const PhaseConfig &phase, std::vector<std::uint64_t> &pages,
                              Done again) {
    if (phase.actor_is_peer ||
        !managed(context_.workload.buffers[static_cast<std::size_t>(phase.buffer)]))
      return true;
    return fault_in(phase, pages, std::move(again));
  }

  // Revocation (docs/mechanisms.md): the owning GPU's driver takes `buffer` back from the peers
  // now; `evict`: it also moves the device pages to system RAM. `done` when the GPU side has
  // finished (the peers recover on their own, on their next access). Nothing to revoke by
  // default (bounce: the peer maps only host staging memory).
  virtual void revoke(std::size_t /*buffer*/, bool /*evict*/, Done done) { done(now_ps()); }
  // A peer's access to [offset, offset + bytes) of the phase's buffer, whose DMA ran from
  // `dma_start_ps` until now: whether a revocation tore its mapping down meanwhile. It then
  // failed (or stalled on a fault) and is issued again.
  virtual bool access_revoked(const PhaseConfig & /*phase*/, std::uint64_t /*offset*/,
                              std::uint64_t /*bytes*/, std::int64_t /*dma_start_ps*/) {
    return false;
  }

protected:
  // The owning GPU or the CPU touches pages of a managed buffer: a GPU fault brings system
  // pages to the device (or maps them remotely), a CPU fault device pages to RAM. As
  // make_reachable.
  bool fault_in(const PhaseConfig &phase, std::vector<std::uint64_t> &pages, Done again);

  MechanismContext &context_;
};

} // namespace pciesim
