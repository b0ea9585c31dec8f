#include "sim/report/report_figures.h"

#include <cctype>

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "models/common/units.h"
#include "sim/report/report.h"
#include "sim/report/report_figure_parts.h"
#include "sim/report/svg_plot.h"

namespace pciesim {
using nlohmann::json;

namespace figure_parts {

std::string percent(double fraction) { return svg::format_number(100.0 * fraction) + " %"; }

bool completed(const ReportPoint &p) { return p.status == "completed" && p.result.is_object(); }

// Every chart of the page: as wide as the page's text column.
svg::Frame frame(const std::string &title, const std::string &x_label, const std::string &y_label,
                 svg::Formatter x_tick_label) {
  svg::Frame f;
  f.width = 900;
  f.title = title;
  f.x_label = x_label;
  f.y_label = y_label;
  f.x_tick_label = std::move(x_tick_label);
  return f;
}

// A file stem from a title: lower-case letters, digits and dashes.
std::string stem(const std::string &prefix, const std::string &title) {
  std::string out = prefix;
  bool dash = true;
  for (char c : title) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      if (dash && out.size() > prefix.size())
        out += '-';
      out += static_cast<char>(std::tolower(u));
      dash = false;
    } else {
      dash = true;
    }
  }
  return out;
}

std::string csv_number(double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : ""; }

// Mechanisms keep one colour across every chart, by their order of first appearance.
MechanismColours::MechanismColours(const ReportData &d) {
  for (const ReportPoint &p : d.points)
    for (const json &m : json_array(p.result, "mechanisms"))
      if (std::find(names_.begin(), names_.end(), json_text(m, "name")) == names_.end())
        names_.push_back(json_text(m, "name"));
}

svg::Style MechanismColours::style(const std::string &name) const {
  auto it = std::find(names_.begin(), names_.end(), name);
  return {svg::series_colour(static_cast<std::size_t>(it - names_.begin())), ""};
}

std::vector<Panel> mechanism_panels(const ReportData &d, const std::vector<std::size_t> &chosen) {
  std::vector<Panel> panels;
  for (std::size_t i : chosen) {
    const ReportPoint &p = d.points[i];
    std::string combo = d.sweep ? combination(d, p) : "";
    for (const json &m : json_array(p.result, "mechanisms")) {
      std::string topology = json_text(m, "topology");
      auto it = std::find_if(panels.begin(), panels.end(), [&](const Panel &x) {
        return x.topology == topology && x.combination == combo;
      });
      if (it == panels.end())
        it = panels.insert(
            panels.end(),
            Panel{combo.empty() ? topology : topology + " · " + combo, topology, combo, {}});
      it->mechanisms.push_back(&m);
    }
  }
  return panels;
}

bool ran(const json &m) { return json_text(m, "status") == "ok"; }

} // namespace figure_parts

using namespace figure_parts;
namespace {

// The parts of a mechanism's time, in the order they are stacked; other keys follow.
const std::vector<std::string> kBreakdownParts = {
    "dma", "copy", "fault_handling", "invalidation", "shootdown", "setup", "waiting"};

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

void add_point(std::vector<svg::LineSeries> &series, const std::string &name, double x, double y,
               const svg::Style &style = {}) {
  auto it = std::find_if(series.begin(), series.end(),
                         [&](const svg::LineSeries &s) { return s.name == name; });
  if (it == series.end())
    it = series.insert(series.end(), svg::LineSeries{name, {}, {}, style});
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
    svg::LineSeries sorted{s.name, {}, {}, s.style};
    for (std::size_t i : order) {
      sorted.x.push_back(s.x[i]);
      sorted.y.push_back(s.y[i]);
      if (std::isfinite(s.x[i]))
        xs.push_back(s.x[i]);
    }
    s = sorted;
  }
  std::sort(xs.begin(), xs.end());
  return std::unique(xs.begin(), xs.end()) - xs.begin() > 1;
}

std::string line_csv(const std::vector<svg::LineSeries> &series, const std::string &x,
                     const std::string &y) {
  std::string out = "series," + x + "," + y + "\n";
  for (const auto &s : series)
    for (std::size_t i = 0; i < s.x.size(); ++i)
      out += csv_field(s.name) + "," + csv_number(s.x[i]) + "," + csv_number(s.y[i]) + "\n";
  return out;
}

Figure throughput_lines(const std::string &name, const std::string &title,
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
  plot.x_scale = hi >= 8 * lo ? svg::Scale::Log2 : svg::Scale::Linear;
  plot.series = std::move(series);
  return {name, svg::line_plot(plot), caption,
          line_csv(plot.series, "transfer_bytes", "throughput_GBps")};
}

