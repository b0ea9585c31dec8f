#include "sim/report/report_page.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>

#include <fmt/format.h>

#include "models/common/units.h"
#include "sim/report/report.h"
#include "sim/report/report_tables.h"
#include "sim/report/svg_plot.h"
#include "sim/util/input_error.h"

namespace pciesim {
namespace fs = std::filesystem;
using nlohmann::json;
namespace {

// The parts of a mechanism's time, in the order they are stacked; other keys follow.
const std::vector<std::string> kBreakdownParts = {"dma",          "copy",  "fault_handling",
                                                  "invalidation", "setup", "waiting"};

std::string percent(double fraction) { return svg::format_number(100.0 * fraction) + " %"; }

// A point's transfer size: its largest transfer, else its size axis value.
double point_size(const ReportData &d, const ReportPoint &p) {
  double size = NAN;
  for (const json &t : json_array(p.result, "transfers"))
    size = std::isnan(size) ? json_number(t, "transfer_bytes")
                            : std::max(size, json_number(t, "transfer_bytes"));
  for (const std::string &axis : d.axes)
    if (std::isnan(size) && is_size_axis(axis) && p.values.contains(axis)) {
      const json &v = p.values[axis];
      if (v.is_number())
        size = v.get<double>();
      else if (v.is_string())
        if (auto parsed = parse_bytes(v.get<std::string>()); parsed.value)
          size = static_cast<double>(parsed.value->count);
    }
  return size;
}

bool completed(const ReportPoint &p) { return p.status == "completed" && p.result.is_object(); }

// For each combination of the non-size axes, the completed point of the largest size: the
// points whose breakdowns and latency distributions the report draws.
std::vector<std::size_t> representative_points(const ReportData &d) {
  std::vector<std::string> combos;
  std::vector<std::size_t> chosen;
  for (std::size_t i = 0; i < d.points.size(); ++i) {
    if (!completed(d.points[i]))
      continue;
    std::string c = combination(d, d.points[i]);
    auto it = std::find(combos.begin(), combos.end(), c);
    if (it == combos.end()) {
      combos.push_back(c);
      chosen.push_back(i);
    } else {
      std::size_t &best = chosen[static_cast<std::size_t>(it - combos.begin())];
      if (point_size(d, d.points[i]) > point_size(d, d.points[best]))
        best = i;
    }
  }
  return chosen;
}

// Every chart of the page: as wide as the page's text column.
svg::Frame frame(const std::string &title, const std::string &x_label, const std::string &y_label,
                 svg::Formatter x_tick_label = nullptr) {
  svg::Frame f;
  f.width = 900;
  f.title = title;
  f.x_label = x_label;
  f.y_label = y_label;
  f.x_tick_label = std::move(x_tick_label);
  return f;
}

struct Figure {
  std::string file; // under report-svg/
  std::string svg;
  std::string caption;
};

struct Section {
  std::string title;
  std::vector<Figure> figures;
  std::string note; // shown when there is nothing to draw, or under the figures
};

void add_point(std::vector<svg::LineSeries> &series, const std::string &name, double x, double y) {
  auto it = std::find_if(series.begin(), series.end(),
                         [&](const svg::LineSeries &s) { return s.name == name; });
  if (it == series.end())
    it = series.insert(series.end(), svg::LineSeries{name, {}, {}});
  it->x.push_back(x);
  it->y.push_back(y);
}

// Sorts each series by x and says whether there is more than one size to draw.
bool finish_series(std::vector<svg::LineSeries> &series) {
  std::vector<double> xs;
  for (svg::LineSeries &s : series) {
    std::vector<std::size_t> order(s.x.size());
    for (std::size_t i = 0; i < order.size(); ++i)
      order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return s.x[a] < s.x[b]; });
    svg::LineSeries sorted{s.name, {}, {}};
    for (std::size_t i : order) {
      sorted.x.push_back(s.x[i]);
      sorted.y.push_back(s.y[i]);
      xs.push_back(s.x[i]);
    }
    s = sorted;
  }
  std::sort(xs.begin(), xs.end());
  return std::unique(xs.begin(), xs.end()) - xs.begin() > 1;
}

Figure throughput_figure(const std::string &file, const std::string &title,
                         std::vector<svg::LineSeries> series, const std::string &caption) {
  svg::LinePlot plot;
  plot.frame = frame(title, "transfer size", "throughput (GB/s)", svg::format_byte_count);
  double lo = INFINITY, hi = 0;
  for (const auto &s : series)
    for (double x : s.x)
      if (x > 0) {
        lo = std::min(lo, x);
        hi = std::max(hi, x);
      }
  plot.log2_x = hi >= 8 * lo;
  plot.series = std::move(series);
  return {file, svg::line_plot(plot), caption};
}

