#include "sim/report/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include <fmt/format.h>

#include "sim/report/svg_canvas.h"

namespace pciesim::svg {
using namespace detail;
namespace {

double nice_number(double x, bool round) {
  double exponent = std::floor(std::log10(x));
  double fraction = x / std::pow(10.0, exponent);
  double nice = round ? (fraction < 1.5 ? 1
                         : fraction < 3 ? 2
                         : fraction < 7 ? 5
                                        : 10)
                      : (fraction <= 1   ? 1
                         : fraction <= 2 ? 2
                         : fraction <= 5 ? 5
                                         : 10);
  return nice * std::pow(10.0, exponent);
}

// Light to dark blue, by linear interpolation between three stops.
std::string heat_colour(double fraction) {
  static const int stops[3][3] = {{247, 251, 255}, {107, 174, 214}, {8, 48, 107}};
  double f = std::clamp(std::isfinite(fraction) ? fraction : 0.0, 0.0, 1.0) * 2.0;
  int i = std::min(1, static_cast<int>(f));
  double t = f - i;
  int rgb[3];
  for (int c = 0; c < 3; ++c)
    rgb[c] = static_cast<int>(std::lround(stops[i][c] + t * (stops[i + 1][c] - stops[i][c])));
  return fmt::format("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2]);
}

std::string colour_of(const Style &style, std::size_t index) {
  return style.colour.empty() ? series_colour(index) : style.colour;
}

std::string dash_attribute(const Style &style) {
  return style.dash.empty() ? "" : " stroke-dasharray=\"" + style.dash + "\"";
}

// A chart with an x and a y axis: its size, plot area and legend place.
struct XyLayout {
  double width = 0, height = 0;
  Area area{};
  LegendLayout legend;
  double legend_x = 0, legend_y = 0;
};

// `left`: room for the y tick labels and title; `right`: room past the plot for the last x tick
// label or the bars' value labels; `plot_height`: the plot area's height.
XyLayout layout_xy(const Frame &f, double left, double right, double plot_height,
                   const std::vector<LegendEntry> &entries) {
  XyLayout l;
  l.width = chart_width(f);
  l.legend = plan_legend(entries, l.width);
  double legend_right = l.legend.below ? 0 : l.legend.width;
  l.area.left = left;
  l.area.top = kTop;
  l.area.width = std::max(120.0, l.width - left - right - legend_right - 10);
  l.width = std::max(l.width, left + l.area.width + right + legend_right + 10);
  l.area.height = plot_height;
  double below_axis = 46;
  l.height = kTop + plot_height + below_axis;
  if (l.legend.below) {
    l.legend_x = 10;
    l.legend_y = l.height + 4;
    l.height += l.legend.height;
  } else {
    l.legend_x = left + l.area.width + right + 10;
    l.legend_y = kTop + 10;
    l.height = std::max(l.height, kTop + l.legend.height);
  }
  return l;
}

std::vector<std::string> tick_labels(const std::vector<double> &ticks, const Formatter &f) {
  std::vector<std::string> labels;
  for (double t : ticks)
    labels.push_back(label_of(f, t));
  return labels;
}

// The room left of a plot for the y tick labels and the rotated y title.
double y_margin(const std::vector<double> &ticks, const Formatter &f) {
  return 28 + widest(tick_labels(ticks, f)) + 10;
}

// The room right of a plot for half of the last x tick label.
double x_overhang(const std::vector<double> &ticks, const Formatter &f) {
  return ticks.empty() ? 10 : text_width(label_of(f, ticks.back())) / 2 + 6;
}

// The range [lo, hi] of the positive values (log scales) or of all values, over `values`.
void extend(Scale scale, double v, double &lo, double &hi) {
  if (!std::isfinite(v) || (scale != Scale::Linear && !(v > 0)))
    return;
  lo = std::min(lo, v);
  hi = std::max(hi, v);
}

// The ticks of a value axis and its shown range in scaled units.
void set_x_range(Area &a, Scale scale, const std::vector<double> &ticks) {
  a.x_scale = scale;
  a.x0 = scaled(scale, ticks.front());
  a.x1 = scaled(scale, ticks.back());
  if (a.x1 <= a.x0)
    a.x1 = a.x0 + 1;
}

} // namespace

Scale value_scale(double lo, double hi, double decades) {
  return lo > 0 && std::isfinite(hi) && std::log10(hi / lo) > decades ? Scale::Log10
                                                                      : Scale::Linear;
}

const char *series_colour(std::size_t i) {
  // Tableau's 10 hues, then the lighter member of each of Tableau 20's pairs.
  static const char *palette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                  "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#79706e",
                                  "#a0cbe8", "#ffbe7d", "#8cd17d", "#b6992d", "#f1ce63",
                                  "#86bcb6", "#d37295", "#fabfd2", "#d4a6c8", "#d7b5a6"};
  return palette[i % 20];
}

const char *series_dash(std::size_t k) {
  static const char *dashes[] = {"", "6 3", "2 2", "8 3 2 3", "12 4"};
  return dashes[k % 5];
}

std::string format_number(double v) {
  if (!std::isfinite(v))
    return std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf";
  double a = std::fabs(v);
  if (a < 5e-5)
    return "0";
  std::string s;
  if (a >= 1e9) {
    s = fmt::format("{:.3e}", v);
  } else {
    int digits = static_cast<int>(std::floor(std::log10(a))) + 1;
    s = fmt::format("{:.{}f}", v, std::max(0, 4 - digits));
    if (s.find('.') != std::string::npos) {
      s.erase(s.find_last_not_of('0') + 1);
      if (s.back() == '.')
        s.pop_back();
    }
  }
  return s == "-0" ? "0" : s;
}

std::string format_byte_count(double v) {
  static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (u < 4 && std::fabs(v) >= 1024.0) {
    v /= 1024.0;
    ++u;
  }
  return format_number(v) + " " + units[u];
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi))
    return {0, 1};
  if (hi < lo)
    std::swap(lo, hi);
  if (hi == lo) {
    double pad = lo == 0 ? 1 : std::fabs(lo) * 0.5;
    lo -= pad;
    hi += pad;
  }
  double step = nice_number(nice_number(hi - lo, false) / std::max(1, target - 1), true);
  // Ticks as whole multiples of the step, so that 0 is exactly 0 and labels stay round.
  auto first = static_cast<std::int64_t>(std::floor(lo / step + 1e-9));
  auto last = static_cast<std::int64_t>(std::ceil(hi / step - 1e-9));
  std::vector<double> ticks;
  for (std::int64_t k = first; k <= last; ++k)
    ticks.push_back(static_cast<double>(k) * step);
  return ticks;
}

