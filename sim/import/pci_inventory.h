// What `pciesim import` reads off a machine, whatever the dump it came from (a snapshot, a bare
// `lspci -tvnn` or `lspci -vvv`, NCCL's topology XML): the PCI functions with the facts each
// format gives about them, and the host's CPU, sockets and kernel set-up. Facts a format does
// not give stay unset, so that the topology builder knows what it has to guess.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/fabric/topology.h"

namespace pciesim {

// The PCI Express capability's Device/Port Type, as lspci names it.
enum class PciePortType {
  Unknown,
  Endpoint,
  LegacyEndpoint,
  RootComplexEndpoint,
  RootPort,
  UpstreamPort,
  DownstreamPort,
  PciBridge
};

// A link's speed and width as a register reports them (LnkCap: what it can, LnkSta: what it
// trained to).
struct PciLinkState {
  std::optional<int> gen;   // 1 = 2.5 GT/s … 6 = 64 GT/s
  std::optional<int> width; // lanes
};

// ACS Capability or Control bits, as lspci prints them (ACSCap:/ACSCtl:).
struct AcsBits {
  bool source_validation = false, translation_blocking = false, request_redirect = false,
       completion_redirect = false, upstream_forwarding = false, egress_control = false,
       direct_translated = false;
};

struct PciFunctionInfo {
  PciAddress address;
  int line = 0;      // where the dump first names it (1-based), 0 for JSON/XML
  std::string where; // the same as text for messages: "line 12", "/pci_functions/…"
  std::string name;  // lspci's vendor and device names
  std::optional<std::uint32_t> class_code; // 24 bits: base, sub-class, programming interface
  std::optional<std::uint16_t> vendor, device;
  int parent = -1; // the bridge whose secondary bus it is on; -1 on a root bus
  std::optional<int> secondary_bus, subordinate_bus; // bridges
  PciePortType port_type = PciePortType::Unknown;
  PciLinkState link_capability, link_status;
  std::optional<AcsBits> acs_capability, acs_control;
  std::optional<bool> ats_capable, ats_enabled;
  std::vector<std::uint64_t> bar_sizes_bytes; // BAR index -> size, 0 when unused
  std::optional<int> max_payload_supported_bytes, max_payload_bytes, max_read_request_bytes;
  std::optional<int> numa_node;
  std::optional<double> network_speed_gbps; // NCCL: the NIC's port speed
  // An RDMA port's link layer ("InfiniBand" or "Ethernet", as sysfs spells it; empty when not
  // known) and its net device's MTU, which sets RoCE's path MTU.
  std::string network_link_layer;
  std::optional<int> net_mtu_bytes;
  std::string driver;
  // lspci -vvv described the function and could read its extended capabilities (as root): then
  // a capability it does not list (ACS, ATS) is absent, not unknown.
  bool capabilities_listed = false;

  bool is_bridge() const { return secondary_bus.has_value(); }
};

struct PciInventory {
  std::string source; // the file read
  std::string format; // "pciesim-snapshot", "lspci-tree", "lspci-verbose", "nccl-topology"
  std::vector<PciFunctionInfo> functions; // in bus order
  // Root buses as the dump names them (lspci -t: "[0000:40]"); buses of functions with no
  // parent that are not listed here are root buses too.
  std::vector<int> root_buses;
  std::string cpu_model;  // "AMD EPYC 7742 64-Core Processor", or lspci's host bridge name
  std::string cpu_vendor; // "AuthenticAMD", "GenuineIntel" when known
  std::optional<int> cpu_family, cpu_model_number;
  std::optional<int> sockets;
  std::vector<int> socket_of_numa_node; // NCCL: a <cpu> per NUMA node; index = NUMA node
  std::optional<std::string> kernel_cmdline;
  std::optional<int> iommu_groups;  // snapshot: how many IOMMU groups exist (0: no IOMMU)
  std::string iommu_default_domain; // snapshot: the groups' type ("identity", "DMA", "DMA-FQ")
  std::vector<std::string> notes;   // what the reader noticed and left out, for the guess list

  int find(const PciAddress &address) const; // index or -1
  // Sets the parent of every function with none to the bridge whose secondary bus it is on.
  void place_below_numbered_bridges();
};

} // namespace pciesim