Section throughput_section(const ReportData &d) {
  Section s{"Throughput vs transfer size", {}, ""};
  std::vector<svg::LineSeries> transfers, mechanisms;
  for (const ReportPoint &p : d.points) {
    if (!completed(p))
      continue;
    std::string combo = combination(d, p);
    for (const json &t : json_array(p.result, "transfers")) {
      double y = json_number(t, "bandwidth_GBps");
      if (std::isfinite(y) && json_text(t, "error").empty())
        add_point(transfers,
                  combo.empty() ? json_text(t, "id") : combo + " / " + json_text(t, "id"),
                  json_number(t, "transfer_bytes"), y);
    }
    for (const json &m : json_array(p.result, "mechanisms"))
      if (json_text(m, "status") == "ok" && std::isfinite(json_number(m, "throughput_GBps")))
        add_point(mechanisms,
                  combo.empty() ? json_text(m, "name") : json_text(m, "name") + " / " + combo,
                  point_size(d, p), json_number(m, "throughput_GBps"));
  }
  if (finish_series(mechanisms))
    s.figures.push_back(throughput_figure("mechanism-throughput.svg",
                                          "Throughput of each mechanism", mechanisms,
                                          "One line per mechanism (and combination of the other "
                                          "axes); mechanisms that did not run are left out."));
  if (finish_series(transfers))
    s.figures.push_back(throughput_figure(
        "throughput.svg", "Transfer throughput", transfers,
        "One line per transfer of the scenario and combination of the axes other than size; "
        "bandwidth_GBps of results.json."));
  if (s.figures.empty())
    s.note = "The transfer size does not vary, so there is no throughput curve; see the table.";
  return s;
}

Section breakdown_section(const ReportData &d, const std::vector<std::size_t> &chosen) {
  Section s{"Time breakdown by mechanism", {}, ""};
  svg::StackedBars chart;
  chart.frame = frame("Where each mechanism's time goes", "time", "", format_ns);
  chart.segments = kBreakdownParts;
  bool several = chosen.size() > 1;
  for (std::size_t i : chosen) {
    const ReportPoint &p = d.points[i];
    for (const json &m : json_array(p.result, "mechanisms")) {
      if (!m.contains("breakdown_ns") || !m["breakdown_ns"].is_object())
        continue;
      const json &b = m["breakdown_ns"];
      for (auto it = b.begin(); it != b.end(); ++it)
        if (std::find(chart.segments.begin(), chart.segments.end(), it.key()) ==
            chart.segments.end())
          chart.segments.push_back(it.key());
      std::vector<double> row;
      for (const std::string &part : chart.segments)
        row.push_back(std::isfinite(json_number(b, part.c_str())) ? json_number(b, part.c_str())
                                                                  : 0.0);
      chart.bars.push_back(several ? json_text(m, "name") + " / " + combination(d, p)
                                   : json_text(m, "name"));
      chart.values.push_back(row);
    }
  }
  for (auto &row : chart.values)
    row.resize(chart.segments.size(), 0.0);
  if (chart.bars.empty()) {
    s.note = "No mechanism results (results.json has no \"mechanisms\" with \"breakdown_ns\").";
    return s;
  }
  s.figures.push_back({"breakdown.svg", svg::stacked_bars(chart),
                       several ? "breakdown_ns of each mechanism at the largest transfer size of "
                                 "each combination of the other axes."
                               : "breakdown_ns of each mechanism."});
  return s;
}

// The fractions 0, 0.05, ..., 1 of latency_cdf_ns, or the three known percentiles.
svg::CdfSeries latency_series(const std::string &name, const json &cdf, double p50, double p99,
                              double max, bool &approximated) {
  svg::CdfSeries s{name, {}, {}};
  if (cdf.is_array() && cdf.size() == 21) {
    for (std::size_t i = 0; i < cdf.size(); ++i)
      if (cdf[i].is_number()) {
        s.values.push_back(cdf[i].get<double>());
        s.probabilities.push_back(static_cast<double>(i) / 20.0);
      }
    return s;
  }
  approximated = true;
  for (auto [v, q] : {std::pair{p50, 0.5}, {p99, 0.99}, {max, 1.0}})
    if (std::isfinite(v)) {
      s.values.push_back(v);
      s.probabilities.push_back(q);
    }
  return s;
}

