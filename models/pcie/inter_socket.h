// How a root complex reaches the other socket of a dual-socket machine: the inter-socket link
// (models/socket/) hands each root complex one end, which claims the TLPs bound for the other
// socket (requests for its root ports' windows, completions for its buses), books their
// crossing and delivers them to the other root complex, which forwards them down its root
// ports as peer traffic. Host memory of the other socket is reached through the link's memory
// target instead (a NUMA router in front of both sockets' memories), so the root complex only
// needs these two small interfaces, kept here with the PCIe models so that it does not depend
// on the link's model.
#pragma once

#include <cstdint>

#include <tlm>

#include "models/pcie/routing.h"
#include "models/pcie/tlp.h"

namespace pciesim {

// A root complex as the far end of a crossing: takes a TLP that arrives at `arrival_ps`.
class InterSocketReceiver {
public:
  virtual ~InterSocketReceiver() = default;
  virtual void arrived_from_other_socket(tlm::tlm_generic_payload &gp, std::int64_t arrival_ps) = 0;
};

// When a crossing starts (the sender may free the TLP's buffer) and when it arrives.
struct Crossing {
  std::int64_t start_ps = 0;
  std::int64_t arrival_ps = 0;
};

// One end of the inter-socket link, as the root complex of its socket sees it.
class InterSocketEnd {
public:
  virtual ~InterSocketEnd() = default;
  // Whether the TLP belongs to the other socket: a request for one of its root ports' windows,
  // a completion for one of its buses.
  virtual bool claims(const TlpExtension &tlp) const = 0;
  // Books `bytes` toward the other socket, ready at `due_ps`, in time order.
  virtual Crossing book(std::uint64_t bytes, std::int64_t due_ps) = 0;
  // Hands the TLP to the other socket's root complex, which owns it from then on.
  virtual void deliver(tlm::tlm_generic_payload &gp, std::int64_t arrival_ps) = 0;
  // How long a crossing takes beyond its bytes' time on the link: what an acknowledgement
  // from the other socket takes to come back.
  virtual std::int64_t latency_ps() const = 0;
};

// What the link needs to know of the root complex at each of its ends (from enumeration).
struct SocketReach {
  std::uint64_t memory_base = 0, memory_size = 0; // the socket's host memory
  RoutingTable root_ports;                        // windows and buses of its root ports
};

// The link as the elaborator binds it: each root complex's host bridge goes to
// memory_target(side), which serves the whole machine's memory.
class InterSocketJoin {
public:
  virtual ~InterSocketJoin() = default;
  virtual InterSocketEnd &end(int side) = 0;
  virtual tlm::tlm_target_socket<> &memory_target(int side) = 0;
  virtual void connect(int side, InterSocketReceiver &root_complex,
                       tlm::tlm_target_socket<> &memory) = 0;
};

} // namespace pciesim
