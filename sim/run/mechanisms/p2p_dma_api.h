// Mechanism p2p_dma_api (docs/mechanisms.md): the peer registers the buffer's BAR pages
// (ibv_reg_mr over a p2pdma provider), pinned and mapped once; every access then goes straight
// to device memory. Refused outright when p2pdma says NOT_SUPPORTED.
#pragma once

#include "sim/run/mechanisms/mechanism.h"

namespace pciesim {

std::unique_ptr<MechanismPolicy> make_p2p_dma_api(MechanismContext &context);

} // namespace pciesim
