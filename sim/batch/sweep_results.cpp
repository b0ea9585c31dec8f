// Merging the points of a sweep into DIR/results.json, DIR/results.csv and DIR/links.csv (and
// DIR/mechanisms.csv for a workload sweep). Both `pciesim sweep` and `pciesim merge` write
// through here, from the manifest and the point directories
// only, so that the files depend on neither -j, nor sharding, nor the order points finished.
#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include "sim/batch/axis_columns.h"
#include "sim/batch/comparison.h"
#include "sim/batch/sweep.h"
#include "sim/batch/sweep_axis_values.h"
#include "sim/batch/sweep_crossover.h"
#include "sim/report/report.h"
#include "sim/util/input_error.h"

namespace pciesim {
namespace {

// The columns of the sweep's own that come before the transfer columns in results.csv.
const std::vector<std::string> kPointColumns = {"point_status", "exit_code", "sim_time_ns"};

// The merged CSV files: each row starts with the point's id, index and axis columns.
class MergedCsv {
public:
  MergedCsv(const std::vector<std::string> &axes, const std::vector<OrderedJson> &values,
            std::vector<std::string> columns)
      : axes_(axes, values, columns), columns_(std::move(columns)) {}
  std::string header() const {
    std::string out = "point,index";
    if (!axes_.names().empty())
      out += "," + axes_.header();
    for (std::size_t i = 2; i < columns_.size(); ++i)
      out += "," + columns_[i];
    return out + "\n";
  }
  // "<point>,<index>,<axis cells>," before a row's own cells.
  std::string prefix(const std::string &id, std::size_t index, const OrderedJson &values) const {
    std::string out = csv_field(id) + "," + std::to_string(index) + ",";
    return axes_.names().empty() ? out : out + axes_.cells(values) + ",";
  }

private:
  AxisColumns axes_;
  std::vector<std::string> columns_; // point, index, then the row's own
};

std::vector<std::string> with_point_columns(const std::vector<std::string> &own) {
  std::vector<std::string> columns = {"point", "index"};
  columns.insert(columns.end(), own.begin(), own.end());
  return columns;
}

// Every column of each merged file but the axis columns.
std::vector<std::string> results_columns() {
  std::vector<std::string> own = kPointColumns;
  for (const std::string &c : column_names(transfer_csv_columns()))
    own.push_back(c);
  return with_point_columns(own);
}
std::vector<std::string> mechanisms_columns() {
  return with_point_columns(column_names(mechanism_csv_columns()));
}
std::vector<std::string> links_columns() {
  return with_point_columns(column_names(link_csv_columns()));
}
// crossovers.csv and verdicts.csv: their own columns (verdicts.csv's per-mechanism ratios are
// named after mechanisms, never after an axis's column).
std::vector<std::string> summary_columns() {
  std::vector<std::string> columns = {"point", "index"};
  for (const auto *list : {&sweep_crossovers_columns(), &sweep_verdicts_columns()})
    columns.insert(columns.end(), list->begin(), list->end());
  return columns;
}
std::vector<std::string> mechanism_links_columns() {
  return with_point_columns(comparison_links_columns());
}

// The results.csv rows of a point: one per transfer; a point without results has one row.
std::string point_rows(const std::string &prefix, const OrderedJson &p, const OrderedJson &result) {
  const OrderedJson sim_time = p.value("sim_time_ns", OrderedJson());
  std::string point = prefix + p["status"].get<std::string>() + "," +
                      (p.contains("exit_code") ? p["exit_code"].dump() : std::string()) + "," +
                      (sim_time.is_number() ? fmt::format("{:.3f}", sim_time.get<double>()) : "") +
                      ",";
  if (result.is_null()) // no transfer: only the point's error, where a transfer's would be
    return point + csv_cells(transfer_csv_columns(), OrderedJson{{"error", p.value("error", "")}}) +
           "\n";
  std::string rows;
  for (const OrderedJson &t : result.at("transfers"))
    rows += point + csv_cells(transfer_csv_columns(), t) + "\n";
  return rows;
}

// nlohmann's message without its "[json.exception.parse_error.101] " tag.
std::string json_library_message(const nlohmann::json::exception &e) {
  std::string what = e.what();
  auto tag_end = what.find("] ");
  return tag_end == std::string::npos ? what : what.substr(tag_end + 2);
}

const char *const kDoneExpected =
    "a done marker as pciesim sweep writes it (delete it to run the point again)";

} // namespace

const std::vector<std::string> &sweep_results_columns() {
  static const std::vector<std::string> columns = {
      "point",          "index",          "point_status",   "status",          "exit_code",
      "sim_time_ns",    "transfer",       "initiator",      "target",          "direction",
      "transfer_bytes", "transfers_done", "bandwidth_GBps", "latency_mean_ns", "latency_p50_ns",
      "latency_p99_ns", "latency_max_ns", "error"};
  return columns;
}

const std::vector<std::string> &sweep_mechanisms_columns() {
  static const std::vector<std::string> columns = {
      "point",         "index",           "topology",       "mechanism",     "status",
      "total_time_ns", "throughput_GBps", "pages_migrated", "invalidations", "fault_handling_ns",
      "dma_ns",        "copy_ns",         "reason"};
  return columns;
}

OrderedJson read_written_json(const std::string &path, const std::string &expected) {
  std::string text = read_text_file(path);
  try {
    return OrderedJson::parse(text);
  } catch (const nlohmann::json::exception &e) {
    throw InputError(path, "", "not valid JSON: " + json_library_message(e), expected);
  }
}

void write_point_done(const std::string &point_dir, const PointOutcome &outcome) {
  OrderedJson j;
  j["status"] = outcome.status;
  j["exit_code"] = outcome.exit_code;
  if (!outcome.error.empty())
    j["error"] = outcome.error;
  write_file_atomically(point_dir + "/done", j.dump(2) + "\n");
}

std::optional<PointOutcome> read_point_done(const std::string &point_dir) {
  std::string path = point_dir + "/done";
  std::error_code ignored;
  if (!std::filesystem::exists(path, ignored))
    return std::nullopt;
  OrderedJson j = read_written_json(path, kDoneExpected);
  auto corrupt = [&](const std::string &pointer, const std::string &problem) {
    throw InputError(path, pointer, problem, kDoneExpected);
  };
  if (!j.is_object())
    corrupt("", "not an object");
  if (j.value("status", "") != "completed" && j.value("status", "") != "failed")
    corrupt("/status", "no status \"completed\" or \"failed\"");
  if (!j.contains("exit_code") || !j["exit_code"].is_number_integer())
    corrupt("/exit_code", "no integer exit_code");
  if (j.contains("error") && !j["error"].is_string())
    corrupt("/error", "an error that is not a string");
  PointOutcome outcome;
  outcome.status = j["status"].get<std::string>();
  outcome.exit_code = j["exit_code"].get<int>();
  outcome.error = j.value("error", "");
  return outcome;
}

std::size_t write_sweep_results(const OrderedJson &manifest,
                                const std::vector<std::string> &point_dirs,
                                const std::string &out_dir) {
  std::vector<std::string> axes;
  for (const auto &axis : manifest.at("axes"))
    axes.push_back(axis.at("name").get<std::string>());

  std::vector<OrderedJson> axis_values;
  for (const auto &mp : manifest.at("points"))
    axis_values.push_back(mp.at("values"));
  const MergedCsv results_table(axes, axis_values, results_columns());
  const MergedCsv mechanisms_table(axes, axis_values, mechanisms_columns());
  const MergedCsv links_table(axes, axis_values, links_columns());
  const MergedCsv mechanism_links_table(axes, axis_values, mechanism_links_columns());
  std::string csv = results_table.header(), mechanisms_csv, links_csv, mechanism_links_csv;

  OrderedJson results;
  results["pciesim_version"] = PCIESIM_VERSION;
  results["sweep"] = manifest.at("sweep");
  results["description"] = manifest.at("description");
  results["axes"] = axes;
  if (manifest.contains("set"))
    results["set"] = manifest["set"];
  std::size_t completed = 0, failed = 0, missing = 0;
  OrderedJson points = OrderedJson::array();
  const auto &manifest_points = manifest.at("points");
  for (std::size_t i = 0; i < manifest_points.size(); ++i) {
    const OrderedJson &mp = manifest_points[i];
    const std::string id = mp.at("id").get<std::string>();
    const std::string &dir = point_dirs.at(i);
    OrderedJson p;
    p["index"] = mp.at("index");
    p["id"] = id;
    p["values"] = mp.at("values");
    p["labels"] = axis_value_labels(mp.at("values"));
    std::optional<PointOutcome> done;
    if (!dir.empty())
      done = read_point_done(dir);
    OrderedJson result;
    std::string results_path = dir + "/results.json";
    // A point's results.json as `pciesim run` writes it; anything else names the file.
    try {
      if (!done) {
        p["status"] = "missing";
        ++missing;
      } else {
        p["status"] = done->status;
        p["exit_code"] = done->exit_code;
        if (!done->error.empty())
          p["error"] = done->error;
        if (done->status == "completed") {
          result = read_written_json(results_path, "the results.json of a pciesim run");
          if (result.contains("mechanisms")) {
            // A workload point: its comparison, one mechanisms.csv row per mechanism.
            p["mechanisms"] = result.at("mechanisms");
            for (const char *key : {"crossover", "verdicts", "verdict"})
              p[key] = result.at(key);
            const std::string prefix = mechanisms_table.prefix(id, i, mp.at("values"));
            for (const OrderedJson &m : result.at("mechanisms")) {
              mechanisms_csv += prefix + csv_cells(mechanism_csv_columns(), m) + "\n";
              mechanism_links_csv +=
                  comparison_links_rows(m, mechanism_links_table.prefix(id, i, mp.at("values")));
            }
            result = OrderedJson();
          } else {
            p["sim_time_ns"] = result.at("sim_time_ns");
            p["transfers"] = result.at("transfers");
            const std::string prefix = links_table.prefix(id, i, mp.at("values"));
            for (const OrderedJson &l : result.value("links", OrderedJson::array()))
              links_csv += prefix + csv_cells(link_csv_columns(), l) + "\n";
          }
          ++completed;
        } else {
          ++failed;
        }
      }
      csv += point_rows(results_table.prefix(id, i, mp.at("values")), p, result);
    } catch (const nlohmann::json::exception &e) {
      throw InputError(results_path, "",
                       "not the results of a pciesim run: " + json_library_message(e),
                       "the results.json of a pciesim run (delete the point's done to run it "
                       "again)");
    }
    points.push_back(p);
  }
  results["summary"] = {{"points", manifest_points.size()},
                        {"completed", completed},
                        {"failed", failed},
                        {"missing", missing}};
  results["points"] = points;
  OutputSet files;
  files.add(out_dir + "/results.json", results.dump(2) + "\n");
  files.add(out_dir + "/results.csv", csv);
  // A workload sweep's: its mechanisms, and the links by mechanism; a transfer sweep's links.
  if (!mechanisms_csv.empty()) {
    files.add(out_dir + "/mechanisms.csv", mechanisms_table.header() + mechanisms_csv);
    add_comparison_summaries(results["points"], AxisColumns(axes, axis_values, summary_columns()),
                             out_dir, files);
    files.add(out_dir + "/links.csv", mechanism_links_table.header() + mechanism_links_csv);
  } else {
    files.add(out_dir + "/links.csv", links_table.header() + links_csv);
  }
  files.write();
  return failed + missing;
}

} // namespace pciesim
