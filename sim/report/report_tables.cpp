#include "sim/report/report_tables.h"

#include <algorithm>
#include <cmath>

#include "sim/report/svg_plot.h"

namespace pciesim {
using nlohmann::json;

Table axes_table(const ReportData &d) {
  Table t{{"axis", "values"}, {false, false}, {}};
  for (const std::string &axis : d.axes) {
    std::vector<std::string> seen;
    for (const ReportPoint &p : d.points)
      if (p.values.contains(axis) &&
          std::find(seen.begin(), seen.end(), axis_label(p, axis)) == seen.end())
        seen.push_back(axis_label(p, axis));
    std::string values;
    for (const std::string &v : seen)
      values += (values.empty() ? "" : ", ") + v;
    t.rows.push_back({axis, values});
  }
  return t;
}

Table results_table(const ReportData &d) {
  Table t;
  if (d.sweep)
    t.header.push_back("point");
  t.header.insert(t.header.end(), d.axes.begin(), d.axes.end());
  for (const char *h : {"status", "transfer", "direction", "size", "GB/s", "mean (ns)", "p50 (ns)",
                        "p99 (ns)", "error"})
    t.header.push_back(h);
  std::size_t first_number = t.header.size() - 6;
  for (std::size_t i = 0; i < t.header.size(); ++i)
    t.numeric.push_back(i >= first_number && i + 1 < t.header.size());
  for (const ReportPoint &p : d.points) {
    std::vector<std::string> prefix;
    if (d.sweep)
      prefix.push_back(p.id);
    for (const std::string &axis : d.axes)
      prefix.push_back(axis_label(p, axis));
    prefix.push_back(p.status);
    const json &transfers = json_array(p.result, "transfers");
    if (transfers.empty()) {
      auto row = prefix;
      row.resize(t.header.size() - 1);
      row.push_back(p.error);
      t.rows.push_back(row);
    }
    for (const json &tr : transfers) {
      const json &lat = tr.contains("latency_ns") ? tr["latency_ns"] : json();
      auto row = prefix;
      for (std::string cell :
           {json_text(tr, "id"), json_text(tr, "direction"),
            svg::format_byte_count(json_number(tr, "transfer_bytes")),
            fixed_decimals(json_number(tr, "bandwidth_GBps"), 3),
            fixed_decimals(json_number(lat, "mean"), 1), fixed_decimals(json_number(lat, "p50"), 1),
            fixed_decimals(json_number(lat, "p99"), 1), json_text(tr, "error")})
        row.push_back(cell);
      t.rows.push_back(row);
    }
  }
  return t;
}

Table mechanisms_table(const ReportData &d) {
  Table t{{"point", "mechanism", "topology", "status", "total time", "GB/s", "p50 (ns)", "p99 (ns)",
           "pages migrated", "faults", "invalidations", "reason"},
          {false, false, false, false, true, true, true, true, true, true, true, false},
          {}};
  for (const ReportPoint &p : d.points)
    for (const json &m : json_array(p.result, "mechanisms")) {
      const json &lat = m.contains("latency") ? m["latency"] : json();
      double faults = NAN;
      if (m.contains("faults") && m["faults"].is_object())
        for (const auto &f : m["faults"].items())
          if (f.value().is_number())
            faults = (std::isnan(faults) ? 0.0 : faults) + f.value().get<double>();
      t.rows.push_back(
          {point_label(d, p), json_text(m, "name"), json_text(m, "topology"),
           json_text(m, "status"),
           std::isfinite(json_number(m, "total_time_ns"))
               ? format_ns(json_number(m, "total_time_ns"))
               : "",
           fixed_decimals(json_number(m, "throughput_GBps"), 3),
           fixed_decimals(json_number(lat, "p50_ns"), 1),
           fixed_decimals(json_number(lat, "p99_ns"), 1),
           fixed_decimals(json_number(m, "pages_migrated"), 0), fixed_decimals(faults, 0),
           fixed_decimals(json_number(m, "invalidations"), 0), json_text(m, "reason")});
    }
  return t;
}

std::string html_table(const Table &t) {
  std::string out = "<table>\n<tr>";
  for (const std::string &h : t.header)
    out += "<th>" + xml_escape(h) + "</th>";
  out += "</tr>\n";
  for (const auto &row : t.rows) {
    out += "<tr>";
    for (std::size_t i = 0; i < row.size(); ++i)
      out += (i < t.numeric.size() && t.numeric[i] ? "<td class=\"num\">" : "<td>") +
             xml_escape(row[i]) + "</td>";
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

std::string md_cell(const std::string &s) {
  std::string out;
  for (char c : s)
    out += c == '|' ? std::string("\\|") : c == '\n' ? std::string(" ") : std::string(1, c);
  return out;
}

std::string md_table(const Table &t) {
  std::string out = "|", rule = "|";
  for (std::size_t i = 0; i < t.header.size(); ++i) {
    out += " " + md_cell(t.header[i]) + " |";
    rule += i < t.numeric.size() && t.numeric[i] ? " ---: |" : " --- |";
  }
  out += "\n" + rule + "\n";
  for (const auto &row : t.rows) {
    out += "|";
    for (const std::string &cell : row)
      out += " " + md_cell(cell) + " |";
    out += "\n";
  }
  return out + "\n";
}

} // namespace pciesim
