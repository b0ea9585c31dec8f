// What platform files (platforms/<name>.json) and driver profiles (drivers/<name>.json) have in
// common: they are embedded data files, found by name, whose values each carry the published
// source they come from ({"value": ..., "source": "..."}), checked against the parameter table
// they give defaults to when loaded, so a bad file fails at its own pointer.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "models/common/params.h"
#include "sim/config/json_input.h"

namespace pciesim {

// The names of the embedded files `<folder>/<name>.json`, sorted.
std::vector<std::string> embedded_names(const std::string &folder);

// Checks `section` ({"key": {"value": v, "source": "..."}, ...}) against `specs` (`what` names
// them in messages, e.g. "root_complex") and adds each value's node and source.
void read_sourced_values(const Node &section, const std::vector<ParamSpec> &specs,
                         const std::string &what, std::map<std::string, Node> &values,
                         std::map<std::string, std::string> &sources);

} // namespace pciesim
