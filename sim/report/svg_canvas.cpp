#include "sim/report/svg_canvas.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace pciesim::svg::detail {
namespace {

// Advance widths of DejaVu Sans in thousandths of an em, for printable ASCII from ' ' (32).
constexpr int kAdvance[95] = {
    318,  401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, // ' ' to /
    636,  636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, // 0 to ?
    1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787, // @ to O
    603,  787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500, // P to _
    500,  613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612, // ` to o
    635,  635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838};     // p to ~
// Characters outside ASCII (µ, ×, –, …): as wide as the widest common letters.
constexpr int kOtherAdvance = 1000;

} // namespace

std::string coord(double v) {
  std::string s = fmt::format("{:.2f}", v);
  return s == "-0.00" ? "0.00" : s;
}

double text_width(const std::string &s, double font_px) {
  double em = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 32 && c < 127)
      em += kAdvance[c - 32];
    else if ((c & 0xC0) != 0x80) // count a UTF-8 sequence once, at its lead byte
      em += kOtherAdvance;
  }
  // 3% for kerning and hinting differences between renderers.
  return em / 1000.0 * font_px * 1.03;
}

double widest(const std::vector<std::string> &labels, double font_px) {
  double w = 0;
  for (const std::string &l : labels)
    w = std::max(w, text_width(l, font_px));
  return w;
}

std::string label_of(const Formatter &f, double v) { return f ? f(v) : format_number(v); }

double scaled(Scale scale, double v) {
  switch (scale) {
  case Scale::Log2:
    return std::log2(v);
  case Scale::Log10:
    return std::log10(v);
  case Scale::Linear:
    break;
  }
  return v;
}

std::vector<double> ticks_for(Scale scale, double lo, double hi) {
  switch (scale) {
  case Scale::Log2:
    return log2_ticks(lo, hi);
  case Scale::Log10:
    return log10_ticks(lo, hi);
  case Scale::Linear:
    break;
  }
  return nice_ticks(lo, hi);
}

double Area::px(double x) const { return left + (scaled(x_scale, x) - x0) / (x1 - x0) * width; }
double Area::py(double y) const { return top + height - (y - y0) / (y1 - y0) * height; }

Svg::Svg(double width, double height, const std::string &title) {
  out_ = fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
                     "viewBox=\"0 0 {0} {1}\" font-family=\"DejaVu Sans, sans-serif\" "
                     "font-size=\"12\" role=\"img\">\n<title>{2}</title>\n",
                     coord(width), coord(height), xml_escape(title));
  out_ += "<rect class=\"background\" x=\"0\" y=\"0\" width=\"" + coord(width) + "\" height=\"" +
          coord(height) + "\" fill=\"white\"/>\n";
  text(width / 2, 20, "middle", title, "font-size=\"14\" font-weight=\"bold\"");
}

void Svg::text(double x, double y, const char *anchor, const std::string &s,
               const std::string &extra) {
  out_ += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"{}\"{}{}>{}</text>\n", coord(x),
                      coord(y), anchor, extra.empty() ? "" : " ", extra, xml_escape(s));
}

void Svg::line(double x1, double y1, double x2, double y2, const char *stroke) {
  out_ += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\"/>\n", coord(x1),
                      coord(y1), coord(x2), coord(y2), stroke);
}

void x_axis(Svg &svg, const Area &a, const std::vector<double> &ticks, const Formatter &label,
            const std::string &title, bool grid) {
  double base = a.top + a.height;
  svg.line(a.left, base, a.left + a.width, base, "black");
  for (double t : ticks) {
    double x = a.px(t);
    if (grid)
      svg.line(x, a.top, x, base, "#e0e0e0");
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

LegendLayout plan_legend(const std::vector<LegendEntry> &entries, double chart_width) {
  LegendLayout l;
  if (entries.empty())
    return l;
  std::vector<std::string> names;
  for (const LegendEntry &e : entries)
    names.push_back(e.name);
  l.column_width = widest(names) + 34; // swatch, gap, text, gap
  auto rows = [&](int columns) {
    return static_cast<double>((entries.size() + static_cast<std::size_t>(columns) - 1) /
                               static_cast<std::size_t>(columns));
  };
  if (l.column_width <= 0.34 * chart_width) {
    l.width = l.column_width + 10;
    l.height = kLegendRow * rows(1) + 20;
    return l;
  }
  l.below = true;
  l.columns = std::max(1, static_cast<int>((chart_width - 20) / l.column_width));
  l.height = kLegendRow * rows(l.columns) + 12;
  return l;
}

void draw_legend(Svg &svg, const LegendLayout &layout, double x, double y,
                 const std::vector<LegendEntry> &entries) {
  svg.raw("<g class=\"legend\">\n");
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const LegendEntry &e = entries[i];
    auto column = static_cast<double>(i % static_cast<std::size_t>(layout.columns));
    auto row = static_cast<double>(i / static_cast<std::size_t>(layout.columns));
    double ex = x + column * layout.column_width, ey = y + kLegendRow * row;
    if (e.line)
      svg.raw(fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" "
                          "stroke-width=\"2.5\"{}/>\n",
                          coord(ex), coord(ey - 4), coord(ex + 22), coord(ey - 4), e.colour,
                          e.dash.empty() ? "" : " stroke-dasharray=\"" + e.dash + "\""));
    else
      svg.raw(fmt::format("<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"10\" fill=\"{}\"/>\n",
                          coord(ex), coord(ey - 9), e.colour));
    svg.text(ex + (e.line ? 28 : 17), ey, "start", e.name);
  }
  svg.raw("</g>\n");
}

std::string no_data(const Frame &f) {
  double width = chart_width(f);
  Svg svg(width, 80, f.title);
  svg.text(width / 2.0, 55, "middle", "no data");
  return svg.finish();
}

double chart_width(const Frame &f) {
  // The title is bold: about 12% wider than the regular weight.
  return std::max<double>(f.width, 1.12 * text_width(f.title, kTitleFontPx) + 40);
}

} // namespace pciesim::svg::detail
