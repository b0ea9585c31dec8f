// Loading a sweep file (see sweep_file.h): the base, the axes and their checks, every point
// materialised and checked by the scenario loader; and the manifest that defines the points.
#include "sim/batch/sweep_file.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "sim/batch/sweep_axis_values.h"
#include "sim/batch/sweep_crossover.h"
#include "sim/batch/sweep_point_builder.h"
#include "sim/config/json_input.h"
#include "sim/config/overrides.h"
#include "sim/config/schema_check.h"
#include "sim/plan/scenario.h"
#include "sim/report/report.h"
#include "sim/util/content_hash.h"
#include "sim/util/file_io.h"

namespace pciesim {
namespace {

// The file system reader: every input gets load_json_file's checks and messages (a JSON
// syntax error names its pointer), and its bytes are kept for the content hash.
std::string read_checked_json_text(const std::string &path) {
  std::string text = read_input_file(path, kMaxInputFileBytes);
  parse_json_text(text, path == "-" ? std::string(kStandardInputName) : path);
  return text;
}

// Why an axis pointer cannot be set in `doc` (see settable_pointer), or nothing: it may name a
// value of the document, select array elements by a member, or name members to add to objects.
std::optional<PointerProblem> unsettable(const OrderedJson &doc, const std::string &pointer) {
  try {
    settable_pointer(doc, pointer);
    return std::nullopt;
  } catch (const PointerProblem &problem) {
    return problem;
  }
}

// The message of an axis pointer that `doc` (named `where`) cannot take.
// Fails at `node` (an axis pointer) with why `doc` (named `where`) cannot take it.
[[noreturn]] void fail_unsettable(const Node &node, const std::string &pointer,
                                  const std::string &where, const PointerProblem &problem) {
  if (pointer.find('[') == std::string::npos)
    node.fail(fmt::format("{} does not exist in {}", pointer, where),
              "a pointer to a value of the document, to a new key of an object in it, or "
              "through an array element selected by a member ([id=gpu0])");
  node.fail(fmt::format("{} in {}: {}", pointer, where, problem.problem), problem.expected);
}

// A part of a point id (a directory name): letters, digits and . - + _ =, a ',' as '+'.
std::string slug(const std::string &text) {
  std::string s = text;
  // A topology path names the point by its file: "../../topologies/x.json" -> "x".
  if (s.size() > 5 && s.compare(s.size() - 5, 5, ".json") == 0) {
    s = s.substr(0, s.size() - 5);
    s = s.substr(s.rfind('/') == std::string::npos ? 0 : s.rfind('/') + 1);
  }
  std::string out;
  for (char c : s)
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' ||
        c == '_' || c == '=')
      out += c;
    else if (c == ',')
      out += '+';
  return out.empty() ? "x" : out;
}

// The value's label as an id part: `migrate_to_ram_pages=1`, `64KiB`, `gen4x16` (a path).
std::string value_slug(const OrderedJson &value) { return slug(axis_value_label(value)); }

// Where pointer k of axis i is written in the sweep file.
Node pointer_node(const Node &axes, std::size_t i, std::size_t k) {
  Node p = axes.at(i).at("pointer");
  return p.is_array() ? p.at(k) : p;
}

} // namespace

namespace {
struct SweepLoader {
  SweepSpec spec;
  std::shared_ptr<SweepPointBuilder> builder;
  std::size_t max_points = kMaxSweepPoints;

  void load_base(const Node &node, const std::string &sweep_bytes) {
    SweepPointBuilder &b = *builder;
    if (node.is_string()) {
      std::string rel = node.as_string();
      if (rel.empty())
        node.fail("an empty path", "a scenario file path, relative to the sweep file");
      b.base_label = relative_to(directory_of(spec.file), rel);
      std::string bytes;
      try {
        bytes = b.read_input(b.base_label);
      } catch (const InputError &e) {
        if (e.pointer().empty() && e.file() == b.base_label &&
            (e.problem().rfind("cannot open", 0) == 0 || e.problem() == "is a directory"))
          node.fail(
              fmt::format("base scenario \"{}\" {}", b.base_label,
                          e.problem() == "is a directory" ? "is a directory" : "does not exist"),
              "a path to a scenario file, relative to the sweep file");
        throw;
      }
      if (classify_document(Node::root(parse_json_text(bytes, b.base_label))) != "scenario")
        node.fail(fmt::format("\"{}\" is not a scenario", b.base_label),
                  "a scenario file (with \"topology\" and \"transfers\")");
      b.base = OrderedJson::parse(bytes);
      b.base_dir = directory_of(b.base_label);
    } else if (node.is_object()) {
      b.base_label = "(inline)";
      b.base = OrderedJson::parse(sweep_bytes)["base"];
      b.base_dir = directory_of(spec.file);
    } else {
      node.fail(describe_json_type(node.json()) + " where the base scenario belongs",
                "a scenario file path or an inline scenario object");
    }
  }

