#include "models/socket/inter_socket_link.h"

#include "models/common/event_calendar.h"
#include "models/common/sim_time.h"
#include "models/memory/host_memory.h"

namespace pciesim {

const StatTable<InterSocketLinkStats> &InterSocketLinkStats::table() {
  using S = InterSocketLinkStats;
  static const StatTable<S> table({
      stat(&S::remote_reads_a,
           {"remote_reads_a", "count", "reads by socket a's host bridge from socket b's memory"}),
      stat(&S::remote_writes_a,
           {"remote_writes_a", "count", "writes by socket a's host bridge to socket b's memory"}),
      stat(&S::remote_reads_b,
           {"remote_reads_b", "count", "reads by socket b's host bridge from socket a's memory"}),
      stat(&S::remote_writes_b,
           {"remote_writes_b", "count", "writes by socket b's host bridge to socket a's memory"}),
      stat(&S::cached_remote_reads_a,
           {"cached_remote_reads_a", "count",
            "reads of socket b's memory that socket a's cache held: served there"}),
      stat(&S::cached_remote_reads_b,
           {"cached_remote_reads_b", "count",
            "reads of socket a's memory that socket b's cache held: served there"}),
      stat(&S::snooped_reads_a,
           {"snooped_reads_a", "count",
            "reads of socket a's memory that socket b's cache answered across the link"}),
      stat(&S::snooped_reads_b,
           {"snooped_reads_b", "count",
            "reads of socket b's memory that socket a's cache answered across the link"}),
      stat(&S::peer_tlps_a_to_b,
           {"peer_tlps_a_to_b", "TLPs", "peer requests and completions from socket a to b"}),
      stat(&S::peer_tlps_b_to_a,
           {"peer_tlps_b_to_a", "TLPs", "peer requests and completions from socket b to a"}),
      stat(&S::bytes_a_to_b, {"bytes_a_to_b", "bytes", "data carried from socket a to b"}),
      stat(&S::bytes_b_to_a, {"bytes_b_to_a", "bytes", "data carried from socket b to a"}),
      stat(&S::busy_ps_a_to_b,
           {"busy_ps_a_to_b", "ps", "time the a-to-b direction was transferring"}),
      stat(&S::busy_ps_b_to_a,
           {"busy_ps_b_to_a", "ps", "time the b-to-a direction was transferring"}),
  });
  return table;
}

const ParamTable<InterSocketLinkParams> &InterSocketLinkParams::table() {
  using P = InterSocketLinkParams;
  static const ParamTable<P> table(
      field(&P::latency,
            {"latency", ParamKind::time, "53.5 ns",
             "one-way latency of a crossing, added once to a remote write and twice (request, "
             "data) to a remote read: half the 107 ns a device's read of remote memory adds on "
             "Broadwell-EP (pcie-bench, docs/references.md)",
             0, 1e9}),
      field(&P::bandwidth,
            {"bandwidth", ParamKind::rate, "34.4 GB/s",
             "data rate of each direction, served in time order: the remote-socket read "
             "bandwidth of two-socket Skylake-SP (Intel MLC, docs/references.md)",
             1e6, 0}),
      field(&P::request_bytes,
            {"request_bytes", ParamKind::size, "0 B",
             "link time a read request takes without its data (0: only the latency; estimate)", 0,
             4096}));
  return table;
}

InterSocketLink::InterSocketLink(sc_core::sc_module_name name, const InterSocketLinkParams &params,
                                 std::array<SocketReach, 2> sides)
    : sc_module(name), params_(params), sides_(std::move(sides)),
      ps_per_byte_(1e12 / params.bandwidth.bytes_per_second),
      memory_target_{tlm_utils::simple_target_socket<InterSocketLink>("memory_target_a"),
                     tlm_utils::simple_target_socket<InterSocketLink>("memory_target_b")},
      memory_of_{tlm_utils::simple_initiator_socket<InterSocketLink>("memory_a"),
                 tlm_utils::simple_initiator_socket<InterSocketLink>("memory_b")},
      ends_{End(*this, 0), End(*this, 1)} {
  memory_target_[0].register_b_transport(this, &InterSocketLink::b_transport_a);
  memory_target_[1].register_b_transport(this, &InterSocketLink::b_transport_b);
}

void InterSocketLink::connect(int side, InterSocketReceiver &root_complex,
                              tlm::tlm_target_socket<> &memory) {
  root_complex_[static_cast<std::size_t>(side)] = &root_complex;
  memory_of_[static_cast<std::size_t>(side)].bind(memory);
  host_memory_[static_cast<std::size_t>(side)] =
      dynamic_cast<HostMemory *>(memory.get_parent_object());
}

Crossing InterSocketLink::cross(int from_side, std::uint64_t bytes, std::int64_t due_ps) {
  std::int64_t duration =
      bytes ? busy_ps(static_cast<double>(bytes) * ps_per_byte_) : std::int64_t{0};
  Crossing c;
  TimeOrderedServer &direction = direction_[static_cast<std::size_t>(from_side)];
  direction.forget_before(now_ps());
  c.start_ps = direction.serve(due_ps, duration);
  c.arrival_ps = c.start_ps + duration + params_.latency.ps;
  (from_side == 0 ? stats_.bytes_a_to_b : stats_.bytes_b_to_a) += bytes;
  (from_side == 0 ? stats_.busy_ps_a_to_b : stats_.busy_ps_b_to_a) += duration;
  return c;
}

void InterSocketLink::access_memory_of(int side, tlm::tlm_generic_payload &gp, std::uint64_t offset,
                                       sc_core::sc_time &delay) {
  std::uint64_t address = gp.get_address();
  gp.set_address(offset);
  memory_of_[static_cast<std::size_t>(side)]->b_transport(gp, delay);
  gp.set_address(address);
}

void InterSocketLink::memory_access(int side, tlm::tlm_generic_payload &gp,
                                    sc_core::sc_time &delay) {
  const std::uint64_t address = gp.get_address();
  const std::uint64_t bytes = gp.get_data_length();
  const int other = 1 - side;
  HostMemory *own_cache = host_memory_[static_cast<std::size_t>(side)];
  HostMemory *other_cache = host_memory_[static_cast<std::size_t>(other)];
  const SocketReach &local = sides_[static_cast<std::size_t>(side)];
  if (address >= local.memory_base && address - local.memory_base < local.memory_size) {
    const std::uint64_t offset = address - local.memory_base;
    if (other_cache && gp.is_write())
      other_cache->drop_foreign_lines(offset, bytes); // the other socket's copies go stale
    else if (other_cache && other_cache->read_foreign_lines(offset, bytes))
      return snoop_other_cache(side, gp, delay);
    access_memory_of(side, gp, offset, delay);
    return;
  }
  const SocketReach &remote = sides_[static_cast<std::size_t>(other)];
  if (address < remote.memory_base || address - remote.memory_base >= remote.memory_size) {
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  const std::int64_t now = EventCalendar::now_ps();
  if (own_cache && gp.is_write()) {
    own_cache->drop_foreign_lines(address - remote.memory_base, bytes);
  } else if (own_cache && own_cache->read_foreign_lines(address - remote.memory_base, bytes)) {
    // This socket's cache holds the lines: served here, nothing crosses.
    ++(side == 0 ? stats_.cached_remote_reads_a : stats_.cached_remote_reads_b);
    const std::int64_t at_cache_ps = time_to_ps(delay);
    if (auto *timing = gp.get_extension<MemoryTimingExtension>())
      timing->accepted_at_ps = now + at_cache_ps;
    delay = ps_to_time(at_cache_ps + own_cache->params().llc_latency.ps);
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
    return;
  }
  Crossing request;
  sc_core::sc_time at_memory;
  if (gp.is_write()) {
    ++(side == 0 ? stats_.remote_writes_a : stats_.remote_writes_b);
    request = cross(side, bytes, now + time_to_ps(delay));
    at_memory = ps_to_time(request.arrival_ps - now);
    access_memory_of(other, gp, address - remote.memory_base, at_memory);
    delay = at_memory;
  } else {
    ++(side == 0 ? stats_.remote_reads_a : stats_.remote_reads_b);
    request = cross(side, params_.request_bytes.count, now + time_to_ps(delay));
    at_memory = ps_to_time(request.arrival_ps - now);
    access_memory_of(other, gp, address - remote.memory_base, at_memory);
    Crossing data = cross(other, bytes, now + time_to_ps(at_memory));
    delay = ps_to_time(data.arrival_ps - now);
  }
  // The requester's buffer frees when the link takes the access, not when far memory does.
  if (auto *timing = gp.get_extension<MemoryTimingExtension>())
    timing->accepted_at_ps = request.start_ps;
}

// A read of `side`'s memory whose lines the other socket's cache holds (read_foreign_lines
// counted it there): the home's snoop crosses, that cache answers, the data cross back.
void InterSocketLink::snoop_other_cache(int side, tlm::tlm_generic_payload &gp,
                                        sc_core::sc_time &delay) {
  const int other = 1 - side;
  ++(side == 0 ? stats_.snooped_reads_a : stats_.snooped_reads_b);
  const std::int64_t now = EventCalendar::now_ps();
  Crossing snoop = cross(side, params_.request_bytes.count, now + time_to_ps(delay));
  std::int64_t answered =
      snoop.arrival_ps + host_memory_[static_cast<std::size_t>(other)]->params().llc_latency.ps;
  Crossing data = cross(other, gp.get_data_length(), answered);
  if (auto *timing = gp.get_extension<MemoryTimingExtension>())
    timing->accepted_at_ps = snoop.start_ps;
  delay = ps_to_time(data.arrival_ps - now);
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

bool InterSocketLink::End::claims(const TlpExtension &tlp) const {
  const RoutingTable &far = link_.sides_[static_cast<std::size_t>(1 - side_)].root_ports;
  return is_request(tlp.type) ? far.port_for_address(tlp.address) >= 0
                              : far.port_for_bus(tlp.requester_id >> 8) >= 0;
}

Crossing InterSocketLink::End::book(std::uint64_t bytes, std::int64_t due_ps) {
  ++(side_ == 0 ? link_.stats_.peer_tlps_a_to_b : link_.stats_.peer_tlps_b_to_a);
  return link_.cross(side_, bytes, due_ps);
}

void InterSocketLink::End::deliver(tlm::tlm_generic_payload &gp, std::int64_t arrival_ps) {
  InterSocketReceiver *far = link_.root_complex_[static_cast<std::size_t>(1 - side_)];
  if (!far)
    throw std::logic_error("inter-socket link delivering to an unconnected root complex");
  far->arrived_from_other_socket(gp, arrival_ps);
}

} // namespace pciesim
