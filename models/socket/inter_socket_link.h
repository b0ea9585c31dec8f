// The inter-socket link of a dual-socket machine (Intel QPI/UPI, AMD Infinity Fabric between
// sockets): two directions, each a latency and a bandwidth served in time order
// (models/common/time_ordered_server.h). It joins two root complexes and carries what one socket
// sends to the other: host memory accesses to the other socket's DRAM (a device on socket 1 DMAs
// into socket 0's RAM: the request crosses, the memory answers, read data crosses back) and peer
// TLPs between the sockets' root ports (a NIC writing a GPU BAR on the other socket). It has
// no PCIe port: each root complex's host bridge binds to the link's memory target for its
// side, which serves its own socket's memory directly and the other socket's across the link.
// Each socket's cache may hold lines of either socket's memory (the CPU that touched them last
// is on that socket): a read the requester's own cache holds is served there without crossing,
// and a read of local memory whose lines the other socket's cache holds is answered from it,
// the home's snoop crossing and the data crossing back.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "models/common/params.h"
#include "models/common/stats.h"
#include "models/common/time_ordered_server.h"
#include "models/pcie/component.h"
#include "models/pcie/inter_socket.h"

namespace pciesim {

class HostMemory;

struct InterSocketLinkParams {
  Duration latency{53500};     // one way, per crossing
  Bandwidth bandwidth{34.4e9}; // per direction
  Bytes request_bytes{0};      // what a read request occupies on the link (no data)

  static const ParamTable<InterSocketLinkParams> &table();
  static const std::vector<ParamSpec> &specs() { return table().specs(); }
  static InterSocketLinkParams from(const ParamSet &params) { return table().from(params); }
};

// Direction "a_to_b" carries what the first root complex of `root_complexes` sends.
struct InterSocketLinkStats {
  std::uint64_t remote_reads_a = 0, remote_writes_a = 0; // socket a's accesses to b's memory
  std::uint64_t remote_reads_b = 0, remote_writes_b = 0;
  // Reads of the other socket's memory that socket a's (b's) own cache held: served there.
  std::uint64_t cached_remote_reads_a = 0, cached_remote_reads_b = 0;
  // Reads of socket a's (b's) memory whose lines the other socket's cache held: that cache
  // answered the home's snoop across the link.
  std::uint64_t snooped_reads_a = 0, snooped_reads_b = 0;
  std::uint64_t peer_tlps_a_to_b = 0, peer_tlps_b_to_a = 0;
  std::uint64_t bytes_a_to_b = 0, bytes_b_to_a = 0;
  std::int64_t busy_ps_a_to_b = 0, busy_ps_b_to_a = 0;
  static const StatTable<InterSocketLinkStats> &table();
  template <class F> void for_each(F &&f) const { table().for_each(*this, f); }
};

class InterSocketLink : public sc_core::sc_module, public Component, public InterSocketJoin {
public:
  // `sides` are the two root complexes' memory ranges and root-port routes.
  InterSocketLink(sc_core::sc_module_name name, const InterSocketLinkParams &params,
                  std::array<SocketReach, 2> sides);

  PciePort &port(int) override {
    throw std::logic_error("the inter-socket link has no PCIe port: it joins root complexes");
  }
  nlohmann::ordered_json stats_json() const override { return stats_to_json(stats_); }
  InterSocketJoin *inter_socket_join() override { return this; }

  InterSocketEnd &end(int side) override { return ends_[static_cast<std::size_t>(side)]; }
  tlm::tlm_target_socket<> &memory_target(int side) override {
    return memory_target_[static_cast<std::size_t>(side)];
  }
  void connect(int side, InterSocketReceiver &root_complex,
               tlm::tlm_target_socket<> &memory) override;

  // Books `bytes` from `from_side` to the other, ready at `due_ps`: when the crossing starts
  // and when its last byte arrives.
  Crossing cross(int from_side, std::uint64_t bytes, std::int64_t due_ps);
  const InterSocketLinkStats &stats() const { return stats_; }
  const InterSocketLinkParams &params() const { return params_; }

private:
  class End : public InterSocketEnd {
  public:
    End(InterSocketLink &link, int side) : link_(link), side_(side) {}
    bool claims(const TlpExtension &tlp) const override;
    Crossing book(std::uint64_t bytes, std::int64_t due_ps) override;
    void deliver(tlm::tlm_generic_payload &gp, std::int64_t arrival_ps) override;
    std::int64_t latency_ps() const override { return link_.params_.latency.ps; }

  private:
    InterSocketLink &link_;
    int side_;
  };

  // The host bridge of `side` accessing memory at a machine-wide physical address.
  void memory_access(int side, tlm::tlm_generic_payload &gp, sc_core::sc_time &delay);
  void b_transport_a(tlm::tlm_generic_payload &gp, sc_core::sc_time &delay) {
    memory_access(0, gp, delay);
  }
  void b_transport_b(tlm::tlm_generic_payload &gp, sc_core::sc_time &delay) {
    memory_access(1, gp, delay);
  }
  void snoop_other_cache(int side, tlm::tlm_generic_payload &gp, sc_core::sc_time &delay);
  // Forwards to the memory of `side` at an offset in it; returns the completion delay.
  void access_memory_of(int side, tlm::tlm_generic_payload &gp, std::uint64_t offset,
                        sc_core::sc_time &delay);

  InterSocketLinkParams params_;
  std::array<SocketReach, 2> sides_;
  double ps_per_byte_;
  std::array<TimeOrderedServer, 2> direction_; // [from side]
  std::array<tlm_utils::simple_target_socket<InterSocketLink>, 2> memory_target_;
  std::array<tlm_utils::simple_initiator_socket<InterSocketLink>, 2> memory_of_;
  std::array<InterSocketReceiver *, 2> root_complex_{nullptr, nullptr};
  std::array<HostMemory *, 2> host_memory_{nullptr, nullptr}; // each socket's, for its cache
  std::array<End, 2> ends_;
  InterSocketLinkStats stats_;
};

} // namespace pciesim