  void check_topology_pointers(const Node &axes, const OrderedJson &topology,
                               const std::string &topology_name) {
    for (std::size_t i = 0; i < spec.axes.size(); ++i) {
      const SweepAxis &axis = spec.axes[i];
      if (axis.document != "topology")
        continue;
      for (std::size_t k = 0; k < axis.pointers.size(); ++k)
        if (auto problem = unsettable(topology, axis.pointers[k]))
          fail_unsettable(pointer_node(axes, i, k), axis.pointers[k], "topology " + topology_name,
                          *problem);
    }
  }

  // An axis name is a column of results.csv (and of mechanisms.csv, for a workload sweep).
  void check_axis_name(const Node &name, const std::set<std::string> &taken) {
    std::string text = name.as_string();
    if (text.empty())
      name.fail("an empty axis name", "a name, used as the results column");
    if (taken.count(text))
      name.fail(fmt::format("duplicate axis name \"{}\"", text), "unique axis names");
    auto is_column_of = [&](const std::vector<std::string> &columns, const char *file) {
      for (const std::string &column : columns)
        if (column == text)
          name.fail(fmt::format("\"{}\" is a column of {} already", text, file),
                    "an axis name that is not a column of the results files");
    };
    is_column_of(sweep_results_columns(), "results.csv");
    if (builder->base.contains("workload")) {
      is_column_of(sweep_mechanisms_columns(), "mechanisms.csv");
      is_column_of(sweep_crossovers_columns(), "crossovers.csv");
      is_column_of(sweep_verdicts_columns(), "verdicts.csv");
    }
  }

  SweepAxis load_axis(const Node &n, const std::set<std::string> &taken) {
    n.require_object();
    n.allow_only({"name", "description", "document", "pointer", "values"});
    SweepAxis axis;
    check_axis_name(n.at("name"), taken);
    axis.name = n.at("name").as_string();
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
      if (axis.document == "scenario")
        if (auto problem = unsettable(builder->base, text))
          fail_unsettable(p, text,
                          builder->base_label == "(inline)"
                              ? "the inline base scenario"
                              : "base scenario " + builder->base_label,
                          *problem);
      axis.pointers.push_back(text);
    }
    return axis;
  }

  // Each value of a point is set by one axis: two pointers that overlap (equal, or one inside
  // the other's value) would have one axis silently undo the other, and the sweep itself sets
  // /name (and /seed, with "seeds") after the axes.
  void check_axes_apart(const Node &axes, bool seeded) {
    const OrderedJson &base_topology = builder->base.value("topology", OrderedJson());
    // A scenario pointer into an inline topology, as a pointer into the topology document
    // ("" when it names a whole topology, which topology axes then apply to).
    auto into_topology = [&](const std::string &p) -> std::string {
      if (p.rfind("/topology/", 0) != 0)
        return "";
      std::string rest = p.substr(9);
      if (base_topology.is_array()) {
        auto next = rest.find('/', 1);
        rest = next == std::string::npos ? "" : rest.substr(next);
      }
      return rest;
    };
    // Selectors resolved (in the base, or the base's first topology), so that
    // /transfers[id=w]/size and /transfers/0/size are seen to be one value.
    const OrderedJson *topology = builder->topology_of(builder->base).first;
    auto plain = [&](std::size_t i, std::size_t k) {
      const std::string &p = spec.axes[i].pointers[k];
      const OrderedJson *doc = spec.axes[i].document == "topology" ? topology : &builder->base;
      return !doc || unsettable(*doc, p) ? p : settable_pointer(*doc, p);
    };
    auto describe = [&](std::size_t i, std::size_t k) {
      const SweepAxis &axis = spec.axes[i];
      return fmt::format("{}{} of axis \"{}\"", axis.document == "topology" ? "topology " : "",
                         axis.pointers[k], axis.name);
    };
    for (std::size_t i = 0; i < spec.axes.size(); ++i)
      for (std::size_t k = 0; k < spec.axes[i].pointers.size(); ++k) {
        const SweepAxis &axis = spec.axes[i];
        const std::string &p = axis.pointers[k];
        Node at = pointer_node(axes, i, k);
        if (axis.document == "scenario" && json_pointers_overlap(p, "/name"))
          at.fail(fmt::format("{} is set by the sweep itself to \"<sweep name>/<point id>\"", p),
                  "a pointer to another value");
        if (axis.document == "scenario" && seeded && json_pointers_overlap(p, "/seed"))
          at.fail(fmt::format("{} is set by \"seeds\" at every point", p),
                  "an axis on /seed, or \"seeds\", not both");
        for (std::size_t j = 0; j <= i; ++j)
          for (std::size_t l = 0; l < (j == i ? k : spec.axes[j].pointers.size()); ++l) {
            std::string mine = plain(i, k), theirs = plain(j, l);
            if (spec.axes[j].document != axis.document) {
              std::string &scenario_side = axis.document == "scenario" ? mine : theirs;
              scenario_side = into_topology(scenario_side);
              if (scenario_side.empty())
                continue;
            }
            if (json_pointers_overlap(mine, theirs))
              at.fail(fmt::format("{} overlaps {}: one would overwrite the other's value",
                                  describe(i, k), describe(j, l)),
                      "each value set by one axis (an axis may list several pointers for its "
                      "one value)");
          }
      }
  }

