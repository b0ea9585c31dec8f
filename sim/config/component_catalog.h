// The component types a topology may use, each with its role in the PCIe hierarchy, its
// parameter table (from the model) and its BARs. Adding a model means adding a row here.
#pragma once

#include <string>
#include <vector>

#include "models/common/params.h"
#include "models/common/stats.h"

namespace pciesim {

enum class ComponentRole { RootComplex, Switch, Endpoint, Memory };

struct ComponentType {
  std::string name;
  ComponentRole role;
  std::string doc;
  const std::vector<ParamSpec> &(*specs)();
  // BAR sizes of an endpoint function, from its parameters (empty for other roles).
  std::vector<Bytes> (*bars)(const ParamSet &params);
  // The BAR that exposes the endpoint's memory to peers (a transfer's target region), or -1.
  int data_bar = -1;
};

// A stats table whose counters a component reports under components.<id> in results.json.
struct StatGroup {
  std::string struct_name; // e.g. "SwitchStats"
  const std::vector<StatSpec> *specs;
  std::string when; // "" = always; else when the counters appear
};

const std::vector<ComponentType> &component_types();
// The stats a component of the type reports, in results.json's order (sim/run/simulation.cpp).
std::vector<StatGroup> component_stats(const std::string &type);
const ComponentType *find_component_type(const std::string &name);
std::vector<std::string> component_type_names();
std::string role_name(ComponentRole role);

} // namespace pciesim
