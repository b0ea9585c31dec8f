// The one registration of the memory mechanisms a workload may compare, in the order runs and
// reports list them: the enumerator, the name in scenario files and on the command line, the
// factory of its policy (one file pair in sim/run/mechanisms/, docs/architecture.md), and
// whether a workload that names no mechanisms runs it (the default comparison is of Linux's
// own mechanisms; a vendor's path is asked for by name). Adding a mechanism is its policy
// files plus one line here: the plan layer takes the enumerators, names and default set from
// this list, the run layer the factories.
#pragma once

#define PCIESIM_MECHANISMS(X)                                                                      \
  X(P2pDmaApi, "p2p_dma_api", make_p2p_dma_api, true)                                              \
  X(HmmMigrate, "hmm_migrate", make_hmm_migrate, true)                                             \
  X(HmmP2p, "hmm_p2p", make_hmm_p2p, true)                                                         \
  X(DmabufP2p, "dmabuf_p2p", make_dmabuf_p2p, true)                                                \
  X(Bounce, "bounce", make_bounce, true)                                                           \
  X(VendorPeer, "vendor_peer", make_vendor_peer, false)