Section latency_section(const ReportData &d, const std::vector<std::size_t> &chosen) {
  Section s{"Latency distributions", {}, ""};
  svg::CdfPlot plot;
  plot.frame = frame("Latency CDF", "latency", "fraction of operations", format_ns);
  bool approximated = false, several = chosen.size() > 1;
  for (std::size_t i : chosen) {
    const ReportPoint &p = d.points[i];
    std::string suffix = several ? " / " + combination(d, p) : "";
    const json &mechanisms = json_array(p.result, "mechanisms");
    for (const json &m : mechanisms) {
      if (json_text(m, "status") != "ok")
        continue;
      const json &lat = m.contains("latency") ? m["latency"] : json();
      plot.series.push_back(latency_series(
          json_text(m, "name") + suffix,
          m.contains("latency_cdf_ns") ? m["latency_cdf_ns"] : json(), json_number(lat, "p50_ns"),
          json_number(lat, "p99_ns"), json_number(lat, "max_ns"), approximated));
    }
    if (!mechanisms.empty())
      continue;
    for (const json &t : json_array(p.result, "transfers")) {
      const json &lat = t.contains("latency_ns") ? t["latency_ns"] : json();
      // Named as in the throughput chart: the combination first, then the transfer.
      std::string name =
          several ? combination(d, p) + " / " + json_text(t, "id") : json_text(t, "id");
      plot.series.push_back(latency_series(name, json(), json_number(lat, "p50"),
                                           json_number(lat, "p99"), json_number(lat, "max"),
                                           approximated));
    }
  }
  plot.series.erase(std::remove_if(plot.series.begin(), plot.series.end(),
                                   [](const svg::CdfSeries &c) { return c.values.empty(); }),
                    plot.series.end());
  if (plot.series.empty()) {
    s.note = "No latencies in the results.";
    return s;
  }
  std::string caption = several ? "At the largest transfer size of each combination of the "
                                  "other axes. "
                                : "";
  if (approximated)
    caption += "Curves without a recorded distribution (latency_cdf_ns) are approximated from "
               "the percentiles in results.json (p50, p99, max): a step at each.";
  s.figures.push_back({"latency-cdf.svg", svg::step_cdf(plot), caption});
  return s;
}

Section links_section(const ReportData &d) {
  Section s{"Link utilisation", {}, ""};
  for (std::size_t t = 0; t < d.topologies.size(); ++t) {
    svg::HeatMap map;
    map.frame = frame("Link utilisation on " + d.topologies[t].name, "", "busy");
    map.value_label = percent;
    std::vector<std::vector<double>> columns; // per point, per row
    for (const ReportPoint &p : d.points) {
      if (p.topology != static_cast<int>(t) || !completed(p))
        continue;
      std::string label = axis_values(
          d, p, [](const std::string &a) { return a.find("topolog") == std::string::npos; });
      map.columns.push_back(label.empty() ? p.id : label);
      std::vector<double> column(map.rows.size(), NAN);
      for (const json &l : json_array(p.result, "links")) {
        std::string row = json_text(l, "from") + " -> " + json_text(l, "to");
        auto it = std::find(map.rows.begin(), map.rows.end(), row);
        std::size_t r = static_cast<std::size_t>(it - map.rows.begin());
        if (it == map.rows.end()) {
          map.rows.push_back(row);
          column.push_back(NAN);
        }
        column[r] = json_number(l, "utilization");
      }
      columns.push_back(column);
    }
    if (map.columns.empty())
      continue;
    map.values.assign(map.rows.size(), std::vector<double>(map.columns.size(), NAN));
    for (std::size_t c = 0; c < columns.size(); ++c)
      for (std::size_t r = 0; r < columns[c].size(); ++r)
        map.values[r][c] = columns[c][r];
    s.figures.push_back({fmt::format("links-{}.svg", t + 1), svg::heat_map(map),
                         "Share of the simulated time each link direction was busy sending "
                         "(utilization in links.csv), one column per point."});
  }
  if (s.figures.empty())
    s.note = "No link statistics in the results.";
  return s;
}

Section topology_section(const ReportData &d) {
  Section s{"Topologies", {}, ""};
  for (std::size_t t = 0; t < d.topologies.size(); ++t) {
    const ReportTopology &topo = d.topologies[t];
    s.figures.push_back({topo.svg.empty() ? "" : fmt::format("topology-{}.svg", t + 1), topo.svg,
                         topo.svg.empty() ? topo.name + ": " + topo.note
                                          : topo.name + " (Graphviz of `pciesim topo --dot`)"});
  }
  if (s.figures.empty())
    s.note = "The points' topologies are not in the output directory.";
  return s;
}

