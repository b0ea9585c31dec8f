// Runs a workload under one memory mechanism (docs/mechanisms.md) on the elaborated system:
// every phase's accesses become DMA on the actors' engines (or CPU time). What the mechanism
// does first — a registration at setup, an ODP fault, a GPU fault batch, a CPU fault that
// migrates pages, a copy through the bounce staging buffer — is its policy's
// (sim/run/mechanisms/); the runner only issues accesses, and provides the copies the page
// moves need as real copy-engine traffic of the owning GPU.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/common/latency_samples.h"
#include "models/dma/dma_engine.h"
#include "models/os/device_memory.h"
#include "models/os/hmm.h"
#include "models/os/os_kernel.h"
#include "models/os/page_table.h"
#include "sim/plan/workload.h"
#include "sim/run/mechanisms/bounce.h"
#include "sim/run/mechanisms/registry.h"

namespace pciesim {

struct PhaseRunResult {
  std::string phase;
  int iteration = 0;
  std::int64_t start_ps = 0, end_ps = 0;
  std::uint64_t bytes = 0;
  std::uint64_t pages_to_ram = 0, pages_to_device = 0;
  std::uint64_t faults = 0; // CPU, GPU (pages) and ODP faults taken during the phase
};

struct MechanismResult {
  std::string mechanism;
  std::string status = "ok"; // "ok", "not_supported", "failed"
  std::string reason;        // why not supported or failed, or how it degraded
  std::int64_t end_ps = 0;
  std::uint64_t nic_bytes = 0, bytes_accessed = 0;
  LatencySamples latencies_ps; // NIC accesses (all accesses without a NIC phase)
  OsStats os;
  std::uint64_t pages_migrated = 0, bytes_migrated = 0; // bytes: counted on the copy engines
  std::vector<std::int64_t> breakdown_ps;               // by TimeKind, then waiting
  std::vector<PhaseRunResult> phase_runs;
  std::vector<std::string> violations; // page-conservation failures (empty when it holds)
};

class WorkloadRunner {
public:
  // `engines` by component index (null for components that are not endpoints).
  WorkloadRunner(const WorkloadConfig &workload, Mechanism mechanism,
                 std::vector<DmaEngine *> engines, OsKernel &kernel);
  ~WorkloadRunner();

  void start();
  // A stream finished; false when it is not one of the runner's.
  bool stream_done(int engine, int stream, std::int64_t at_ps);
  bool finished() const { return finished_; }
  bool quiescent() const;
  MechanismResult result() const;
  // result().violations alone: what the end-of-run checks read, without the time breakdown.
  std::vector<std::string> violations() const;
  // Bytes the phases have accessed so far, and will access in all: a progress line's share.
  std::uint64_t accessed_bytes() const { return result_.bytes_accessed; }
  std::uint64_t planned_bytes() const;

private:
  struct Segment {
    std::uint64_t address = 0, bytes = 0;
    bool local = false; // a GPU's own memory
  };
  struct Slot {
    int stream = -1;        // NIC: its queue pair; GPU: local accesses; CPU: copy engine
    int remote_stream = -1; // GPU: accesses to system pages over PCIe
    std::uint64_t offset = 0, bytes = 0;
    std::int64_t issued_ps = 0, dma_start_ps = 0;
    std::vector<Segment> segments;
    std::size_t next_segment = 0;
    std::uint64_t first_touched = 0; // CPU: pages of this access it faulted in
    // The CPU and the owning GPU: the pages of this access not yet reached, while a fault for
    // them is under way (a page reached stays reached for the access: see make_reachable).
    std::vector<std::uint64_t> pages_left;
    bool faulting = false;
    bool busy = false;
  };
  struct PhaseState {
    std::vector<Slot> slots;
    std::unique_ptr<BouncePipeline> bounce; // NIC phases under the bounce mechanism
  };
  struct Run {
    int phase = 0, iteration = 0;
    std::vector<std::uint64_t> offsets;
    std::size_t next = 0;
    int active = 0;
    bool done = false;
    PhaseRunResult result;
    OsStats stats_at_start;
  };

  const PhaseConfig &phase_of(const Run &run) const;
  DmaEngine &engine(int component) const;
  void setup();
  void start_group(std::size_t first);
  void start_run(std::size_t run);
  void issue(std::size_t run, std::size_t slot);
  void prepare(std::size_t run, std::size_t slot);
  void access(std::size_t run, std::size_t slot);
  void next_segment(std::size_t run, std::size_t slot);
  void access_done(std::size_t run, std::size_t slot, std::int64_t at_ps);
  void run_done(std::size_t run, std::int64_t at_ps);
  void copy(int gpu, const std::vector<std::uint64_t> &ram_addresses, std::uint64_t page_bytes,
            bool to_ram, Done done);
  void run_stream(int component, int stream, std::uint64_t address, std::uint64_t bytes, Done done);
  void add_ce_streams(int gpu);
  std::vector<std::uint64_t> pages_of(int buffer, std::uint64_t offset, std::uint64_t bytes) const;
  void fail(const std::string &why);

  const WorkloadConfig &workload_;
  std::vector<DmaEngine *> engines_;
  OsKernel &kernel_;
  std::vector<std::unique_ptr<PageTable>> tables_;
  std::vector<std::unique_ptr<HmmDriver>> drivers_;
  std::map<int, std::unique_ptr<DeviceMemory>> device_memories_; // by GPU component
  std::map<int, std::unique_ptr<GpuFaultBuffer>> fault_buffers_; // by GPU component
  MechanismContext context_; // refers to the tables and drivers above
  std::unique_ptr<MechanismPolicy> policy_;
  std::vector<PhaseState> phases_;
  std::vector<Run> runs_;
  std::size_t group_end_ = 0;
  int group_active_ = 0;
  std::map<std::pair<int, int>, Done> stream_waiters_; // (engine, stream) -> continuation
  static constexpr int kCopyStreamsPerDirection = 4;
  std::map<std::pair<int, bool>, std::vector<int>> free_ce_streams_; // (gpu, write)
  std::map<std::pair<int, bool>, std::deque<std::function<void()>>> copies_waiting_;
  bool has_nic_phase_ = false; // latencies are the NIC's accesses when it has a phase
  bool finished_ = false;
  MechanismResult result_;
};

} // namespace pciesim
