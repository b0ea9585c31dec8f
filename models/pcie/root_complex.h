// A root complex: N root ports (bridges with memory windows and bus ranges, programmed by
// enumeration) and a host bridge to this socket's host memory. Requests for host memory pay
// the host-bridge latency and the memory's latency and bandwidth; reads are answered with
// completions split at the Read Completion Boundary, at most MPS each. Requests for another
// root port's window are peer-to-peer: forwarded, or refused with Unsupported Request, as
// `p2p_policy` says. Each root port has its own forwarding engines for the peer TLPs it sends
// down (from another root port or from the other socket), one per kind, each with its own
// latency and bandwidth: the write engine carries posted writes, the read engine peer read
// requests and the completions that answer them. Per port, because published bidirectional
// peer figures are about twice the one-way ones on both Intel and AMD hosts; per egress port,
// because three drives writing into one GPU through a Broadwell-EP root complex saturate at
// about its one-way rate where two do not (docs/validation.md). The engines,
// like host memory and the IOMMU's walkers, are TimeOrderedServers: a TLP whose translation
// finished sooner is not queued behind one booked earlier but due later. An Intel root
// complex moves peer traffic through its fabric a cache line at a time and sends writes and
// read completions down the egress port as 64-byte TLPs (`p2p_max_payload`), which costs the
// egress link a TLP's overhead per 64 bytes instead of per MPS. Root ports sit on I/O hubs
// (an AMD I/O die's quadrants, Intel's IIO stacks), `root_ports_per_io_hub` consecutive ports
// each, and a hub's path to host memory carries at most `io_hub_memory_bandwidth` each way:
// eight Gen5 GPUs whose two switches share one Threadripper PRO quadrant move 73 GB/s from or
// to host memory, 114 when the switches sit on two (docs/validation.md). A root port keeps at
// most `remote_peer_write_window` bytes of peer writes crossing to the other socket, each held
// until the far root complex has forwarded it and the acknowledgement is back: one flow of peer
// writes across sockets moves window / round trip on every two-socket host measured, while
// reads, whose completions have room reserved by their requester, cross unheld. DMA to the
// other socket's memory takes room in a second window per root port, `remote_memory_window`,
// reads and writes together, each held until its data or acknowledgement is back: a Milan
// host's GPU moves about 25 GB/s to the far memory one way or both ways at once, against 28
// one way and 52 both ways to its own (docs/validation.md).
#pragma once

#include <algorithm>
#include <deque>
#include <utility>
#include <vector>

#include <systemc>
#include <tlm_utils/simple_initiator_socket.h>

#include "models/common/in_flight_window.h"
#include "models/common/sim_context.h"
#include "models/common/stats.h"
#include "models/common/time_ordered_server.h"
#include "models/iommu/iommu.h"
#include "models/pcie/component.h"
#include "models/pcie/forwarding_bridge.h"
#include "models/pcie/host_bridge.h"
#include "models/pcie/inter_socket.h"
#include "models/pcie/routing.h"

namespace pciesim {

struct MemoryTimingExtension; // models/memory/host_memory.h
class HostMemory;

// Peer requests between root ports: forwarded, all refused, or only posted writes forwarded
// (Intel client CPUs: their root complexes pass peer writes but not peer reads).
enum class P2pPolicy { Forward, UnsupportedRequest, WritesOnly };

struct RootComplexParams {
  int root_ports = 4;
  Duration host_bridge_latency{150000};
  P2pPolicy p2p_policy = P2pPolicy::Forward;
  Duration p2p_write_latency{200000};
  Bandwidth p2p_write_bandwidth{25e9};
  Duration p2p_read_latency{200000};
  Bandwidth p2p_read_bandwidth{25e9};
  Bytes p2p_max_payload{0};          // 0: a peer write or completion leaves as it came
  Bytes remote_peer_write_window{0}; // 0 = unlimited
  Bytes remote_memory_window{0};     // 0 = unlimited
  Bytes read_completion_boundary{64};
  Bytes completion_max{0}; // 0 = MPS
  Bytes mmio_size{1ull << 40};
  int root_ports_per_io_hub = 1;
  Bandwidth io_hub_memory_bandwidth{0}; // 0 = unlimited
  HostCpu cpu = HostCpu::Other;
  bool acs = true;
  IommuParams iommu;
  PortCapabilities ports = PortCapabilities::with(kPortDefaults);

