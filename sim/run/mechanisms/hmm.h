// Mechanisms hmm_migrate and hmm_p2p (docs/mechanisms.md): the buffer is HMM memory that
// migrates on demand. Every access first faults in the pages its actor cannot reach: a CPU
// fault brings device pages to RAM, a GPU fault brings system pages back, a NIC's ODP fault
// migrates them to RAM (hmm_migrate) or maps their BAR pages peer-to-peer (hmm_p2p, which
// falls back to migration where p2pdma refuses). The fault paths are HmmDriver's
// (models/os/hmm.h); with a pinned MR, setup faults every page to RAM and pins it.
#pragma once

#include "sim/run/mechanisms/mechanism.h"

namespace pciesim {

std::unique_ptr<MechanismPolicy> make_hmm_migrate(MechanismContext &context);
std::unique_ptr<MechanismPolicy> make_hmm_p2p(MechanismContext &context);

} // namespace pciesim
