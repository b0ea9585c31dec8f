// `pciesim report DIR`: a self-contained report.html (inline SVG charts and topology pictures,
// no scripts, no external resources) and a report.md (the same tables, charts as files under
// DIR/report-svg/), with each chart's data as CSV under DIR/report-data/ from the output of a
// sweep, a merge or a single run. Written atomically; the bytes depend only on the result files, so
// a sweep and its sharded merge give the same report.
#pragma once

#include <string>

#include "sim/report/report_data.h"

namespace pciesim {

struct ReportFiles {
  std::string html, markdown;
  std::vector<std::pair<std::string, std::string>> svgs; // file name under report-svg/, content
  std::vector<std::pair<std::string, std::string>> csvs; // under report-data/: each chart's data
};

ReportFiles render_report(const ReportData &data);

// Reads `dir` and writes the report into it; throws InputError for a directory it cannot read.
// The charts and data an earlier pciesim report there linked and this one has not are removed.
void write_report(const std::string &dir);

// Whether `dir` holds a report pciesim wrote (report.md or report.html, by their own words), not
// someone's page of the same name.
bool holds_pciesim_report(const std::string &dir);
// Refuses (InputError) what would stop a report being written in `dir`: anything but a regular
// file at report.md or report.html, anything but a real directory at report-svg/ or
// report-data/ (a symbolic link would take the pictures elsewhere).
void check_report_outputs(const std::string &dir);

// The command: returns an exit code, printing bad input as one line.
int command_report(const std::string &dir);

} // namespace pciesim
