#include "sim/config/platform.h"

#include <algorithm>

#include <fmt/format.h>

#include "sim/config/component_catalog.h"
#include "sim/config/embedded_files.h"
#include "sim/config/param_loader.h"
#include "sim/config/sourced_values.h"

namespace pciesim {
namespace {

const std::string kFolder = "platforms";

// The component types a platform file may give defaults for.
const std::vector<std::string> &platform_sections() {
  static const std::vector<std::string> sections = {"root_complex", "host_memory",
                                                    "inter_socket_link"};
  return sections;
}

} // namespace

std::vector<std::string> platform_names() { return embedded_names(kFolder); }

std::shared_ptr<const PlatformProfile> load_platform_document(const Node &root,
                                                              const std::string &name) {
  root.require_object();
  std::vector<std::string> allowed = {"name", "description"};
  for (const std::string &s : platform_sections())
    allowed.push_back(s);
  root.allow_only(allowed);
  auto profile = std::make_shared<PlatformProfile>();
  profile->name = name;
  if (auto n = root.get("name"); n && n->as_string() != name)
    n->fail(fmt::format("\"{}\" in a file named {}.json", n->as_string(), name),
            "the file's name without .json");
  profile->description = root.at("description").as_string();
  for (const std::string &section : platform_sections()) {
    std::optional<Node> values = root.get(section);
    if (!values)
      continue;
    const ComponentType *type = find_component_type(section);
    if (!type)
      throw std::logic_error("platform section without a component type: " + section);
    read_sourced_values(*values, type->specs(), section, profile->values[section],
                        profile->sources[section]);
  }
  return profile;
}

std::shared_ptr<const PlatformProfile> load_platform(const std::string &name, const Node &where) {
  std::vector<std::string> names = platform_names();
  if (std::find(names.begin(), names.end(), name) == names.end())
    where.fail(fmt::format("unknown platform \"{}\"", name),
               "one of: " + join(names, ", ") + " (pciesim describe lists them)");
  static std::map<std::string, std::shared_ptr<const PlatformProfile>> loaded;
  auto found = loaded.find(name);
  if (found != loaded.end())
    return found->second;
  std::string path = kFolder + "/" + name + ".json";
  auto profile =
      load_platform_document(Node::root(parse_json_text(embedded_file(path), path)), name);
  loaded.emplace(name, profile);
  return profile;
}

} // namespace pciesim