const char *kStyle = R"(body{font-family:sans-serif;margin:24px;max-width:1200px;color:#222}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:12px;margin:8px 0}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:left}td.num{text-align:right}
th{background:#f0f0f0}figure{margin:12px 0}figure svg{max-width:100%;height:auto}
figcaption{font-size:12px;color:#555}.note{color:#555;font-style:italic}
)";

std::string summary_line(const ReportData &d) {
  std::map<std::string, int> by_status;
  for (const ReportPoint &p : d.points)
    ++by_status[p.status];
  std::string out = fmt::format("{} point{}", d.points.size(), d.points.size() == 1 ? "" : "s");
  for (const auto &[status, n] : by_status)
    out += fmt::format(", {} {}", n, status);
  return out + ".";
}

std::vector<std::string> verdicts(const ReportData &d) {
  std::vector<std::string> out;
  for (const ReportPoint &p : d.points)
    if (!json_text(p.result, "verdict").empty())
      out.push_back(d.sweep ? point_label(d, p) + ": " + json_text(p.result, "verdict")
                            : json_text(p.result, "verdict"));
  return out;
}

} // namespace

ReportFiles render_report(const ReportData &d) {
  std::vector<std::size_t> chosen = representative_points(d);
  std::vector<Section> sections = {throughput_section(d), breakdown_section(d, chosen),
                                   latency_section(d, chosen), links_section(d),
                                   topology_section(d)};
  Table mechanisms = mechanisms_table(d);
  std::string title = (d.sweep ? "pciesim sweep report: " : "pciesim run report: ") + d.title;
  ReportFiles f;
  std::string &h = f.html, &m = f.markdown;
  h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
      xml_escape(title) + "</title>\n<style>\n" + kStyle + "</style>\n</head>\n<body>\n";
  h += "<h1>" + xml_escape(title) + "</h1>\n";
  m = "# " + title + "\n\n";
  for (const std::string &para : {d.description, summary_line(d)})
    if (!para.empty()) {
      h += "<p>" + xml_escape(para) + "</p>\n";
      m += para + "\n\n";
    }
  if (!d.axes.empty()) {
    h += "<h2>Axes</h2>\n" + html_table(axes_table(d));
    m += "## Axes\n\n" + md_table(axes_table(d));
  }
  if (auto v = verdicts(d); !v.empty()) {
    h += "<h2>Verdict</h2>\n<ul>\n";
    m += "## Verdict\n\n";
    for (const std::string &line : v) {
      h += "<li>" + xml_escape(line) + "</li>\n";
      m += "- " + md_cell(line) + "\n";
    }
    h += "</ul>\n";
    m += "\n";
  }
  for (const Section &s : sections) {
    h += "<h2>" + xml_escape(s.title) + "</h2>\n";
    m += "## " + s.title + "\n\n";
    for (const Figure &fig : s.figures) {
      h += "<figure>\n" + fig.svg + "<figcaption>" + xml_escape(fig.caption) +
           "</figcaption>\n</figure>\n";
      if (!fig.file.empty()) {
        f.svgs.emplace_back(fig.file, fig.svg);
        m += "![" + md_cell(fig.caption) + "](report-svg/" + fig.file + ")\n\n";
      }
      m += fig.caption + "\n\n";
    }
    if (!s.note.empty()) {
      h += "<p class=\"note\">" + xml_escape(s.note) + "</p>\n";
      m += "*" + s.note + "*\n\n";
    }
  }
  h += "<h2>Results</h2>\n" + html_table(results_table(d));
  m += "## Results\n\n" + md_table(results_table(d));
  if (!mechanisms.rows.empty()) {
    h += "<h3>Mechanisms</h3>\n" + html_table(mechanisms);
    m += "### Mechanisms\n\n" + md_table(mechanisms);
  }
  h += fmt::format("<p class=\"note\">Written by pciesim {} from results.json.</p>\n</body>\n"
                   "</html>\n",
                   PCIESIM_VERSION);
  return f;
}

void write_report(const std::string &dir) {
  ReportFiles files = render_report(load_report_data(dir));
  if (!files.svgs.empty())
    create_output_directory(dir + "/report-svg");
  OutputSet set; // the page and its pictures match
  for (const auto &[name, content] : files.svgs)
    set.add(dir + "/report-svg/" + name, content);
  set.add(dir + "/report.md", files.markdown);
  set.add(dir + "/report.html", files.html);
  set.write();
}

int command_report(const std::string &dir) {
  write_report(dir);
  std::cerr << fmt::format("pciesim: report in {}/report.html and {}/report.md\n", dir, dir);
  return kExitOk;
}

} // namespace pciesim
