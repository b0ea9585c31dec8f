// The root complex: its parameter and stat tables, host-memory service, peer forwarding and
// ATS translation answers (see the header).
#include "models/pcie/root_complex.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "models/memory/host_memory.h"
#include "models/pcie/completion.h"

namespace pciesim {

const StatTable<RootComplexStats> &RootComplexStats::table() {
  using S = RootComplexStats;
  static const StatTable<S> table({
      stat(&S::ats_translation_requests,
           {"ats_translation_requests", "TLPs",
            "ATS Translation Requests answered by the translation agent"}),
      stat(&S::memory_reads, {"memory_reads", "TLPs", "MRd served from host memory"}),
      stat(&S::memory_writes, {"memory_writes", "TLPs", "MWr written to host memory"}),
      stat(&S::completions_sent,
           {"completions_sent", "TLPs", "CplD generated for memory reads (split at the RCB)"}),
      stat(&S::peer_requests,
           {"peer_requests", "TLPs", "requests forwarded between root ports (P2P engines)"}),
      stat(&S::peer_completions,
           {"peer_completions", "TLPs", "completions forwarded between root ports"}),
      stat(&S::peer_bytes, {"peer_bytes", "bytes", "payload through the P2P engines"}),
      stat(&S::peer_write_bytes,
           {"peer_write_bytes", "bytes", "payload of posted writes through the P2P write engine"}),
      stat(&S::peer_read_bytes, {"peer_read_bytes", "bytes",
                                 "completion payload of peer reads through the P2P read engine"}),
      stat(&S::peer_pieces,
           {"peer_pieces", "TLPs",
            "posted writes and read completions sent to peers in pieces of at most "
            "p2p_max_payload (0 when nothing was split)"}),
      stat(&S::io_hub_waits, {"io_hub_waits", "TLPs",
                              "memory requests delayed by their I/O hub's path to host memory "
                              "(io_hub_memory_bandwidth)"}),
      stat(&S::remote_peer_write_window_waits,
           {"remote_peer_write_window_waits", "TLPs",
            "posted peer writes to the other socket held at their root port until its "
            "remote_peer_write_window had room"}),
      stat(&S::remote_memory_window_waits,
           {"remote_memory_window_waits", "TLPs",
            "DMA reads and writes to the other socket's memory held at their root port until "
            "its remote_memory_window had room"}),
      stat(&S::unsupported_requests,
           {"unsupported_requests", "TLPs",
            "requests refused with Unsupported Request (p2p_policy, no claimant)"}),
  });
  return table;
}

const ParamTable<RootComplexParams> &RootComplexParams::table() {
  using P = RootComplexParams;
  static const ParamTable<P> table(
      field(&P::root_ports,
            {"root_ports", ParamKind::integer, 4, "number of root ports (rp0..rpN-1)", 1, 31}),
      field(&P::host_bridge_latency,
            {"host_bridge_latency", ParamKind::time, "150 ns",
             "root port to memory controller (estimate, 100-300 ns; it reproduces pcie-bench's "
             "Haswell-EP DMA read latencies within 3%: docs/references.md)",
             0, 1e9}),
      field(&P::p2p_policy,
            {"p2p_policy",
             ParamKind::choice,
             "forward",
             "peer traffic between root ports: forward it, answer Unsupported Request, or "
             "forward posted writes and answer peer reads with Unsupported Request (Intel client "
             "CPUs: docs/references.md)",
             0,
             0,
             false,
             false,
             {"forward", "unsupported_request", "writes_only"}}),
      field(&P::p2p_write_latency,
            {"p2p_write_latency", ParamKind::time, "200 ns",
             "added latency of a posted write forwarded between root ports (estimate: "
             "docs/references.md)",
             0, 1e9}),
      field(&P::p2p_write_bandwidth,
            {"p2p_write_bandwidth", ParamKind::rate, "25 GB/s",
             "cap on posted-write payload forwarded to peers down one egress root port (estimate)",
             1e6, 0}),
      field(&P::p2p_read_latency,
            {"p2p_read_latency", ParamKind::time, "200 ns",
             "added latency of each TLP of a peer read forwarded between root ports: the "
             "request and its completions each pay it, so a read pays it twice (estimate: "
             "docs/references.md)",
             0, 1e9}),
      field(&P::p2p_read_bandwidth,
            {"p2p_read_bandwidth", ParamKind::rate, "25 GB/s",
             "cap on the payload of peer read completions forwarded down one egress root port "
             "(estimate)",
             1e6, 0}),
      field(&P::p2p_max_payload,
            ParamSpec{"p2p_max_payload", ParamKind::size, "0 B",
                      "largest payload of a posted write or read completion forwarded to a "
                      "peer: a larger one leaves the egress port in TLPs of at most this size, "
                      "split at multiples of it (Intel: 64 B, a cache line); 0 = as it came",
                      0, 4096}
                .with_check({[](const ParamSet &p) -> std::string {
                               const std::uint64_t split = p.bytes("p2p_max_payload").count;
                               if (split != 0 && (split < 64 || (split & (split - 1)) != 0))
                                 return fmt::format("p2p_max_payload {} B is not 0 or a power "
                                                    "of two of at least 64 B",
                                                    split);
                               return "";
                             },
                             "0, or 64, 128 ... 4096 B"})),
      field(&P::remote_peer_write_window,
            {"remote_peer_write_window", ParamKind::size, "0 B",
             "posted peer writes one root port keeps in flight to the other socket's root "
             "ports: a write holds its bytes of it from its crossing's start until the other "
             "socket's root complex has forwarded it (p2p_write_latency) and the "
             "acknowledgement has crossed back (the inter-socket link's latency); 0 = unlimited",
             0, 1 << 30}),
      field(&P::remote_memory_window,
            {"remote_memory_window", ParamKind::size, "0 B",
             "DMA reads and writes one root port keeps in flight to the other socket's memory, "
             "together: a read holds its requested bytes from leaving the host bridge until "
             "its data are back, a write its payload until the far memory has it and the "
             "acknowledgement has crossed back; one device's rate to the far memory is then "
             "about window / round trip, one way or both ways at once; 0 = unlimited",
             0, 1 << 30}),
      field(&P::read_completion_boundary,
            {"read_completion_boundary", ParamKind::size, "64 B",
             "RCB: completions end on multiples of it", 64, 128, true}),
      field(&P::completion_max,
            {"completion_max", ParamKind::size, "0 B",
             "largest completion payload the host bridge sends (0 = MPS)", 0, 4096}),
      field(&P::mmio_size,
            {"mmio_size", ParamKind::size, "1 TiB",
             "MMIO aperture for this root complex's BARs and bridge windows", 1 << 20, 0, true}),
      field(&P::root_ports_per_io_hub,
            {"root_ports_per_io_hub", ParamKind::integer, 1,
             "consecutive root ports on one I/O hub (an AMD I/O die quadrant, an Intel IIO "
             "stack), which share its path to host memory: rp0..rpN-1 on the first hub, and "
             "so on",
             1, 31}),
      field(&P::io_hub_memory_bandwidth,
            {"io_hub_memory_bandwidth", ParamKind::rate, "0 GB/s",
             "one I/O hub's path to host memory, each way: payload of the memory writes and of "
             "the read data of all its root ports together (peer traffic does not take it); "
             "0 = unlimited",
             0, 0, false, true}),
      field(&P::cpu, {"cpu", ParamKind::choice, "other",
                      "CPU / host bridge, for the kernel's P2PDMA allow-list "
                      "(Linux drivers/pci/p2pdma.c: cpu_supports_p2pdma, pci_p2pdma_whitelist); "
                      "every root complex of a machine names the same CPU",
                      0, 0, false, false, host_cpu_names()}),
      field(&P::acs, {"acs", ParamKind::boolean, true,
                      "root ports implement ACS (SV, RR, CR, UF, EC); the kernel enables "
                      "redirection on them when an IOMMU is on"}),
      nested(&P::iommu, iommu_fields()), nested(&P::ports, port_fields(kPortDefaults)));
  return table;
}

namespace {
// Without another socket, the root complex's memory is all its own.
RootComplexWiring with_local_memory(RootComplexWiring wiring) {
  if (wiring.local_memory_size == 0) {
    wiring.local_memory_base = wiring.memory_base;
    wiring.local_memory_size = wiring.memory_size;
  }
  return wiring;
}
} // namespace

RootComplex::RootComplex(sc_core::sc_module_name name, const RootComplexParams &params,
                         RootComplexWiring wiring, SimContext &context)
    : sc_module(name), memory_socket("memory_socket"), params_(params),
      wiring_(with_local_memory(std::move(wiring))), pool_(context.pool),
      p2p_engines_(
          static_cast<std::size_t>(params.root_ports),
          {{params.p2p_write_latency.ps, 1e12 / params.p2p_write_bandwidth.bytes_per_second, {}},
           {params.p2p_read_latency.ps, 1e12 / params.p2p_read_bandwidth.bytes_per_second, {}}}),
      iommu_(
          params.iommu,
          [this](std::uint64_t address, std::int64_t at_ps) {
            // A page-table read goes to host memory without crossing a root port.
            std::int64_t now = now_ps();
            return now + memory_access(false, address, 8, std::max<std::int64_t>(0, at_ps - now));
          },
          wiring_.local_memory_base) {
  memory_timing_ = new MemoryTimingExtension;
  memory_payload_.set_extension(memory_timing_);
  posted_translated_ps_.assign(static_cast<std::size_t>(params.root_ports), 0);
  const auto ports = static_cast<std::size_t>(params.root_ports);
  if (params.remote_peer_write_window.count > 0)
    remote_write_windows_.assign(ports, InFlightWindow(params.remote_peer_write_window.count));
  if (params.remote_memory_window.count > 0)
    remote_memory_windows_.assign(ports, InFlightWindow(params.remote_memory_window.count));
  if (params.io_hub_memory_bandwidth.bytes_per_second > 0) {
    const int per_hub = params.root_ports_per_io_hub;
    io_hubs_.resize(static_cast<std::size_t>((params.root_ports + per_hub - 1) / per_hub));
    io_hub_ps_per_byte_ = 1e12 / params.io_hub_memory_bandwidth.bytes_per_second;
  }
  memory_path_limited_ = !io_hubs_.empty() || !remote_memory_windows_.empty();
  for (int i = 0; i < params.root_ports; ++i)
    add_port("rp" + std::to_string(i));
}

void RootComplex::attach_host_memory(tlm::tlm_target_socket<> &memory) {
  memory_socket.bind(memory);
  direct_memory_ = dynamic_cast<HostMemory *>(memory.get_parent_object());
}

std::int64_t RootComplex::memory_access(bool is_write, std::uint64_t address, std::uint32_t bytes,
                                        std::int64_t delay_ps) {
  if (direct_memory_) {
    HostMemory::Answer answer =
        direct_memory_->access(is_write, address - wiring_.memory_base, bytes, delay_ps);
    memory_accepted_at_ps_ = answer.accepted_at_ps;
    return answer.delay_ps;
  }
  memory_payload_.set_command(is_write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
  memory_payload_.set_address(address - wiring_.memory_base);
  memory_payload_.set_data_ptr(nullptr);
  memory_payload_.set_data_length(bytes);
  memory_payload_.set_streaming_width(bytes);
  sc_core::sc_time delay = memory_delay_.of_ps(delay_ps);
  memory_socket->b_transport(memory_payload_, delay);
  memory_accepted_at_ps_ = memory_timing_->accepted_at_ps;
  return time_to_ps(delay);
}

std::int64_t RootComplex::after_posted_writes(int port, bool posted_write, std::int64_t delay_ps) {
  const std::int64_t now = now_ps();
  std::int64_t &last = posted_translated_ps_[static_cast<std::size_t>(port)];
  const std::int64_t ordered = std::max(last, now + delay_ps);
  if (posted_write)
    last = ordered;
  return ordered - now;
}

// The hub's path is a pipeline at its rate: an access waits only while the bytes booked before
// it are still going through, so where the hub does not bind it adds nothing to a latency.
// Accesses are booked as they enter the hub, in arrival order (translations aside), not when
// memory answers: memory's channels answer out of order, which would make the path serve in
// bursts.
std::int64_t RootComplex::io_hub_wait_ps(int port, bool is_write, std::uint32_t bytes,
                                         std::int64_t due_ps) {
  IoHub &hub = io_hubs_[static_cast<std::size_t>(port / params_.root_ports_per_io_hub)];
  TimeOrderedServer &path = is_write ? hub.writes : hub.reads;
  path.forget_before(now_ps());
  const std::int64_t wait = path.serve(due_ps, busy_ps(bytes * io_hub_ps_per_byte_)) - due_ps;
  stats_.io_hub_waits += wait > 0;
  return wait;
}

InFlightWindow *RootComplex::remote_memory_window(int port, std::uint64_t address) {
  if (remote_memory_windows_.empty() || !other_socket_ ||
      address - wiring_.local_memory_base < wiring_.local_memory_size)
    return nullptr;
  return &remote_memory_windows_[static_cast<std::size_t>(port)];
}

void RootComplex::serve_memory_request(int port, tlm::tlm_generic_payload &gp,
                                       std::int64_t translation_ps) {
  PciePort &rp = *ports_[static_cast<std::size_t>(port)];
  TlpExtension &req = tlp_of(gp);
  if (req.type == TlpType::MWr) {
    ++stats_.memory_writes;
    const std::int64_t done = memory_path_limited_
                                  ? limited_memory_access(port, req, translation_ps)
                                  : memory_access(true, req.address, req.payload_bytes,
                                                  translation_ps + params_.host_bridge_latency.ps);
    // The root port's buffer drains into the host bridge at once, unless memory is busy:
    // then it frees when memory accepts the write (minus the trip there), so a saturated
    // memory backpressures the link through its posted credits.
    std::int64_t accepted = memory_accepted_at_ps_;
    rp.release(gp, std::max<std::int64_t>(0, accepted - params_.host_bridge_latency.ps - now_ps()));
    if (req.observer)
      req.observer->delivered(req.cookie, req.payload_bytes, now_ps() + done);
    pool_.release(gp);
    return;
  }
  ++stats_.memory_reads;
  rp.release(gp, 0); // the request is taken off the queue at once
  const std::int64_t ready = memory_path_limited_
                                 ? limited_memory_access(port, req, translation_ps)
                                 : memory_access(false, req.address, req.request_bytes,
                                                 translation_ps + params_.host_bridge_latency.ps);
  // Split at RCB-aligned boundaries, each completion at most `completion_max` (or MPS).
  std::uint64_t max_payload =
      params_.completion_max.count ? params_.completion_max.count : wiring_.mps_bytes;
  stats_.completions_sent += rp.send_completions(
      gp, wiring_.host_bridge_id, static_cast<std::uint32_t>(max_payload),
      static_cast<std::uint32_t>(params_.read_completion_boundary.count), ready);
}

// A memory access through an I/O hub's path or a window to the other socket's memory: off
// the hot path of a platform that sets neither. A write that waits for its hub reaches memory
// later, and memory accepts it later: the root port's buffer frees later too, so a saturated
// hub backpressures the link. A read takes its share of the hub's path as it enters, in the
// order reads arrive, for the data it will bring back: where the path binds, memory sees the
// read that much later; nor may it pass an earlier posted write of its port that still waits
// for the write path. An access to the other socket's memory holds its share of the port's
// window until its data are back (a read) or the far memory has it and the acknowledgement
// is back (a write).
[[gnu::noinline]] std::int64_t RootComplex::limited_memory_access(int port, const TlpExtension &req,
                                                                  std::int64_t translation_ps) {
  const bool is_write = req.type == TlpType::MWr;
  const std::uint32_t bytes = is_write ? req.payload_bytes : req.request_bytes;
  if (!io_hubs_.empty()) {
    if (!is_write)
      translation_ps = after_posted_writes(port, false, translation_ps);
    translation_ps += io_hub_wait_ps(port, is_write, bytes, now_ps() + translation_ps);
    if (is_write)
      translation_ps = after_posted_writes(port, true, translation_ps);
  }
  InFlightWindow *window = remote_memory_window(port, req.address);
  if (window) {
    const std::int64_t due_ps = now_ps() + translation_ps + params_.host_bridge_latency.ps;
    translation_ps += window->opens(bytes, due_ps, stats_.remote_memory_window_waits) - due_ps;
    if (is_write)
      translation_ps = after_posted_writes(port, true, translation_ps);
  }
  const std::int64_t answered =
      memory_access(is_write, req.address, bytes, translation_ps + params_.host_bridge_latency.ps);
  if (window)
    window->hold(bytes, now_ps() + answered + (is_write ? other_socket_->latency_ps() : 0));
  return answered;
}

void RootComplex::refuse(int port, tlm::tlm_generic_payload &gp) {
  ++stats_.unsupported_requests;
  terminate_unsupported_request(*ports_[static_cast<std::size_t>(port)], pool_, gp,
                                wiring_.host_bridge_id, params_.host_bridge_latency.ps);
}

void RootComplex::forward_peer(int ingress, int egress, tlm::tlm_generic_payload &gp,
                               std::int64_t translation_ps) {
  TlpExtension &tlp = tlp_of(gp);
  if (is_request(tlp.type))
    ++stats_.peer_requests;
  else
    ++stats_.peer_completions;
  stats_.peer_bytes += tlp.payload_bytes;
  // Posted writes take the write engine of the port they leave by; read requests and their
  // completions the read engine (a request leaves by the target's port, its completions by the
  // requester's), wherever they came from: a root port or the other socket.
  bool posted_write = tlp.type == TlpType::MWr;
  (posted_write ? stats_.peer_write_bytes : stats_.peer_read_bytes) += tlp.payload_bytes;
  PortP2pEngines &engines = p2p_engines_[static_cast<std::size_t>(egress)];
  P2pEngine &engine = posted_write ? engines.write : engines.read;
  std::int64_t now = now_ps();
  engine.server.forget_before(now);
  std::int64_t transfer = busy_ps(tlp.payload_bytes * engine.ps_per_byte);
  std::int64_t due = now + translation_ps + engine.latency_ps;
  // A read request carries no data: it takes none of the engine's bandwidth, and it does not
  // wait behind completions' data either (non-posted requests and completions are separate
  // flow-control classes, queued apart: PCIe Base Specification, 2.4 ordering rules). Without
  // this, when requester and completer share a root port (ACS redirect under a switch) every
  // request queued behind the completion data of the reads before it.
  std::int64_t start =
      transfer == 0 && tlp.type == TlpType::MRd ? due : engine.server.serve(due, transfer);
  tlp.ingress_port = static_cast<std::uint8_t>(ingress);
  const std::uint64_t split = params_.p2p_max_payload.count;
  if (split != 0 && tlp.address % split + tlp.payload_bytes > split)
    send_peer_tlp_in_pieces(egress, gp, start + transfer - now);
  else
    ports_[static_cast<std::size_t>(egress)]->send(gp, start + transfer - now);
}

// A posted write or a read completion, in pieces that each end at a multiple of
// p2p_max_payload, leaving in address order (a completion's pieces each with the bytes of the
// request left from it on). The TLP itself becomes the last piece and keeps its ingress port,
// so that its receive buffer frees when the last of its bytes has left, with the credits the
// whole TLP took: request_bytes, which neither a write nor a completion uses, holds its payload
// until then.
void RootComplex::send_peer_tlp_in_pieces(int egress, tlm::tlm_generic_payload &gp,
                                          std::int64_t delay_ps) {
  TlpExtension &tlp = tlp_of(gp);
  PciePort &port = *ports_[static_cast<std::size_t>(egress)];
  const std::uint64_t split = params_.p2p_max_payload.count;
  const std::uint64_t end = tlp.address + tlp.payload_bytes;
  const std::uint64_t last_start = (end - 1) / split * split;
  const bool completion = tlp.type == TlpType::CplD;
  for (std::uint64_t at = tlp.address, next; at < last_start; at = next) {
    next = at / split * split + split;
    tlm::tlm_generic_payload &piece_gp = pool_.acquire();
    TlpExtension &piece = tlp_of(piece_gp);
    static_cast<TlpFields &>(piece) = tlp;
    piece.address = at;
    piece.payload_bytes = static_cast<std::uint32_t>(next - at);
    if (completion)
      piece.byte_count = tlp.byte_count - static_cast<std::uint32_t>(at - tlp.address);
    piece.ingress_port = kNoIngressPort; // made here: it holds no receive buffer
    ++stats_.peer_pieces;
    port.send(piece_gp, delay_ps);
  }
  ++stats_.peer_pieces;
  if (completion)
    tlp.byte_count -= static_cast<std::uint32_t>(last_start - tlp.address);
  tlp.request_bytes = tlp.payload_bytes;
  tlp.address = last_start;
  tlp.payload_bytes = static_cast<std::uint32_t>(end - last_start);
  port.send(gp, delay_ps);
}

// Per TLP the root complex sends (flattened, as the forwarding bridge's).
[[gnu::flatten]] void RootComplex::tlp_departing(int, tlm::tlm_generic_payload &gp,
                                                 std::int64_t delay_ps) {
  TlpExtension &tlp = tlp_of(gp);
  if (tlp.type == TlpType::MRd || tlp.request_bytes == 0) {
    release_ingress(gp, delay_ps);
    return;
  }
  // The last piece of a split TLP: the buffer frees with the whole TLP's credits.
  const std::uint32_t piece_bytes = tlp.payload_bytes;
  tlp.payload_bytes = tlp.request_bytes;
  tlp.request_bytes = 0;
  release_ingress(gp, delay_ps);
  tlp.payload_bytes = piece_bytes;
}

// An ATS Translation Request: the IOMMU looks the page up (walking on a miss) and answers
// with one 8-byte translation completion.
void RootComplex::answer_translation_request(int port, tlm::tlm_generic_payload &gp) {
  TlpExtension &req = tlp_of(gp);
  if (!iommu_.enabled()) {
    refuse(port, gp); // no translation agent to answer
    return;
  }
  ++stats_.ats_translation_requests;
  PciePort &rp = *ports_[static_cast<std::size_t>(port)];
  rp.release(gp, 0);
  std::int64_t now = now_ps();
  iommu_.forget_before(now);
  std::int64_t ready =
      iommu_.translation_request(req.address, now + params_.host_bridge_latency.ps);
  tlm::tlm_generic_payload &cpl_gp = make_completion(
      pool_, req, wiring_.host_bridge_id, req.request_bytes, req.request_bytes, req.address);
  ++stats_.completions_sent;
  rp.send(cpl_gp, ready - now);
  pool_.release(gp);
}

// A TLP for the other socket's root ports crosses the inter-socket link; its receive buffer
// here frees when the crossing starts.
bool RootComplex::hand_to_other_socket(int port, tlm::tlm_generic_payload &gp,
                                       std::int64_t delay_ps) {
  TlpExtension &tlp = tlp_of(gp);
  if (!other_socket_ || !other_socket_->claims(tlp))
    return false;
  std::int64_t now = now_ps();
  std::int64_t due_ps = now + delay_ps;
  const bool windowed = tlp.type == TlpType::MWr && !remote_write_windows_.empty();
  InFlightWindow *window =
      windowed ? &remote_write_windows_[static_cast<std::size_t>(port)] : nullptr;
  if (window) {
    due_ps = window->opens(tlp.payload_bytes, due_ps, stats_.remote_peer_write_window_waits);
  }
  Crossing crossing = other_socket_->book(tlp.payload_bytes, due_ps);
  if (window)
    window->hold(tlp.payload_bytes,
                 crossing.arrival_ps + params_.p2p_write_latency.ps + other_socket_->latency_ps());
  ports_[static_cast<std::size_t>(port)]->release(gp, crossing.start_ps - now);
  other_socket_->deliver(gp, crossing.arrival_ps);
  return true;
}

// From the other socket: down the root port that claims it, through this root complex's peer
// forwarding (the platform's P2P limits), holding no receive buffer here.
void RootComplex::arrived_from_other_socket(tlm::tlm_generic_payload &gp, std::int64_t arrival_ps) {
  TlpExtension &tlp = tlp_of(gp);
  int egress = is_request(tlp.type) ? wiring_.root_ports.port_for_address(tlp.address)
                                    : wiring_.root_ports.port_for_bus(tlp.requester_id >> 8);
  if (egress < 0)
    throw std::logic_error("a TLP crossed the inter-socket link to a root complex without a "
                           "port for it");
  forward_peer(kNoIngressPort, egress, gp, std::max<std::int64_t>(0, arrival_ps - now_ps()));
}

// Per TLP: flattened (docs/models.md, "Hot paths").
[[gnu::flatten]] void RootComplex::tlp_arrived(int port, tlm::tlm_generic_payload &gp) {
  TlpExtension &tlp = tlp_of(gp);
  if (is_request(tlp.type)) {
    if (tlp.address_type == AddressType::TranslationRequest) {
      answer_translation_request(port, gp);
      return;
    }
    // Untranslated requests from below go through the IOMMU in translated mode; requests a
    // device's ATC already translated skip it.
    std::int64_t translation_ps = 0;
    if (iommu_.translates() && tlp.address_type == AddressType::Untranslated) {
      std::int64_t now = now_ps();
      iommu_.forget_before(now);
      translation_ps = iommu_.translate(tlp.address, now) - now;
    }
    // Neither a posted write nor a read may pass an earlier posted write of its port (PCIe
    // Base Spec 2.4.1, no Relaxed Ordering modelled): one that translated sooner waits for
    // the write before it, as the host bridge's in-order posted queue makes it. Writes may
    // pass reads, so a read moves no later write. Only translations reorder requests.
    if (tlp.type == TlpType::MWr || iommu_.translates())
      translation_ps = after_posted_writes(port, tlp.type == TlpType::MWr, translation_ps);
    if (tlp.address >= wiring_.memory_base &&
        tlp.address - wiring_.memory_base < wiring_.memory_size) {
      serve_memory_request(port, gp, translation_ps);
      return;
    }
    int egress = wiring_.root_ports.port_for_address(tlp.address);
    if (egress < 0 && hand_to_other_socket(port, gp, translation_ps))
      return;
    if (egress < 0 || params_.p2p_policy == P2pPolicy::UnsupportedRequest ||
        (params_.p2p_policy == P2pPolicy::WritesOnly && tlp.type != TlpType::MWr)) {
      refuse(port, gp);
      return;
    }
    forward_peer(port, egress, gp, translation_ps);
    return;
  }
  int egress = wiring_.root_ports.port_for_bus(tlp.requester_id >> 8);
  if (egress < 0 && hand_to_other_socket(port, gp, 0))
    return;
  if (egress < 0) {
    // A completion for the host itself (CPU-initiated reads are not modelled yet): consume.
    ports_[static_cast<std::size_t>(port)]->release(gp, 0);
    pool_.release(gp);
    return;
  }
  forward_peer(port, egress, gp);
}

} // namespace pciesim
