#include "sim/config/platform.h"

#include <algorithm>

#include <fmt/format.h>

#include "sim/config/component_catalog.h"
#include "sim/config/embedded_files.h"
#include "sim/config/param_loader.h"

namespace pciesim {
namespace {

const std::string kPrefix = "platforms/";
const std::string kSuffix = ".json";

// The component types a platform file may give defaults for.
const std::vector<std::string> &platform_sections() {
  static const std::vector<std::string> sections = {"root_complex", "host_memory",
                                                    "inter_socket_link"};
  return sections;
}

const ParamSpec *find_spec(const ComponentType &type, const std::string &name) {
  for (const ParamSpec &spec : type.specs())
    if (spec.name == name)
      return &spec;
  return nullptr;
}

} // namespace

std::vector<std::string> platform_names() {
  std::vector<std::string> names;
  for (const EmbeddedFile &f : embedded_files())
    if (f.path.rfind(kPrefix, 0) == 0 && f.path.size() > kPrefix.size() + kSuffix.size() &&
        f.path.compare(f.path.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0)
      names.push_back(
          f.path.substr(kPrefix.size(), f.path.size() - kPrefix.size() - kSuffix.size()));
  std::sort(names.begin(), names.end());
  return names;
}

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
    n->fail(fmt::format("\"{}\" in a file named {}{}", n->as_string(), name, kSuffix),
            "the file's name without .json");
  profile->description = root.at("description").as_string();
  for (const std::string &section : platform_sections()) {
    std::optional<Node> values = root.get(section);
    if (!values)
      continue;
    values->require_object();
    const ComponentType *type = find_component_type(section);
    if (!type)
      throw std::logic_error("platform section without a component type: " + section);
    for (const std::string &key : values->keys()) {
      Node entry = values->at(key);
      const ParamSpec *spec = find_spec(*type, key);
      if (!spec)
        entry.fail(fmt::format("\"{}\" is not a parameter of {}", key, section),
                   "one of the parameters in docs/file-formats.md, Parameter reference");
      entry.require_object();
      entry.allow_only({"value", "source"});
      Node value = entry.at("value");
      if (!entry.has("source"))
        entry.fail(fmt::format("the value of \"{}\" has no source", key),
                   "a \"source\": where the figure was published, or \"estimate: <why>\"");
      std::string source = entry.at("source").as_string();
      if (source.empty())
        entry.at("source").fail("an empty source",
                                "where the figure was published, or \"estimate: <why>\"");
      parse_param_value(*spec, value); // a bad value fails here, at the platform file
      profile->values[section].emplace(key, value);
      profile->sources[section][key] = source;
    }
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
  std::string path = kPrefix + name + kSuffix;
  auto profile =
      load_platform_document(Node::root(parse_json_text(embedded_file(path), path)), name);
  loaded.emplace(name, profile);
  return profile;
}

} // namespace pciesim
