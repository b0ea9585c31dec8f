#include "sim/report/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include <fmt/format.h>

namespace pciesim::svg {
namespace {

constexpr double kCharWidth = 6.5; // average width of a 12 px sans-serif character
constexpr double kLegendRow = 16.0;
constexpr double kTop = 34.0; // room for the title

// Coordinates with two decimals; never "-0.00", so equal pictures have equal bytes.
std::string coord(double v) {
  std::string s = fmt::format("{:.2f}", v);
  return s == "-0.00" ? "0.00" : s;
}

double text_width(const std::string &s) { return kCharWidth * static_cast<double>(s.size()); }

double widest(const std::vector<std::string> &labels) {
  double w = 0;
  for (const std::string &l : labels)
    w = std::max(w, text_width(l));
  return w;
}

std::string label_of(const Formatter &f, double v) { return f ? f(v) : format_number(v); }

// The plot area inside a chart, and the mapping of data values onto it.
struct Area {
  double left, top, width, height;
  double x0, x1, y0, y1; // data range shown (x possibly in log2 units)
  double px(double x) const { return left + (x - x0) / (x1 - x0) * width; }
  double py(double y) const { return top + height - (y - y0) / (y1 - y0) * height; }
};

class Svg {
public:
  Svg(double width, double height, const std::string &title) {
    out_ = fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
                       "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"12\" "
                       "role=\"img\">\n<title>{2}</title>\n",
                       coord(width), coord(height), xml_escape(title));
    out_ += "<rect class=\"background\" x=\"0\" y=\"0\" width=\"" + coord(width) + "\" height=\"" +
            coord(height) + "\" fill=\"white\"/>\n";
    text(width / 2, 20, "middle", title, "font-size=\"14\" font-weight=\"bold\"");
  }

  void text(double x, double y, const char *anchor, const std::string &s,
            const std::string &extra = "") {
    out_ += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"{}\"{}{}>{}</text>\n", coord(x),
                        coord(y), anchor, extra.empty() ? "" : " ", extra, xml_escape(s));
  }
  void line(double x1, double y1, double x2, double y2, const char *stroke) {
    out_ += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\"/>\n",
                        coord(x1), coord(y1), coord(x2), coord(y2), stroke);
  }
  void raw(const std::string &s) { out_ += s; }
  std::string finish() { return out_ + "</svg>\n"; }

private:
  std::string out_;
};

void x_axis(Svg &svg, const Area &a, const std::vector<double> &ticks, const Formatter &label,
            bool log2, const std::string &title) {
  double base = a.top + a.height;
  svg.line(a.left, base, a.left + a.width, base, "black");
  for (double t : ticks) {
    double x = a.px(log2 ? std::log2(t) : t);
    svg.line(x, base, x, base + 4, "black");
    svg.text(x, base + 16, "middle", label_of(label, t));
  }
  svg.text(a.left + a.width / 2, base + 34, "middle", title);
}

void y_axis(Svg &svg, const Area &a, const std::vector<double> &ticks, const Formatter &label,
            const std::string &title) {
  svg.line(a.left, a.top, a.left, a.top + a.height, "black");
  for (double t : ticks) {
    double y = a.py(t);
    svg.line(a.left - 4, y, a.left, y, "black");
    svg.line(a.left, y, a.left + a.width, y, "#e0e0e0");
    svg.text(a.left - 7, y + 4, "end", label_of(label, t));
  }
  double x = 14, y = a.top + a.height / 2;
  svg.text(x, y, "middle", title,
           fmt::format("transform=\"rotate(-90 {} {})\"", coord(x), coord(y)));
}

void legend(Svg &svg, double x, double y, const std::vector<std::string> &names) {
  svg.raw("<g class=\"legend\">\n");
  for (std::size_t i = 0; i < names.size(); ++i) {
    double row = y + kLegendRow * static_cast<double>(i);
    svg.raw(fmt::format("<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"10\" fill=\"{}\"/>\n",
                        coord(x), coord(row - 9), series_colour(i)));
    svg.text(x + 17, row, "start", names[i]);
  }
  svg.raw("</g>\n");
}

std::vector<std::string> names_of(const std::vector<LineSeries> &series) {
  std::vector<std::string> names;
  for (const LineSeries &s : series)
    names.push_back(s.name);
  return names;
}

std::string no_data(const Frame &f) {
  Svg svg(f.width, 80, f.title);
  svg.text(f.width / 2.0, 55, "middle", "no data");
  return svg.finish();
}

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

} // namespace

