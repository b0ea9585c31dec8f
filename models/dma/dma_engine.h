// A DMA engine endpoint, and the requester/completer core that the GPU and the RDMA NIC build
// on. As a requester it runs streams of transfers: reads are split into MRd of at most MRRS
// that never cross a 4 KiB boundary, limited by its outstanding tags (and by the budget of
// the stream's tag pool, when the tags are split into pools); writes into MWr of at most MPS,
// limited by a small posted transmit window. A stream may be paced at a rate, or local: it
// moves data in the device's own memory, without PCIe traffic. As a completer it serves
// requests aimed at its BARs.
//
// What a device built on the core adds comes in through hooks, not flags: memory_access (the
// memory behind its BARs and of local streams), gate_request and fetch_completed (address
// translation), pace and paced_request_issued (pacing of the device's own, such as a NIC's
// network line rate) and completion_drained_ps (when read data leaves the device's buffer).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <systemc>

#include "models/common/arrival_ordered_queue.h"
#include "models/common/latency_samples.h"
#include "models/common/sim_context.h"
#include "models/common/splitmix64.h"
#include "models/common/stats.h"
#include "models/dma/device_dma_costs.h"
#include "models/pcie/component.h"
#include "models/pcie/pcie_port.h"

namespace pciesim {

struct DmaEngineParams {
  Bytes bar_size{1ull << 20};
  Bytes mrrs{512};
  int tags = 32;
  int posted_window = 16;
  Duration bar_latency{100000};
  Bandwidth bar_bandwidth{32e9};
  Bytes read_completion_boundary{64};
  PortCapabilities ports = PortCapabilities::with(kPortDefaults);
  DeviceDmaCosts costs = device_dma_costs_with(kCostDefaults);
  // Set by the models built on this core, not read from JSON:
  Bandwidth network_rate{0};   // NIC line rate: paces RDMA WRITE ingress and READ egress
  std::vector<int> group_tags; // tag budget of each engine group (empty: one group, all tags)
  // A copy waiting on a semaphore another device releases starts this long after the release
  // (GPUs handing staged chunks to each other); 0: the device is not handed work that way.
  Duration semaphore_wait{0};

