// The report's tables (axes, results, mechanisms) and how they are written in HTML and
// Markdown.
#pragma once

#include <string>
#include <vector>

#include "sim/report/report_data.h"

namespace pciesim {

struct Table {
  std::vector<std::string> header;
  std::vector<bool> numeric;
  std::vector<std::vector<std::string>> rows;
};

Table axes_table(const ReportData &d);
Table results_table(const ReportData &d);
Table mechanisms_table(const ReportData &d);
std::string html_table(const Table &t);
std::string md_table(const Table &t);
// Text safe in a Markdown table cell: no column breaks, no line breaks.
std::string md_cell(const std::string &s);

} // namespace pciesim
