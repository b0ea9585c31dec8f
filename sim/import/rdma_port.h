// An RDMA port as the import sees it (its rate, link layer and net device's MTU) in the terms of
// the rdma_nic model's parameters, and back for the synthetic snapshot.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/import/known_devices.h"
#include "sim/import/pci_inventory.h"

namespace pciesim {

// Line bytes of an InfiniBand packet besides its payload (LRH, BTH, ICRC, VCRC: no Ethernet
// framing), the rdma_nic's packet_overhead on an InfiniBand port.
constexpr std::uint64_t kInfinibandPacketOverheadBytes = 26;
// What Linux keeps of a RoCE net device's MTU for the largest headers RoCE may add before it
// picks the path MTU (iboe_get_mtu, include/rdma/ib_addr.h).
constexpr std::uint64_t kRoceHeaderReserveBytes = 96;

// RoCE's path MTU on a net device of `net_mtu_bytes`: the largest InfiniBand MTU (256 to 4096
// bytes) that fits it less kRoceHeaderReserveBytes; 0 when none does.
std::uint64_t roce_path_mtu(int net_mtu_bytes);

// The rdma_nic parameters a function's port gives (line_rate, packet_overhead, network_mtu),
// added to `params`; what is taken from elsewhere or left at the model's default is appended
// to `guesses`, naming the component `id`.
void add_rdma_port_params(const PciFunctionInfo &function, const KnownDevice *known,
                          const std::string &id, nlohmann::ordered_json &params,
                          std::vector<std::string> &guesses);

} // namespace pciesim
