// Building a sweep point's scenario from the inputs as read once (see sweep_point_builder.h).
#include "sim/batch/sweep_point_builder.h"

#include <fmt/format.h>

#include "sim/config/json_input.h"
#include "sim/config/overrides.h"
#include "sim/util/content_hash.h"
#include "sim/util/file_io.h"

namespace pciesim {

std::string relative_to(const std::string &dir, const std::string &path) {
  return dir == "." ? path : path_in_directory(dir, path);
}

namespace {

// Sets an axis value in a document (`file` names it in an error): selectors are resolved in
// it and the object members it lacks are made, as `--set` does.
void put_axis_value(OrderedJson &doc, const std::string &pointer, const OrderedJson &value,
                    const std::string &file) {
  try {
    set_at_pointer(doc, pointer, value);
  } catch (const PointerProblem &p) {
    throw InputError(file, p.at, fmt::format("axis pointer {}: {}", pointer, p.problem),
                     p.expected);
  }
}

// Puts the overrides of one kind into `doc`; an error names `file` and the place in it,
// `prefix` (a pointer) leading to the document inside that file.
void put_overrides(OrderedJson &doc, const std::vector<JsonOverride> &overrides, bool topology,
                   const std::string &file, const std::string &prefix) {
  for (const JsonOverride &o : overrides) {
    if (o.topology != topology)
      continue;
    try {
      set_at_pointer(doc, o.pointer, OrderedJson::parse(o.value.dump()));
    } catch (const PointerProblem &p) {
      throw InputError(
          file, prefix + p.at,
          fmt::format("--set {}{}: {}", topology ? "topology:" : "", o.pointer, p.problem),
          p.expected);
    }
  }
}

} // namespace

SweepPointBuilder::SweepPointBuilder(std::string sweep_file, SweepFileReader read)
    : sweep_file_(std::move(sweep_file)), sweep_dir_(directory_of(sweep_file_)),
      read_(std::move(read)) {}

// The bytes of an input file, whose hash goes into the manifest.
std::string SweepPointBuilder::read_input(const std::string &path) {
  std::string bytes = read_(path);
  inputs.push_back({manifest_name(path), sha256_hex(bytes)});
  return bytes;
}

// An input's JSON in the author's key order, after the strict reader checked it.
OrderedJson SweepPointBuilder::read_ordered(const std::string &path) {
  std::string bytes = read_input(path);
  parse_json_text(bytes, path);
  return OrderedJson::parse(bytes);
}

const OrderedJson &SweepPointBuilder::topology_file(const std::string &path) {
  auto it = topologies_.find(path);
  if (it == topologies_.end()) {
    OrderedJson topology = read_ordered(path);
    put_overrides(topology, overrides, true, path, "");
    it = topologies_.emplace(path, std::move(topology)).first;
  }
  return it->second;
}

// The topology document of a scenario (after scenario axes were applied), and its name.
std::pair<const OrderedJson *, std::string>
SweepPointBuilder::topology_of(const OrderedJson &scenario) {
  if (!scenario.contains("topology"))
    return {nullptr, ""};
  const OrderedJson &t = scenario["topology"];
  if (t.is_string()) {
    std::string path = relative_to(base_dir, t.get<std::string>());
    return {&topology_file(path), path};
  }
  if (t.is_object())
    return {&t, inline_name()};
  return {nullptr, ""};
}

std::string SweepPointBuilder::inline_name() const {
  return base_label == "(inline)" ? "inline in the base scenario" : "inline in " + base_label;
}

void SweepPointBuilder::apply_scenario_overrides(const std::string &sweep_file) {
  const bool inline_base = base_label == "(inline)";
  const std::string file = inline_base ? sweep_file : base_label;
  const std::string prefix = inline_base ? "/base" : "";
  put_overrides(base, overrides, false, file, prefix);
  if (!base.contains("topology"))
    return;
  OrderedJson &t = base["topology"];
  if (t.is_object())
    put_overrides(t, overrides, true, file, prefix + "/topology");
  for (std::size_t i = 0; t.is_array() && i < t.size(); ++i)
    if (t[i].is_object())
      put_overrides(t[i], overrides, true, file, fmt::format("{}/topology/{}", prefix, i));
}

OrderedJson SweepPointBuilder::with_scenario_values(const SweepPoint &point) const {
  OrderedJson scenario = base;
  for (const SweepAxis &axis : axes)
    if (axis.document == "scenario")
      for (const std::string &p : axis.pointers)
        put_axis_value(scenario, p, point.values.at(axis.name), base_label);
  return scenario;
}

// Inlines the scenario's topology (found by topology_of), or each of a workload's list, with
// the topology axes applied; `check` sees each topology before that. Sets the point's name.
void SweepPointBuilder::inline_topologies(
    OrderedJson &scenario, const SweepPoint &point,
    const std::pair<const OrderedJson *, std::string> &topology, const TopologyCheck &check) {
  auto inlined = [&](const OrderedJson &t, const std::string &name) {
    if (check)
      check(t, name);
    OrderedJson copy = t;
    for (const SweepAxis &axis : axes)
      if (axis.document == "topology")
        for (const std::string &p : axis.pointers)
          put_axis_value(copy, p, point.values.at(axis.name), name);
    if (copy.is_object())
      copy.erase("$schema");
    return copy;
  };
  if (topology.first) {
    scenario["topology"] = inlined(*topology.first, topology.second);
  } else if (scenario.contains("topology") && scenario["topology"].is_array()) {
    // A workload's list of topologies: each inlined, topology axes applied to every one.
    OrderedJson list = OrderedJson::array();
    for (const OrderedJson &t : scenario["topology"]) {
      if (t.is_string()) {
        std::string path = relative_to(base_dir, t.get<std::string>());
        list.push_back(inlined(topology_file(path), path));
      } else if (t.is_object()) {
        list.push_back(inlined(t, inline_name()));
      } else {
        list.push_back(t); // not a topology: the scenario loader says so
      }
    }
    scenario["topology"] = list;
  }
  scenario["name"] = sweep_name + "/" + point.id;
}

OrderedJson SweepPointBuilder::build(const SweepPoint &point) {
  OrderedJson scenario = with_scenario_values(point);
  inline_topologies(scenario, point, topology_of(scenario), nullptr);
  return scenario;
}

// The manifest names an input by its path relative to the sweep file's directory as the
// sweep and base write it (absolute paths as they are), so that the manifest does not
// depend on the directory the sweep was started from.
std::string SweepPointBuilder::manifest_name(const std::string &path) const {
  if (path == sweep_file_)
    return path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  if (sweep_dir_ != "." && path.rfind(sweep_dir_ + "/", 0) == 0)
    return path.substr(sweep_dir_.size() + 1);
  return path;
}

} // namespace pciesim
