#include "sim/config/driver_profile.h"

#include "models/os/os_kernel.h"
#include "sim/config/sourced_values.h"

namespace pciesim {

std::vector<std::string> driver_names() { return embedded_names("drivers"); }

std::shared_ptr<const DriverProfile> load_driver_document(const Node &root,
                                                          const std::string &name) {
  root.require_object();
  root.allow_only({"name", "description", "costs"});
  auto profile = std::make_shared<DriverProfile>();
  profile->name = name;
  check_document_name(root, name);
  profile->description = root.at("description").as_string();
  read_sourced_values(root.at("costs"), OsCosts::specs(), "the OS costs", profile->costs,
                      profile->sources);
  return profile;
}

std::shared_ptr<const DriverProfile> load_driver(const std::string &name, const Node &where) {
  return load_embedded_profile("drivers", "driver", name, where, &load_driver_document);
}

} // namespace pciesim
