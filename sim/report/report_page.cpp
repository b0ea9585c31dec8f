#include "sim/report/report_page.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "sim/report/report.h"
#include "sim/report/report_figures.h"
#include "sim/report/report_tables.h"
#include "sim/report/xml_text.h"
#include "sim/util/file_io.h"
#include "sim/util/input_error.h"
#include "sim/util/output_directory.h"

namespace pciesim {
namespace fs = std::filesystem;
using nlohmann::json;
namespace {

const char *kStyle = R"(body{font-family:sans-serif;margin:24px;max-width:1200px;color:#222}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:12px;margin:8px 0}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:left}td.num{text-align:right}
th{background:#f0f0f0}figure{margin:12px 0}figure svg{max-width:100%;height:auto}
figcaption{font-size:12px;color:#555}.note{color:#555;font-style:italic}
div.table{overflow-x:auto}p.caption{font-size:12px;color:#555;margin:12px 0 0}
section p{max-width:70em}
)";

std::string summary_line(const ReportData &d) {
  std::map<std::string, int> by_status;
  for (const ReportPoint &p : d.points)
    ++by_status[p.status];
  std::string out = fmt::format("{} point{}", d.points.size(), d.points.size() == 1 ? "" : "s");
  for (const auto &[status, n] : by_status)
    out += fmt::format(", {} {}", n, status);
  return out + ".";
}

// What a single run compared: "5 mechanisms on 2 topologies", or its transfers.
std::string run_summary(const ReportData &d) {
  std::set<std::string> mechanisms, topologies;
  std::size_t transfers = 0;
  for (const ReportPoint &p : d.points) {
    for (const json &m : json_array(p.result, "mechanisms")) {
      mechanisms.insert(json_text(m, "name"));
      topologies.insert(json_text(m, "topology"));
    }
    transfers += json_array(p.result, "transfers").size();
  }
  if (!mechanisms.empty())
    return fmt::format("A comparison of {} mechanism{} on {} topolog{}.", mechanisms.size(),
                       mechanisms.size() == 1 ? "" : "s", topologies.size(),
                       topologies.size() == 1 ? "y" : "ies");
  return fmt::format("{} transfer{}.", transfers, transfers == 1 ? "" : "s");
}

// The verdict lines (one per topology and point) and a table of every mechanism's total time
// against the fastest on each topology.
Section verdict_section(const ReportData &d) {
  Section s{"verdict", "Verdict", "", {}, {}};
  std::vector<std::string> lines;
  Table t{{"mechanism"}, {false}, {}};
  std::vector<std::string> mechanisms;
  std::vector<std::map<std::string, std::string>> columns;
  for (const ReportPoint &p : d.points) {
    std::string prefix = d.sweep ? point_label(d, p) + " — " : "";
    const json &per_topology = json_array(p.result, "verdicts");
    for (const json &v : per_topology)
      if (v.is_string())
        lines.push_back(prefix + v.get<std::string>());
    if (per_topology.empty() && !json_text(p.result, "verdict").empty())
      lines.push_back(prefix + json_text(p.result, "verdict"));
    std::vector<std::string> topologies;
    for (const json &m : json_array(p.result, "mechanisms"))
      if (std::find(topologies.begin(), topologies.end(), json_text(m, "topology")) ==
          topologies.end())
        topologies.push_back(json_text(m, "topology"));
    for (const std::string &topology : topologies) {
      double fastest = INFINITY;
      for (const json &m : json_array(p.result, "mechanisms"))
        if (json_text(m, "topology") == topology && json_text(m, "status") == "ok")
          fastest = std::min(fastest, json_number(m, "total_time_ns"));
      std::map<std::string, std::string> cells;
      for (const json &m : json_array(p.result, "mechanisms")) {
        if (json_text(m, "topology") != topology)
          continue;
        std::string name = json_text(m, "name");
        if (std::find(mechanisms.begin(), mechanisms.end(), name) == mechanisms.end())
          mechanisms.push_back(name);
        double total = json_number(m, "total_time_ns");
        cells[name] =
            json_text(m, "status") != "ok" || !std::isfinite(total) ? json_text(m, "status")
            : total <= fastest
                ? format_ns(total) + " (fastest)"
                : fmt::format("{} ({:.2f}× the fastest)", format_ns(total), total / fastest);
      }
      t.header.push_back(d.sweep ? topology + " · " + point_label(d, p) : topology);
      t.numeric.push_back(true);
      columns.push_back(cells);
    }
  }
  for (const std::string &name : mechanisms) {
    std::vector<std::string> row{name};
    for (const auto &cells : columns)
      row.push_back(cells.count(name) ? cells.at(name) : "");
    t.rows.push_back(row);
  }
  if (columns.size() > 4) { // a sweep's many topologies and points: a row each, not a column
    Table long_form{{"topology and point"}, {false}, {}};
    for (const std::string &name : mechanisms) {
      long_form.header.push_back(name);
      long_form.numeric.push_back(true);
    }
    for (std::size_t c = 0; c < columns.size(); ++c) {
      std::vector<std::string> row{t.header[c + 1]};
      for (const auto &mechanism_row : t.rows)
        row.push_back(mechanism_row[c + 1]);
      long_form.rows.push_back(row);
    }
    t = long_form;
  }
  for (const std::string &line : lines)
    s.text += (s.text.empty() ? "" : "\n") + line;
  if (!t.rows.empty())
    s.tables.emplace_back("Total time of each mechanism, and how many times the fastest on "
                          "the same topology it took.",
                          t);
  return s;
}

// When migrating to system RAM pays off against peer access: the number of passes over the
// data at which hmm_migrate's total stops being the larger.
Section crossover_section(const ReportData &d) {
  Section s{"crossover", "Crossover", "", {}, {}};
  Table t{{}, {}, {}};
  if (d.sweep)
    t.header.push_back("point");
  for (const char *h : {"topology", "mechanism", "versus", "passes to recover", "explanation"})
    t.header.push_back(h);
  for (std::size_t i = 0; i < t.header.size(); ++i)
    t.numeric.push_back(t.header[i] == "passes to recover");
  for (const ReportPoint &p : d.points)
    for (const json &c : json_array(p.result, "crossover")) {
      std::vector<std::string> row;
      if (d.sweep)
        row.push_back(point_label(d, p));
      std::string reuses = c.contains("reuses") && c["reuses"].is_number()
                               ? std::to_string(c["reuses"].get<long long>())
                               : "never";
      for (std::string cell : {json_text(c, "topology"), json_text(c, "mechanism"),
                               json_text(c, "versus"), reuses, json_text(c, "explanation")})
        row.push_back(cell);
      t.rows.push_back(row);
    }
  if (!t.rows.empty())
    s.tables.emplace_back("The least number of passes over the buffer at which the mechanism's "
                          "total time is no larger than the one it is compared with.",
                          t);
  return s;
}

Section results_section(const ReportData &d) {
  Section s{"results", "Results", "", {}, {}};
  bool transfers = d.sweep;
  for (const ReportPoint &p : d.points)
    transfers = transfers || !json_array(p.result, "transfers").empty();
  Table mechanisms = mechanisms_table(d);
  if (!mechanisms.rows.empty())
    s.tables.emplace_back("Mechanisms", mechanisms);
  if (transfers || mechanisms.rows.empty())
    s.tables.emplace_back(d.sweep ? "Points" : "Transfers", results_table(d));
  return s;
}

// Figure files have names unique within the report.
void unique_names(std::vector<Section> &sections) {
  std::set<std::string> seen;
  for (Section &s : sections)
    for (Figure &f : s.figures) {
      std::string base = f.name;
      for (int k = 2; !seen.insert(f.name).second; ++k)
        f.name = fmt::format("{}-{}", base, k);
    }
}

void add_section(ReportFiles &f, const Section &s) {
  std::string &h = f.html, &m = f.markdown;
  h += "<section id=\"" + s.id + "\">\n<h2>" + xml_escape(s.title) + "</h2>\n";
  m += "## " + s.title + "\n\n";
  if (!s.text.empty()) {
    std::size_t start = 0;
    while (start <= s.text.size()) {
      std::size_t end = s.text.find('\n', start);
      std::string para = s.text.substr(start, end == std::string::npos ? end : end - start);
      h += "<p>" + xml_escape(para) + "</p>\n";
      m += para + "\n\n";
      if (end == std::string::npos)
        break;
      start = end + 1;
    }
  }
  for (const Figure &fig : s.figures) {
    h += "<figure>\n" + fig.svg;
    if (!fig.caption.empty())
      h += "<figcaption>" + xml_escape(fig.caption) + "</figcaption>\n";
    h += "</figure>\n";
    f.svgs.emplace_back(fig.name + ".svg", fig.svg);
    m += "![" + md_cell(fig.caption) + "](report-svg/" + fig.name + ".svg)\n\n";
    if (!fig.csv.empty()) {
      f.csvs.emplace_back(fig.name + ".csv", fig.csv);
      m += (fig.caption.empty() ? "" : fig.caption + " ") + "Data: [report-data/" + fig.name +
           ".csv](report-data/" + fig.name + ".csv)\n\n";
    } else if (!fig.caption.empty()) {
      m += fig.caption + "\n\n";
    }
  }
  for (const auto &[caption, table] : s.tables) {
    h += "<div class=\"table\">\n<p class=\"caption\">" + xml_escape(caption) + "</p>\n" +
         html_table(table) + "</div>\n";
    m += caption + "\n\n" + md_table(table);
  }
  h += "</section>\n";
}

} // namespace

ReportFiles render_report(const ReportData &d) {
  std::vector<std::size_t> chosen = representative_points(d);
  std::vector<Section> sections = {verdict_section(d),           crossover_section(d),
                                   breakdown_section(d, chosen), throughput_section(d),
                                   latency_section(d, chosen),   links_section(d, chosen),
                                   topology_section(d),          results_section(d)};
  unique_names(sections);
  std::string title = (d.sweep ? "pciesim sweep report: " : "pciesim run report: ") + d.title;
  ReportFiles f;
  std::string &h = f.html, &m = f.markdown;
  h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
      xml_escape(title) + "</title>\n<style>\n" + kStyle + "</style>\n</head>\n<body>\n";
  h += "<h1>" + xml_escape(title) + "</h1>\n";
  m = "# " + title + "\n\n";
  for (const std::string &para : {d.description, d.sweep ? summary_line(d) : run_summary(d)})
    if (!para.empty()) {
      h += "<p>" + xml_escape(para) + "</p>\n";
      m += para + "\n\n";
    }
  if (!d.axes.empty()) {
    Section axes{
        "axes", "Axes", "", {}, {{"The values each axis of the sweep takes.", axes_table(d)}}};
    add_section(f, axes);
  }
  // A section with nothing to show is left out rather than shown empty.
  for (const Section &s : sections)
    if (!s.empty())
      add_section(f, s);
  h += fmt::format("<p class=\"note\">Written by pciesim {} from results.json; the data of "
                   "each chart is in report-data/.</p>\n</body>\n</html>\n",
                   PCIESIM_VERSION);
  return f;
}

namespace {

// The text of DIR/report.md or DIR/report.html if pciesim wrote it (its first heading, or the
// note at the end of the page, says so); "" otherwise.
std::string pciesim_page(const std::string &path) {
  std::string text;
  try {
    text = read_text_file(path);
  } catch (const std::runtime_error &) {
    return "";
  }
  const bool ours = text.rfind("# pciesim ", 0) == 0 ||
                    text.find("<p class=\"note\">Written by pciesim ") != std::string::npos;
  return ours ? text : "";
}

// The charts and data the pciesim report in `dir` links to (report.md the pictures, report.html
// the data): only those may go when a new report has not them.
std::set<std::string> linked_report_files(const std::string &dir) {
  std::set<std::string> linked;
  for (const char *page : {"/report.md", "/report.html"}) {
    const std::string text = pciesim_page(dir + page);
    for (const char *folder : {"report-svg/", "report-data/"})
      for (std::size_t at = text.find(folder); at != std::string::npos;
           at = text.find(folder, at + 1)) {
        std::size_t end = at + std::strlen(folder);
        while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) ||
                                     text[end] == '-' || text[end] == '_' || text[end] == '.'))
          ++end;
        linked.insert(dir + "/" + text.substr(at, end - at));
      }
  }
  return linked;
}

} // namespace