  // The number of points, from the axes' lengths (or the list) and the seeds, before any is
  // built: a few lines of sweep file can ask for more points than memory holds.
  void check_point_count(const Node &at, const std::vector<std::size_t> &factors,
                         std::size_t seeds) {
    std::uint64_t count = 1;
    std::string product;
    bool overflow = false;
    auto multiply = [&](std::size_t factor, const std::string &what) {
      overflow = overflow || __builtin_mul_overflow(count, std::uint64_t{factor}, &count);
      product += (product.empty() ? "" : " x ") + std::to_string(factor) + what;
    };
    for (std::size_t f : factors)
      multiply(f, "");
    if (seeds)
      multiply(seeds, " seeds");
    if (overflow || count > max_points)
      at.fail(fmt::format("{} points ({}), over the limit",
                          overflow ? std::string("more than 2^64") : std::to_string(count),
                          product),
              fmt::format("at most {} points; split the sweep into several", max_points));
  }

  void load(const std::string &path) {
    spec.file = path;
    std::string bytes = builder->read_input(path);
    auto doc = parse_json_text(bytes, path);
    Node root = Node::root(doc);
    root.require_object();
    root.allow_only({"$schema", "name", "description", "base", "axes", "mode", "points", "seeds"});
    // No control character can be in it: the JSON reader refuses them in every string.
    if (auto n = root.get("name")) {
      spec.name = n->as_string();
    } else {
      spec.name = slug(path);
    }
    if (auto n = root.get("description"))
      spec.description = n->as_string();
    load_base(root.at("base"), bytes);
    builder->apply_scenario_overrides(spec.file);

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
      }
      spec.axes.push_back(axis);
    }
    if (auto [topology, topology_name] = builder->topology_of(builder->base); topology)
      check_topology_pointers(axes, *topology, topology_name);
    std::optional<Node> seeds = root.get("seeds");
    check_axes_apart(axes, seeds.has_value());

    SweepAxis seed{"seed", "scenario", {"/seed"}, {}};
    if (seeds) {
      seeds->require_array();
      if (seeds->size() == 0)
        seeds->fail("no seeds", "at least one seed (or leave \"seeds\" out)");
      if (names.count("seed"))
        seeds->fail("seeds in a sweep that has an axis named \"seed\"", "one of the two");
    }
    std::size_t seed_count = seeds ? seeds->size() : 0;

    // Each point: one value per axis, and where in this file that value is written.
    std::vector<std::vector<std::pair<OrderedJson, std::string>>> choices;
    if (points_mode) {
      Node points = root.at("points");
      points.require_array();
      if (points.size() == 0)
        points.fail("no points", "at least one point");
      check_point_count(points, {points.size()}, seed_count);
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
      std::vector<std::size_t> lengths;
      for (std::size_t i = 0; i < spec.axes.size(); ++i)
        lengths.push_back(axes.at(i).at("values").size());
      check_point_count(axes, lengths, seed_count);
      for (std::size_t i = 0; i < spec.axes.size(); ++i) {
        Node values = axes.at(i).at("values");
        for (std::size_t j = 0; j < values.size(); ++j)
          spec.axes[i].values.push_back(OrderedJson::parse(values.at(j).json().dump()));
      }
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
    if (seeds) {
      for (const Node &v : seeds->items())
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
    builder->sweep_name = spec.name;
    builder->axes = spec.axes;

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
      materialise(point, axes, sources);
      spec.points.push_back(std::move(point));
    }
  }

  // Where an axis pointer put its value in a point's built scenario, as plain pointers (the
  // loader's messages name those): its selectors resolved, in each inlined topology for a
  // topology axis.
  static std::vector<std::string>
  places_of(const OrderedJson &scenario, const std::string &document, const std::string &pointer) {
    auto plain = [&](const OrderedJson &doc) {
      return unsettable(doc, pointer) ? pointer : settable_pointer(doc, pointer);
    };
    if (document != "topology")
      return {plain(scenario)};
    const OrderedJson &t = scenario.value("topology", OrderedJson());
    if (!t.is_array())
      return {"/topology" + plain(t)};
    std::vector<std::string> places;
    for (std::size_t k = 0; k < t.size(); ++k)
      places.push_back(fmt::format("/topology/{}{}", k, plain(t[k])));
    return places;
  }

  // Builds the point's scenario and checks it with the scenario loader; keeps nothing of it.
  void materialise(const SweepPoint &point, const Node &axes,
                   const std::vector<std::string> &sources) {
    auto fail_at_value = [&](std::size_t axis, const std::string &problem) {
      throw InputError(spec.file, sources[axis], fmt::format("point {}: {}", point.id, problem));
    };
    OrderedJson scenario = builder->with_scenario_values(point);
    std::pair<const OrderedJson *, std::string> topology{nullptr, ""};
    try {
      topology = builder->topology_of(scenario);
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
    builder->inline_topologies(scenario, point, topology,
                               [&](const OrderedJson &t, const std::string &name) {
                                 check_topology_pointers(axes, t, name);
                               });

    const std::string label = spec.file + " point " + point.id;
    try {
      Node root = Node::root(parse_json_text(scenario.dump(), label));
      load_scenario(root, builder->base_dir);
      validate_against_schema(root, "scenario");
    } catch (const InputError &e) {
      if (e.file() != label)
        throw;
      std::string detail = std::string(e.what()).substr(label.size() + 1);
      std::string message = detail.substr(detail.find(": ") + 2);
      // Blame the axis value that put the bad value there, when one did.
      for (std::size_t i = 0; i < spec.axes.size(); ++i)
        for (const std::string &p : spec.axes[i].pointers)
          for (const std::string &at : places_of(scenario, spec.axes[i].document, p))
            if (e.pointer() == at || e.pointer().rfind(at + "/", 0) == 0)
              fail_at_value(i, message);
      // Otherwise the problem is the base's own, the same for every point: name its place.
      const std::string &at = e.pointer();
      const OrderedJson &base = builder->base;
      bool in_topology = at == "/topology" || at.rfind("/topology/", 0) == 0;
      if (in_topology && base.contains("topology") && base["topology"].is_string() &&
          at != "/topology")
        throw InputError(topology.second, at.substr(9), message);
      if (builder->base_label == "(inline)")
        throw InputError(spec.file, "/base" + at, message);
      throw InputError(builder->base_label, at, message);
    }
  }
};

} // namespace

