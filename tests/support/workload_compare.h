// Workload comparisons run through the CLI, for tests of the memory mechanisms
// (docs/mechanisms.md): a workload on one or several library topologies goes through `pciesim
// run` (each mechanism in its own process); the helpers read its results.json.
#pragma once

#include <fstream>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/sim_harness.h"

namespace pciesim::test {

inline std::string topology(const std::string &name) {
  return std::string(PCIESIM_SOURCE_DIR) + "/topologies/" + name + ".json";
}

// A workload on one topology (or several), run through the CLI; the parsed results.json.
inline nlohmann::json compare(const nlohmann::json &topologies, const nlohmann::json &workload) {
  nlohmann::json scenario = {{"name", "mechanisms-test"}, {"workload", workload}};
  if (topologies.is_array()) {
    for (const auto &t : topologies)
      scenario["topology"].push_back(topology(t.get<std::string>()));
  } else {
    scenario["topology"] = topology(topologies.get<std::string>());
  }
  std::string dir = make_temp_dir("mech");
  std::ofstream(dir + "/s.json") << scenario.dump(2);
  CommandResult r = run_pciesim("run " + dir + "/s.json --quiet --out " + dir + "/out");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(read_file(dir + "/out/results.json"));
}

inline const nlohmann::json &mechanism(const nlohmann::json &results, const std::string &name,
                                       const std::string &topology_name = "") {
  for (const auto &m : results["mechanisms"])
    if (m["name"] == name && (topology_name.empty() || m["topology"] == topology_name))
      return m;
  throw std::runtime_error("no mechanism " + name + " in the results");
}

inline const nlohmann::json &phase(const nlohmann::json &m, const std::string &id,
                                   int iteration = 0) {
  for (const auto &p : m["phases"])
    if (p["phase"] == id && p["iteration"] == iteration)
      return p;
  throw std::runtime_error("no phase " + id);
}

inline double duration_ns(const nlohmann::json &p) {
  return p["end_ns"].get<double>() - p["start_ns"].get<double>();
}

inline nlohmann::json buffer(const std::string &size, const std::string &page = "4 KiB") {
  return {{"id", "buf"}, {"gpu", "gpu0"}, {"size", size}, {"page_size", page}};
}

inline nlohmann::json phase_spec(const std::string &id, const std::string &actor,
                                 const std::string &op,
                                 nlohmann::json extra = nlohmann::json::object()) {
  nlohmann::json p = {{"id", id}, {"actor", actor}, {"op", op}, {"buffer", "buf"}};
  p.update(extra);
  return p;
}

} // namespace pciesim::test
