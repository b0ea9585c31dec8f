// Fills a ParamSet from a JSON "params" object using a model's ParamSpec table: unknown keys,
// wrong kinds, bad units and out-of-range values are InputErrors at the exact pointer.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "models/common/params.h"
#include "sim/config/json_input.h"

namespace pciesim {

// `platform` holds values that replace the specs' defaults (a platform file's, sim/config/
// platform.h); the user's params win over both.
ParamSet resolve_params(const std::vector<ParamSpec> &specs, const std::optional<Node> &params,
                        const std::map<std::string, Node> &platform = {});
// Parses one value of a spec from a node (also used for sweep axes and overrides).
ParamValue parse_param_value(const ParamSpec &spec, const Node &node);

} // namespace pciesim
