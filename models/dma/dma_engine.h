// A DMA engine endpoint. As a requester it runs streams of transfers: reads are split into
// MRd of at most MRRS that never cross a 4 KiB boundary, limited by its outstanding tags;
// writes into MWr of at most MPS, limited by a small posted transmit window. As a completer
// it serves reads aimed at its BAR (completions split at RCB, at most MPS) and absorbs writes
// there, behind a latency and a bandwidth.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <queue>
#include <string>
#include <vector>

#include <systemc>

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
  PortCapabilities ports;

  static const std::vector<ParamSpec> &specs();
  static DmaEngineParams from(const ParamSet &params);
};

// Where enumeration placed the engine.
struct DmaEngineWiring {
  Bdf bdf;
  std::uint64_t bar_base = 0;
  std::uint32_t mps_bytes = 256;
};

// A stream of `count` equal transfers, at most `concurrency` in flight. Transfer i goes to
// target_address + (i mod slots) * stride, where slots is how many fit in region_bytes.
struct DmaStreamSpec {
  std::string id;
  bool is_write = false;
  std::uint64_t target_address = 0;
  std::uint64_t region_bytes = 0;
  std::uint64_t transfer_bytes = 0;
  std::uint64_t stride_bytes = 0;
  std::uint64_t count = 1;
  int concurrency = 1;
};

struct DmaStreamResult {
  std::uint64_t bytes = 0;
  std::uint64_t transfers_done = 0;
  std::int64_t first_start_ps = -1;
  std::int64_t last_done_ps = -1;
  std::vector<std::int64_t> latencies_ps; // one per transfer, issue to last byte delivered
  bool finished = false;
  std::string error; // e.g. Unsupported Request
};

struct DmaEngineStats {
  std::uint64_t mrd_sent = 0, mwr_sent = 0, cpld_received = 0, ur_received = 0;
  std::uint64_t bar_reads_served = 0, bar_writes_absorbed = 0, bar_bytes = 0;
  std::uint64_t tag_waits = 0; // times a read was ready but every tag was in use
  template <class F> void for_each(F &&f) const {
    f("mrd_sent", mrd_sent);
    f("mwr_sent", mwr_sent);
    f("cpld_received", cpld_received);
    f("ur_received", ur_received);
    f("bar_reads_served", bar_reads_served);
    f("bar_writes_absorbed", bar_writes_absorbed);
    f("bar_bytes", bar_bytes);
    f("tag_waits", tag_waits);
  }
};

class DmaEngine : public sc_core::sc_module, public PortOwner, public TlpObserver {
public:
  DmaEngine(sc_core::sc_module_name name, const DmaEngineParams &params, DmaEngineWiring wiring,
            TlpPool &pool);

  PciePort &port() { return port_; }
  const DmaEngineStats &stats() const { return stats_; }
  const DmaEngineParams &params() const { return params_; }

  int add_stream(const DmaStreamSpec &spec);
  void start_stream(int stream, std::int64_t at_ps);
  const DmaStreamResult &stream_result(int stream) const;
  std::function<void(int stream, std::int64_t at_ps)> on_stream_done;

  bool quiescent() const;
  std::string describe_outstanding() const;

  void tlp_arrived(int port, tlm::tlm_generic_payload &gp) override;
  void tlp_departing(int port, tlm::tlm_generic_payload &gp,
                     const sc_core::sc_time &delay) override;
  void delivered(std::uint64_t cookie, std::uint32_t payload_bytes, std::int64_t at_ps) override;

private:
  struct Transfer {
    int stream = -1;
    std::uint64_t address = 0;
    std::uint64_t size = 0;
    std::uint64_t issued = 0;
    std::uint64_t done = 0;
    std::int64_t start_ps = 0;
    bool failed = false;
  };
  struct Stream {
    DmaStreamSpec spec;
    bool running = false;
    std::uint64_t started = 0;
    std::uint64_t finished = 0;
    int active = 0;
    std::deque<int> issue_order; // transfer slots that still have bytes to issue
    DmaStreamResult result;
  };
  struct Tag {
    int transfer = -1;
    std::uint32_t remaining = 0;
  };
  enum class Action { StartStream, FinishTransfer };
  struct Timed {
    std::int64_t at_ps;
    std::uint64_t seq;
    Action action;
    int arg;
    bool operator>(const Timed &o) const {
      return at_ps != o.at_ps ? at_ps > o.at_ps : seq > o.seq;
    }
  };

  void run();
  void schedule(std::int64_t at_ps, Action action, int arg);
  void activate_transfers(int stream);
  void try_issue();
  bool issue_from(int stream);
  void finish_transfer(int slot, std::int64_t at_ps);
  void serve_bar_request(tlm::tlm_generic_payload &gp);
  void receive_completion(tlm::tlm_generic_payload &gp);

  DmaEngineParams params_;
  DmaEngineWiring wiring_;
  TlpPool &pool_;
  PciePort port_;
  std::vector<Stream> streams_;
  std::vector<Transfer> transfers_;
  std::vector<int> free_transfers_;
  std::vector<Tag> tags_;
  std::deque<std::uint16_t> free_tags_;
  int posted_in_queue_ = 0;
  std::size_t round_robin_ = 0;
  bool issuing_ = false;
  double bar_ps_per_byte_;
  std::int64_t bar_busy_until_ps_ = 0;
  std::priority_queue<Timed, std::vector<Timed>, std::greater<Timed>> timed_;
  std::uint64_t seq_ = 0;
  sc_core::sc_event wake_;
  DmaEngineStats stats_;
};

} // namespace pciesim
