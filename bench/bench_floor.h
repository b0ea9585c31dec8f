// The bare SystemC rates pciesim is measured against, in the same run: a timed-event
// SC_METHOD chain, and a hop chain of tlm_utils::peq_with_get stages as an approximately
// timed model would build.
#pragma once

#include "bench/bench_harness.h"

namespace pciesim_bench {

// Two SC_METHODs notifying each other with a 1 ns timed event; work = process activations.
Measurement timed_event_floor(long events);
// Payloads injected in bursts into a chain of peq_with_get stages, each forwarding with a
// 2 ns delay; work = payload arrivals at a stage (hops).
Measurement peq_hop_floor(long hops);

} // namespace pciesim_bench
