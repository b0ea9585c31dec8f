#include "sim/config/param_loader.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace pciesim {
namespace {

bool is_power_of_two(std::uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

std::string bound_text(const ParamSpec &spec, double value) {
  switch (spec.kind) {
  case ParamKind::size:
    return format_bytes(Bytes{static_cast<std::uint64_t>(value)});
  case ParamKind::time:
    return format_duration(Duration{static_cast<std::int64_t>(value)});
  case ParamKind::rate:
    return format_bandwidth(Bandwidth{value});
  default:
    return fmt::format("{}", value);
  }
}

void check_bounds(const ParamSpec &spec, const Node &node, double value) {
  if (value < spec.min || (spec.max > 0 && value > spec.max)) {
    std::string expected = spec.max > 0 ? fmt::format("from {} to {}", bound_text(spec, spec.min),
                                                      bound_text(spec, spec.max))
                                        : fmt::format("at least {}", bound_text(spec, spec.min));
    node.fail(fmt::format("{} is out of range for \"{}\"", node.json().dump(), spec.name),
              expected);
  }
}

} // namespace

ParamValue parse_param_value(const ParamSpec &spec, const Node &node) {
  switch (spec.kind) {
  case ParamKind::size: {
    Bytes b = node.as_bytes();
    check_bounds(spec, node, static_cast<double>(b.count));
    if (spec.power_of_two && !is_power_of_two(b.count))
      node.fail(fmt::format("{} is not a power of two", node.json().dump()),
                "a power of two such as \"256 B\" or \"1 MiB\"");
    return b;
  }
  case ParamKind::time: {
    Duration d = node.as_duration();
    check_bounds(spec, node, static_cast<double>(d.ps));
    return d;
  }
  case ParamKind::rate: {
    Bandwidth bw = node.as_bandwidth();
    check_bounds(spec, node, bw.bytes_per_second);
    return bw;
  }
  case ParamKind::integer: {
    std::int64_t max = spec.max > 0 ? static_cast<std::int64_t>(spec.max) : INT64_MAX;
    return node.as_int(static_cast<std::int64_t>(spec.min), max);
  }
  case ParamKind::boolean:
    return node.as_bool();
  case ParamKind::choice:
    return node.as_choice(spec.choices);
  case ParamKind::generation: {
    if (node.is_string()) {
      std::string text = node.as_string();
      Parsed<int> gen = parse_generation_rate(text);
      if (!gen.value)
        node.fail(fmt::format("\"{}\" is not a PCIe rate", text), gen.error);
      return static_cast<std::int64_t>(*gen.value);
    }
    return node.as_int(1, 6);
  }
  }
  node.fail("unsupported parameter kind");
}

ParamSet resolve_params(const std::vector<ParamSpec> &specs, const std::optional<Node> &params,
                        const std::map<std::string, Node> &platform) {
  // Which parameter each key given names (each key looked up once: a topology's components
  // give a few of their table's dozens of parameters, and a large topology has many).
  std::vector<std::optional<Node>> given_by_spec(specs.size());
  if (params) {
    params->require_object();
    for (const std::string &key : params->keys()) {
      auto spec = std::find_if(specs.begin(), specs.end(),
                               [&](const ParamSpec &s) { return s.name == key; });
      if (spec == specs.end()) { // names the key and lists the table
        std::vector<std::string> names;
        for (const ParamSpec &s : specs)
          names.push_back(s.name);
        params->allow_only(names);
      }
      given_by_spec[static_cast<std::size_t>(spec - specs.begin())] = params->at(key);
    }
  }
  std::vector<ParamValue> values;
  std::vector<bool> overridden;
  values.reserve(specs.size());
  overridden.reserve(specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const ParamSpec &spec = specs[i];
    const std::optional<Node> &given = given_by_spec[i];
    if (given) {
      values.push_back(parse_param_value(spec, *given));
      overridden.push_back(true);
    } else if (auto from_platform = platform.find(spec.name); from_platform != platform.end()) {
      values.push_back(parse_param_value(spec, from_platform->second));
      overridden.push_back(false);
    } else {
      // Defaults go through the same parser, so the documented text is what runs.
      if (!spec.parsed_default) {
        auto doc = std::make_shared<JsonDocument>();
        doc->file = "<default of " + spec.name + ">";
        doc->root = spec.default_value;
        spec.parsed_default = parse_param_value(spec, Node::root(doc));
      }
      values.push_back(*spec.parsed_default);
      overridden.push_back(false);
    }
  }
  ParamSet set(&specs, std::move(values), std::move(overridden));
  // Cross-field rules run on the resolved values; the parameter they blame names the pointer
  // when the user wrote it, the params object otherwise.
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const ParamSpec &spec = specs[i];
    if (!spec.check.problem)
      continue;
    std::string problem = spec.check.problem(set);
    if (problem.empty())
      continue;
    if (const std::optional<Node> &given = given_by_spec[i])
      given->fail(problem, spec.check.expected);
    if (params)
      params->fail(problem, spec.check.expected);
    throw std::logic_error("the defaults of a parameter table break its rule: " + problem);
  }
  return set;
}

} // namespace pciesim