OrderedJson SweepSpec::scenario_of(const SweepPoint &point) const { return builder->build(point); }

SweepSpec load_sweep_file(const std::string &path, const SweepFileReader &read,
                          std::size_t max_points, const std::vector<JsonOverride> &overrides) {
  SweepLoader loader;
  loader.builder = std::make_shared<SweepPointBuilder>(path, read);
  loader.builder->overrides = overrides;
  for (const JsonOverride &o : overrides)
    loader.spec.overrides.push_back((o.topology ? "topology:" : "") + o.pointer + "=" +
                                    o.value.dump());
  loader.max_points = max_points;
  loader.load(path);
  loader.spec.inputs = loader.builder->inputs;
  loader.spec.builder = loader.builder;
  return std::move(loader.spec);
}

SweepSpec load_sweep_file(const std::string &path, const std::vector<JsonOverride> &overrides) {
  return load_sweep_file(path, &read_checked_json_text, kMaxSweepPoints, overrides);
}

OrderedJson sweep_manifest(const SweepSpec &spec) {
  OrderedJson m;
  m["sweep"] = spec.name;
  m["description"] = spec.description;
  m["inputs"]["pciesim_version"] = PCIESIM_VERSION;
  m["inputs"]["executable"] = executable_identity();
  m["inputs"]["files"] = OrderedJson::array();
  for (const SweepInput &input : spec.inputs)
    m["inputs"]["files"].push_back({{"file", input.file}, {"sha256", input.sha256}});
  if (!spec.overrides.empty()) // absent without --set: earlier manifests stay the same
    m["set"] = spec.overrides;
  m["axes"] = OrderedJson::array();
  for (const SweepAxis &axis : spec.axes)
    m["axes"].push_back(
        {{"name", axis.name}, {"document", axis.document}, {"pointers", axis.pointers}});
  m["points"] = OrderedJson::array();
  for (const SweepPoint &p : spec.points)
    m["points"].push_back({{"index", p.index}, {"id", p.id}, {"values", p.values}});
  return m;
}

bool json_pointers_overlap(const std::string &a, const std::string &b) {
  const std::string &shorter = a.size() <= b.size() ? a : b;
  const std::string &longer = a.size() <= b.size() ? b : a;
  return longer.compare(0, shorter.size(), shorter) == 0 &&
         (longer.size() == shorter.size() || longer[shorter.size()] == '/');
}

} // namespace pciesim
