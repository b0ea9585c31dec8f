// Mechanism dmabuf_p2p (docs/mechanisms.md): the GPU driver exports the buffer as a DMA-BUF
// and the peer imports it (attach + a DMA mapping per page). When p2pdma refuses the peer
// mapping, the exporter first moves the buffer to system memory (GTT) with its copy engine;
// the owner then reaches it there over PCIe. A pinned importer (the default) is never
// revoked. A dynamic importer ("dmabuf_importer": "dynamic", mlx5's dma-buf MR without
// pinning) is told by the exporter's move_notify to drop its mapping; the exporter may then
// move the buffer, and the NIC's next access faults and maps it again, wherever it is.
#pragma once

#include "sim/run/mechanisms/mechanism.h"

namespace pciesim {

std::unique_ptr<MechanismPolicy> make_dmabuf_p2p(MechanismContext &context);

} // namespace pciesim
