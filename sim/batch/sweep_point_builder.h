// Building a sweep point's scenario: the base scenario with the point's axis values, its
// topology (or each of a workload's topologies) inlined with the topology axes applied, all
// from the input files as they were read and hashed once when the sweep was loaded.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sim/batch/sweep_file.h"

namespace pciesim {

// `path` as named from `dir`, without a "./" in front.
std::string relative_to(const std::string &dir, const std::string &path);

class SweepPointBuilder {
public:
  SweepPointBuilder(std::string sweep_file, SweepFileReader read);

  // Filled in by the sweep loader.
  std::string sweep_name;
  std::vector<SweepAxis> axes;
  std::string base_label; // for messages: the base file, or "(inline)"
  std::string base_dir;   // what relative topology paths in the base are relative to
  OrderedJson base;
  std::vector<SweepInput> inputs;
  std::vector<JsonOverride> overrides; // sweep --set: into the base and every topology

  // Puts the scenario overrides into the base, and the topology: ones into the topologies
  // written inline in it (those of files go in as each file is read).
  void apply_scenario_overrides(const std::string &sweep_file);

  // The bytes of an input file, whose hash goes into the manifest.
  std::string read_input(const std::string &path);
  // An input's JSON in the author's key order, after the strict reader checked it.
  OrderedJson read_ordered(const std::string &path);
  const OrderedJson &topology_file(const std::string &path);
  // The topology document of a scenario (after scenario axes were applied), and its name.
  std::pair<const OrderedJson *, std::string> topology_of(const OrderedJson &scenario);
  std::string inline_name() const;
  OrderedJson with_scenario_values(const SweepPoint &point) const;

  using TopologyCheck = std::function<void(const OrderedJson &topology, const std::string &name)>;
  // Inlines the scenario's topology (found by topology_of), or each of a workload's list, with
  // the topology axes applied; `check` sees each topology before that. Sets the point's name.
  void inline_topologies(OrderedJson &scenario, const SweepPoint &point,
                         const std::pair<const OrderedJson *, std::string> &topology,
                         const TopologyCheck &check);
  OrderedJson build(const SweepPoint &point);

private:
  std::string manifest_name(const std::string &path) const;

  std::string sweep_file_, sweep_dir_;
  SweepFileReader read_;
  std::map<std::string, OrderedJson> topologies_; // by resolved path
};

} // namespace pciesim
