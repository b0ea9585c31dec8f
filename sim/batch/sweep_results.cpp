// Merging the points of a sweep into DIR/results.json and DIR/results.csv. Both `pciesim
// sweep` and `pciesim merge` write through here, from the manifest and the point directories
// only, so that the files depend on neither -j, nor sharding, nor the order points finished.
#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include "sim/batch/sweep.h"
#include "sim/batch/sweep_axis_values.h"
#include "sim/batch/sweep_crossover.h"
#include "sim/report/report.h"
#include "sim/util/input_error.h"

namespace pciesim {
namespace {

std::string fixed(const OrderedJson &v, int decimals) {
  return v.is_number() ? fmt::format("{:.{}f}", v.get<double>(), decimals) : std::string();
}

// One row of DIR/mechanisms.csv: a mechanism of a workload point.
std::string mechanism_row(const std::string &id, std::size_t index,
                          const std::vector<SweepAxisColumn> &axes, const OrderedJson &values,
                          const OrderedJson &m) {
  std::string row = csv_field(id) + "," + std::to_string(index) + axis_cells(axes, values);
  const OrderedJson breakdown = m.value("breakdown_ns", OrderedJson::object());
  auto number = [](const OrderedJson &v) { return v.is_null() ? std::string() : v.dump(); };
  return row + fmt::format(",{},{},{},{},{},{},{},{},{},{},{}\n",
                           csv_field(m.value("topology", "")), csv_field(m.value("name", "")),
                           m.value("status", ""), number(m.value("total_time_ns", OrderedJson())),
                           number(m.value("throughput_GBps", OrderedJson())),
                           number(m.value("pages_migrated", OrderedJson())),
                           number(m.value("invalidations", OrderedJson())),
                           number(breakdown.value("fault_handling", OrderedJson())),
                           number(breakdown.value("dma", OrderedJson())),
                           number(breakdown.value("copy", OrderedJson())),
                           csv_field(m.value("reason", "")));
}

// The results.csv rows of a point: one per transfer; a point without results has one row.
std::string point_rows(const std::string &id, std::size_t index,
                       const std::vector<SweepAxisColumn> &axes, const OrderedJson &values,
                       const OrderedJson &p, const OrderedJson &result) {
  std::string prefix = csv_field(id) + "," + std::to_string(index) + axis_cells(axes, values);
  prefix += "," + p["status"].get<std::string>() + "," +
            (p.contains("exit_code") ? p["exit_code"].dump() : std::string()) + "," +
            fixed(p.value("sim_time_ns", OrderedJson()), 3);
  if (result.is_null())
    return prefix + ",,,,,,,,,,,," + csv_field(p.value("error", std::string())) + "\n";
  std::string rows;
  for (const OrderedJson &t : result.at("transfers")) {
    const OrderedJson &lat = t.at("latency_ns");
    rows += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{}\n", prefix,
                        csv_field(t.at("id").get<std::string>()),
                        csv_field(t.at("initiator").get<std::string>()),
                        csv_field(t.at("target").get<std::string>()),
                        t.at("direction").get<std::string>(), t.at("transfer_bytes").dump(),
                        t.at("transfers_done").dump(), fixed(t.at("bandwidth_GBps"), 6),
                        fixed(lat.at("mean"), 3), fixed(lat.at("p50"), 3), fixed(lat.at("p99"), 3),
                        fixed(lat.at("max"), 3), csv_field(t.value("error", std::string())));
  }
  return rows;
}

// "point,index,<axes>,<the other columns>": the header of results.csv and mechanisms.csv.
std::string csv_header(const std::vector<std::string> &columns,
                       const std::vector<SweepAxisColumn> &axes) {
  std::string header = columns[0] + "," + columns[1] + axis_header(axes);
  for (std::size_t i = 2; i < columns.size(); ++i)
    header += "," + columns[i];
  return header + "\n";
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
      "point",          "index",          "status",          "exit_code",      "sim_time_ns",
      "transfer",       "initiator",      "target",          "direction",      "transfer_bytes",
      "transfers_done", "bandwidth_GBps", "latency_mean_ns", "latency_p50_ns", "latency_p99_ns",
      "latency_max_ns", "error"};
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
  std::vector<std::string> axis_names;
  for (const auto &axis : manifest.at("axes"))
    axis_names.push_back(axis.at("name").get<std::string>());
  const std::vector<SweepAxisColumn> axes = sweep_axis_columns(axis_names, manifest.at("points"));

  std::string csv = csv_header(sweep_results_columns(), axes);
  std::string mechanisms_header = csv_header(sweep_mechanisms_columns(), axes);
  std::string mechanisms_csv = mechanisms_header;

  OrderedJson results;
  results["pciesim_version"] = PCIESIM_VERSION;
  results["sweep"] = manifest.at("sweep");
  results["description"] = manifest.at("description");
  results["axes"] = axis_names;
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
            for (const OrderedJson &m : result.at("mechanisms"))
              mechanisms_csv += mechanism_row(id, i, axes, mp.at("values"), m);
            result = OrderedJson();
          } else {
            p["sim_time_ns"] = result.at("sim_time_ns");
            p["transfers"] = result.at("transfers");
          }
          ++completed;
        } else {
          ++failed;
        }
      }
      csv += point_rows(id, i, axes, mp.at("values"), p, result);
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
  if (mechanisms_csv != mechanisms_header) {
    files.add(out_dir + "/mechanisms.csv", mechanisms_csv);
    add_comparison_summaries(results["points"], axes, out_dir, files);
  }
  files.write();
  return failed + missing;
}

} // namespace pciesim