std::string bars_csv(const svg::GroupedBars &chart, const std::string &value) {
  std::string out = "category,series," + value + "\n";
  for (const auto &s : chart.series)
    for (std::size_t c = 0; c < chart.categories.size() && c < s.values.size(); ++c)
      out += csv_field(chart.categories[c]) + "," + csv_field(s.name) + "," +
             csv_number(s.values[c]) + "\n";
  return out;
}

// Throughput of each mechanism where the size does not vary: bars, grouped by mechanism.
std::vector<Figure> mechanism_throughput_bars(const ReportData &d,
                                              const std::vector<std::size_t> &chosen) {
  std::vector<Panel> panels = mechanism_panels(d, chosen);
  std::vector<std::string> topologies, combos;
  for (const Panel &p : panels) {
    if (std::find(topologies.begin(), topologies.end(), p.topology) == topologies.end())
      topologies.push_back(p.topology);
    if (std::find(combos.begin(), combos.end(), p.combination) == combos.end())
      combos.push_back(p.combination);
  }
  // One combination: a single chart, a bar per topology in each mechanism's group. Several:
  // a chart per topology, a bar per combination.
  bool single = combos.size() <= 1;
  std::vector<Figure> figures;
  for (std::size_t t = 0; t < (single ? 1 : topologies.size()); ++t) {
    svg::GroupedBars chart;
    chart.frame = frame(single ? "Throughput of each mechanism"
                               : "Throughput of each mechanism on " + topologies[t],
                        "throughput (GB/s)", "");
    for (const Panel &p : panels) {
      if (!single && p.topology != topologies[t])
        continue;
      std::string series_name = single ? p.topology : p.combination;
      auto s = std::find_if(chart.series.begin(), chart.series.end(),
                            [&](const svg::BarSeries &b) { return b.name == series_name; });
      if (s == chart.series.end())
        s = chart.series.insert(chart.series.end(), svg::BarSeries{series_name, {}, {}});
      for (const json *m : p.mechanisms) {
        std::string name = json_text(*m, "name");
        auto c = std::find(chart.categories.begin(), chart.categories.end(), name);
        std::size_t index = static_cast<std::size_t>(c - chart.categories.begin());
        if (c == chart.categories.end())
          chart.categories.push_back(name);
        s->values.resize(std::max(s->values.size(), index + 1), NAN);
        s->values[index] = ran(*m) ? json_number(*m, "throughput_GBps") : NAN;
      }
    }
    for (auto &s : chart.series)
      s.values.resize(chart.categories.size(), NAN);
    figures.push_back({single ? "throughput-bars" : stem("throughput-", topologies[t]),
                       svg::grouped_bars(chart),
                       "Bytes the workload moved over its total time (throughput_GBps); n/a: the "
                       "mechanism did not run.",
                       bars_csv(chart, "throughput_GBps")});
  }
  return figures;
}

// Transfers' throughput where the size does not vary: a bar per transfer and point.
Figure transfer_throughput_bars(const ReportData &d) {
  svg::GroupedBars chart;
  chart.frame = frame("Transfer throughput", "throughput (GB/s)", "");
  for (const ReportPoint &p : d.points) {
    if (!completed(p))
      continue;
    std::string series_name = d.sweep ? point_label(d, p) : "bandwidth";
    auto s = chart.series.insert(chart.series.end(), svg::BarSeries{series_name, {}, {}});
    for (const json &t : json_array(p.result, "transfers")) {
      std::string id = json_text(t, "id");
      auto c = std::find(chart.categories.begin(), chart.categories.end(), id);
      std::size_t index = static_cast<std::size_t>(c - chart.categories.begin());
      if (c == chart.categories.end())
        chart.categories.push_back(id);
      s->values.resize(std::max(s->values.size(), index + 1), NAN);
      s->values[index] = json_text(t, "error").empty() ? json_number(t, "bandwidth_GBps") : NAN;
    }
  }
  for (auto &s : chart.series)
    s.values.resize(chart.categories.size(), NAN);
  return {"throughput-bars", svg::grouped_bars(chart),
          "bandwidth_GBps of each transfer; n/a: unsupported or failed.",
          bars_csv(chart, "bandwidth_GBps")};
}

} // namespace

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

