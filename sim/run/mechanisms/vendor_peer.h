// Mechanism vendor_peer (docs/mechanisms.md): the GPU vendor's own peer-memory path, the two
// drivers talking through a vendor API rather than a VMA (NVIDIA GPUDirect RDMA through
// nvidia-peermem, MLNX_OFED's peer-memory client): the NIC driver asks the GPU driver for the
// buffer's pages (nvidia_p2p_get_pages) and their bus addresses (nvidia_p2p_dma_map_pages), and
// Linux's p2pdma is not asked. The MR is pinned and revoked as p2p_dma_api's; the TLPs take the
// route the fabric gives.
#pragma once

#include "sim/run/mechanisms/mechanism.h"

namespace pciesim {

std::unique_ptr<MechanismPolicy> make_vendor_peer(MechanismContext &context);

} // namespace pciesim
