// An NVMe SSD endpoint: a DMA initiator driven by submission and completion queues in host
// memory. Each transfer of a scenario is one I/O the host submits, split into commands of at
// most MDTS bytes; per command the host rings the SQ tail doorbell (a fixed cost), the drive
// fetches the 64 B submission queue entry from host memory (an MRd over the fabric), the
// controller processes it (a command rate shared by all commands), the flash is accessed (a
// latency, then an internal bandwidth shared by all commands in time order), the data moves
// by DMA to or from the transfer's target (host memory or a peer BAR such as a GPU's), and the
// drive writes the 16 B completion queue entry and an MSI-X message to host memory. Queue
// depth bounds the commands in flight. Transfer directions are the DMA's, seen from the drive:
// `write` (the drive writes the target) is an NVMe Read command, `read` an NVMe Write.
//
// An optional Controller Memory Buffer exposes drive DRAM through BAR1 as p2pdma memory
// (pci_p2pdma_add_resource), with its own latency and bandwidth: a peer (a NIC) may target it.
#pragma once

#include <deque>
#include <vector>

#include <systemc>

#include "models/dma/dma_engine.h"

namespace pciesim {

struct NvmeSsdParams {
  Bytes bar_size{16 << 10};
  Duration bar_latency{100000};
  Bandwidth bar_bandwidth{32e9};
  Bytes read_completion_boundary{64};
  bool cmb = false;
  Bytes cmb_size{64ull << 20};
  Duration cmb_latency{200000};
  Bandwidth cmb_bandwidth{8e9};
  int queue_depth = 1024;
  Bytes mdts{128 << 10};
  Duration flash_read_latency{85000000};
  Duration flash_write_latency{21000000};
  Bandwidth flash_read_bandwidth{6.5e9};
  Bandwidth flash_write_bandwidth{3.5e9};
  bool formatted = false;              // reads of blocks never written since: no flash read
  std::int64_t max_read_iops = 900000; // commands per second
  std::int64_t max_write_iops = 200000;
  int tags = 64;
  Bytes mrrs{512};
  int posted_window = 32;
  // A Gen4 x4 drive (U.2/E3.S).
  static constexpr PortDefaults kPortDefaults{4, 4, 512, 64, 1024, 64, 0, 0, 0};
  PortCapabilities ports = PortCapabilities::with(kPortDefaults);
  // The drive's command path charges its per-command costs (the doorbell, the SQE fetch, the
  // controller's command rate, the CQE and MSI-X); of the core's rows it takes the doorbell
  // latency (charged per command, once the queue has room), the rest stay off by default.
  static constexpr DeviceDmaCostDefaults kCostDefaults = [] {
    DeviceDmaCostDefaults d = no_device_costs(
        "NVMe drive: the doorbell is charged per command when it enters the submission queue "
        "(estimate); the SQE fetch, CQE and MSI-X are the drive's own per-command steps, so "
        "descriptor, write-back and MSI-X stay off here");
    d.doorbell_latency = "500 ns";
    return d;
  }();
  DeviceDmaCosts costs = device_dma_costs_with(kCostDefaults);

  static const ParamTable<NvmeSsdParams> &table();
  static const std::vector<ParamSpec> &specs() { return table().specs(); }
  static NvmeSsdParams from(const ParamSet &params) { return table().from(params); }
  // BAR0 (registers and doorbells) and, with a CMB, BAR1 (the CMB).
  static std::vector<Bytes> bar_sizes(const ParamSet &params);
  DmaEngineParams engine_params() const;
};

struct NvmeSsdStats {
  std::uint64_t commands = 0, sqe_fetches = 0, cqe_writes = 0, interrupts = 0;
  std::uint64_t queue_full_waits = 0; // times an I/O found no room in the queue
  std::uint64_t flash_read_busy_ns = 0, flash_write_busy_ns = 0;
  std::uint64_t flash_bytes_read = 0, flash_bytes_written = 0, cmb_bytes = 0;

