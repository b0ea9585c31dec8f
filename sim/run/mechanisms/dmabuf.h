// Mechanism dmabuf_p2p (docs/mechanisms.md): the GPU driver exports the buffer as a DMA-BUF
// and the peer imports it (attach + a DMA mapping per page). When p2pdma refuses the peer
// mapping, the exporter first moves the buffer to system memory (GTT) with its copy engine;
// the owner then reaches it there over PCIe. No faults afterwards.
#pragma once

#include "sim/run/mechanisms/mechanism.h"

namespace pciesim {

std::unique_ptr<MechanismPolicy> make_dmabuf_p2p(MechanismContext &context);

} // namespace pciesim
