// Small SVG charts for the HTML report: line plots, horizontal stacked and grouped bars, step
// CDFs and heat maps, on linear or logarithmic value axes. Written here rather than by gnuplot so
// that a report needs no external process, its bytes depend only on the data (fixed number
// formatting, no dates or random ids), and the charts can be unit-tested by parsing the SVG.
//
// Every chart is one <svg> element with no external references. Data-bearing elements carry a
// class and data-* attributes (series, bar, segment, value) so that tests and readers can find
// them: `polyline.series`, `rect.bar`, `rect.cell`, and `g.legend`. Margins are sized from the
// labels they hold, so no text reaches past the picture's frame.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/report/xml_text.h"

namespace pciesim::svg {

using Formatter = std::function<std::string(double)>;

// How values map onto an axis. On the log scales, values <= 0 have no place and are left out.
enum class Scale { Linear, Log2, Log10 };
// Log10 when the positive range [lo, hi] spans more than `decades` decades (1.5: a factor of
// about 30), so that the small values are not squashed into slivers by the large ones.
Scale value_scale(double lo, double hi, double decades = 1.5);

// What every chart has: its size in pixels, title and axis labels.
struct Frame {
  int width = 640;
  int height = 360;
  std::string title;
  std::string x_label;
  std::string y_label;
  Formatter x_tick_label; // default: format_number
  Formatter y_tick_label; // default: format_number
};

// How a series is drawn: "" colour takes the palette's colour of its index; dash is an SVG
// stroke-dasharray ("" solid), which tells apart series that share a colour.
struct Style {
  std::string colour;
  std::string dash;
};

struct LineSeries {
  std::string name;
  std::vector<double> x, y; // same length; drawn in the order given
  Style style;
};

struct LinePlot {
  Frame frame;
  Scale x_scale = Scale::Linear; // Log2: ticks at powers of two (sizes)
  std::vector<LineSeries> series;
};

// Horizontal bars, one per `bars` entry, each split into `segments` (values[bar][segment],
// all >= 0, drawn left to right in segment order), its total written at its end. On a Log10
// axis a bar's length is its total on that scale and its segments divide it in proportion to
// their values (the shares stay readable when the totals span decades).
struct StackedBars {
  Frame frame;
  Scale x_scale = Scale::Linear;
  std::vector<std::string> bars;
  std::vector<std::string> segments;
  std::vector<std::vector<double>> values;
};

// Horizontal bars grouped by category: one bar per series in each category, its value written
// at its end; values that are NaN are not drawn (no bar, "n/a").
struct BarSeries {
  std::string name;
  std::vector<double> values; // one per category
  Style style;
};

struct GroupedBars {
  Frame frame;
  Scale x_scale = Scale::Linear; // Linear or Log10
  std::vector<std::string> categories;
  std::vector<BarSeries> series;
};

// A cumulative distribution as steps: the fraction `probabilities[i]` of samples is <= values[i]
// (values non-decreasing, probabilities non-decreasing in [0, 1]).
struct CdfSeries {
  std::string name;
  std::vector<double> values, probabilities;
  Style style;
};

struct CdfPlot {
  Frame frame;
  Scale x_scale = Scale::Linear; // Linear or Log10
  std::vector<CdfSeries> series;
};

// A grid of cells values[row][column], coloured from `min` (light) to `max` (dark).
struct HeatMap {
  Frame frame;
  std::vector<std::string> rows, columns;
  std::vector<std::vector<double>> values;
  double min = 0.0, max = 1.0;
  Formatter value_label; // for the cell tooltips and the colour scale; default format_number
};

std::string line_plot(const LinePlot &plot);
std::string stacked_bars(const StackedBars &chart);
std::string grouped_bars(const GroupedBars &chart);
std::string step_cdf(const CdfPlot &plot);
std::string heat_map(const HeatMap &map);

// About `target` round tick values (steps of 1, 2 or 5 times a power of ten) covering
// [lo, hi]: the first tick is <= lo and the last >= hi.
std::vector<double> nice_ticks(double lo, double hi, int target = 5);
// Powers of two covering [lo, hi] (lo > 0), every k-th one so that at most `max_ticks` remain.
std::vector<double> log2_ticks(double lo, double hi, int max_ticks = 12);
// Powers of ten covering [lo, hi] (lo > 0), with 2 and 5 times each between them when the range
// spans at most two decades.
std::vector<double> log10_ticks(double lo, double hi);

// Up to 4 significant digits, no exponent below 1e9, no trailing zeros: "0.25", "1500", "3.142".
std::string format_number(double v);
// Bytes with binary units as in the input files: "64 B", "4 KiB", "1.5 MiB".
std::string format_byte_count(double v);

// The colour of series i: 20 colours told apart by hue first (the first 10) and then by
// lightness (the next 10, lighter ones of the same hues); repeating after 20.
const char *series_colour(std::size_t i);
// The dash pattern of variant k of a colour: solid, then dashed, dotted, dash-dot, ...
const char *series_dash(std::size_t k);

} // namespace pciesim::svg
