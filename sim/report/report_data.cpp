#include "sim/report/report_data.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <map>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "sim/config/json_input.h"
#include "sim/fabric/enumeration.h"
#include "sim/fabric/topo_print.h"
#include "sim/fabric/topology.h"
#include "sim/report/report.h"
#include "sim/report/svg_plot.h"
#include "sim/util/file_detail.h"
#include "sim/util/file_io.h"

namespace pciesim {
namespace fs = std::filesystem;
using nlohmann::json;
namespace {

bool dot_on_path() {
  const char *path = std::getenv("PATH");
  std::string dirs = path ? path : "";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t end = dirs.find(':', start);
    std::string dir =
        dirs.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!dir.empty() && ::access((dir + "/dot").c_str(), X_OK) == 0)
      return true;
    if (end == std::string::npos)
      break;
    start = end + 1;
  }
  return false;
}

// pciesim's own DOT for a topology object, as `pciesim topo --dot` prints it.
std::string dot_of(const nlohmann::json &topology, const std::string &file) {
  auto doc = parse_json_text(topology.dump(), file);
  TopologyConfig config = load_topology(Node::root(doc));
  Hierarchy hierarchy = build_hierarchy(config);
  return topology_dot(config, hierarchy, enumerate(config, hierarchy));
}

// The topology a point ran: the inlined one of its scenario.json (a sweep point), or the file
// named in the resolved configuration of its results.json (a run; the resolved topology itself
// has defaults filled in and is not a topology file any more).
nlohmann::json topology_of(const std::string &point_dir, const nlohmann::json &result,
                           std::string &file) {
  file = point_dir + "/scenario.json";
  if (fs::is_regular_file(file)) {
    auto doc = load_json_file(file);
    if (doc->root.is_object() && doc->root.contains("topology") &&
        doc->root["topology"].is_object())
      return doc->root["topology"];
  }
  nlohmann::json config = result.is_object() ? result.value("config", nlohmann::json()) : nullptr;
  std::string source = config.is_object() ? config.value("topology_source", "") : "";
  file = source;
  if (!source.empty() && source != "inline" && fs::is_regular_file(source))
    return load_json_file(source)->root;
  return nullptr;
}

// Every distinct topology gets one entry and one picture, however many points share it.
class TopologyCollector {
public:
  explicit TopologyCollector(ReportData &data) : data_(data), have_dot_(dot_on_path()) {}

  int add(const nlohmann::json &topology, const std::string &file, const std::string &fallback) {
    if (topology.is_null())
      return -1;
    std::string key = topology.dump();
    std::string name = topology.contains("name") && topology["name"].is_string()
                           ? topology["name"].get<std::string>()
                           : fallback;
    return insert(key, name, [&](std::string &note) {
      try {
        return render_dot(dot_of(topology, file), note);
      } catch (const InputError &e) {
        note = std::string("no picture: the topology does not load: ") + e.what();
        return std::string();
      }
    });
  }

  // The topologies a comparison recorded in its results.json, each with its DOT as lines.
  void add_recorded(const nlohmann::json &result) {
    for (const nlohmann::json &t : json_array(result, "topologies")) {
      std::string dot;
      for (const nlohmann::json &line : json_array(t, "dot"))
        if (line.is_string())
          dot += line.get<std::string>() + "\n";
      if (!dot.empty())
        insert("dot:" + dot, json_text(t, "name"),
               [&](std::string &note) { return render_dot(dot, note); });
    }
  }

private:
  template <class Draw> int insert(const std::string &key, const std::string &name, Draw draw) {
    auto found = index_.find(key);
    if (found != index_.end())
      return found->second;
    ReportTopology t;
    t.name = name;
    if (!have_dot_)
      t.note = "Graphviz `dot` was not found on PATH, so there is no picture of this topology "
               "(install graphviz, then run `pciesim report` again).";
    else
      t.svg = draw(t.note);
    int index = static_cast<int>(data_.topologies.size());
    data_.topologies.push_back(std::move(t));
    index_.emplace(key, index);
    return index;
  }

  ReportData &data_;
  bool have_dot_;
  std::map<std::string, int> index_;
};

