#include "sim/config/driver_profile.h"

#include <algorithm>

#include <fmt/format.h>

#include "models/os/os_kernel.h"
#include "sim/config/embedded_files.h"
#include "sim/config/sourced_values.h"

namespace pciesim {

std::vector<std::string> driver_names() { return embedded_names("drivers"); }

std::shared_ptr<const DriverProfile> load_driver_document(const Node &root,
                                                          const std::string &name) {
  root.require_object();
  root.allow_only({"name", "description", "costs"});
  auto profile = std::make_shared<DriverProfile>();
  profile->name = name;
  if (auto n = root.get("name"); n && n->as_string() != name)
    n->fail(fmt::format("\"{}\" in a file named {}.json", n->as_string(), name),
            "the file's name without .json");
  profile->description = root.at("description").as_string();
  read_sourced_values(root.at("costs"), OsCosts::specs(), "the OS costs", profile->costs,
                      profile->sources);
  return profile;
}

std::shared_ptr<const DriverProfile> load_driver(const std::string &name, const Node &where) {
  std::vector<std::string> names = driver_names();
  if (std::find(names.begin(), names.end(), name) == names.end())
    where.fail(fmt::format("unknown driver \"{}\"", name),
               "one of: " + join(names, ", ") + " (pciesim describe lists them)");
  static std::map<std::string, std::shared_ptr<const DriverProfile>> loaded;
  if (auto found = loaded.find(name); found != loaded.end())
    return found->second;
  const std::string path = "drivers/" + name + ".json";
  auto profile = load_driver_document(Node::root(parse_json_text(embedded_file(path), path)), name);
  loaded.emplace(name, profile);
  return profile;
}

} // namespace pciesim
