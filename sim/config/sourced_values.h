// What platform files (platforms/<name>.json) and driver profiles (drivers/<name>.json) have in
// common: they are embedded data files, found by name, whose values each carry the published
// source they come from ({"value": ..., "source": "..."}), checked against the parameter table
// they give defaults to when loaded, so a bad file fails at its own pointer.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/common/params.h"
#include "sim/config/embedded_files.h"
#include "sim/config/json_input.h"

namespace pciesim {

// The names of the embedded files `<folder>/<name>.json`, sorted.
std::vector<std::string> embedded_names(const std::string &folder);

// Checks `section` ({"key": {"value": v, "source": "..."}, ...}) against `specs` (`what` names
// them in messages, e.g. "root_complex") and adds each value's node and source.
void read_sourced_values(const Node &section, const std::vector<ParamSpec> &specs,
                         const std::string &what, std::map<std::string, Node> &values,
                         std::map<std::string, std::string> &sources);

// A profile document's optional "name" must be its file's name without .json.
void check_document_name(const Node &root, const std::string &name);

// The names of the embedded `<folder>/*.json` files, and one of them: `where` (the node naming
// it) is blamed with the list when there is none; `kind` says what it is ("platform").
void require_embedded_name(const std::string &folder, const std::string &kind,
                           const std::string &name, const Node &where);

// The embedded profile `<folder>/<name>.json`, read by `load_document` once per process.
template <class Profile>
std::shared_ptr<const Profile> load_embedded_profile(
    const std::string &folder, const std::string &kind, const std::string &name, const Node &where,
    std::shared_ptr<const Profile> (*load_document)(const Node &, const std::string &)) {
  require_embedded_name(folder, kind, name, where);
  static std::map<std::string, std::shared_ptr<const Profile>> loaded;
  if (auto found = loaded.find(name); found != loaded.end())
    return found->second;
  const std::string path = folder + "/" + name + ".json";
  auto profile = load_document(Node::root(parse_json_text(embedded_file(path), path)), name);
  loaded.emplace(name, profile);
  return profile;
}

} // namespace pciesim
