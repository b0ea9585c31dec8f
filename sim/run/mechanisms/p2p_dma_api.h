// Mechanism p2p_dma_api (docs/mechanisms.md): the peer registers the buffer's BAR pages
// (ibv_reg_mr over a p2pdma provider), pinned and mapped once; every access then goes straight
// to device memory. Refused outright when p2pdma says NOT_SUPPORTED. The GPU driver may revoke
// the registration (the peer-memory free callback): the NIC's MR is invalidated, an access
// running through it fails, and the application recovers its queue pair and registers again.
#pragma once

#include "sim/run/mechanisms/mechanism.h"

namespace pciesim {

std::unique_ptr<MechanismPolicy> make_p2p_dma_api(MechanismContext &context);

} // namespace pciesim
