#include "sim/config/platform.h"

#include "sim/config/component_catalog.h"
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
  check_document_name(root, name);
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
  return load_embedded_profile(kFolder, "platform", name, where, &load_platform_document);
}

} // namespace pciesim
