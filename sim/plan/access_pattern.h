// The order in which a stream of equal accesses visits its region, shared by plain transfers
// and workload phases (pcie-bench's access patterns: Neugebauer et al., SIGCOMM 2018, §4):
// sequential (back to back), strided (a fixed step), or random within the region (a window),
// each access at a uniformly drawn slot aligned to the access size, from a seeded generator so
// that a run is reproducible.
#pragma once

#include <cstdint>

#include "models/common/splitmix64.h"
#include "sim/config/json_input.h"

namespace pciesim {

enum class AccessPattern { Sequential, Random, Strided };

const char *access_pattern_name(AccessPattern pattern);

// The "pattern" key of `object` and whether its "stride" key is allowed: a stride needs
// "strided", and "strided" needs a stride. `stride_alone_is_strided` (plain transfers, which
// took a stride before they took a pattern): a stride without a pattern means "strided".
AccessPattern load_access_pattern(const Node &object, bool stride_alone_is_strided);

} // namespace pciesim
