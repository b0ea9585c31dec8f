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

namespace {

// A platform file or a device file: a description and a section of sourced values per
// component type it gives defaults for, of those `sections` allows.
std::shared_ptr<const PlatformProfile> load_sections(const Node &root, const std::string &name,
                                                     const std::vector<std::string> &sections) {
  root.require_object();
  std::vector<std::string> allowed = {"name", "description"};
  allowed.insert(allowed.end(), sections.begin(), sections.end());
  root.allow_only(allowed);
  auto profile = std::make_shared<PlatformProfile>();
  profile->name = name;
  check_document_name(root, name);
  profile->description = root.at("description").as_string();
  for (const std::string &section : sections) {
    std::optional<Node> values = root.get(section);
    if (!values)
      continue;
    const ComponentType *type = find_component_type(section);
    if (!type)
      throw std::logic_error("profile section without a component type: " + section);
    read_sourced_values(*values, type->specs(), section, profile->values[section],
                        profile->sources[section]);
  }
  return profile;
}

// The component types a device file may give defaults for: the endpoints.
const std::vector<std::string> &device_sections() {
  static const std::vector<std::string> sections = [] {
    std::vector<std::string> names;
    for (const ComponentType &t : component_types())
      if (t.role == ComponentRole::Endpoint)
        names.push_back(t.name);
    return names;
  }();
  return sections;
}

} // namespace

std::shared_ptr<const PlatformProfile> load_platform_document(const Node &root,
                                                              const std::string &name) {
  return load_sections(root, name, platform_sections());
}

std::shared_ptr<const PlatformProfile> load_platform(const std::string &name, const Node &where) {
  return load_embedded_profile(kFolder, "platform", name, where, &load_platform_document);
}

std::vector<std::string> device_names() { return embedded_names("devices"); }

std::shared_ptr<const PlatformProfile> load_device_document(const Node &root,
                                                            const std::string &name) {
  return load_sections(root, name, device_sections());
}

std::shared_ptr<const PlatformProfile> load_device(const std::string &name, const Node &where) {
  return load_embedded_profile("devices", "device", name, where, &load_device_document);
}

} // namespace pciesim
