// pciesim advise, the simulations: the bundled default comparison's workload remapped onto a
// pair, the scenario of a topology variant, and the runs in child processes.
#pragma once

#include "sim/advise/advise_pairs.h"
#include "sim/batch/child_pool.h"
#include "sim/plan/scenario.h"

namespace pciesim {

// The workload of the bundled default comparison: its buffer's size and iterations, and the
// peer's (the NIC's) phase: access size and accesses in flight.
struct AdviseWorkload {
  Json workload;
  std::uint64_t buffer_bytes = 0;
  int iterations = 1;
  std::string access_size = "64 KiB";
  int concurrency = 4;
};

AdviseWorkload default_workload(const std::string &size);

struct AdviseSimJob {
  std::shared_ptr<ScenarioConfig> loaded;
  bool workload = false;
  OJson result; // {"status", "time_ns", "mechanism", "reason"}
};

// The scenario that runs the pair's workload on a topology variant, with `mechanism` when it is
// not empty (else p2p_dma_api, or bounce where p2pdma refuses the pair).
Json pair_scenario(const AdviseWorkload &w, const Json &topology, const AdviseTopology &t,
                   const AdvisePair &p, const P2pVerdict &v, const std::string &mechanism = "");

void run_sim_jobs(std::vector<AdviseSimJob> &jobs, const PoolOptions &pool_options);

} // namespace pciesim
