// The report's charts, section by section: throughput, time breakdown, latency, link
// utilisation and topology pictures, drawn from a ReportData. A comparison of mechanisms gets
// one panel per topology (and per combination of the sweep's other axes), each mechanism the
// same colour in every chart, and log value axes where the values span decades. Every chart's
// data is also kept as CSV, written beside the report so that users can redraw it.
#pragma once

#include <string>
#include <vector>

#include "sim/report/report_data.h"
#include "sim/report/report_tables.h"

namespace pciesim {

struct Figure {
  std::string name; // file stem under report-svg/ (.svg) and report-data/ (.csv)
  std::string svg;
  std::string caption;
  std::string csv; // the chart's data, one row per drawn value
};

struct Section {
  std::string id; // the HTML id of the section
  std::string title;
  std::string text; // a paragraph before the figures
  std::vector<Figure> figures;
  std::vector<std::pair<std::string, Table>> tables; // caption, table
  bool empty() const { return text.empty() && figures.empty() && tables.empty(); }
};

// For each combination of the non-size axes, the completed point of the largest size: the
// points whose breakdowns and latency distributions the report draws.
std::vector<std::size_t> representative_points(const ReportData &d);

Section throughput_section(const ReportData &d);
Section breakdown_section(const ReportData &d, const std::vector<std::size_t> &chosen);
Section latency_section(const ReportData &d, const std::vector<std::size_t> &chosen);
Section links_section(const ReportData &d, const std::vector<std::size_t> &chosen);
Section topology_section(const ReportData &d);

} // namespace pciesim