const char *series_colour(std::size_t i) {
  static const char *palette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                  "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  return palette[i % 10];
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
      if (plot.log2_x && !(s.x[i] > 0))
        continue;
      xmin = std::min(xmin, s.x[i]);
      xmax = std::max(xmax, s.x[i]);
      ymin = std::min(ymin, s.y[i]);
      ymax = std::max(ymax, s.y[i]);
    }
  if (!(xmax >= xmin))
    return no_data(f);
  std::vector<std::string> names = names_of(plot.series);
  double legend_width = widest(names) + 40;
  double height =
      std::max<double>(f.height, kTop + kLegendRow * static_cast<double>(names.size()) + 20);
  std::vector<double> xt = plot.log2_x ? log2_ticks(xmin, xmax) : nice_ticks(xmin, xmax);
  std::vector<double> yt = nice_ticks(ymin, ymax);
  Area a{70,         kTop,     f.width - 70 - 20 - legend_width, height - kTop - 50, 0, 0,
         yt.front(), yt.back()};
  a.x0 = plot.log2_x ? std::log2(xt.front()) : xt.front();
  a.x1 = plot.log2_x ? std::log2(xt.back()) : xt.back();
  Svg svg(f.width, height, f.title);
  y_axis(svg, a, yt, f.y_tick_label, f.y_label);
  x_axis(svg, a, xt, f.x_tick_label, plot.log2_x, f.x_label);
  for (std::size_t s = 0; s < plot.series.size(); ++s) {
    const LineSeries &series = plot.series[s];
    std::string points, markers;
    for (std::size_t i = 0; i < series.x.size() && i < series.y.size(); ++i) {
      if (plot.log2_x && !(series.x[i] > 0))
        continue;
      double x = a.px(plot.log2_x ? std::log2(series.x[i]) : series.x[i]), y = a.py(series.y[i]);
      points += (points.empty() ? "" : " ") + coord(x) + "," + coord(y);
      markers += fmt::format("<circle class=\"marker\" cx=\"{}\" cy=\"{}\" r=\"2.5\" "
                             "fill=\"{}\"><title>{}: {}, {}</title></circle>\n",
                             coord(x), coord(y), series_colour(s), xml_escape(series.name),
                             xml_escape(label_of(f.x_tick_label, series.x[i])),
                             xml_escape(label_of(f.y_tick_label, series.y[i])));
    }
    svg.raw(fmt::format("<polyline class=\"series\" data-series=\"{}\" fill=\"none\" "
                        "stroke=\"{}\" stroke-width=\"2\" points=\"{}\"/>\n",
                        xml_escape(series.name), series_colour(s), points));
    svg.raw(markers);
  }
  legend(svg, a.left + a.width + 20, kTop + 10, names);
  return svg.finish();
}

std::string stacked_bars(const StackedBars &chart) {
  const Frame &f = chart.frame;
  double max_total = 0;
  for (const auto &row : chart.values) {
    double total = 0;
    for (double v : row)
      total += std::max(0.0, v);
    max_total = std::max(max_total, total);
  }
  if (chart.bars.empty())
    return no_data(f);
  constexpr double kBar = 18, kGap = 8;
  double label_width = widest(chart.bars) + 12;
  double legend_width = widest(chart.segments) + 40;
  double plot_height = static_cast<double>(chart.bars.size()) * (kBar + kGap);
  double height = std::max(kTop + plot_height + 50,
                           kTop + kLegendRow * static_cast<double>(chart.segments.size()) + 20);
  std::vector<double> xt = nice_ticks(0, max_total > 0 ? max_total : 1);
  Area a{label_width, kTop,       f.width - label_width - 20 - legend_width,
         plot_height, xt.front(), xt.back(),
         0,           1};
  Svg svg(f.width, height, f.title);
  for (double t : xt)
    svg.line(a.px(t), a.top, a.px(t), a.top + a.height, "#e0e0e0");
  x_axis(svg, a, xt, f.x_tick_label, false, f.x_label);
  svg.line(a.left, a.top, a.left, a.top + a.height, "black");
  for (std::size_t b = 0; b < chart.bars.size(); ++b) {
    double y = a.top + kGap / 2 + static_cast<double>(b) * (kBar + kGap);
    svg.text(a.left - 6, y + kBar / 2 + 4, "end", chart.bars[b]);
    double x = 0;
    for (std::size_t s = 0; s < chart.segments.size(); ++s) {
      double v = b < chart.values.size() && s < chart.values[b].size()
                     ? std::max(0.0, chart.values[b][s])
                     : 0.0;
      if (v <= 0)
        continue;
      svg.raw(fmt::format(
          "<rect class=\"bar\" data-bar=\"{}\" data-segment=\"{}\" data-value=\"{}\" x=\"{}\" "
          "y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{} {}: {}</title></rect>\n",
          xml_escape(chart.bars[b]), xml_escape(chart.segments[s]), format_number(v),
          coord(a.px(x)), coord(y), coord(a.px(x + v) - a.px(x)), coord(kBar), series_colour(s),
          xml_escape(chart.bars[b]), xml_escape(chart.segments[s]),
          xml_escape(label_of(f.x_tick_label, v))));
      x += v;
    }
  }
  legend(svg, a.left + a.width + 20, kTop + 10, chart.segments);
  return svg.finish();
}