// Sweep axes that edit the topology leave its name alone: tell such topologies apart by the
// values of the first point that used each.
void name_topologies_apart(ReportData &data) {
  std::map<std::string, int> uses;
  for (const ReportTopology &t : data.topologies)
    ++uses[t.name];
  std::vector<bool> renamed(data.topologies.size(), false);
  for (const ReportPoint &p : data.points) {
    if (p.topology < 0 || renamed[static_cast<std::size_t>(p.topology)])
      continue;
    ReportTopology &t = data.topologies[static_cast<std::size_t>(p.topology)];
    renamed[static_cast<std::size_t>(p.topology)] = true;
    if (uses[t.name] < 2)
      continue;
    std::string values;
    for (const std::string &axis : data.axes)
      if (!is_size_axis(axis) && p.values.contains(axis))
        values += (values.empty() ? "" : ", ") + axis + "=" + axis_label(p, axis);
    t.name += " (" + values + ")";
  }
}

void load_sweep(const std::string &dir, const Node &root, ReportData &data) {
  data.sweep = true;
  data.title = root.has("sweep") ? root.at("sweep").as_string() : "sweep";
  if (root.has("description"))
    data.description = root.at("description").as_string();
  for (const Node &axis : root.at("axes").require_array().items())
    data.axes.push_back(axis.as_string());
  TopologyCollector topologies(data);
  for (const Node &p : root.at("points").require_array().items()) {
    p.require_object();
    ReportPoint point;
    point.id = p.at("id").as_string();
    point.status = p.at("status").as_string();
    point.values = p.at("values").require_object().json();
    if (p.has("labels"))
      point.labels = p.at("labels").require_object().json();
    if (p.has("error"))
      point.error = p.at("error").as_string();
    std::string point_dir = dir + "/points/" + point.id;
    if (point.status == "completed" && fs::is_regular_file(point_dir + "/results.json"))
      point.result = load_json_file(point_dir + "/results.json")->root;
    topologies.add_recorded(point.result);
    std::string file;
    if (fs::is_directory(point_dir))
      point.topology = topologies.add(topology_of(point_dir, point.result, file), file,
                                      fmt::format("topology {}", data.topologies.size() + 1));
    data.points.push_back(std::move(point));
  }
  name_topologies_apart(data);
}

void load_run(const std::string &dir, const Node &root, ReportData &data) {
  ReportPoint point;
  point.id = root.has("scenario") ? root.at("scenario").as_string() : "run";
  point.status = root.has("status") ? root.at("status").as_string() : "completed";
  point.values = nlohmann::json::object();
  point.result = root.json();
  data.title = point.id.empty() ? "run" : point.id;
  TopologyCollector topologies(data);
  // A comparison records its topologies; its mechanisms name theirs.
  topologies.add_recorded(point.result);
  std::string file;
  nlohmann::json topology = topology_of(dir, point.result, file);
  bool comparison = !data.topologies.empty();
  if (!comparison && topology.is_null()) {
    // Still one topology, so that the link statistics have a place; just no picture.
    nlohmann::json resolved = point.result.value("config", nlohmann::json::object());
    resolved = resolved.is_object() ? resolved.value("topology", nlohmann::json::object())
                                    : nlohmann::json::object();
    data.topologies.push_back(
        {resolved.is_object() ? resolved.value("name", "topology") : "topology", "",
         file.empty() || file == "inline"
             ? "no picture: results.json holds the topology only with its defaults filled in"
             : "no picture: the topology file " + file +
                   " that results.json names is not found from here (run the report where the "
                   "run was started)"});
    point.topology = 0;
  } else if (!comparison) {
    point.topology = topologies.add(topology, file, "topology");
  }
  data.points.push_back(std::move(point));
}

} // namespace

bool is_size_axis(const std::string &axis) {
  std::string lower = axis;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find("size") != std::string::npos;
}

std::string display_value(const nlohmann::json &value) {
  if (!value.is_string())
    return value.dump();
  std::string s = value.get<std::string>();
  if (s.size() > 5 && s.compare(s.size() - 5, 5, ".json") == 0)
    return fs::path(s).stem().string();
  return s;
}

std::string axis_label(const ReportPoint &p, const std::string &axis) {
  if (p.labels.is_object() && p.labels.contains(axis) && p.labels[axis].is_string()) {
    std::string label = p.labels[axis].get<std::string>();
    // A topology file's label is its path as written: show its name, as display_value does.
    return p.values.contains(axis) && p.values[axis].is_string() ? display_value(label) : label;
  }
  return p.values.contains(axis) ? display_value(p.values[axis]) : "";
}

