// Small SVG charts for the HTML report: line plots (optionally with a log2 x axis), horizontal
// stacked bars, step CDFs and heat maps. Written here rather than by gnuplot so that a report
// needs no external process, its bytes depend only on the data (fixed number formatting, no
// dates or random ids), and the charts can be unit-tested by parsing the SVG.
//
// Every chart is one <svg> element with no external references. Data-bearing elements carry a
// class and data-* attributes (series, bar, segment, value) so that tests and readers can find
// them: `polyline.series`, `rect.bar`, `rect.cell`, and `g.legend`.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/report/xml_text.h"

namespace pciesim::svg {

using Formatter = std::function<std::string(double)>;

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

struct LineSeries {
  std::string name;
  std::vector<double> x, y; // same length; drawn in the order given
};

struct LinePlot {
  Frame frame;
  bool log2_x = false; // x ticks at powers of two; points with x <= 0 are left out
  std::vector<LineSeries> series;
};

// Horizontal bars, one per `bars` entry, each split into `segments` (values[bar][segment],
// all >= 0, drawn left to right in segment order).
struct StackedBars {
  Frame frame;
  std::vector<std::string> bars;
  std::vector<std::string> segments;
  std::vector<std::vector<double>> values;
};

// A cumulative distribution as steps: the fraction `probabilities[i]` of samples is <= values[i]
// (values non-decreasing, probabilities non-decreasing in [0, 1]).
struct CdfSeries {
  std::string name;
  std::vector<double> values, probabilities;
};

struct CdfPlot {
  Frame frame;
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
std::string step_cdf(const CdfPlot &plot);
std::string heat_map(const HeatMap &map);

// About `target` round tick values (steps of 1, 2 or 5 times a power of ten) covering
// [lo, hi]: the first tick is <= lo and the last >= hi.
std::vector<double> nice_ticks(double lo, double hi, int target = 5);
// Powers of two covering [lo, hi] (lo > 0), every k-th one so that at most `max_ticks` remain.
std::vector<double> log2_ticks(double lo, double hi, int max_ticks = 12);

// Up to 4 significant digits, no exponent below 1e9, no trailing zeros: "0.25", "1500", "3.142".
std::string format_number(double v);
// Bytes with binary units as in the input files: "64 B", "4 KiB", "1.5 MiB".
std::string format_byte_count(double v);

// The colour of series i (a fixed palette, repeating after 10).
const char *series_colour(std::size_t i);

} // namespace pciesim::svg