std::string step_cdf(const CdfPlot &plot) {
  const Frame &f = plot.frame;
  double lo = INFINITY, hi = -INFINITY;
  for (const CdfSeries &s : plot.series)
    for (double v : s.values) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  if (!(hi >= lo))
    return no_data(f);
  std::vector<std::string> names;
  for (const CdfSeries &s : plot.series)
    names.push_back(s.name);
  double legend_width = widest(names) + 40;
  double height =
      std::max<double>(f.height, kTop + kLegendRow * static_cast<double>(names.size()) + 20);
  std::vector<double> xt = nice_ticks(lo, hi), yt = {0, 0.25, 0.5, 0.75, 1};
  Area a{70, kTop, f.width - 70 - 20 - legend_width, height - kTop - 50, xt.front(), xt.back(),
         0,  1};
  Svg svg(f.width, height, f.title);
  y_axis(svg, a, yt, f.y_tick_label, f.y_label);
  x_axis(svg, a, xt, f.x_tick_label, false, f.x_label);
  for (std::size_t s = 0; s < plot.series.size(); ++s) {
    const CdfSeries &series = plot.series[s];
    // Each sample value is a horizontal run at the previous fraction, then a rise to its own.
    std::string points;
    double previous = 0;
    for (std::size_t i = 0; i < series.values.size() && i < series.probabilities.size(); ++i) {
      double x = a.px(series.values[i]);
      points += (points.empty() ? "" : " ") + coord(x) + "," + coord(a.py(previous)) + " " +
                coord(x) + "," + coord(a.py(series.probabilities[i]));
      previous = series.probabilities[i];
    }
    svg.raw(fmt::format("<polyline class=\"series\" data-series=\"{}\" fill=\"none\" "
                        "stroke=\"{}\" stroke-width=\"2\" points=\"{}\"/>\n",
                        xml_escape(series.name), series_colour(s), points));
  }
  legend(svg, a.left + a.width + 20, kTop + 10, names);
  return svg.finish();
}

std::string heat_map(const HeatMap &map) {
  const Frame &f = map.frame;
  if (map.rows.empty() || map.columns.empty())
    return no_data(f);
  constexpr double kRow = 18, kScale = 150;
  double label_width = widest(map.rows) + 12;
  // Column labels are rotated 45 degrees: they need about 0.7 of their length downwards.
  double bottom = widest(map.columns) * 0.72 + 40;
  // Cells shrink to fit the frame, down to 6 px; past that the chart grows wider instead.
  double columns = static_cast<double>(map.columns.size());
  double cell = std::clamp((f.width - label_width - kScale - 40) / columns, 6.0, 40.0);
  double width = std::max<double>(f.width, label_width + cell * columns + kScale + 40);
  double plot_height = kRow * static_cast<double>(map.rows.size());
  double height = std::max(kTop + plot_height + bottom, kTop + 6 * kLegendRow + 20);
  double range = map.max > map.min ? map.max - map.min : 1.0;
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
  double sx = label_width + cell * static_cast<double>(map.columns.size()) + 24;
  svg.raw("<g class=\"legend\">\n");
  svg.text(sx, kTop + 8, "start", f.y_label);
  for (int i = 0; i <= 4; ++i) {
    double y = kTop + 16 + kLegendRow * i;
    double v = map.min + range * i / 4.0;
    svg.raw(fmt::format("<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\" "
                        "stroke=\"#999999\"/>\n",
                        coord(sx), coord(y), heat_colour(i / 4.0)));
    svg.text(sx + 17, y + 10, "start", label_of(map.value_label, v));
  }
  svg.raw("</g>\n");
  return svg.finish();
}

} // namespace pciesim::svg
