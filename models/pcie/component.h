// What the elaborator (sim/run) sees of every model: its PCIe ports, its stats as JSON, whether
// it still holds work and what, and the few roles another part of the system binds to (a DMA
// initiator's engine, host memory's target socket, a root complex's host bridge). Each model
// implements this next to its own API; the component catalog (sim/config/component_catalog.h)
// builds it from its params and a ComponentWiring, so the core never names a model type.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tlm>

#include "models/pcie/inter_socket.h"
#include "models/pcie/routing.h"
#include "models/pcie/tlp.h"

namespace pciesim {

class DmaEngine;
class PciePort;

// Everything enumeration decided for one component, whatever its type; each model's factory
// takes the fields that concern it (a switch its routes, an endpoint its BDF and BARs).
struct ComponentWiring {
  Bdf bdf;             // endpoint function, switch upstream port, host bridge
  RoutingTable routes; // root ports or downstream ports, ACS applied (root complex, switch)
  std::vector<std::uint64_t> bar_bases, bar_sizes; // endpoints, per BAR
  std::uint64_t memory_base = 0, memory_size = 0;  // root complex: its host memory range
  std::uint64_t host_memory_base = 0;              // endpoints: host memory of the socket above
  std::uint32_t mps_bytes = 256;
  // Root complex joined to another socket: its own memory, where its IOMMU's tables live
  // (memory_base/size then span every socket's memory, reached through the link).
  std::uint64_t local_memory_base = 0, local_memory_size = 0;
  std::vector<SocketReach> sockets; // inter-socket link: the root complex at each end
};

// A stats struct (one with for_each) as a JSON object, fields in declaration order.
template <class Stats> nlohmann::ordered_json stats_to_json(const Stats &stats) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  stats.for_each([&j](const char *name, auto value) { j[name] = value; });
  return j;
}

class Component {
public:
  virtual ~Component() = default;

  // The PCIe port `index`, numbered as the catalog row's doc says (an endpoint has port 0).
  virtual PciePort &port(int index) = 0;
  // Every stat the model keeps (and those of the parts it owns), for results.json.
  virtual nlohmann::ordered_json stats_json() const = 0;
  // No work held (streams, tags, queued TLPs); at the end of a run that finished.
  virtual bool quiescent() const { return true; }
  // What it still holds, for a stall's diagnosis; called only when not quiescent().
  virtual std::string describe_outstanding() const { return {}; }

  // A DMA initiator's engine, which runs transfers and workload accesses; nullptr otherwise.
  virtual DmaEngine *dma_engine() { return nullptr; }
  // Host memory: the target socket its root complex's host bridge binds to; nullptr otherwise.
  virtual tlm::tlm_target_socket<> *host_memory_target() { return nullptr; }
  // A root complex: binds its host bridge to the memory of its socket.
  virtual void attach_host_memory(tlm::tlm_target_socket<> &memory) {
    (void)memory;
    throw std::logic_error("attach_host_memory on a component without a host bridge");
  }
  // Host memory: the CPU touched [address, address + bytes), which its last-level cache now
  // holds as far as it fits (`warm`), or flushed it from that cache (not `warm`). Others ignore it.
  virtual void host_cache_touched(std::uint64_t address, std::uint64_t bytes, bool warm) {
    (void)address;
    (void)bytes;
    (void)warm;
  }
  // Host memory: a CPU of this memory's socket touched [offset, offset + bytes) of the other
  // socket's memory, which this socket's cache now holds (`warm`), or flushed it (not `warm`).
  virtual void foreign_cache_touched(std::uint64_t offset, std::uint64_t bytes, bool warm) {
    (void)offset;
    (void)bytes;
    (void)warm;
  }
  // An inter-socket link: what the elaborator binds the two root complexes to; nullptr otherwise.
  virtual InterSocketJoin *inter_socket_join() { return nullptr; }
  // A root complex: takes TLPs from the other socket, and sends it its own through `end`.
  virtual InterSocketReceiver *inter_socket_receiver() { return nullptr; }
  virtual void attach_other_socket(InterSocketEnd &end) {
    (void)end;
    throw std::logic_error("attach_other_socket on a component without a host bridge");
  }
  // Drops cached translations of a range (an MTT zap, an ATS invalidation); a device that
  // caches none ignores it.
  virtual void invalidate(std::uint64_t address, std::uint64_t bytes) {
    (void)address;
    (void)bytes;
  }
};

} // namespace pciesim
