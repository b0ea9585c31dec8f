#include "sim/config/sourced_values.h"

#include <algorithm>

#include <fmt/format.h>

#include "sim/config/embedded_files.h"
#include "sim/config/param_loader.h"

namespace pciesim {

std::vector<std::string> embedded_names(const std::string &folder) {
  const std::string prefix = folder + "/", suffix = ".json";
  std::vector<std::string> names;
  for (const EmbeddedFile &f : embedded_files())
    if (f.path.rfind(prefix, 0) == 0 && f.path.size() > prefix.size() + suffix.size() &&
        f.path.compare(f.path.size() - suffix.size(), suffix.size(), suffix) == 0)
      names.push_back(f.path.substr(prefix.size(), f.path.size() - prefix.size() - suffix.size()));
  std::sort(names.begin(), names.end());
  return names;
}

void check_document_name(const Node &root, const std::string &name) {
  if (auto n = root.get("name"); n && n->as_string() != name)
    n->fail(fmt::format("\"{}\" in a file named {}.json", n->as_string(), name),
            "the file's name without .json");
}

void require_embedded_name(const std::string &folder, const std::string &kind,
                           const std::string &name, const Node &where) {
  std::vector<std::string> names = embedded_names(folder);
  if (std::find(names.begin(), names.end(), name) == names.end())
    where.fail(fmt::format("unknown {} \"{}\"", kind, name),
               "one of: " + join(names, ", ") + " (pciesim describe lists them)");
}

void read_sourced_values(const Node &section, const std::vector<ParamSpec> &specs,
                         const std::string &what, std::map<std::string, Node> &values,
                         std::map<std::string, std::string> &sources) {
  section.require_object();
  for (const std::string &key : section.keys()) {
    Node entry = section.at(key);
    auto spec = std::find_if(specs.begin(), specs.end(),
                             [&key](const ParamSpec &s) { return s.name == key; });
    if (spec == specs.end())
      entry.fail(fmt::format("\"{}\" is not a parameter of {}", key, what),
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
    parse_param_value(*spec, value); // a bad value fails here, at the data file
    values.emplace(key, value);
    sources[key] = source;
  }
}

} // namespace pciesim
