// The memory mechanisms a workload may compare, by name, each with the factory of its policy
// (sim/run/mechanisms/mechanism.h), built from the one list in sim/plan/mechanism_list.h. The
// CLI's --mechanism choices and the comparison's runs come from here.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sim/run/mechanisms/mechanism.h"

namespace pciesim {

struct MechanismType {
  Mechanism id;
  std::string name;
  std::unique_ptr<MechanismPolicy> (*make)(MechanismContext &context);
};

const std::vector<MechanismType> &mechanism_types();
std::vector<std::string> mechanism_type_names();
std::unique_ptr<MechanismPolicy> make_mechanism(Mechanism mechanism, MechanismContext &context);

} // namespace pciesim
