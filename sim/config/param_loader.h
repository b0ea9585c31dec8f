// Fills a ParamSet from a JSON "params" object using a model's ParamSpec table: unknown keys,
// wrong kinds, bad units and out-of-range values are InputErrors at the exact pointer.
#pragma once

#include <optional>
#include <vector>

#include "models/common/params.h"
#include "sim/config/json_input.h"

namespace pciesim {

ParamSet resolve_params(const std::vector<ParamSpec> &specs, const std::optional<Node> &params);
// Parses one value of a spec from a node (also used for sweep axes and overrides).
ParamValue parse_param_value(const ParamSpec &spec, const Node &node);

} // namespace pciesim
