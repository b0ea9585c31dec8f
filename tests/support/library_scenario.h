// Scenarios made from the shipped topology library, for tests of one endpoint model run in
// a whole system: load a library topology, change a component's parameter, run one transfer
// (in a child process), read its bandwidth.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/sim_harness.h"

namespace pciesim::test {

inline nlohmann::json library_topology(const std::string &name) {
  return nlohmann::json::parse(read_repo_file("topologies/" + name + ".json"));
}

inline void set_param(nlohmann::json &topology, const std::string &id, const std::string &key,
                      const nlohmann::json &value) {
  for (auto &c : topology["components"])
    if (c["id"] == id)
      c["params"][key] = value;
}

// The result of a scenario holding `transfer` alone.
inline nlohmann::json run_one_transfer(const nlohmann::json &topology,
                                       const nlohmann::json &transfer) {
  return simulate_in_child(nlohmann::json{
      {"name", "t"}, {"topology", topology}, {"transfers", nlohmann::json::array({transfer})}});
}

inline double bandwidth_gbps(const nlohmann::json &result, const char *id = "t") {
  return transfer(result, id)["bandwidth_GBps"].get<double>();
}

} // namespace pciesim::test