std::vector<double> log10_ticks(double lo, double hi) {
  if (!(lo > 0) || !std::isfinite(hi) || hi < lo)
    return {1, 10};
  int e0 = static_cast<int>(std::floor(std::log10(lo) + 1e-9));
  int e1 = static_cast<int>(std::ceil(std::log10(hi) - 1e-9));
  if (e0 == e1)
    ++e1;
  std::vector<double> ticks;
  if (e1 - e0 <= 2) {
    // 1, 2, 5 per decade, from the last one <= lo to the first one >= hi.
    std::vector<double> candidates;
    for (int e = e0; e <= e1; ++e)
      for (double m : {1.0, 2.0, 5.0})
        candidates.push_back(m * std::pow(10.0, e));
    std::size_t first = 0, last = candidates.size() - 1;
    for (std::size_t i = 0; i < candidates.size(); ++i)
      if (candidates[i] <= lo * (1 + 1e-9))
        first = i;
    for (std::size_t i = candidates.size(); i-- > first;)
      if (candidates[i] >= hi * (1 - 1e-9))
        last = i;
    return std::vector<double>(candidates.begin() + static_cast<std::ptrdiff_t>(first),
                               candidates.begin() + static_cast<std::ptrdiff_t>(last) + 1);
  }
  int stride = std::max(1, (e1 - e0 + 7) / 8);
  for (int e = e0;; e += stride) {
    ticks.push_back(std::pow(10.0, e));
    if (e >= e1)
      break;
  }
  return ticks;
}