  static const StatTable<NvmeSsdStats> &table();
  template <class F> void for_each(F &&f) const { table().for_each(*this, f); }
};

class NvmeSsd : public DmaEngine {
public:
  static constexpr int kCmbBar = 1;
  // Where the drive's queues live in its socket's host memory: past the 16 MiB a NIC's MTT
  // may use, the submission queue, then the completion queue, then the MSI-X target.
  static constexpr std::uint64_t kSubmissionQueueOffset = 32ull << 20;
  static constexpr std::uint64_t kSqeBytes = 64, kCqeBytes = 16, kMsixBytes = 4;

  NvmeSsd(sc_core::sc_module_name name, const NvmeSsdParams &params, DmaEngineWiring wiring,
          SimContext &context);

  const NvmeSsdParams &nvme_params() const { return nvme_params_; }
  const NvmeSsdStats &nvme_stats() const { return nvme_stats_; }
  nlohmann::ordered_json stats_json() const override {
    nlohmann::ordered_json j = DmaEngine::stats_json();
    j.update(stats_to_json(nvme_stats_));
    return j;
  }
  std::string describe_outstanding() const override;

protected:
  std::int64_t memory_access(bool is_write, std::uint64_t address, std::uint32_t bytes,
                             std::int64_t at_ps) override;
  bool transfer_may_start(int transfer) override;
  bool transfer_may_finish(int transfer) override;
  void fetch_completed(int fetch_id) override;
  void posted_write_delivered(std::uint32_t write_id, std::int64_t at_ps) override;

private:
  enum class Step { FetchSqe, MediaDone, Completed };
  struct Command {
    int transfer = -1;
    std::uint64_t bytes = 0;
    bool nvme_read = false; // the drive writes the data to the target
    bool in_use = false;
  };
  struct Io { // per transfer slot: its commands still before the data, and before the end
    int commands_before_data = 0;
    int commands_to_complete = 0;
    std::vector<int> commands;
  };
  // A server of the flash (read or write side): a latency, then its bandwidth in time order.
  struct FlashServer {
    Duration latency;
    double ps_per_byte;
    std::int64_t free_at_ps = 0;
  };
  // The drive's own timed steps, through the calendar as a process of its own.
  class Timer : public ::pciesim::CalendarProcess { // qualified: DmaEngine hides its own
  public:
    Timer(NvmeSsd &ssd, EventCalendar &calendar) : ssd_(ssd), calendar_(calendar) {}
    void at(std::int64_t at_ps, Step step, int command);

  private:
    struct Due {
      std::int64_t at_ps;
      std::uint64_t seq;
      Step step;
      int command;
      bool operator>(const Due &o) const {
        return at_ps != o.at_ps ? at_ps > o.at_ps : seq > o.seq;
      }
    };
    void run() override;
    NvmeSsd &ssd_;
    EventCalendar &calendar_;
    std::vector<Due> heap_;
    std::uint64_t seq_ = 0;
  };

  void step(Step step, int command);
  void submit_waiting();
  void fetch_pending_sqes();
  void start_media(int command);
  void post_completion(int command);
  std::int64_t media_done_ps(FlashServer &flash, std::uint64_t bytes, std::int64_t at_ps,
                             std::uint64_t &busy_ns);
  Io &io_of(int transfer);

  NvmeSsdParams nvme_params_;
  NvmeSsdStats nvme_stats_;
  Timer timer_;
  std::vector<Command> commands_;
  std::vector<int> free_commands_;
  std::vector<Io> ios_;         // by transfer slot
  std::deque<int> waiting_;     // I/Os (transfers) the host holds until the queue has room
  std::deque<int> sqe_pending_; // doorbell rung, SQE fetch not sent for want of a tag
  int in_flight_ = 0;           // commands submitted and not yet completed
  std::int64_t read_commands_free_at_ps_ = 0, write_commands_free_at_ps_ = 0;
  FlashServer flash_read_, flash_write_;
  double cmb_ps_per_byte_;
  std::int64_t cmb_free_at_ps_ = 0;
};

} // namespace pciesim
