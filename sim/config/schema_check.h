// Structural validation with valijson against the JSON Schemas in schemas/ (compiled in).
// The first, most specific violation becomes an InputError at its JSON pointer; semantic
// checks (units, ranges, references, topology rules) follow in the loaders.
#pragma once

#include <string>

#include "sim/config/json_input.h"

namespace pciesim {

// kind: "topology" or "scenario".
void validate_against_schema(const Node &root, const std::string &kind);

} // namespace pciesim