bool holds_pciesim_report(const std::string &dir) {
  return !pciesim_page(dir + "/report.md").empty() || !pciesim_page(dir + "/report.html").empty();
}

void check_report_outputs(const std::string &dir) {
  for (const char *page : {"/report.md", "/report.html"})
    check_output_file_inside(dir + page, "report");
  for (const char *folder : {"/report-svg", "/report-data"})
    check_output_subdirectory(dir + folder);
}

void write_report(const std::string &dir) {
  ReportFiles files = render_report(load_report_data(dir));
  const std::set<std::string> earlier = linked_report_files(dir);
  if (!files.svgs.empty())
    create_output_subdirectory(dir + "/report-svg");
  if (!files.csvs.empty())
    create_output_subdirectory(dir + "/report-data");
  OutputSet set; // the page, its pictures and their data match
  for (const auto &[name, content] : files.svgs)
    set.add(dir + "/report-svg/" + name, content);
  for (const auto &[name, content] : files.csvs)
    set.add(dir + "/report-data/" + name, content);
  set.add(dir + "/report.md", files.markdown);
  set.add(dir + "/report.html", files.html);
  set.write();
  // What the earlier report showed and this one does not: results the directory no longer holds.
  set.remove_unwritten(earlier);
}

int command_report(const std::string &dir) {
  write_report(dir);
  std::cerr << fmt::format("pciesim: report in {}/report.html and {}/report.md\n", dir, dir);
  return kExitOk;
}

} // namespace pciesim
