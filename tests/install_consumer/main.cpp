// Runs one scenario through the installed pciesim libraries (the loaders, then the SystemC
// models of its topology) and prints each transfer's bandwidth: the smallest useful program
// against find_package(pciesim). Usage: consumer SCENARIO.json
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "sim/plan/scenario.h"
#include "sim/run/simulation.h"

// libsystemc's main() calls this; the kernel runs once per process.
extern "C" int sc_main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s SCENARIO.json\n", argv[0]);
    return 2;
  }
  try {
    pciesim::ScenarioConfig scenario = pciesim::load_scenario_file(argv[1]);
    pciesim::RunResult result = pciesim::simulate(scenario);
    for (const pciesim::TransferResult &t : result.transfers)
      std::printf("%s: %.2f GB/s\n", t.id.c_str(), t.bandwidth_gbps);
    std::printf("%.3f us simulated: %s\n", static_cast<double>(result.sim_time_ps) / 1e6,
                result.completed() ? "completed" : result.stall_reason.c_str());
    return result.completed() && !result.transfers.empty() ? 0 : 1;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
    return 1;
  }
}