  static constexpr PortDefaults kPortDefaults{5, 16, 512, 128, 2048, 128, 0, 0, 0};
  static const ParamTable<RootComplexParams> &table();
  static const std::vector<ParamSpec> &specs() { return table().specs(); }
  static RootComplexParams from(const ParamSet &params) { return table().from(params); }
};

struct RootComplexStats {
  std::uint64_t memory_reads = 0, memory_writes = 0;
  std::uint64_t completions_sent = 0;
  std::uint64_t peer_requests = 0, peer_completions = 0, peer_bytes = 0;
  std::uint64_t peer_write_bytes = 0, peer_read_bytes = 0;
  std::uint64_t peer_pieces = 0;
  std::uint64_t unsupported_requests = 0;
  std::uint64_t ats_translation_requests = 0;
  std::uint64_t io_hub_waits = 0;
  std::uint64_t remote_peer_write_window_waits = 0;
  std::uint64_t remote_memory_window_waits = 0;
  static const StatTable<RootComplexStats> &table();
  template <class F> void for_each(F &&f) const { table().for_each(*this, f); }
};

// Where enumeration placed things, handed to the root complex at elaboration.
struct RootComplexWiring {
  RoutingTable root_ports;
  std::uint64_t memory_base = 0;
  std::uint64_t memory_size = 0;
  std::uint16_t host_bridge_id = 0;
  std::uint32_t mps_bytes = 256;
  // This socket's own memory, where the IOMMU's tables live; memory_base/size span both
  // sockets' memory when an inter-socket link joins this root complex to another.
  std::uint64_t local_memory_base = 0;
  std::uint64_t local_memory_size = 0;
};

class RootComplex : public sc_core::sc_module,
                    public ForwardingBridge,
                    public Component,
                    public InterSocketReceiver {
public:
  RootComplex(sc_core::sc_module_name name, const RootComplexParams &params,
              RootComplexWiring wiring, SimContext &context);

  tlm_utils::simple_initiator_socket<RootComplex> memory_socket;
  PciePort &port(int index) override { return ForwardingBridge::port(index); }
  const RootComplexStats &stats() const { return stats_; }
  // The IOMMU is part of the root complex: its stats are the root complex's too.
  nlohmann::ordered_json stats_json() const override {
    nlohmann::ordered_json j = stats_to_json(stats_);
    if (iommu_.enabled())
      j.update(stats_to_json(iommu_.stats()));
    return j;
  }
  void attach_host_memory(tlm::tlm_target_socket<> &memory) override;
  const Iommu &iommu() const { return iommu_; }
  InterSocketReceiver *inter_socket_receiver() override { return this; }
  void attach_other_socket(InterSocketEnd &end) override { other_socket_ = &end; }
  void arrived_from_other_socket(tlm::tlm_generic_payload &gp, std::int64_t arrival_ps) override;

  void tlp_arrived(int port, tlm::tlm_generic_payload &gp) override;
  // A forwarding bridge's, but the last piece of a peer TLP split at p2p_max_payload frees
  // the receive buffer the whole TLP held.
  void tlp_departing(int port, tlm::tlm_generic_payload &gp, std::int64_t delay_ps) override;
  // Everything the root complex sends down a root port leaves at least the host bridge's
  // latency (a completion from memory or the IOMMU, an Unsupported Request) or a peer
  // engine's latency (a forwarded TLP) after it sends it, and its departing only frees the
  // ingress buffer at the time given (PortOwner::send_lookahead_ps).
  std::int64_t send_lookahead_ps(int /*port*/) const override {
    return std::min({params_.host_bridge_latency.ps, params_.p2p_write_latency.ps,
                     params_.p2p_read_latency.ps});
  }

private:
  void serve_memory_request(int port, tlm::tlm_generic_payload &gp, std::int64_t translation_ps);
  // The memory access of a request through its I/O hub and its window to the other socket's
  // memory, where the platform sets either: when it is complete, after now.
  std::int64_t limited_memory_access(int port, const TlpExtension &req,
                                     std::int64_t translation_ps);
  void forward_peer(int ingress, int egress, tlm::tlm_generic_payload &gp,
                    std::int64_t translation_ps = 0);
  void send_peer_tlp_in_pieces(int egress, tlm::tlm_generic_payload &gp, std::int64_t delay_ps);
  void answer_translation_request(int port, tlm::tlm_generic_payload &gp);
  void refuse(int port, tlm::tlm_generic_payload &gp);
  bool hand_to_other_socket(int port, tlm::tlm_generic_payload &gp, std::int64_t delay_ps);
  // After now, when an access `delay_ps` from now is complete; memory_accepted_at_ps_ says
  // when memory took it.
  std::int64_t memory_access(bool is_write, std::uint64_t address, std::uint32_t bytes,
                             std::int64_t delay_ps);

  RootComplexParams params_;
  RootComplexWiring wiring_;
  TlpPool &pool_;
  tlm::tlm_generic_payload memory_payload_;
  MemoryTimingExtension *memory_timing_; // memory_payload_'s, which owns it
  // The socket's own host memory, called directly; null when the socket leads elsewhere (an
  // inter-socket link to the memory of both sockets), which takes the transaction.
  HostMemory *direct_memory_ = nullptr;
  std::int64_t memory_accepted_at_ps_ = 0;
  RememberedTime memory_delay_; // nearly always the host bridge's latency
  // A forwarding engine of one direction: its latency, rate and time-ordered server.
  struct P2pEngine {
    std::int64_t latency_ps;
    double ps_per_byte;
    TimeOrderedServer server;
  };
  struct PortP2pEngines {
    P2pEngine write, read;
  };
  std::vector<PortP2pEngines> p2p_engines_; // by egress root port
  // An I/O hub's path to host memory, one server a direction (data from devices, data to
  // them); none when io_hub_memory_bandwidth is unlimited.
  struct IoHub {
    TimeOrderedServer writes, reads;
  };
  std::vector<IoHub> io_hubs_;
  double io_hub_ps_per_byte_ = 0;
  // Whether a memory request may wait for an I/O hub or a window to the other socket's
  // memory: one test on the hot path when neither is set.
  bool memory_path_limited_ = false;
  // A request `delay_ps` from now may not pass an earlier posted write of its port (PCIe Base
  // Spec 2.4.1): its delay, made no sooner than that write's; a posted write becomes the last.
  std::int64_t after_posted_writes(int port, bool posted_write, std::int64_t delay_ps);
  // How long a memory access of `bytes` through port's hub, due at `due_ps`, waits for it.
  std::int64_t io_hub_wait_ps(int port, bool is_write, std::uint32_t bytes, std::int64_t due_ps);

  std::vector<std::int64_t> posted_translated_ps_; // per root port: last posted write's time
  // Per root port: its posted writes in flight to the other socket (remote_peer_write_window)
  // and its accesses in flight to the other socket's memory (remote_memory_window); none
  // when unlimited.
  std::vector<InFlightWindow> remote_write_windows_, remote_memory_windows_;
  // The window of `port` an access to `address` takes room in: null unless the address is
  // the other socket's memory and the platform limits such accesses.
  InFlightWindow *remote_memory_window(int port, std::uint64_t address);
  Iommu iommu_;
  InterSocketEnd *other_socket_ = nullptr;
  RootComplexStats stats_;
};

} // namespace pciesim
