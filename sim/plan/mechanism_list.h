// The one registration of the memory mechanisms a workload may compare, in the order runs and
// reports list them: the enumerator, the name in scenario files and on the command line, and
// the factory of its policy (one file pair in sim/run/mechanisms/, docs/architecture.md).
// Adding a mechanism is its policy files plus one line here: the plan layer takes the
// enumerators and names from this list, the run layer the factories.
#pragma once

#define PCIESIM_MECHANISMS(X)                                                                      \
  X(P2pDmaApi, "p2p_dma_api", make_p2p_dma_api)                                                    \
  X(HmmMigrate, "hmm_migrate", make_hmm_migrate)                                                   \
  X(HmmP2p, "hmm_p2p", make_hmm_p2p)                                                               \
  X(DmabufP2p, "dmabuf_p2p", make_dmabuf_p2p)                                                      \
  X(Bounce, "bounce", make_bounce)