  static constexpr PortDefaults kPortDefaults{5, 16, 512, 64, 1024, 64, 0, 0, 0};
  // A generic DMA engine: calibrated on pcie-bench's NFP6000 (docs/references.md).
  static constexpr DeviceDmaCostDefaults kCostDefaults = [] {
    DeviceDmaCostDefaults d = no_device_costs(
        "calibrated on pcie-bench's NFP6000 on a Xeon E5-2637v3, Gen3 x8: docs/references.md");
    d.read_pipeline_latency = "275 ns";
    d.max_issue_rate = 55000000;
    d.read_issue_percent = 88;
    d.datapath_bandwidth = "21 GB/s";
    d.read_channel_bandwidth = "3.5 GB/s";
    return d;
  }();
  static const ParamTable<DmaEngineParams> &table();
  static const std::vector<ParamSpec> &specs() { return table().specs(); }
  static DmaEngineParams from(const ParamSet &params) { return table().from(params); }
};

// The core's parameters from the table of a device built on it (RdmaNicParams, NvmeSsdParams):
// every core field such a table holds under the core's name.
template <class DeviceParams> DmaEngineParams core_params_of(const DeviceParams &device) {
  DmaEngineParams d;
  d.mrrs = device.mrrs;
  d.tags = device.tags;
  d.posted_window = device.posted_window;
  d.bar_latency = device.bar_latency;
  d.bar_bandwidth = device.bar_bandwidth;
  d.read_completion_boundary = device.read_completion_boundary;
  d.ports = device.ports;
  d.costs = device.costs;
  return d;
}

// Where enumeration placed the engine.
struct DmaEngineWiring {
  Bdf bdf;
  std::vector<std::uint64_t> bar_bases; // per BAR, sizes from the model's bar_sizes()
  std::vector<std::uint64_t> bar_sizes;
  std::uint32_t mps_bytes = 256;
  std::uint64_t host_memory_base = 0; // of the socket above: where device tables live
};

// A stream of `count` equal transfers, at most `concurrency` in flight. Transfer i goes to
// target_address + slot * stride, where slots is how many fit in region_bytes and slot is
// i mod slots, or with `random_slots` a uniform draw from a SplitMix64 generator seeded with
// `slot_seed` (models/common/splitmix64.h; its raw output mod slots).
struct DmaStreamSpec {
  // What the engine's round robin reads at every issue attempt first, in the stream's first
  // cache line (DmaEngine::Stream).
  bool is_write = false;
  bool local = false; // the engine's own memory (a GPU kernel's accesses): no PCIe traffic
  // False for pieces of one job a driver pushed at once (a migration batch's copies, whose
  // per-batch setup the driver model charges) and for a kernel's loads over PCIe (no copy
  // engine): the device's per-transfer costs (doorbell, descriptor, setup, finish, write-back,
  // MSI-X) are not paid per transfer.
  bool per_transfer_costs = true;
  int group = 0;     // tag pool whose budget the stream's reads use
  Bandwidth rate{0}; // pacing of issue, 0 = as fast as tags and credits allow
  std::string id;
  std::uint64_t target_address = 0;
  std::uint64_t region_bytes = 0;
  std::uint64_t transfer_bytes = 0;
  std::uint64_t stride_bytes = 0;
  bool random_slots = false;
  std::uint64_t slot_seed = 0;
  // How many transfer addresses fit in the region.
  std::uint64_t slots() const {
    return region_bytes > transfer_bytes && stride_bytes > 0
               ? (region_bytes - transfer_bytes) / stride_bytes + 1
               : 1;
  }
  std::uint64_t count = 1;
  int concurrency = 1;
};

struct DmaStreamResult {
  std::uint64_t bytes = 0;
  std::uint64_t transfers_done = 0;
  std::int64_t first_start_ps = -1;
  std::int64_t last_done_ps = -1;
  LatencySamples latencies_ps; // one per transfer, issue to last byte delivered
  bool finished = false;
  std::string error; // e.g. Unsupported Request
};

struct DmaEngineStats {
  std::uint64_t mrd_sent = 0, mwr_sent = 0, cpld_received = 0, ur_received = 0;
  std::uint64_t posted_writes_dropped = 0;
  std::uint64_t bar_reads_served = 0, bar_writes_absorbed = 0, bar_bytes = 0;
  std::uint64_t local_bytes = 0;
  std::uint64_t tag_waits = 0; // times a stream began waiting for a tag (of its group)
  std::uint64_t fetches_sent = 0;
  // Device-side DMA costs (DeviceDmaCosts): what the engine did and waited for.
  std::uint64_t doorbells = 0, descriptor_fetches = 0, completion_writebacks = 0, msix_sent = 0;
  std::uint64_t issue_waits = 0;     // times the issue rate or data path began holding a stream
  std::int64_t datapath_busy_ps = 0; // internal data path moving payload
  std::int64_t read_pipeline_ps = 0; // summed over read requests: time inside the device
  static const StatTable<DmaEngineStats> &table();
  template <class F> void for_each(F &&f) const { table().for_each(*this, f); }
};

class DmaEngine;

// Watches a DMA engine's transfers for traces (sim/run/trace.h). Called at the current simulated
// time from the engine's process; it must not touch the engine, so results do not change.
// `index` numbers the transfers of a stream from 0 in the order they start.
class DmaObserver {
public:
  virtual ~DmaObserver() = default;
  virtual void transfer_started(const DmaEngine &engine, int stream, std::uint64_t index,
                                std::int64_t at_ps) = 0;
  virtual void transfer_finished(const DmaEngine &engine, int stream, std::uint64_t index,
                                 std::int64_t at_ps, bool failed) = 0;
  // Once per failing transfer, when its first error (e.g. an Unsupported Request) arrives.
  virtual void transfer_failed(const DmaEngine &engine, int stream, std::uint64_t index,
                               const std::string &error, std::int64_t at_ps) = 0;
  virtual void stream_finished(const DmaEngine &engine, int stream, std::int64_t at_ps) = 0;
};

class DmaEngine : public sc_core::sc_module,
                  public PortOwner,
                  public TlpObserver,
                  public Component,
                  private CalendarProcess {
public:
  DmaEngine(sc_core::sc_module_name name, const DmaEngineParams &params, DmaEngineWiring wiring,
            SimContext &context);

  PciePort &port() { return port_; }
  PciePort &port(int) override { return port_; }
  nlohmann::ordered_json stats_json() const override { return stats_to_json(stats_); }
  DmaEngine *dma_engine() override { return this; }
  const DmaEngineStats &stats() const { return stats_; }
  const DmaEngineParams &params() const { return params_; }

  int add_stream(const DmaStreamSpec &spec);
  void start_stream(int stream, std::int64_t at_ps);
  // Runs a finished (or never started) stream again at `target_address`: one more round of
  // its `count` transfers. Its result accumulates over the rounds.
  void restart_stream(int stream, std::uint64_t target_address, std::int64_t at_ps);
  // Same, as one transfer of `transfer_bytes` (a workload's access or copy segment).
  void restart_stream(int stream, std::uint64_t target_address, std::uint64_t transfer_bytes,
                      std::int64_t at_ps);
  const DmaStreamResult &stream_result(int stream) const;
  std::function<void(int stream, std::int64_t at_ps)> on_stream_done;
  // Tracing only; nullptr (the default) costs one pointer test per transfer.
  void set_observer(DmaObserver *observer) { observer_ = observer; }

  bool quiescent() const override;
  std::string describe_outstanding() const override;

  void tlp_arrived(int port, tlm::tlm_generic_payload &gp) override;
  // Read data completions are taken when the link starts sending them (tlp_arriving): see
  // receive_data_completion.
  std::uint8_t early_arrival_types() const override {
    return early_types({TlpType::CplD, TlpType::Cpl});
  }
  bool may_refuse_early_arrivals() const override { return true; }
  bool tlp_arriving(int port, tlm::tlm_generic_payload &gp, std::int64_t arrival_delay_ps) override;
  void tlp_departing(int port, tlm::tlm_generic_payload &gp, std::int64_t delay_ps) override;
  void delivered(std::uint64_t cookie, std::uint32_t payload_bytes, std::int64_t at_ps) override;
  void refused(std::uint64_t cookie, std::uint32_t payload_bytes, std::uint16_t completer_id,
               std::uint64_t address) override;

protected:
  // The device memory behind the BARs: the time `bytes` at `address`
  // (a bus address inside a BAR, or a local stream's address) are read or written, for an
  // access starting at `at_ps`. Default: the BAR latency, then the BAR bandwidth.
  virtual std::int64_t memory_access(bool is_write, std::uint64_t address, std::uint32_t bytes,
                                     std::int64_t at_ps);
  // A local stream's access (the device's own kernels): by default as memory_access; a device
  // whose BAR path is slower than its memory (a GPU) serves its own accesses from memory.
  virtual std::int64_t local_memory_access(bool is_write, std::uint64_t address,
                                           std::uint32_t bytes, std::int64_t at_ps) {
    return memory_access(is_write, address, bytes, at_ps);
  }

  // Whether a request to `address` may be issued now and with which address type. A model
  // that must first translate the address (NIC MTT, ATS) starts a fetch and answers Wait,
  // then calls wake_issue() once the translation arrived.
  enum class Gate { Wait, Untranslated, Translated };
  virtual Gate gate_request(int stream, std::uint64_t address);
  // A fetch (an MRd the model sent through send_fetch) completed.
  virtual void fetch_completed(int fetch_id) { (void)fetch_id; }

  // The device's own pacing of a PCIe request of a stream (`spec`) about to be issued: the
  // earliest time its `bytes`, `offset` bytes into a transfer started at `transfer_start_ps`,
  // may go out; 0 when the device adds none (the default). Asked at every issue attempt; once
  // the request does go out, paced_request_issued(that time) commits it.
  virtual std::int64_t pace(const DmaStreamSpec &spec, std::int64_t transfer_start_ps,
                            std::uint64_t offset, std::uint32_t bytes) {
    (void)spec;
    (void)transfer_start_ps;
    (void)offset;
    (void)bytes;
    return 0;
  }
  virtual void paced_request_issued(std::int64_t ready_ps) { (void)ready_ps; }
  // When `bytes` of read completion data, `offset` bytes into a transfer of `transfer_bytes`,
  // through the device's own pipeline at `ready_ps`, leave the device's buffer, which holds
  // their tag until then: `ready_ps` (the default), or a later time.
  virtual std::int64_t completion_drained_ps(std::uint64_t offset, std::uint32_t bytes,
                                             std::uint64_t transfer_bytes, std::int64_t ready_ps) {
    (void)offset;
    (void)bytes;
    (void)transfer_bytes;
    return ready_ps;
  }
  // Time to move `bytes` at `rate`.
  static std::int64_t serialization_ps(std::uint64_t bytes, const Bandwidth &rate);
  // Sends a non-posted read of `bytes` at `address` on the model's behalf (a table read, an
  // ATS Translation Request). False if no tag is free: the model retries at the next wake.
  bool send_fetch(std::uint64_t address, std::uint32_t bytes, AddressType type, int fetch_id);
  void wake_issue();
  // A transfer (an index into the engine's transfer slots, stable while it runs) is about to
  // issue its first request. A model with work to do first (a drive fetching its command)
  // answers false and calls release_transfer_bytes() once that is done. Not called for local
  // streams.
  virtual bool transfer_may_start(int transfer) {
    (void)transfer;
    return true;
  }
  // Lets `bytes` more of a held transfer issue, from where its released bytes end (all of them
  // at once, or in parts: a drive's I/O whose commands have their data at different times).
  void release_transfer_bytes(int transfer, std::uint64_t bytes);
  // Every byte of a transfer is in. A model with work to do after the data (a completion
  // entry, an interrupt) answers false and calls finish_held_transfer() once that is done.
  virtual bool transfer_may_finish(int transfer) {
    (void)transfer;
    return true;
  }
  void finish_held_transfer(int transfer, std::int64_t at_ps) {
    schedule(at_ps, Action::FinishTransfer, transfer);
  }
  // A running transfer's stream, size and direction.
  struct TransferInfo {
    int stream;
    std::uint64_t bytes;
    bool is_write;
  };
  TransferInfo transfer_info(int transfer) const {
    const Transfer &t = transfers_[static_cast<std::size_t>(transfer)];
    return {t.stream, t.size, streams_[static_cast<std::size_t>(t.stream)].spec.is_write};
  }
  // Sends a posted write of `bytes` at `address` on the model's behalf (a completion entry,
  // an MSI-X message); posted_write_delivered(write_id, at) once it is written.
  void send_posted_write(std::uint64_t address, std::uint32_t bytes, std::uint32_t write_id);
  virtual void posted_write_delivered(std::uint32_t write_id, std::int64_t at_ps) {
    (void)write_id;
    (void)at_ps;
  }
  int fetches_in_flight() const { return fetches_in_flight_; }
  // A doorbell the model charges itself (an NVMe drive's, per command).
  void count_doorbell() { ++stats_.doorbells; }
  std::size_t free_tag_count() const { return free_tags_.size(); }
  const DmaStreamSpec &stream_spec(int stream) const {
    return streams_[static_cast<std::size_t>(stream)].spec;
  }

  const DmaEngineWiring &wiring() const { return wiring_; }
  bool owns(std::uint64_t address) const;

private:
  struct Transfer {
    int stream = -1;
    std::uint64_t address = 0;
    std::uint64_t size = 0;
    std::uint64_t issued = 0;
    // Bytes it may issue so far: all once it is queued, unless the model lets them go in parts
    // (release_transfer_bytes); and whether it stands in its stream's issue order.
    std::uint64_t issue_limit = 0;
    bool queued = false;
    std::uint64_t done = 0;
    std::int64_t start_ps = 0;
    std::uint64_t index = 0; // within the stream, for observers
    bool failed = false;
    bool finish_held = false; // transfer_may_finish() held it: the next finish goes through
    bool costs_paid = false;  // the device's finish costs (DeviceDmaCosts) are behind it
    std::int64_t read_channel_free_at_ps = 0; // its DMA channel (costs.read_channel_bandwidth)
    // Read bytes through that channel not yet handed to the transfer, and when the last of
    // them is through (the channel serves in order: the latest). Only a transfer's last bytes
    // can finish it, so the others go with them, at one wake-up (book_channel_bytes).
    std::uint64_t channel_pending_bytes = 0;
    std::int64_t channel_pending_ps = 0;
  };
  // What an issue attempt reads comes first, in one cache line: the queue of transfers with
  // bytes to issue, the pacing and the spec's kind, local flag, tag pool and rate (with eight
  // busy engines, each stream's fields spread over four lines missed the L1 at every attempt).
  enum class IssueWait : std::uint8_t { None, Tag, Engine };
  struct Stream {
    FifoRing<int> issue_order; // transfer slots that still have bytes to issue
    std::int64_t paced_until_ps = 0;
    int local_in_flight = 0;
    // What holds it since it last issued (counted once in the stats, however often it asks).
    IssueWait waiting = IssueWait::None;
    DmaStreamSpec spec;
    bool running = false;
    std::uint64_t started = 0;
    std::uint64_t finished = 0;
    std::uint64_t slot_draw_state = 0; // random_slots: SplitMix64 state, from slot_seed
    std::int64_t next_post_ps = 0;     // when the host may post the stream's next transfer
    int active = 0;
    DmaStreamResult result;
  };
  struct Tag {
    int transfer = -1; // -1: a fetch
    int fetch_id = -1;
    int tag_pool = 0; // -1: a fetch, which counts against no pool
    std::uint32_t remaining = 0;
    bool descriptor = false; // the descriptor fetch of `transfer`
    // Data of completions received for it whose settling waits for its last completion
    // (receive_data_completion).
    std::uint32_t held = 0;
    std::uint64_t offset = 0; // of the request's first byte in its transfer
  };
  // Marks the cookie of a posted write the model sent (send_posted_write), not a transfer's.
  static constexpr std::uint64_t kModelWriteCookie = 1ull << 63;
  // Marks the cookie of the core's own posted write (a completion write-back, an MSI-X
  // message); the rest of the cookie is the transfer's slot.
  static constexpr std::uint64_t kCoreWriteCookie = 1ull << 62;
  // Channel bytes held back for a transfer's last ones, at most: a wake-up carries 32 bits.
  static constexpr std::uint64_t kMaxPendingBytes = std::uint64_t{1} << 30;
  enum class Action {
    StartStream,
    FinishTransfer,
    Settle,
    LocalDone,
    Wake,
    Release,
    Doorbell,    // the host's doorbell reached the engine: fetch the descriptor
    Setup,       // the transfer's setup is done: its TLPs may go
    Finished,    // the finish time is over: write back, interrupt
    TagDrained,  // a completion's bytes left the PCIe core: its tag may free
    ChannelDone, // a completion's bytes crossed the transfer's read channel
  };
  struct Timed {
    std::int64_t at_ps;
    std::uint64_t seq;
    Action action;
    int arg;
    std::uint32_t bytes;
    bool operator>(const Timed &o) const {
      return at_ps != o.at_ps ? at_ps > o.at_ps : seq > o.seq;
    }
  };

  void run() override;
  void schedule(std::int64_t at_ps, Action action, int arg, std::uint32_t bytes = 0);
  void activate_transfers(int stream);
  void queue_for_issue(int stream, int slot);
  void try_issue();
  bool port_refuses(Stream &s);
  // A stream begins (or goes on) waiting for `reason`: counted when it begins. Without a
  // branch, and storing always: whether an attempt finds the stream already waiting follows no
  // pattern the core predicts well (with the branch, a 512 MiB DMA write ran 5 % slower).
  bool begins_waiting(Stream &s, IssueWait reason) {
    const bool begins = s.waiting != reason;
    s.waiting = reason;
    return begins;
  }
  // Issues the next TLP of a stream the port lets through, unless its pacing, its gate or the
  // engine's issue slot holds it.
  bool issue_from(int stream);
  bool issue_local(Stream &s, int slot, Transfer &t);
  // The stream's first transfer has issued all the bytes it may.
  void pop_issued(Stream &s, Transfer &t) {
    t.queued = false;
    s.issue_order.pop_front();
    issuable_has_empty_ |= s.issue_order.empty();
  }
  void settle(int slot, std::uint32_t bytes, std::int64_t at_ps);
  void finish_transfer(int slot, std::int64_t at_ps);
  void fail_transfer(int slot, const std::string &error);
  void serve_bar_request(tlm::tlm_generic_payload &gp);
  void receive_completion(tlm::tlm_generic_payload &gp);
  // A successful completion of a data read, arrived (or arriving) at `arrived_ps`.
  void receive_data_completion(const TlpExtension &cpl, std::int64_t arrived_ps);
  void free_tag(std::uint16_t tag);
  void send_write(std::uint64_t address, std::uint32_t bytes, std::uint64_t cookie);
  // Device-side DMA costs (DeviceDmaCosts) around a transfer's data.
  void begin_transfer(int slot);
  void send_pending_descriptors();
  void transfer_ready(int slot);
  void finish_costs(int slot);
  void core_write_delivered(int slot, std::int64_t at_ps);
  std::int64_t through_device(std::uint32_t bytes, std::int64_t arrived_ps);
  std::int64_t through_read_channel(int slot, std::uint32_t bytes, std::int64_t ready_ps);
  void release_tag_bytes(int tag_index, std::uint32_t bytes);
  void deliver_read_bytes(int slot, std::uint32_t bytes, std::int64_t at_ps);
  // Bytes of a read completion that cross the transfer's channel by `through_ps`.
  void book_channel_bytes(int slot, std::uint32_t bytes, std::int64_t through_ps);
  // Hands the pending channel bytes to the transfer at their time, with a wake-up.
  void schedule_channel_bytes(int slot);
  std::uint64_t core_table_address(std::uint64_t offset, std::uint64_t slot,
                                   std::uint64_t entry_bytes) const;

  // What a TLP's issue, departure and completion read comes first and together, the few
  // parameters among it copied out of params_ (with eight busy pairs, the cache lines each
  // device touches per TLP are what limits the speed; spread behind the parameters and the
  // port's sockets they were a dozen). The wiring (requester ID, BARs) follows; the parameters,
  // the port and what the issue path never reads come last.
  EventCalendar &calendar_;
  TlpPool &pool_;
  std::vector<Stream> streams_;
  std::vector<int> issuable_; // streams whose issue_order may be non-empty, ascending
  std::vector<Transfer> transfers_;
  std::vector<Tag> tags_;
  FifoRing<std::uint16_t> free_tags_;
  std::vector<int> tag_pool_in_use_; // tags in use per pool (params.group_tags)
  FifoRing<int> descriptor_pending_; // transfers whose descriptor fetch waits for a tag
  MostlyOrderedQueue<Timed> timed_;
  std::size_t round_robin_ = 0;
  std::uint64_t seq_ = 0;
  std::int64_t pacing_wake_ps_ = -1;
  // An issue slot's length per direction: [0] a read request's (costs.read_issue_percent of a
  // write's), [1] a write's, 1 / costs.max_issue_rate.
  std::int64_t issue_interval_ps_[2] = {0, 0};
  double datapath_ps_per_byte_ = 0; // 1 / costs.datapath_bandwidth
  // When the engine may issue its next TLP, per direction: [0] read requests, [1] writes
  // (separate command queues, as the NFP-6000's FromPCI and ToPCI DMA queues).
  std::int64_t engine_free_at_ps_[2] = {0, 0};
  std::int64_t datapath_free_at_ps_ = 0; // read completion data through the data path
  std::int64_t read_pipeline_ps_;        // costs.read_pipeline_latency
  int posted_window_;                    // params.posted_window
  std::uint32_t mrrs_bytes_;             // params.mrrs
  int fetches_in_flight_ = 0;
  int posted_in_queue_ = 0;
  bool group_tags_ = false;         // params.group_tags is not empty: tags are pooled
  bool issuable_has_empty_ = false; // a stream in issuable_ has emptied since the last prune
  bool issuing_ = false;
  DmaObserver *observer_ = nullptr;
  DmaEngineStats stats_;
  DmaEngineWiring wiring_;

  DmaEngineParams params_;
  PciePort port_;
  std::vector<int> free_transfers_;
  double bar_ps_per_byte_;
  std::int64_t bar_busy_until_ps_ = 0;
  double read_channel_ps_per_byte_ = 0;  // 1 / costs.read_channel_bandwidth
  std::vector<int> core_writes_pending_; // per transfer slot: write-back / MSI-X not yet landed
};

} // namespace pciesim
