// The bounce-buffer mechanism: instead of reaching a GPU's memory peer-to-peer, data goes
// through a pinned staging buffer in host memory in chunks. For a NIC reading GPU data the
// GPU's copy engine writes a chunk to staging, then the NIC reads it; for a NIC writing
// into the GPU, the NIC writes the chunk to staging, then the copy engine reads it. Up to
// `chunks_in_flight` chunks (staging slots) are in the pipeline at once. Each stage works
// through its chunks in order, one at a time (a copy-engine queue, a queue pair), so the
// copy of one chunk overlaps the NIC's transfer of the previous one.
// Between two GPUs (CUDA's peer copies with peer access off) the driver hands each chunk over
// through semaphores in host memory: the second GPU's copy out of staging waits on the one the
// first GPU releases when its copy in ends, and the first GPU waits on the second's before it
// reuses a slot or starts the stream's next copy. Each wait costs the waiting GPU's
// `semaphore_wait`; a NIC's stages are handed over by the host (not charged here).
// The pipeline serves a scenario's bounce transfers, and the workload mechanism "bounce",
// whose policy (make_bounce) registers the staging buffer once and runs each peer phase
// through a pipeline.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/dma/dma_engine.h"

namespace pciesim {

struct BounceConfig {
  std::uint64_t message_bytes = 0; // one transfer of the scenario
  std::uint64_t count = 1;         // messages
  std::uint64_t chunk_bytes = 0;
  int chunks_in_flight = 2;
  std::uint64_t staging_address = 0; // host memory, chunks_in_flight x chunk_bytes
  std::uint64_t target_address = 0;  // the GPU buffer (device side of the copy)
  std::uint64_t target_region = 0;
  bool nic_writes = false; // true: NIC -> staging -> GPU; false: GPU -> staging -> NIC
  // Messages in flight: a stream's copies run one after another (1); 0: as many as the slots
  // hold (a workload's pipeline).
  std::uint64_t concurrency = 0;
};

class BouncePipeline {
public:
  // `device` is the initiator (e.g. the NIC), `gpu` the target whose copy engine moves the
  // chunks; streams are created on both, two per staging slot.
  BouncePipeline(const BounceConfig &config, DmaEngine &device, DmaEngine &gpu,
                 const std::string &id);

  void start(std::int64_t at_ps);
  // Runs all `count` messages again (a workload's next pass); results accumulate.
  void rerun(std::int64_t at_ps);
  // A stream of `engine` finished a chunk stage; false if the stream is not ours.
  bool stage_done(const DmaEngine &engine, int stream, std::int64_t at_ps);
  const DmaStreamResult &result() const { return result_; }
  bool quiescent() const { return busy_slots_ == 0; }
  // Told when a message's last chunk left staging, with the message's latency.
  std::function<void(std::int64_t latency_ps)> on_message;
  // Told when a stage finished a chunk (0: into staging, 1: out of it), with its span.
  std::function<void(int stage, std::int64_t start_ps, std::int64_t end_ps)> on_stage;

private:
  struct Slot {
    int first_stream = -1, second_stream = -1; // on first_/second_ engine
    std::uint64_t message = 0;
    std::uint64_t offset = 0; // of the chunk in its message
    bool busy = false;
    std::int64_t ready_ps[2] = {0, 0}; // earliest start of each stage (a semaphore's wait)
  };
  // Hands the next chunks to free slots; their first stage may start at `ready_ps`.
  void fill(std::int64_t at_ps, std::int64_t ready_ps);
  void kick(int stage, std::int64_t at_ps);

  BounceConfig config_;
  DmaEngine *first_;  // writes the chunk into staging
  DmaEngine *second_; // reads it out of staging
  // Each engine's wait on a semaphore the other releases, 0 unless both hand over that way.
  std::int64_t first_waits_ps_ = 0, second_waits_ps_ = 0;
  std::vector<Slot> slots_;
  std::deque<int> waiting_[2]; // slots queued for stage 1 and stage 2
  int running_[2] = {-1, -1};  // slot each stage works on, -1 when idle
  std::int64_t stage_start_ps_[2] = {0, 0};
  std::uint64_t next_message_ = 0, next_offset_ = 0, messages_done_ = 0;
  std::vector<std::uint64_t> message_done_bytes_;
  std::vector<std::int64_t> message_start_ps_;
  int busy_slots_ = 0;
  DmaStreamResult result_;
};

struct MechanismContext;
class MechanismPolicy;
std::unique_ptr<MechanismPolicy> make_bounce(MechanismContext &context);

} // namespace pciesim
