// crossovers.csv and verdicts.csv of a workload sweep (see sweep_crossover.h).
#include "sim/batch/sweep_crossover.h"

#include <algorithm>

#include <fmt/format.h>

#include "sim/config/json_input.h"
#include "sim/report/report.h"

namespace pciesim {
namespace {

// The topologies of a point, in the order its mechanisms list them.
std::vector<std::string> topologies_of(const OrderedJson &point) {
  std::vector<std::string> topologies;
  for (const OrderedJson &m : point.value("mechanisms", OrderedJson::array())) {
    std::string t = m.value("topology", "");
    if (std::find(topologies.begin(), topologies.end(), t) == topologies.end())
      topologies.push_back(t);
  }
  return topologies;
}

// "point,index,<axes>" of a point's rows.
std::string row_start(const OrderedJson &point, const AxisColumns &axes) {
  std::string start = csv_field(point.at("id").get<std::string>()) + "," + point.at("index").dump();
  return axes.names().empty() ? start : start + "," + axes.cells(point.at("values"));
}

std::string header(const AxisColumns &axes, const std::vector<std::string> &columns) {
  return "point,index" + (axes.names().empty() ? "" : "," + axes.header()) + "," +
         join(columns, ",") + "\n";
}

std::string number_or_empty(const OrderedJson &v) { return v.is_number() ? v.dump() : ""; }

// A time in ns to the picosecond, the simulator's resolution (no binary-fraction noise).
std::string ns_or_empty(const OrderedJson &v) {
  return v.is_number() ? fmt::format("{:.3f}", v.get<double>()) : "";
}

const char *const kNoCrossover =
    "none computed: it needs hmm_migrate and p2p_dma_api completed on the topology and a "
    "workload whose repeated phases are a NIC's reads or writes of data migration leaves in RAM";

// The mechanisms of every point, in the order they first appear.
std::vector<std::string> mechanism_names(const OrderedJson &points) {
  std::vector<std::string> names;
  for (const OrderedJson &p : points)
    for (const OrderedJson &m : p.value("mechanisms", OrderedJson::array())) {
      std::string name = m.value("name", "");
      if (std::find(names.begin(), names.end(), name) == names.end())
        names.push_back(name);
    }
  return names;
}

bool completed_ok(const OrderedJson &m) {
  return m.value("status", "") == "ok" && m.contains("total_time_ns") &&
         m["total_time_ns"].is_number();
}

} // namespace

const std::vector<std::string> &sweep_crossovers_columns() {
  static const std::vector<std::string> columns = {"topology",
                                                   "mechanism",
                                                   "versus",
                                                   "reuses",
                                                   "mechanism_first_pass_ns",
                                                   "versus_first_pass_ns",
                                                   "mechanism_steady_pass_ns",
                                                   "versus_steady_pass_ns",
                                                   "explanation"};
  return columns;
}

const std::vector<std::string> &sweep_verdicts_columns() {
  static const std::vector<std::string> columns = {"topology", "fastest", "fastest_time_ns"};
  return columns;
}

std::string sweep_crossovers_csv(const OrderedJson &points, const AxisColumns &axes) {
  std::string csv = header(axes, sweep_crossovers_columns());
  for (const OrderedJson &p : points) {
    if (p.value("status", "") != "completed" || !p.contains("mechanisms"))
      continue;
    const OrderedJson crossover = p.value("crossover", OrderedJson::array());
    for (const std::string &topology : topologies_of(p)) {
      const OrderedJson *entry = nullptr;
      for (const OrderedJson &c : crossover)
        if (c.value("topology", "") == topology)
          entry = &c;
      csv += row_start(p, axes) + "," + csv_field(topology);
      if (!entry) {
        csv += ",,,,,,,," + csv_field(kNoCrossover) + "\n";
        continue;
      }
      const OrderedJson &c = *entry;
      const std::string mechanism = c.value("mechanism", ""), versus = c.value("versus", "");
      auto pass = [&](const char *which, const std::string &name) {
        return ns_or_empty(c.value(which, OrderedJson::object()).value(name, OrderedJson()));
      };
      csv += fmt::format(",{},{},{},{},{},{},{},{}\n", csv_field(mechanism), csv_field(versus),
                         number_or_empty(c.value("reuses", OrderedJson())),
                         pass("first_pass_ns", mechanism), pass("first_pass_ns", versus),
                         pass("steady_pass_ns", mechanism), pass("steady_pass_ns", versus),
                         csv_field(c.value("explanation", "")));
    }
  }
  return csv;
}

std::string sweep_verdicts_csv(const OrderedJson &points, const AxisColumns &axes) {
  const std::vector<std::string> mechanisms = mechanism_names(points);
  std::vector<std::string> columns = sweep_verdicts_columns();
  for (const std::string &m : mechanisms)
    columns.push_back(m + "_vs_fastest");
  columns.push_back("verdict");
  std::string csv = header(axes, columns);
  for (const OrderedJson &p : points) {
    if (p.value("status", "") != "completed" || !p.contains("mechanisms"))
      continue;
    for (const std::string &topology : topologies_of(p)) {
      // The fastest as the verdict line names it: the least total time of a completed run.
      const OrderedJson *best = nullptr;
      for (const OrderedJson &m : p["mechanisms"])
        if (m.value("topology", "") == topology && completed_ok(m) &&
            (!best || m["total_time_ns"].get<double>() < (*best)["total_time_ns"].get<double>()))
          best = &m;
      csv += row_start(p, axes) + "," + csv_field(topology);
      csv += best ? fmt::format(",{},{}", csv_field((*best)["name"].get<std::string>()),
                                (*best)["total_time_ns"].dump())
                  : ",,";
      for (const std::string &name : mechanisms) {
        std::string ratio;
        for (const OrderedJson &m : p["mechanisms"])
          if (best && m.value("topology", "") == topology && m.value("name", "") == name &&
              completed_ok(m) && (*best)["total_time_ns"].get<double>() > 0)
            ratio = fmt::format("{:.4f}", m["total_time_ns"].get<double>() /
                                              (*best)["total_time_ns"].get<double>());
        csv += "," + ratio;
      }
      std::string verdict;
      for (const OrderedJson &v : p.value("verdicts", OrderedJson::array()))
        if (v.is_string() && v.get<std::string>().rfind(topology + ": ", 0) == 0)
          verdict = v.get<std::string>().substr(topology.size() + 2);
      csv += "," + csv_field(verdict) + "\n";
    }
  }
  return csv;
}

void add_comparison_summaries(const OrderedJson &points, const AxisColumns &axes,
                              const std::string &out_dir, OutputSet &files) {
  files.add(out_dir + "/crossovers.csv", sweep_crossovers_csv(points, axes));
  files.add(out_dir + "/verdicts.csv", sweep_verdicts_csv(points, axes));
}

} // namespace pciesim