std::vector<double> log2_ticks(double lo, double hi, int max_ticks) {
  int e0 = static_cast<int>(std::floor(std::log2(lo) + 1e-9));
  int e1 = static_cast<int>(std::ceil(std::log2(hi) - 1e-9));
  if (e0 == e1) {
    --e0;
    ++e1;
  }
  int stride = (e1 - e0 + max_ticks - 1) / std::max(1, max_ticks - 1);
  stride = std::max(1, stride);
  // Start on a multiple of the stride so that the ticks read 1 KiB, 1 MiB rather than 2, 2 KiB.
  int start = static_cast<int>(std::floor(static_cast<double>(e0) / stride)) * stride;
  std::vector<double> ticks;
  for (int e = start;; e += stride) {
    ticks.push_back(std::ldexp(1.0, e));
    if (e >= e1)
      break;
  }
  return ticks;
}

std::string line_plot(const LinePlot &plot) {
  const Frame &f = plot.frame;
  double xmin = INFINITY, xmax = -INFINITY, ymin = 0, ymax = -INFINITY;
  for (const LineSeries &s : plot.series)
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (plot.x_scale != Scale::Linear && !(s.x[i] > 0))
        continue;
      extend(plot.x_scale, s.x[i], xmin, xmax);
      extend(Scale::Linear, s.y[i], ymin, ymax);
    }
  if (!(xmax >= xmin))
    return no_data(f);
  std::vector<LegendEntry> entries;
  for (std::size_t i = 0; i < plot.series.size(); ++i)
    entries.push_back(
        {plot.series[i].name, colour_of(plot.series[i].style, i), plot.series[i].style.dash, true});
  std::vector<double> xt = ticks_for(plot.x_scale, xmin, xmax), yt = nice_ticks(ymin, ymax);
  XyLayout l = layout_xy(f, y_margin(yt, f.y_tick_label), x_overhang(xt, f.x_tick_label),
                         f.height - kTop - 46, entries);
  Area &a = l.area;
  set_x_range(a, plot.x_scale, xt);
  a.y0 = yt.front();
  a.y1 = yt.back();
  Svg svg(l.width, l.height, f.title);
  y_axis(svg, a, yt, f.y_tick_label, f.y_label);
  x_axis(svg, a, xt, f.x_tick_label, f.x_label, false);
  for (std::size_t s = 0; s < plot.series.size(); ++s) {
    const LineSeries &series = plot.series[s];
    std::string colour = colour_of(series.style, s), points, markers;
    for (std::size_t i = 0; i < series.x.size() && i < series.y.size(); ++i) {
      if (plot.x_scale != Scale::Linear && !(series.x[i] > 0))
        continue;
      double x = a.px(series.x[i]), y = a.py(series.y[i]);
      points += (points.empty() ? "" : " ") + coord(x) + "," + coord(y);
      markers += fmt::format("<circle class=\"marker\" cx=\"{}\" cy=\"{}\" r=\"2.5\" "
                             "fill=\"{}\"><title>{}: {}, {}</title></circle>\n",
                             coord(x), coord(y), colour, xml_escape(series.name),
                             xml_escape(label_of(f.x_tick_label, series.x[i])),
                             xml_escape(label_of(f.y_tick_label, series.y[i])));
    }
    svg.raw(fmt::format("<polyline class=\"series\" data-series=\"{}\" fill=\"none\" "
                        "stroke=\"{}\" stroke-width=\"2\"{} points=\"{}\"/>\n",
                        xml_escape(series.name), colour, dash_attribute(series.style), points));
    svg.raw(markers);
  }
  draw_legend(svg, l.legend, l.legend_x, l.legend_y, entries);
  return svg.finish();
}

