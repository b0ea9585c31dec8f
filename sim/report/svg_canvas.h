// The drawing layer under the report's charts (sim/report/svg_plot.cpp): an SVG being written,
// the plot area and its data-to-pixel mapping on a linear or logarithmic axis, axes, legends,
// and an estimate of how wide a text is. Charts size their margins from that estimate so that
// no label is cut off by the picture's frame; the estimate uses the advance widths of DejaVu
// Sans (Debian's default sans-serif and one of the widest), so narrower fonts only leave more
// room.
#pragma once

#include <string>
#include <vector>

#include "sim/report/svg_plot.h"

namespace pciesim::svg::detail {

constexpr double kFontPx = 12.0;
constexpr double kTitleFontPx = 14.0;
constexpr double kLegendRow = 16.0;
constexpr double kTop = 34.0; // room for the title

// Coordinates with two decimals; never "-0.00", so equal pictures have equal bytes.
std::string coord(double v);
// The width in pixels of `s` set in DejaVu Sans at `font_px`.
double text_width(const std::string &s, double font_px = kFontPx);
double widest(const std::vector<std::string> &labels, double font_px = kFontPx);
std::string label_of(const Formatter &f, double v);

// The position of v along an axis of the given scale (log of v on the log scales).
double scaled(Scale scale, double v);
// Ticks covering [lo, hi] on the scale (lo > 0 on the log scales).
std::vector<double> ticks_for(Scale scale, double lo, double hi);

// The plot area inside a chart, and the mapping of data values onto it.
struct Area {
  double left, top, width, height;
  Scale x_scale = Scale::Linear;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1; // the data range shown, in scaled units for x
  double px(double x) const;
  double py(double y) const;
};

class Svg {
public:
  Svg(double width, double height, const std::string &title);
  void text(double x, double y, const char *anchor, const std::string &s,
            const std::string &extra = "");
  void line(double x1, double y1, double x2, double y2, const char *stroke);
  void raw(const std::string &s) { out_ += s; }
  std::string finish() { return out_ + "</svg>\n"; }

private:
  std::string out_;
};

void x_axis(Svg &svg, const Area &a, const std::vector<double> &ticks, const Formatter &label,
            const std::string &title, bool grid);
void y_axis(Svg &svg, const Area &a, const std::vector<double> &ticks, const Formatter &label,
            const std::string &title);

// A legend entry: a colour swatch, or a short line with the series' dash pattern.
struct LegendEntry {
  std::string name;
  std::string colour;
  std::string dash; // stroke-dasharray, "" for solid
  bool line = false;
};

// Where a legend goes: to the right of the plot when it is narrow enough, else below it in
// as many columns as fit.
struct LegendLayout {
  bool below = false;
  double width = 0;  // taken at the right (0 when below)
  double height = 0; // taken below the plot (0 when at the right), or its height at the right
  int columns = 1;
  double column_width = 0;
};
LegendLayout plan_legend(const std::vector<LegendEntry> &entries, double chart_width);
void draw_legend(Svg &svg, const LegendLayout &layout, double x, double y,
                 const std::vector<LegendEntry> &entries);

// The chart every chart turns into when it has nothing to draw.
std::string no_data(const Frame &f);
// The width a chart needs: the frame's, or more when its title is longer.
double chart_width(const Frame &f);

} // namespace pciesim::svg::detail
