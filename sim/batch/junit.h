// The JUnit XML report of `pciesim check` (--junit FILE), made from the checks of its
// scenario files.
#pragma once

#include <string>
#include <vector>

#include "sim/batch/check.h"

namespace pciesim {

// One <testsuite> per scenario file, in the order given.
std::string junit_xml(const std::vector<ScenarioCheck> &checks);

} // namespace pciesim