namespace {

constexpr double kBar = 16, kBarGap = 8;

// A horizontal bar chart's frame: category labels at the left, value ticks below, value labels
// past the bars' ends. `rows` bars of kBar, groups separated by kBarGap.
struct BarFrame {
  XyLayout layout;
  std::vector<double> ticks;
};

BarFrame bar_frame(const Frame &f, Scale scale, double lo, double hi,
                   const std::vector<std::string> &categories, double value_label_width,
                   double plot_height, const std::vector<LegendEntry> &entries) {
  BarFrame b;
  if (scale == Scale::Linear)
    lo = 0;
  b.ticks = ticks_for(scale, lo, hi > lo ? hi : lo + 1);
  double left = widest(categories) + 14;
  double right = std::max(x_overhang(b.ticks, f.x_tick_label), value_label_width + 8);
  b.layout = layout_xy(f, left, right, plot_height, entries);
  set_x_range(b.layout.area, scale, b.ticks);
  return b;
}

// Where a bar of value v ends (it starts at the axis's left end).
double bar_end(const Area &a, double v) { return std::clamp(a.px(v), a.left, a.left + a.width); }

} // namespace

std::string stacked_bars(const StackedBars &chart) {
  const Frame &f = chart.frame;
  if (chart.bars.empty())
    return no_data(f);
  std::vector<double> totals;
  std::vector<std::string> total_labels;
  double lo = INFINITY, hi = 0;
  for (std::size_t b = 0; b < chart.bars.size(); ++b) {
    double total = 0;
    if (b < chart.values.size())
      for (double v : chart.values[b])
        total += std::isfinite(v) ? std::max(0.0, v) : 0.0;
    totals.push_back(total);
    total_labels.push_back(label_of(f.x_tick_label, total));
    extend(chart.x_scale, total, lo, hi);
  }
  if (!(hi >= lo)) { // nothing positive on a log axis
    lo = 1;
    hi = 10;
  }
  std::vector<LegendEntry> entries;
  for (std::size_t s = 0; s < chart.segments.size(); ++s)
    entries.push_back({chart.segments[s], series_colour(s), "", false});
  double plot_height = static_cast<double>(chart.bars.size()) * (kBar + kBarGap);
  BarFrame frame =
      bar_frame(f, chart.x_scale, lo, hi, chart.bars, widest(total_labels), plot_height, entries);
  const Area &a = frame.layout.area;
  Svg svg(frame.layout.width, frame.layout.height, f.title);
  x_axis(svg, a, frame.ticks, f.x_tick_label, f.x_label, true);
  svg.line(a.left, a.top, a.left, a.top + a.height, "black");
  for (std::size_t b = 0; b < chart.bars.size(); ++b) {
    double y = a.top + kBarGap / 2 + static_cast<double>(b) * (kBar + kBarGap);
    svg.text(a.left - 6, y + kBar / 2 + 4, "end", chart.bars[b]);
    // The bar's length on the axis, shared out among its segments by their values.
    double length = totals[b] > 0 ? bar_end(a, totals[b]) - a.left : 0;
    double x = a.left;
    for (std::size_t s = 0; s < chart.segments.size(); ++s) {
      double v =
          b < chart.values.size() && s < chart.values[b].size() && std::isfinite(chart.values[b][s])
              ? std::max(0.0, chart.values[b][s])
              : 0.0;
      if (v <= 0)
        continue;
      double w = length * v / totals[b];
      svg.raw(fmt::format(
          "<rect class=\"bar\" data-bar=\"{}\" data-segment=\"{}\" data-value=\"{}\" x=\"{}\" "
          "y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{} {}: {}</title></rect>\n",
          xml_escape(chart.bars[b]), xml_escape(chart.segments[s]), format_number(v), coord(x),
          coord(y), coord(w), coord(kBar), series_colour(s), xml_escape(chart.bars[b]),
          xml_escape(chart.segments[s]), xml_escape(label_of(f.x_tick_label, v))));
      x += w;
    }
    svg.text(a.left + length + 5, y + kBar / 2 + 4, "start", total_labels[b], "class=\"value\"");
  }
  draw_legend(svg, frame.layout.legend, frame.layout.legend_x, frame.layout.legend_y, entries);
  return svg.finish();
}

