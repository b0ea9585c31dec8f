// Expectations: a scenario's "expect" array of checks against its own results.json, so that
// a scenario can assert what it should show (a bandwidth near its analytic value, one path
// faster than another) and `pciesim run` / `pciesim check` can fail when it does not.
//
// Syntax (docs/file-formats.md, "expect"):
//   {"metric": "/transfers/nic-write/bandwidth_GBps", ">=": 6.5}
//   {"metric": "/transfers/0/bandwidth_GBps", "within": 0.01, "value": 6.615}
//   {"ratio": ["/transfers/p2p/bandwidth_GBps", "/transfers/host/bandwidth_GBps"], ">=": 1.5}
//   {"sum": ["/transfers/there/bandwidth_GBps", "/transfers/back/bandwidth_GBps"], ...}
//   {"max": ["/transfers/there/latency_ns/p50", "/transfers/back/latency_ns/p50"], ...}
// The operator key holds the expected value, except "within", which holds a relative
// tolerance and takes the expected value from "value".
//
// Metric pointers are JSON pointers into results.json, with one extension for arrays: a
// segment that is not an array index selects the element whose "id" equals it
// (/transfers/nic-write), or, written key=value, the element whose field "key" equals "value"
// (/links/from=sw0.up/utilization). Digits alone are always an index.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/config/json_input.h"

namespace pciesim {

struct ScenarioConfig;

struct Expectation {
  std::string name;        // given, or made from the metric and comparison
  std::string description; // where the expected number comes from
  std::string pointer;     // where it is in the scenario file, e.g. /expect/2
  // How the metrics combine into the value checked: one alone, a ratio (first / second), a
  // difference (first - second: what a hop adds), a sum (a bidirectional total) or the
  // largest (a pair of copies started together ends with its slower one).
  enum class Combination { single, ratio, difference, sum, max };
  std::vector<std::string> metric; // one pointer, two for a ratio or a difference, or more
  Combination combination = Combination::single;
  std::string comparison;          // "<", "<=", ">", ">=", "==", "!=", "within"
  nlohmann::ordered_json expected; // a number (or a string for == and !=)
  double tolerance = 0;            // relative, for "within"
};

struct ExpectationOutcome {
  Expectation expectation;
  nlohmann::ordered_json actual; // null when the metric could not be read
  bool passed = false;
  std::string message;
};

// Parses a scenario's "expect" array strictly; throws InputError at the exact pointer.
std::vector<Expectation> parse_expectations(const Node &expect);
// The expectations of a loaded scenario (empty when it has none).
std::vector<Expectation> scenario_expectations(const ScenarioConfig &scenario);

// Resolves a metric pointer (syntax above) in `results`; nullptr if it names nothing.
const nlohmann::ordered_json *resolve_metric(const nlohmann::ordered_json &results,
                                             const std::string &pointer);

std::vector<ExpectationOutcome> evaluate_expectations(const std::vector<Expectation> &expectations,
                                                      const nlohmann::ordered_json &results);

// The "expectations" array of results.json: {name, metric, comparison, expected, actual,
// passed, message} per expectation (and "tolerance" for "within").
nlohmann::ordered_json expectations_json(const std::vector<ExpectationOutcome> &outcomes);

// "PASS name" or "FAIL name: message".
std::string format_outcome(const ExpectationOutcome &outcome);

// How a metric is shown in messages and results.json: the pointer, or "ratio(A, B)".
std::string describe_metric(const Expectation &expectation);

} // namespace pciesim
