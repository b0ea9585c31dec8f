#include "sim/run/mechanisms/registry.h"

#include <stdexcept>

#include "sim/plan/mechanism_list.h"

namespace pciesim {

// Each policy's factory, declared here from the list so that no header per mechanism is needed.
#define PCIESIM_MECHANISM_FACTORY(id, name, factory, by_default)                                   \
  std::unique_ptr<MechanismPolicy> factory(MechanismContext &context);
PCIESIM_MECHANISMS(PCIESIM_MECHANISM_FACTORY)
#undef PCIESIM_MECHANISM_FACTORY

const std::vector<MechanismType> &mechanism_types() {
#define PCIESIM_MECHANISM_TYPE(id, name, factory, by_default) {Mechanism::id, name, &factory},
  static const std::vector<MechanismType> types = {PCIESIM_MECHANISMS(PCIESIM_MECHANISM_TYPE)};
#undef PCIESIM_MECHANISM_TYPE
  return types;
}

std::vector<std::string> mechanism_type_names() {
  std::vector<std::string> names;
  for (const MechanismType &type : mechanism_types())
    names.push_back(type.name);
  return names;
}

std::unique_ptr<MechanismPolicy> make_mechanism(Mechanism mechanism, MechanismContext &context) {
  for (const MechanismType &type : mechanism_types())
    if (type.id == mechanism)
      return type.make(context);
  throw std::logic_error(std::string("no policy registered for mechanism ") +
                         mechanism_name(mechanism));
}

} // namespace pciesim
