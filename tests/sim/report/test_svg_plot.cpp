// The report's SVG charts (sim/svg_plot), read back with libxml2: well-formed, one drawn point
// per data point, bars and colours proportional to the data, labels escaped, round ticks.
#include <cmath>
#include <sstream>

#include <gtest/gtest.h>

#include "sim/report/svg_plot.h"
#include "tests/support/xml_query.h"

namespace pciesim::test {
namespace {

struct Point {
  double x, y;
};

std::vector<Point> points_of(xmlNodePtr polyline) {
  std::vector<Point> out;
  std::istringstream in(XmlDocument::attribute(polyline, "points"));
  std::string pair;
  while (in >> pair) {
    std::size_t comma = pair.find(',');
    out.push_back({std::stod(pair.substr(0, comma)), std::stod(pair.substr(comma + 1))});
  }
  return out;
}

double number_attribute(xmlNodePtr node, const char *name) {
  return std::stod(XmlDocument::attribute(node, name));
}

svg::LinePlot throughput_plot() {
  svg::LinePlot plot;
  plot.frame.title = "throughput";
  plot.frame.x_label = "size";
  plot.frame.y_label = "GB/s";
  plot.x_scale = svg::Scale::Log2;
  plot.series = {{"gen3", {64, 128, 256, 512, 1024}, {1, 2, 3, 4, 5}, {}},
                 {"gen4", {64, 256, 1024}, {2, 4, 10}, {}}};
  return plot;
}

TEST(SvgPlot, LinePlotDrawsOnePolylinePointPerDataPoint) {
  XmlDocument doc(svg::line_plot(throughput_plot()));
  ASSERT_TRUE(doc.ok());
  auto lines = doc.select("//svg:polyline[@class='series']");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(XmlDocument::attribute(lines[0], "data-series"), "gen3");
  std::vector<Point> gen3 = points_of(lines[0]), gen4 = points_of(lines[1]);
  ASSERT_EQ(gen3.size(), 5u);
  ASSERT_EQ(gen4.size(), 3u);
  EXPECT_EQ(doc.select("//svg:circle[@class='marker']").size(), 8u);
  // log2 x: each doubling is the same distance to the right.
  double step = gen3[1].x - gen3[0].x;
  EXPECT_GT(step, 0);
  for (std::size_t i = 1; i < gen3.size(); ++i)
    EXPECT_NEAR(gen3[i].x - gen3[i - 1].x, step, 0.02);
  EXPECT_NEAR(gen4[1].x - gen4[0].x, 2 * step, 0.02);
  // y grows upwards and linearly: 1 -> 5 is four times 1 -> 2.
  EXPECT_LT(gen3[4].y, gen3[0].y);
  EXPECT_NEAR(gen3[0].y - gen3[4].y, 4 * (gen3[0].y - gen3[1].y), 0.05);
  // Legend: one entry per series.
  EXPECT_EQ(doc.select("//svg:g[@class='legend']/svg:text").size(), 2u);
}

TEST(SvgPlot, LogAxisLeavesOutPointsThatHaveNoLogarithm) {
  svg::LinePlot plot = throughput_plot();
  plot.series[0].x[0] = 0;
  XmlDocument doc(svg::line_plot(plot));
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(points_of(doc.select("//svg:polyline[@class='series']")[0]).size(), 4u);
}

TEST(SvgPlot, StackedBarLengthsAreProportionalToTheValues) {
  svg::StackedBars chart;
  chart.frame.title = "breakdown";
  chart.bars = {"p2p", "bounce"};
  chart.segments = {"dma", "copy", "setup"};
  chart.values = {{300, 0, 100}, {300, 600, 100}};
  XmlDocument doc(svg::stacked_bars(chart));
  ASSERT_TRUE(doc.ok());
  auto bars = doc.select("//svg:rect[@class='bar']");
  ASSERT_EQ(bars.size(), 5u); // the zero segment is not drawn
  double unit = number_attribute(bars[0], "width") / 300;
  for (xmlNodePtr bar : bars)
    EXPECT_NEAR(number_attribute(bar, "width"),
                unit * std::stod(XmlDocument::attribute(bar, "data-value")), 0.02);
  // Segments of one bar follow each other; each bar is a row of its own.
  EXPECT_NEAR(number_attribute(bars[1], "x"),
              number_attribute(bars[0], "x") + number_attribute(bars[0], "width"), 0.02);
  EXPECT_EQ(XmlDocument::attribute(bars[1], "data-segment"), "setup");
  EXPECT_GT(number_attribute(bars[2], "y"), number_attribute(bars[0], "y"));
  EXPECT_EQ(doc.select("//svg:g[@class='legend']/svg:text").size(), 3u);
}

TEST(SvgPlot, StepCdfRisesAtEachValue) {
  svg::CdfPlot plot;
  plot.frame.title = "latency";
  plot.series = {{"dma", {100, 200, 400}, {0.5, 0.99, 1.0}, {}}};
  XmlDocument doc(svg::step_cdf(plot));
  ASSERT_TRUE(doc.ok());
  auto lines = doc.select("//svg:polyline[@class='series']");
  ASSERT_EQ(lines.size(), 1u);
  std::vector<Point> p = points_of(lines[0]);
  ASSERT_EQ(p.size(), 6u); // a run and a rise per value
  for (std::size_t i = 0; i < p.size(); i += 2) {
    EXPECT_DOUBLE_EQ(p[i].x, p[i + 1].x); // the rise is vertical
    EXPECT_LE(p[i + 1].y, p[i].y);        // and goes up (SVG y points down)
  }
  // From 0 to 1: the last point is as high above the first as the plot is tall.
  double zero = p[0].y, half = p[1].y, one = p[5].y;
  EXPECT_NEAR(zero - half, (zero - one) / 2, 0.02);
}

TEST(SvgPlot, HeatMapHasACellPerValueDarkerForMore) {
  svg::HeatMap map;
  map.frame.title = "links";
  map.rows = {"a -> b", "b -> a"};
  map.columns = {"64 B", "4 KiB", "1 MiB"};
  map.values = {{0.0, 0.5, 1.0}, {0.1, NAN, 0.9}};
  XmlDocument doc(svg::heat_map(map));
  ASSERT_TRUE(doc.ok());
  auto cells = doc.select("//svg:rect[@class='cell']");
  ASSERT_EQ(cells.size(), 6u);
  auto brightness = [](xmlNodePtr cell) {
    unsigned rgb = static_cast<unsigned>(
        std::stoul(XmlDocument::attribute(cell, "fill").substr(1), nullptr, 16));
    return (rgb >> 16) + ((rgb >> 8) & 255) + (rgb & 255);
  };
  EXPECT_GT(brightness(cells[0]), brightness(cells[1]));
  EXPECT_GT(brightness(cells[1]), brightness(cells[2]));
  EXPECT_EQ(XmlDocument::attribute(cells[4], "data-value"), "nan");
  EXPECT_EQ(XmlDocument::attribute(cells[4], "fill"), "#eeeeee"); // no data: grey
}

TEST(SvgPlot, AHeatMapOfManyPointsGrowsWiderRatherThanOverflowing) {
  svg::HeatMap map;
  map.rows = {"a -> b"};
  map.columns.assign(300, "point");
  map.values = {std::vector<double>(300, 0.5)};
  XmlDocument doc(svg::heat_map(map));
  ASSERT_TRUE(doc.ok());
  double width = number_attribute(doc.select("/svg:svg")[0], "width");
  auto cells = doc.select("//svg:rect[@class='cell']");
  ASSERT_EQ(cells.size(), 300u);
  EXPECT_GE(number_attribute(cells[0], "width"), 6);
  EXPECT_LE(number_attribute(cells[299], "x") + number_attribute(cells[299], "width"), width);
}

TEST(SvgPlot, LabelsAreEscaped) {
  svg::LinePlot plot = throughput_plot();
  const std::string name = "a<b & \"c\" 'd'>";
  plot.frame.title = name;
  plot.series[0].name = name;
  XmlDocument doc(svg::line_plot(plot));
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(XmlDocument::attribute(doc.select("//svg:polyline")[0], "data-series"), name);
  EXPECT_EQ(XmlDocument::content(doc.select("/svg:svg/svg:title")[0]), name);
}

TEST(SvgPlot, EmptyChartsSayNoData) {
  for (const std::string &text :
       {svg::line_plot({}), svg::stacked_bars({}), svg::step_cdf({}), svg::heat_map({})}) {
    XmlDocument doc(text);
    ASSERT_TRUE(doc.ok()) << text;
    EXPECT_NE(text.find("no data"), std::string::npos);
  }
}

TEST(SvgPlot, SameDataGivesTheSameBytes) {
  EXPECT_EQ(svg::line_plot(throughput_plot()), svg::line_plot(throughput_plot()));
}

TEST(SvgPlot, NiceTicksAreRoundAndCoverTheRange) {
  for (double lo : {0.0, 0.013, 3.0, 97.0, 12345.0})
    for (double span : {0.07, 1.0, 9.0, 450.0, 1e6}) {
      std::vector<double> t = svg::nice_ticks(lo, lo + span);
      ASSERT_GE(t.size(), 2u);
      EXPECT_LE(t.front(), lo);
      EXPECT_GE(t.back(), lo + span);
      EXPECT_LE(t.size(), 12u);
      double step = t[1] - t[0];
      double mantissa = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
      EXPECT_TRUE(std::fabs(mantissa - 1) < 1e-6 || std::fabs(mantissa - 2) < 1e-6 ||
                  std::fabs(mantissa - 5) < 1e-6)
          << "step " << step << " for [" << lo << ", " << lo + span << "]";
    }
  EXPECT_EQ(svg::nice_ticks(0, 10), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  auto powers = svg::log2_ticks(64, 1 << 20);
  EXPECT_EQ(powers.front(), 64);
  EXPECT_GE(powers.back(), 1 << 20);
  EXPECT_LE(powers.size(), 12u);
}

TEST(SvgPlot, NumbersAreFormattedTheSameEverywhere) {
  EXPECT_EQ(svg::format_number(0.25), "0.25");
  EXPECT_EQ(svg::format_number(1500), "1500");
  EXPECT_EQ(svg::format_number(3.14159), "3.142");
  EXPECT_EQ(svg::format_number(0.30000000000000004), "0.3");
  EXPECT_EQ(svg::format_number(-0.0), "0");
  EXPECT_EQ(svg::format_number(2.5e10), "2.500e+10");
  EXPECT_EQ(svg::format_byte_count(64), "64 B");
  EXPECT_EQ(svg::format_byte_count(1536), "1.5 KiB");
  EXPECT_EQ(svg::format_byte_count(1 << 20), "1 MiB");
}

} // namespace
} // namespace pciesim::test