Section throughput_section(const ReportData &d) {
  Section s{"throughput", "Throughput", "", {}, {}};
  MechanismColours colours(d);
  std::vector<svg::LineSeries> transfers;
  std::map<std::string, std::vector<svg::LineSeries>> by_topology;
  std::vector<std::string> combos, transfer_ids;
  bool have_transfers = false, have_mechanisms = false;
  for (const ReportPoint &p : d.points) {
    if (!completed(p))
      continue;
    std::string combo = combination(d, p);
    if (std::find(combos.begin(), combos.end(), combo) == combos.end())
      combos.push_back(combo);
    std::size_t combo_index =
        static_cast<std::size_t>(std::find(combos.begin(), combos.end(), combo) - combos.begin());
    for (const json &t : json_array(p.result, "transfers")) {
      have_transfers = true;
      std::string id = json_text(t, "id");
      if (std::find(transfer_ids.begin(), transfer_ids.end(), id) == transfer_ids.end())
        transfer_ids.push_back(id);
      // A colour per combination of the axes, a dash pattern per transfer of the scenario.
      svg::Style style{
          svg::series_colour(combo_index),
          svg::series_dash(static_cast<std::size_t>(
              std::find(transfer_ids.begin(), transfer_ids.end(), id) - transfer_ids.begin()))};
      double y = json_number(t, "bandwidth_GBps");
      if (std::isfinite(y) && json_text(t, "error").empty())
        add_point(transfers, combo.empty() ? id : combo + " / " + id,
                  json_number(t, "transfer_bytes"), y, style);
    }
    for (const json &m : json_array(p.result, "mechanisms")) {
      have_mechanisms = true;
      if (ran(m) && std::isfinite(json_number(m, "throughput_GBps"))) {
        svg::Style style = colours.style(json_text(m, "name"));
        style.dash = svg::series_dash(combo_index);
        add_point(by_topology[json_text(m, "topology")],
                  combo.empty() ? json_text(m, "name") : json_text(m, "name") + " / " + combo,
                  point_size(d, p), json_number(m, "throughput_GBps"), style);
      }
    }
  }
  bool mechanism_sizes_vary = false;
  for (auto &[topology, series] : by_topology)
    mechanism_sizes_vary = finish_series(series) || mechanism_sizes_vary;
  if (mechanism_sizes_vary) {
    for (auto &[topology, series] : by_topology)
      s.figures.push_back(throughput_lines(
          stem("mechanism-throughput-", topology), "Throughput of each mechanism on " + topology,
          series, "One colour per mechanism; one dash pattern per combination of the other axes."));
  } else if (have_mechanisms) {
    for (Figure &f : mechanism_throughput_bars(d, representative_points(d)))
      s.figures.push_back(std::move(f));
  }
  if (finish_series(transfers))
    s.figures.push_back(throughput_lines(
        "throughput", "Transfer throughput", transfers,
        "One colour per combination of the axes other than size, one dash pattern per transfer "
        "of the scenario; bandwidth_GBps of results.json."));
  else if (have_transfers)
    s.figures.push_back(transfer_throughput_bars(d));
  return s;
}

Section breakdown_section(const ReportData &d, const std::vector<std::size_t> &chosen) {
  Section s{"breakdown", "Total time and where it goes", "", {}, {}};
  std::vector<Panel> panels = mechanism_panels(d, chosen);
  // One list of parts for every panel, so that a part has the same colour everywhere.
  std::vector<std::string> parts = kBreakdownParts;
  double lo = INFINITY, hi = 0;
  for (const Panel &p : panels)
    for (const json *m : p.mechanisms) {
      if (!ran(*m) || !m->contains("breakdown_ns") || !(*m)["breakdown_ns"].is_object())
        continue;
      for (auto it = (*m)["breakdown_ns"].begin(); it != (*m)["breakdown_ns"].end(); ++it)
        if (std::find(parts.begin(), parts.end(), it.key()) == parts.end())
          parts.push_back(it.key());
      double total = json_number(*m, "total_time_ns");
      if (total > 0) {
        lo = std::min(lo, total);
        hi = std::max(hi, total);
      }
    }
  svg::Scale scale = svg::value_scale(lo, hi);
  for (const Panel &p : panels) {
    svg::StackedBars chart;
    chart.frame = frame(p.title, "total time", "", format_ns);
    chart.x_scale = scale;
    chart.segments = parts;
    std::string csv = "mechanism,part,time_ns\n";
    for (const json *m : p.mechanisms) {
      if (!ran(*m) || !m->contains("breakdown_ns") || !(*m)["breakdown_ns"].is_object())
        continue;
      const json &b = (*m)["breakdown_ns"];
      std::vector<double> row;
      for (const std::string &part : parts) {
        double v = json_number(b, part.c_str());
        row.push_back(std::isfinite(v) ? v : 0.0);
        if (b.contains(part))
          csv += csv_field(json_text(*m, "name")) + "," + part + "," + csv_number(v) + "\n";
      }
      chart.bars.push_back(json_text(*m, "name"));
      chart.values.push_back(row);
    }
    if (chart.bars.empty())
      continue;
    s.figures.push_back({stem("breakdown-", p.title), svg::stacked_bars(chart), "", csv});
  }
  if (!s.figures.empty())
    s.text = scale == svg::Scale::Log10
                 ? "Each bar's length is the mechanism's total time on a logarithmic axis (the "
                   "totals span more than a decade); its colours divide it in proportion to "
                   "the parts of breakdown_ns, whose exact values are in the bars' tooltips "
                   "and the CSV."
                 : "Each bar is the mechanism's total time, divided into the parts of "
                   "breakdown_ns.";
  return s;
}

} // namespace pciesim