namespace {

using file_detail::FileDescriptor;

// `dot -Tsvg` run on `dot`, which it reads from an anonymous memory file (no file outside the
// output, none left behind however the process ends); what it printed, and its wait status
// (-1 where it could not be started).
std::string run_dot_to_svg(const std::string &dot, int &status) {
  status = -1;
  FileDescriptor input(::memfd_create("pciesim-dot", MFD_CLOEXEC));
  if (!input.is_open() || write_all(input.get(), dot.data(), dot.size()) != 0 ||
      ::lseek(input.get(), 0, SEEK_SET) != 0)
    return "";
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
    return "";
  FileDescriptor from_dot(pipe_fds[0]), to_parent(pipe_fds[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, input.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, to_parent.get(), STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  char program[] = "dot", format[] = "-Tsvg";
  char *argv[] = {program, format, nullptr};
  pid_t pid = -1;
  const bool started = ::posix_spawnp(&pid, "dot", &actions, nullptr, argv, environ) == 0;
  posix_spawn_file_actions_destroy(&actions);
  to_parent.close();
  if (!started)
    return "";
  std::string svg;
  read_at_most(from_dot.get(), UINT64_MAX - 1, svg);
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return svg;
}

} // namespace

std::string render_dot(const std::string &dot, std::string &note) {
  int status = -1;
  std::string svg = run_dot_to_svg(dot, status);
  std::size_t start = svg.find("<svg");
  if (status != 0 || start == std::string::npos) {
    note = "no picture: `dot -Tsvg` failed on the topology's DOT";
    return "";
  }
  // Inline SVG in HTML must not carry the XML declaration or the DOCTYPE before it.
  return svg.substr(start);
}

ReportData load_report_data(const std::string &dir) {
  std::string path = dir + "/results.json";
  auto doc = load_json_file(path);
  Node root = Node::root(doc);
  root.require_object();
  ReportData data;
  if (root.has("points"))
    load_sweep(dir, root, data);
  else if (root.has("transfers") || root.has("mechanisms"))
    load_run(dir, root, data);
  else
    root.fail("neither a sweep's nor a run's results", "\"points\" (from `pciesim sweep` or "
                                                       "`merge`) or \"transfers\" (from `pciesim "
                                                       "run --out`)");
  return data;
}

double json_number(const json &j, const char *key) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : NAN;
}

std::string json_text(const json &j, const char *key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

const json &json_array(const json &j, const char *key) {
  static const json empty = json::array();
  return j.is_object() && j.contains(key) && j[key].is_array() ? j[key] : empty;
}

std::string fixed_decimals(double v, int decimals) {
  return std::isfinite(v) ? fmt::format("{:.{}f}", v, decimals) : "";
}

std::string format_ns(double ns) {
  double a = std::fabs(ns);
  if (a >= 1e9)
    return svg::format_number(ns / 1e9) + " s";
  if (a >= 1e6)
    return svg::format_number(ns / 1e6) + " ms";
  if (a >= 1e3)
    return svg::format_number(ns / 1e3) + " µs";
  return svg::format_number(ns) + " ns";
}

std::string axis_values(const ReportData &d, const ReportPoint &p,
                        bool (*keep)(const std::string &)) {
  std::string out;
  for (const std::string &axis : d.axes)
    if (keep(axis) && p.values.contains(axis)) {
      // A bare number says nothing without its axis: "queue_pairs=4", where a topology's name
      // or a label like "migrate_to_ram_pages=16" speaks for itself.
      std::string label = axis_label(p, axis);
      bool bare = !p.values[axis].is_string() && label.find('=') == std::string::npos;
      out += (out.empty() ? "" : ", ") + (bare ? axis + "=" + label : label);
    }
  return out;
}

// What a point's series are named after: its values on the axes other than size.
std::string combination(const ReportData &d, const ReportPoint &p) {
  return axis_values(d, p, [](const std::string &a) { return !is_size_axis(a); });
}

std::string point_label(const ReportData &d, const ReportPoint &p) {
  std::string all = axis_values(d, p, [](const std::string &) { return true; });
  return all.empty() ? p.id : all;
}

} // namespace pciesim