std::string grouped_bars(const GroupedBars &chart) {
  const Frame &f = chart.frame;
  double lo = INFINITY, hi = -INFINITY;
  std::vector<std::string> value_labels;
  for (const BarSeries &s : chart.series)
    for (double v : s.values) {
      extend(chart.x_scale, v, lo, hi);
      value_labels.push_back(std::isfinite(v) ? label_of(f.x_tick_label, v) : "n/a");
    }
  if (chart.categories.empty() || chart.series.empty() || !(hi >= lo))
    return no_data(f);
  std::vector<LegendEntry> entries;
  for (std::size_t s = 0; s < chart.series.size(); ++s)
    entries.push_back({chart.series[s].name, colour_of(chart.series[s].style, s), "", false});
  double group = static_cast<double>(chart.series.size()) * kBar + kBarGap;
  BarFrame frame = bar_frame(f, chart.x_scale, lo, hi, chart.categories, widest(value_labels),
                             static_cast<double>(chart.categories.size()) * group, entries);
  const Area &a = frame.layout.area;
  Svg svg(frame.layout.width, frame.layout.height, f.title);
  x_axis(svg, a, frame.ticks, f.x_tick_label, f.x_label, true);
  svg.line(a.left, a.top, a.left, a.top + a.height, "black");
  for (std::size_t c = 0; c < chart.categories.size(); ++c) {
    double top = a.top + kBarGap / 2 + static_cast<double>(c) * group;
    svg.text(a.left - 6, top + group / 2, "end", chart.categories[c]);
    for (std::size_t s = 0; s < chart.series.size(); ++s) {
      const BarSeries &series = chart.series[s];
      double v = c < series.values.size() ? series.values[c] : NAN;
      double y = top + static_cast<double>(s) * kBar;
      bool drawn = std::isfinite(v) && (chart.x_scale == Scale::Linear || v > 0);
      double end = drawn ? bar_end(a, v) : a.left;
      if (drawn)
        svg.raw(fmt::format("<rect class=\"bar\" data-bar=\"{}\" data-segment=\"{}\" "
                            "data-value=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" "
                            "fill=\"{}\"><title>{}, {}: {}</title></rect>\n",
                            xml_escape(chart.categories[c]), xml_escape(series.name),
                            format_number(v), coord(a.left), coord(y + 1), coord(end - a.left),
                            coord(kBar - 2), colour_of(series.style, s),
                            xml_escape(chart.categories[c]), xml_escape(series.name),
                            xml_escape(label_of(f.x_tick_label, v))));
      svg.text(end + 4, y + kBar / 2 + 4, "start", drawn ? label_of(f.x_tick_label, v) : "n/a",
               "class=\"value\" font-size=\"11\"");
    }
  }
  draw_legend(svg, frame.layout.legend, frame.layout.legend_x, frame.layout.legend_y, entries);
  return svg.finish();
}

std::string step_cdf(const CdfPlot &plot) {
  const Frame &f = plot.frame;
  double lo = INFINITY, hi = -INFINITY;
  for (const CdfSeries &s : plot.series)
    for (double v : s.values)
      extend(plot.x_scale, v, lo, hi);
  if (!(hi >= lo))
    return no_data(f);
  std::vector<LegendEntry> entries;
  for (std::size_t i = 0; i < plot.series.size(); ++i)
    entries.push_back(
        {plot.series[i].name, colour_of(plot.series[i].style, i), plot.series[i].style.dash, true});
  std::vector<double> xt = ticks_for(plot.x_scale, lo, hi), yt = {0, 0.25, 0.5, 0.75, 1};
  XyLayout l = layout_xy(f, y_margin(yt, f.y_tick_label), x_overhang(xt, f.x_tick_label),
                         f.height - kTop - 46, entries);
  Area &a = l.area;
  set_x_range(a, plot.x_scale, xt);
  Svg svg(l.width, l.height, f.title);
  y_axis(svg, a, yt, f.y_tick_label, f.y_label);
  x_axis(svg, a, xt, f.x_tick_label, f.x_label, false);
  for (std::size_t s = 0; s < plot.series.size(); ++s) {
    const CdfSeries &series = plot.series[s];
    // Each sample value is a horizontal run at the previous fraction, then a rise to its own.
    std::string points;
    double previous = 0;
    for (std::size_t i = 0; i < series.values.size() && i < series.probabilities.size(); ++i) {
      if (plot.x_scale != Scale::Linear && !(series.values[i] > 0))
        continue;
      double x = a.px(series.values[i]);
      points += (points.empty() ? "" : " ") + coord(x) + "," + coord(a.py(previous)) + " " +
                coord(x) + "," + coord(a.py(series.probabilities[i]));
      previous = series.probabilities[i];
    }
    svg.raw(fmt::format("<polyline class=\"series\" data-series=\"{}\" fill=\"none\" "
                        "stroke=\"{}\" stroke-width=\"2\"{} points=\"{}\"/>\n",
                        xml_escape(series.name), colour_of(series.style, s),
                        dash_attribute(series.style), points));
  }
  draw_legend(svg, l.legend, l.legend_x, l.legend_y, entries);
  return svg.finish();
}

