// What `pciesim report` reads: the --out directory of a sweep (results.json plus each point's
// own results.json and scenario.json) or of a single `run`, gathered into one structure that
// the page writer (sim/report/report_page.cpp) turns into charts and tables.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pciesim {

struct ReportPoint {
  std::string id;        // the sweep point id, or the scenario name of a single run
  nlohmann::json values; // axis name -> value, as in the sweep file ({} for a run)
  nlohmann::json labels; // axis name -> its readable label, as the sweep wrote it (or null)
  std::string status;    // completed, failed, missing
  std::string error;     // why a point failed
  nlohmann::json result; // the point's own results.json (null when it has none)
  int topology = -1;     // index into ReportData::topologies, -1 if unknown
};

struct ReportTopology {
  std::string name;
  std::string svg;  // Graphviz's picture of pciesim's DOT, without the XML prolog; "" if none
  std::string note; // why there is no picture
};

struct ReportData {
  std::string title;
  std::string description;
  bool sweep = false;
  std::vector<std::string> axes;
  std::vector<ReportPoint> points;
  std::vector<ReportTopology> topologies;
};

// Reads `dir`; throws InputError naming the file when it is neither kind of output directory
// or a results file is unreadable. Topology pictures run `dot -Tsvg` when it is on PATH.
ReportData load_report_data(const std::string &dir);

// An axis value as shown in the report: strings as is, except that a path to a .json file
// shows as its file name without the extension; other values as JSON.
std::string display_value(const nlohmann::json &value);
// A point's value on `axis` as shown: the sweep's label for it (`migrate_to_ram_pages=16`),
// else display_value of the value; "" when the point has no such axis.
std::string axis_label(const ReportPoint &p, const std::string &axis);

// Whether an axis varies the transfer size (its name contains "size"): the x axis of the
// throughput chart rather than a series of its own.
bool is_size_axis(const std::string &axis);

// Tolerant readers of results.json: NaN, "" or an empty array when the key is absent or of
// another type (results from older or newer pciesim versions still make a report).
double json_number(const nlohmann::json &j, const char *key);
std::string json_text(const nlohmann::json &j, const char *key);
const nlohmann::json &json_array(const nlohmann::json &j, const char *key);
// v with `decimals` decimals; "" for NaN.
std::string fixed_decimals(double v, int decimals);
// Nanoseconds in the unit that suits them: "850 ns", "12.5 µs", "3 ms".
std::string format_ns(double ns);

// A point's values on the axes `keep` accepts, joined with ", "; a number or other non-string
// value as axis=value.
std::string axis_values(const ReportData &d, const ReportPoint &p,
                        bool (*keep)(const std::string &));
// What a point's series are named after: its values on the axes other than size.
std::string combination(const ReportData &d, const ReportPoint &p);
// All its values, or its id when there are no axes.
std::string point_label(const ReportData &d, const ReportPoint &p);

// Runs Graphviz `dot -Tsvg` on DOT text; returns the <svg> element, or "" and sets `note`.
std::string render_dot(const std::string &dot, std::string &note);

} // namespace pciesim
