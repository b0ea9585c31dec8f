// Helpers shared by the report's chart sections (sim/report/report_figures.cpp and
// report_distributions.cpp): the charts' frame, file stems, CSV numbers, which points and
// mechanisms ran, the colours of mechanisms and the panels of a comparison.
#pragma once

#include <string>
#include <vector>

#include "sim/report/report_data.h"
#include "sim/report/svg_plot.h"

namespace pciesim::figure_parts {

// Every chart of the page: as wide as the page's text column.
svg::Frame frame(const std::string &title, const std::string &x_label, const std::string &y_label,
                 svg::Formatter x_tick_label = nullptr);
// A file stem from a title: `prefix`, then lower-case letters, digits and dashes.
std::string stem(const std::string &prefix, const std::string &title);
// A number for the charts' CSV files: 6 significant digits, "" for NaN.
std::string csv_number(double v);
std::string percent(double fraction);
bool completed(const ReportPoint &p);
// Whether a mechanism entry ran to its end (status "ok").
bool ran(const nlohmann::json &mechanism);

// Mechanisms keep one colour across every chart, by their order of first appearance.
class MechanismColours {
public:
  explicit MechanismColours(const ReportData &d);
  svg::Style style(const std::string &name) const;

private:
  std::vector<std::string> names_;
};

// One panel: the mechanisms of one topology at one representative point.
struct Panel {
  std::string title;
  std::string topology;
  std::string combination; // the point's non-size axis values ("" for a single run)
  std::vector<const nlohmann::json *> mechanisms;
};

std::vector<Panel> mechanism_panels(const ReportData &d, const std::vector<std::size_t> &chosen);

} // namespace pciesim::figure_parts
