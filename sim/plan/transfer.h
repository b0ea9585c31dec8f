// One transfer of a scenario: who initiates it, what it targets, how it is split and paced,
// and, for a device reaching a peer's BAR, how Linux maps it (the DMA-API peer mapping,
// mechanism A): the p2pdma map type, the route it takes, or why it cannot run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/os/p2pdma.h"
#include "sim/config/json_input.h"
#include "sim/fabric/enumeration.h"
#include "sim/fabric/pci_view.h"
#include "sim/fabric/topology.h"
#include "sim/plan/access_pattern.h"

namespace pciesim {

// What the host's last-level cache holds of a host-memory buffer when a transfer starts: as
// earlier traffic left it, all of it that fits (the CPU just wrote it: pcie-bench's "host warm"),
// or none (flushed: "cold").
enum class HostCacheState { AsLeft, Warm, Cold };

struct TransferConfig {
  std::string id;
  std::string pointer;
  int initiator = -1; // component index
  int target = -1;    // component index (host_memory, an endpoint's data BAR, or itself)
  bool is_write = false;
  bool local = false; // a GPU's kernel touching its own memory
  std::uint64_t offset = 0;
  std::uint64_t target_address = 0; // resolved: region base + offset
  std::uint64_t region_bytes = 0;   // resolved: bytes the stream cycles over
  Bytes size;
  std::uint64_t count = 1;
  int concurrency = 1; // in flight in total (queue pairs x per-QP depth for a NIC)
  int queue_pairs = 1;
  Bytes stride; // default: size
  AccessPattern pattern = AccessPattern::Sequential;
  std::optional<std::uint64_t> seed; // random pattern; default: from the scenario's seed
  HostCacheState host_cache = HostCacheState::AsLeft;
  int host_cache_memory = -1;   // warm: the host memory of the socket whose cache holds it, if
                                // not the target's own (host_cache_socket)
  Bandwidth rate{0};            // pacing, 0 = none
  int copy_engine = 0;          // GPU initiators
  std::vector<int> start_after; // transfer indices, none to start at start_at
  Duration start_at;            // absolute, or after the last of start_after has finished
  // Peer-to-peer transfers (an endpoint to another endpoint's BAR):
  bool peer = false;
  std::string mechanism;  // "p2p_dma_api", "vendor_peer" or "bounce"
  bool fell_back = false; // p2p_dma_api was NOT_SUPPORTED and `fallback` chose bounce
  // Bounce buffers: chunks through pinned host memory of the initiator's socket.
  Bytes chunk;
  int chunks_in_flight = 2;
  std::uint64_t staging_address = 0;
  P2pVerdict verdict;
  std::string route;       // components the TLPs cross, e.g. "nic0 > sw0 > gpu0"
  std::string unsupported; // set when the transfer cannot run: the reason
};

TransferConfig load_transfer(const Node &n, const TopologyConfig &topology,
                             const Hierarchy &hierarchy, const Enumeration &enumeration,
                             const PciView &view);

} // namespace pciesim