std::string heat_map(const HeatMap &map) {
  const Frame &f = map.frame;
  if (map.rows.empty() || map.columns.empty())
    return no_data(f);
  constexpr double kRow = 18;
  std::vector<std::string> scale_labels;
  double range = map.max > map.min ? map.max - map.min : 1.0;
  for (int i = 0; i <= 4; ++i)
    scale_labels.push_back(label_of(map.value_label, map.min + range * i / 4.0));
  double scale_width = std::max(widest(scale_labels) + 24, text_width(f.y_label)) + 24;
  double label_width = widest(map.rows) + 12;
  // Column labels are rotated 45 degrees: they reach about 0.71 of their length down and left.
  double column_labels = widest(map.columns) * 0.71;
  double bottom = column_labels + 30;
  label_width = std::max(label_width, column_labels + 4);
  // Cells shrink to fit the frame, down to 6 px; past that the chart grows wider instead.
  double frame_width = chart_width(f);
  double columns = static_cast<double>(map.columns.size());
  double cell = std::clamp((frame_width - label_width - scale_width - 20) / columns, 6.0, 60.0);
  double width = std::max<double>(frame_width, label_width + cell * columns + scale_width + 20);
  double plot_height = kRow * static_cast<double>(map.rows.size());
  double height = std::max(kTop + plot_height + bottom, kTop + 6 * kLegendRow + 20);
  Svg svg(width, height, f.title);
  for (std::size_t r = 0; r < map.rows.size(); ++r) {
    double y = kTop + kRow * static_cast<double>(r);
    svg.text(label_width - 6, y + kRow / 2 + 4, "end", map.rows[r]);
    for (std::size_t c = 0; c < map.columns.size(); ++c) {
      double v = r < map.values.size() && c < map.values[r].size() ? map.values[r][c] : NAN;
      double x = label_width + cell * static_cast<double>(c);
      svg.raw(fmt::format(
          "<rect class=\"cell\" data-row=\"{}\" data-column=\"{}\" data-value=\"{}\" x=\"{}\" "
          "y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"white\"><title>{}, {}: "
          "{}</title></rect>\n",
          xml_escape(map.rows[r]), xml_escape(map.columns[c]), format_number(v), coord(x), coord(y),
          coord(cell), coord(kRow),
          std::isfinite(v) ? heat_colour((v - map.min) / range) : "#eeeeee",
          xml_escape(map.rows[r]), xml_escape(map.columns[c]),
          xml_escape(std::isfinite(v) ? label_of(map.value_label, v) : "no data")));
    }
  }
  double base = kTop + plot_height;
  for (std::size_t c = 0; c < map.columns.size(); ++c) {
    double x = label_width + cell * (static_cast<double>(c) + 0.5), y = base + 12;
    svg.text(x, y, "end", map.columns[c],
             fmt::format("transform=\"rotate(-45 {} {})\"", coord(x), coord(y)));
  }
  // The colour scale: five swatches from min to max.
  double sx = label_width + cell * columns + 24;
  svg.raw("<g class=\"legend\">\n");
  svg.text(sx, kTop + 8, "start", f.y_label);
  for (int i = 0; i <= 4; ++i) {
    double y = kTop + 16 + kLegendRow * i;
    svg.raw(fmt::format("<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\" "
                        "stroke=\"#999999\"/>\n",
                        coord(sx), coord(y), heat_colour(i / 4.0)));
    svg.text(sx + 17, y + 10, "start", scale_labels[static_cast<std::size_t>(i)]);
  }
  svg.raw("</g>\n");
  return svg.finish();
}

} // namespace pciesim::svg
