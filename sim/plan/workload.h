// A scenario's "workload": shared buffers (each owned by a GPU, in pages), phases in which an
// actor (the CPU, a GPU, an RDMA NIC) reads or writes a range of a buffer with an access
// pattern, repeated for some iterations, and the memory mechanisms to compare on it
// (docs/mechanisms.md). Resolved against the enumerated topology: actors become component
// indices, buffers get their device and system-RAM frame regions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/common/params.h"
#include "models/os/os_kernel.h"
#include "models/os/p2pdma.h"
#include "sim/config/json_input.h"
#include "sim/fabric/enumeration.h"
#include "sim/fabric/pci_view.h"
#include "sim/fabric/topology.h"
#include "sim/plan/access_pattern.h"
#include "sim/plan/mechanism_list.h"

namespace pciesim {

#define PCIESIM_MECHANISM_ENUMERATOR(id, name, factory, by_default) id,
enum class Mechanism { PCIESIM_MECHANISMS(PCIESIM_MECHANISM_ENUMERATOR) };
#undef PCIESIM_MECHANISM_ENUMERATOR
const char *mechanism_name(Mechanism m);
const std::vector<std::string> &mechanism_names();
// Whether a workload that lists no mechanisms runs `m` (mechanism_list.h).
bool mechanism_runs_by_default(Mechanism m);
// The mechanism of that name in scenario files and on the command line, if any.
std::optional<Mechanism> mechanism_named(const std::string &name);

struct BufferConfig {
  std::string id;
  int gpu = -1; // owning GPU, component index
  std::uint64_t bytes = 0, page_bytes = 4096;
  bool on_device = true; // initial placement
  bool managed = false;  // managed memory (HMM/UVM): the owner's faults migrate it, it may be
                         // evicted, under every mechanism (E and F manage every buffer)
  bool populated = true; // false: allocated and never touched, each page faulted in (and
                         // zero-filled) by its first access
  std::uint64_t gpu_memory_bytes = 0; // the owning GPU's device memory (memory_size)
  std::uint64_t device_address = 0;   // BAR1 bus address of device frame 0
  std::uint64_t ram_address = 0;      // host-memory address of system frame 0
  std::uint64_t pages() const { return bytes / page_bytes; }
};

struct PhaseConfig {
  std::string id;
  std::string pointer;        // for messages about the phase
  int actor = -1;             // component index; -1 for the CPU
  bool actor_is_peer = false; // reaches the buffer by peer DMA (an RDMA NIC), not its owner
  bool is_write = false;
  int buffer = 0;
  std::uint64_t offset = 0, bytes = 0; // the range of the buffer
  std::uint64_t access_bytes = 0;
  AccessPattern pattern = AccessPattern::Sequential;
  std::uint64_t stride_bytes = 0;
  std::uint64_t seed = 1;
  int concurrency = 1; // accesses in flight
  bool once = false;   // first iteration only
  bool with_previous = false;
  // "op": "revoke": the owning GPU revokes peers' mappings of the buffer `revoke_at_ps` after
  // the phase starts (docs/mechanisms.md, "Revocation"); `evict`: its driver also moves the
  // buffer's device pages to system RAM. Such a phase has no accesses.
  bool revoke = false;
  std::int64_t revoke_at_ps = 0;
  bool evict = false;
  // The accesses, as offsets into the buffer, in issue order.
  std::vector<std::uint64_t> access_offsets() const;
};

struct WorkloadConfig {
  std::vector<Mechanism> mechanisms;
  bool mechanisms_listed = false; // the scenario named them (else: the default set)
  std::vector<BufferConfig> buffers;
  std::vector<PhaseConfig> phases;
  // Per buffer, the peer actors (NICs) its phases name, in the order of their first phase:
  // each registers or mirrors the buffer on its own (two rails, two registrations).
  std::vector<std::vector<int>> peers;
  int iterations = 1;
  OsCosts costs;
  std::string driver; // the driver profile its costs start from (drivers/<name>.json), or none
  bool nic_mr_pinned = false;    // "nic_mr": "pinned" instead of "odp"
  bool nic_odp_prefetch = false; // "nic_mr": "odp_prefetch": ibv_advise_mr over the MR at setup
  bool dmabuf_dynamic = false;   // "dmabuf_importer": "dynamic" (move_notify) instead of "pinned"
  std::uint64_t chunk_bytes = 1 << 20;
  int chunks_in_flight = 2;
  std::uint64_t staging_address = 0; // host memory of the `staging_near` component's socket
  std::uint64_t staging_bytes = 0;
  // Per (NIC, GPU) pair the p2pdma verdict of the NIC reaching the GPU's BAR.
  struct PeerVerdict {
    int nic = -1, gpu = -1;
    P2pVerdict verdict;
  };
  std::vector<PeerVerdict> verdicts;
  // Why an actor and a buffer (or the staging buffer) cannot reach each other: on two sockets
  // that no inter_socket_link joins. Empty when every pair can.
  std::string sockets_apart;
  const P2pVerdict &verdict(int nic, int gpu) const;
  // By component: whether its DMA goes through a translating IOMMU (its root complex's).
  std::vector<bool> iommu_translated;
  nlohmann::ordered_json resolved; // with every default filled in
};

WorkloadConfig load_workload(const Node &n, const TopologyConfig &topology,
                             const Hierarchy &hierarchy, const Enumeration &enumeration,
                             const PciView &view, std::uint64_t scenario_seed);

} // namespace pciesim
