// Merging the points of a sweep into DIR/results.json and DIR/results.csv. Both `pciesim
// sweep` and `pciesim merge` write through here, from the manifest and the point directories
// only, so that the files depend on neither -j, nor sharding, nor the order points finished.
#include <filesystem>

#include <fmt/format.h>

#include "sim/report.h"
#include "sim/sweep.h"

namespace pciesim {
namespace {

std::string csv_value(const OrderedJson &v) {
  return csv_field(v.is_string() ? v.get<std::string>() : v.dump());
}

std::string fixed(const OrderedJson &v, int decimals) {
  return v.is_number() ? fmt::format("{:.{}f}", v.get<double>(), decimals) : std::string();
}

// One row of DIR/mechanisms.csv: a mechanism of a workload point.
std::string mechanism_row(const std::string &id, std::size_t index,
                          const std::vector<std::string> &axes, const OrderedJson &values,
                          const OrderedJson &m) {
  std::string row = csv_field(id) + "," + std::to_string(index);
  for (const std::string &a : axes)
    row += "," + csv_value(values.at(a));
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

} // namespace

void write_point_done(const std::string &point_dir, const PointOutcome &outcome) {
  OrderedJson j;
  j["status"] = outcome.status;
  j["exit_code"] = outcome.exit_code;
  if (!outcome.error.empty())
    j["error"] = outcome.error;
  write_file_atomically(point_dir + "/done", j.dump(2) + "\n");
}

bool point_is_done(const std::string &point_dir) {
  return std::filesystem::is_regular_file(point_dir + "/done");
}

std::size_t write_sweep_results(const OrderedJson &manifest,
                                const std::vector<std::string> &point_dirs,
                                const std::string &out_dir) {
  std::vector<std::string> axes;
  for (const auto &axis : manifest.at("axes"))
    axes.push_back(axis.at("name").get<std::string>());

  std::string csv = "point,index";
  for (const std::string &a : axes)
    csv += "," + csv_field(a);
  csv += ",status,exit_code,sim_time_ns,transfer,initiator,target,direction,transfer_bytes,"
         "transfers_done,bandwidth_GBps,latency_mean_ns,latency_p50_ns,latency_p99_ns,"
         "latency_max_ns,error\n";

  std::string mechanisms_header = "point,index";
  for (const std::string &a : axes)
    mechanisms_header += "," + csv_field(a);
  mechanisms_header += ",topology,mechanism,status,total_time_ns,throughput_GBps,pages_migrated,"
                       "invalidations,fault_handling_ns,dma_ns,copy_ns,reason\n";
  std::string mechanisms_csv = mechanisms_header;

  OrderedJson results;
  results["pciesim_version"] = PCIESIM_VERSION;
  results["sweep"] = manifest.at("sweep");
  results["description"] = manifest.at("description");
  results["axes"] = axes;
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
    OrderedJson done;
    if (!dir.empty() && point_is_done(dir))
      done = OrderedJson::parse(read_text_file(dir + "/done"));
    OrderedJson result;
    if (done.is_null()) {
      p["status"] = "missing";
      ++missing;
    } else {
      p["status"] = done.at("status");
      p["exit_code"] = done.at("exit_code");
      if (done.contains("error"))
        p["error"] = done.at("error");
      if (done.at("status") == "completed") {
        result = OrderedJson::parse(read_text_file(dir + "/results.json"));
        if (result.contains("mechanisms")) {
          // A workload point: its comparison, one mechanisms.csv row per mechanism.
          p["mechanisms"] = result.at("mechanisms");
          p["verdict"] = result.at("verdict");
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
    // One CSV row per transfer of the point; a point without results has one row.
    std::string prefix = csv_field(id) + "," + std::to_string(i);
    for (const std::string &a : axes)
      prefix += "," + csv_value(mp.at("values").at(a));
    prefix += "," + p["status"].get<std::string>() + "," +
              (p.contains("exit_code") ? p["exit_code"].dump() : std::string()) + "," +
              fixed(p.value("sim_time_ns", OrderedJson()), 3);
    if (result.is_null()) {
      csv += prefix + ",,,,,,,,,,,," + csv_field(p.value("error", std::string())) + "\n";
    } else {
      for (const OrderedJson &t : result.at("transfers")) {
        const OrderedJson &lat = t.at("latency_ns");
        csv +=
            fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{}\n", prefix,
                        csv_field(t.at("id").get<std::string>()),
                        csv_field(t.at("initiator").get<std::string>()),
                        csv_field(t.at("target").get<std::string>()),
                        t.at("direction").get<std::string>(), t.at("transfer_bytes").dump(),
                        t.at("transfers_done").dump(), fixed(t.at("bandwidth_GBps"), 6),
                        fixed(lat.at("mean"), 3), fixed(lat.at("p50"), 3), fixed(lat.at("p99"), 3),
                        fixed(lat.at("max"), 3), csv_field(t.value("error", std::string())));
      }
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
  if (mechanisms_csv != mechanisms_header)
    files.add(out_dir + "/mechanisms.csv", mechanisms_csv);
  files.write();
  return failed + missing;
}

} // namespace pciesim
