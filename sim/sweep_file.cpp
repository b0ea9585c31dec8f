#include "sim/sweep_file.h"

#include <map>
#include <memory>
#include <set>

#include <fmt/format.h>

#include "sim/json_input.h"
#include "sim/report.h"
#include "sim/scenario.h"
#include "sim/schema_check.h"

namespace pciesim {
namespace {

std::string directory_of(const std::string &path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::string relative_to(const std::string &dir, const std::string &path) {
  if (dir == "." || (!path.empty() && path[0] == '/'))
    return path;
  return dir + "/" + path;
}

// The strict loader checks the file (and reports errors with pointers); the ordered re-parse
// keeps the author's key order in the materialised scenario.json files.
OrderedJson load_ordered(const std::string &path) {
  load_json_file(path);
  return OrderedJson::parse(read_text_file(path));
}

// An axis pointer may name a value of the base document or a key to add to an object in it.
bool pointer_is_settable(const OrderedJson &doc, const std::string &pointer) {
  try {
    OrderedJson::json_pointer p(pointer);
    if (doc.contains(p))
      return true;
    if (p.empty())
      return false;
    OrderedJson::json_pointer parent = p.parent_pointer();
    return doc.contains(parent) && doc.at(parent).is_object();
  } catch (const nlohmann::json::exception &) {
    return false;
  }
}

std::string slug(const std::string &text) {
  std::string s = text;
  // A topology path names the point by its file: "../../topologies/x.json" -> "x".
  if (s.size() > 5 && s.compare(s.size() - 5, 5, ".json") == 0) {
    s = s.substr(0, s.size() - 5);
    s = s.substr(s.rfind('/') == std::string::npos ? 0 : s.rfind('/') + 1);
  }
  std::string out;
  for (char c : s)
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+')
      out += c;
  return out.empty() ? "x" : out;
}

std::string value_slug(const OrderedJson &value) {
  if (value.is_string())
    return slug(value.get<std::string>());
  if (value.is_number() || value.is_boolean())
    return slug(value.dump());
  return "v" + std::to_string(std::hash<std::string>{}(value.dump()) % 10000);
}

struct SweepLoader {
  SweepSpec spec;
  std::string base_label; // for messages: the base file, or "(inline)"
  std::string base_dir;   // what relative topology paths in the base are relative to
  OrderedJson base;
  std::map<std::string, OrderedJson> topologies; // cache, by resolved path
  // Per point, per axis: where its value is written in the sweep file.
  std::vector<std::vector<std::string>> value_pointers;

  const OrderedJson &topology_file(const std::string &path) {
    auto it = topologies.find(path);
    if (it == topologies.end())
      it = topologies.emplace(path, load_ordered(path)).first;
    return it->second;
  }

  void load_base(const Node &node) {
    if (node.is_string()) {
      std::string rel = node.as_string();
      if (rel.empty())
        node.fail("an empty path", "a scenario file path, relative to the sweep file");
      base_label = relative_to(directory_of(spec.file), rel);
      std::shared_ptr<const JsonDocument> doc;
      try {
        doc = load_json_file(base_label);
      } catch (const InputError &e) {
        if (e.pointer().empty() && e.file() == base_label &&
            (e.problem().rfind("cannot open", 0) == 0 || e.problem() == "is a directory"))
          node.fail(
              fmt::format("base scenario \"{}\" {}", base_label,
                          e.problem() == "is a directory" ? "is a directory" : "does not exist"),
              "a path to a scenario file, relative to the sweep file");
        throw;
      }
      if (classify_document(Node::root(doc)) != "scenario")
        node.fail(fmt::format("\"{}\" is not a scenario", base_label),
                  "a scenario file (with \"topology\" and \"transfers\")");
      base = load_ordered(base_label);
      base_dir = directory_of(base_label);
    } else if (node.is_object()) {
      base_label = "(inline)";
      base = load_ordered(spec.file)["base"];
      base_dir = directory_of(spec.file);
    } else {
      node.fail(describe_json_type(node.json()) + " where the base scenario belongs",
                "a scenario file path or an inline scenario object");
    }
  }

  // The topology document of a scenario (after scenario axes were applied), and its name.
  std::pair<const OrderedJson *, std::string> topology_of(const OrderedJson &scenario) {
    if (!scenario.contains("topology"))
      return {nullptr, ""};
    const OrderedJson &t = scenario["topology"];
    if (t.is_string()) {
      std::string path = relative_to(base_dir, t.get<std::string>());
      return {&topology_file(path), path};
    }
    if (t.is_object())
      return {&t,
              base_label == "(inline)" ? "inline in the base scenario" : "inline in " + base_label};
    return {nullptr, ""};
  }

  void check_topology_pointers(const Node &axes, const OrderedJson &topology,
                               const std::string &topology_name) {
    for (std::size_t i = 0; i < spec.axes.size(); ++i) {
      const SweepAxis &axis = spec.axes[i];
      if (axis.document != "topology")
        continue;
      for (std::size_t k = 0; k < axis.pointers.size(); ++k)
        if (!pointer_is_settable(topology, axis.pointers[k])) {
          Node p = axes.at(i).at("pointer");
          (p.is_array() ? p.at(k) : p)
              .fail(
                  fmt::format("{} does not exist in topology {}", axis.pointers[k], topology_name),
                  "a pointer to a value of the topology, or to a new key of an object in it");
        }
    }
  }

  SweepAxis load_axis(const Node &n, const std::set<std::string> &taken) {
    n.require_object();
    n.allow_only({"name", "description", "document", "pointer", "values"});
    SweepAxis axis;
    Node name = n.at("name");
    axis.name = name.as_string();
    if (axis.name.empty())
      name.fail("an empty axis name", "a name, used as the results column");
    if (taken.count(axis.name))
      name.fail(fmt::format("duplicate axis name \"{}\"", axis.name), "unique axis names");
    if (auto d = n.get("description"))
      d->as_string();
    axis.document = "scenario";
    if (auto d = n.get("document"))
      axis.document = d->as_choice({"scenario", "topology"});
    Node pointer = n.at("pointer");
    std::vector<Node> pointers;
    if (pointer.is_array()) {
      if (pointer.size() == 0)
        pointer.fail("no pointers", "a JSON pointer or a non-empty array of them");
      pointers = pointer.items();
    } else {
      pointers.push_back(pointer);
    }
    for (const Node &p : pointers) {
      std::string text = p.as_string();
      if (text.empty() || text[0] != '/')
        p.fail(fmt::format("\"{}\" is not a JSON pointer into the document", text),
               "a JSON pointer such as /transfers/0/size");
      try {
        OrderedJson::json_pointer parsed(text);
      } catch (const nlohmann::json::exception &) {
        p.fail(fmt::format("\"{}\" is not a valid JSON pointer", text), "an RFC 6901 JSON pointer");
      }
      if (axis.document == "scenario" && !pointer_is_settable(base, text))
        p.fail(fmt::format("{} does not exist in {}", text,
                           base_label == "(inline)" ? "the inline base scenario"
                                                    : "base scenario " + base_label),
               "a pointer to a value of the base scenario, or to a new key of an object in it");
      axis.pointers.push_back(text);
    }
    return axis;
  }

  void load(const std::string &path) {
    spec.file = path;
    auto doc = load_json_file(path);
    Node root = Node::root(doc);
    root.require_object();
    root.allow_only({"$schema", "name", "description", "base", "axes", "mode", "points", "seeds"});
    if (auto n = root.get("name"))
      spec.name = n->as_string();
    else
      spec.name = slug(path);
    if (auto n = root.get("description"))
      spec.description = n->as_string();
    load_base(root.at("base"));

    bool points_mode = false;
    if (auto m = root.get("mode"))
      points_mode = m->as_choice({"grid", "points"}) == "points";
    Node axes = root.at("axes");
    axes.require_array();
    if (axes.size() == 0)
      axes.fail("no axes", "at least one axis");
    std::set<std::string> names;
    for (const Node &n : axes.items()) {
      SweepAxis axis = load_axis(n, names);
      names.insert(axis.name);
      if (points_mode) {
        if (n.has("values"))
          n.at("values").fail("values on an axis of a \"points\" sweep",
                              "values given per point in \"points\"");
      } else {
        Node values = n.at("values");
        values.require_array();
        if (values.size() == 0)
          values.fail("no values", "at least one value");
        for (std::size_t j = 0; j < values.size(); ++j)
          axis.values.push_back(OrderedJson::parse(values.at(j).json().dump()));
      }
      spec.axes.push_back(axis);
    }
    if (auto [topology, topology_name] = topology_of(base); topology)
      check_topology_pointers(axes, *topology, topology_name);

    // Each point: one value per axis, and where in this file that value is written.
    std::vector<std::vector<std::pair<OrderedJson, std::string>>> choices;
    if (points_mode) {
      Node points = root.at("points");
      points.require_array();
      if (points.size() == 0)
        points.fail("no points", "at least one point");
      for (const Node &p : points.items()) {
        p.require_object();
        p.allow_only(std::vector<std::string>(names.begin(), names.end()));
        std::vector<std::pair<OrderedJson, std::string>> row;
        for (const SweepAxis &axis : spec.axes) {
          if (!p.has(axis.name))
            p.fail(fmt::format("no value for axis \"{}\"", axis.name), "a value for every axis");
          Node v = p.at(axis.name);
          row.emplace_back(OrderedJson::parse(v.json().dump()), v.pointer());
        }
        choices.push_back(row);
      }
    } else {
      if (root.has("points"))
        root.at("points").fail("points in a \"grid\" sweep",
                               "\"mode\": \"points\", or values on each axis");
      // The first axis varies slowest, the last fastest.
      std::vector<std::size_t> at(spec.axes.size(), 0);
      for (bool more = true; more;) {
        std::vector<std::pair<OrderedJson, std::string>> row;
        for (std::size_t i = 0; i < spec.axes.size(); ++i)
          row.emplace_back(spec.axes[i].values[at[i]], fmt::format("/axes/{}/values/{}", i, at[i]));
        choices.push_back(row);
        more = false;
        for (std::size_t i = spec.axes.size(); i-- > 0;) {
          if (++at[i] < spec.axes[i].values.size()) {
            more = true;
            break;
          }
          at[i] = 0;
        }
      }
    }
    if (auto s = root.get("seeds")) {
      s->require_array();
      if (s->size() == 0)
        s->fail("no seeds", "at least one seed (or leave \"seeds\" out)");
      if (names.count("seed"))
        s->fail("seeds in a sweep that has an axis named \"seed\"", "one of the two");
      SweepAxis seed{"seed", "scenario", {"/seed"}, {}};
      for (const Node &v : s->items())
        seed.values.push_back(v.as_int(0, INT64_MAX));
      std::vector<std::vector<std::pair<OrderedJson, std::string>>> seeded;
      for (const auto &row : choices)
        for (std::size_t j = 0; j < seed.values.size(); ++j) {
          seeded.push_back(row);
          seeded.back().emplace_back(seed.values[j], fmt::format("/seeds/{}", j));
        }
      choices = seeded;
      spec.axes.push_back(seed);
    }
    validate_against_schema(root, "sweep");

    std::size_t digits = std::max<std::size_t>(4, std::to_string(choices.size() - 1).size());
    for (std::size_t index = 0; index < choices.size(); ++index) {
      SweepPoint point;
      point.index = index;
      point.id = fmt::format("p{:0{}}", index, digits);
      std::vector<std::string> sources;
      for (std::size_t i = 0; i < spec.axes.size(); ++i) {
        point.values[spec.axes[i].name] = choices[index][i].first;
        point.id += "_" + slug(spec.axes[i].name) + "-" + value_slug(choices[index][i].first);
        sources.push_back(choices[index][i].second);
      }
      if (point.id.size() > 80)
        point.id.resize(80);
      value_pointers.push_back(sources);
      materialise(point, axes, sources);
      spec.points.push_back(std::move(point));
    }
  }

  // The base with this point's values, topology inlined, checked by the scenario loader.
  void materialise(SweepPoint &point, const Node &axes, const std::vector<std::string> &sources) {
    auto fail_at_value = [&](std::size_t axis, const std::string &problem) {
      throw InputError(spec.file, sources[axis], fmt::format("point {}: {}", point.id, problem));
    };
    OrderedJson scenario = base;
    for (std::size_t i = 0; i < spec.axes.size(); ++i)
      if (spec.axes[i].document == "scenario")
        for (const std::string &p : spec.axes[i].pointers)
          scenario[OrderedJson::json_pointer(p)] = point.values[spec.axes[i].name];
    std::pair<const OrderedJson *, std::string> topology{nullptr, ""};
    try {
      topology = topology_of(scenario);
    } catch (const InputError &e) {
      std::string problem = e.what();
      if (e.pointer().empty() &&
          (e.problem().rfind("cannot open", 0) == 0 || e.problem() == "is a directory"))
        problem =
            fmt::format("topology file \"{}\" {}", e.file(),
                        e.problem() == "is a directory" ? "is a directory" : "does not exist");
      for (std::size_t i = 0; i < spec.axes.size(); ++i)
        for (const std::string &p : spec.axes[i].pointers)
          if (spec.axes[i].document == "scenario" && p == "/topology")
            fail_at_value(i, problem);
      throw;
    }
    if (topology.first) {
      OrderedJson inlined = *topology.first;
      check_topology_pointers(axes, inlined, topology.second);
      for (std::size_t i = 0; i < spec.axes.size(); ++i)
        if (spec.axes[i].document == "topology")
          for (const std::string &p : spec.axes[i].pointers)
            inlined[OrderedJson::json_pointer(p)] = point.values[spec.axes[i].name];
      inlined.erase("$schema");
      scenario["topology"] = inlined;
    } else if (scenario.contains("topology") && scenario["topology"].is_array()) {
      // A workload's list of topologies: each inlined, topology axes applied to every one.
      OrderedJson list = OrderedJson::array();
      for (const OrderedJson &t : scenario["topology"]) {
        OrderedJson inlined =
            t.is_string() ? topology_file(relative_to(base_dir, t.get<std::string>())) : t;
        for (std::size_t i = 0; i < spec.axes.size(); ++i)
          if (spec.axes[i].document == "topology")
            for (const std::string &p : spec.axes[i].pointers)
              inlined[OrderedJson::json_pointer(p)] = point.values[spec.axes[i].name];
        inlined.erase("$schema");
        list.push_back(inlined);
      }
      scenario["topology"] = list;
    }
    scenario["name"] = spec.name + "/" + point.id;
    point.scenario = scenario;

    const std::string label = spec.file + " point " + point.id;
    try {
      Node root = Node::root(parse_json_text(scenario.dump(), label));
      load_scenario(root, base_dir);
      validate_against_schema(root, "scenario");
    } catch (const InputError &e) {
      if (e.file() != label)
        throw;
      std::string detail = std::string(e.what()).substr(label.size() + 1);
      std::string message = detail.substr(detail.find(": ") + 2);
      // Blame the axis value that put the bad value there, when one did.
      for (std::size_t i = 0; i < spec.axes.size(); ++i)
        for (const std::string &p : spec.axes[i].pointers) {
          std::string at = spec.axes[i].document == "topology" ? "/topology" + p : p;
          if (e.pointer() == at || e.pointer().rfind(at + "/", 0) == 0)
            fail_at_value(i, message);
        }
      // Otherwise the problem is the base's own, the same for every point: name its place.
      const std::string &at = e.pointer();
      bool in_topology = at == "/topology" || at.rfind("/topology/", 0) == 0;
      if (in_topology && base.contains("topology") && base["topology"].is_string() &&
          at != "/topology")
        throw InputError(topology.second, at.substr(9), message);
      if (base_label == "(inline)")
        throw InputError(spec.file, "/base" + at, message);
      throw InputError(base_label, at, message);
    }
  }
};

} // namespace

SweepSpec load_sweep_file(const std::string &path) {
  SweepLoader loader;
  loader.load(path);
  return loader.spec;
}

OrderedJson sweep_manifest(const SweepSpec &spec) {
  OrderedJson m;
  m["sweep"] = spec.name;
  m["description"] = spec.description;
  m["axes"] = OrderedJson::array();
  for (const SweepAxis &axis : spec.axes)
    m["axes"].push_back(
        {{"name", axis.name}, {"document", axis.document}, {"pointers", axis.pointers}});
  m["points"] = OrderedJson::array();
  for (const SweepPoint &p : spec.points)
    m["points"].push_back({{"index", p.index}, {"id", p.id}, {"values", p.values}});
  return m;
}

} // namespace pciesim
