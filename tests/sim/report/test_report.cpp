// `pciesim report` and the report a sweep writes at its end: self-contained HTML (parsed with
// libxml2), one chart per kind of data, the same bytes from a sweep and from its sharded
// merge, the "mechanisms" results when a run has them, and bad directories as input errors.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/sim_harness.h"
#include "tests/support/xml_query.h"

namespace pciesim::test {
namespace {
namespace fs = std::filesystem;

const std::string kSource = PCIESIM_SOURCE_DIR;
const std::string kTiny = kSource + "/scenarios/sweeps/tiny.json";

std::size_t count(const XmlDocument &doc, const std::string &xpath) {
  return doc.select(xpath).size();
}

// A page that a browser shows as is: no scripts, no fetched resources, no links out.
void expect_self_contained(const XmlDocument &html) {
  EXPECT_EQ(count(html, "//script"), 0u);
  EXPECT_EQ(count(html, "//*[@src]"), 0u);
  EXPECT_EQ(count(html, "//link"), 0u);
  EXPECT_EQ(count(html, "//*[@href]"), 0u);
}

TEST(Report, SweepWritesASelfContainedReport) {
  std::string dir = make_temp_dir("report");
  CommandResult r = run_pciesim("sweep " + kTiny + " -j 2 --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string html = read_file(dir + "/report.html");
  XmlDocument doc(html, true);
  ASSERT_TRUE(doc.ok());
  expect_self_contained(doc);
  // The axes table lists both values of each axis.
  std::string text = XmlDocument::content(doc.select("//table")[0]);
  EXPECT_NE(text.find("gen"), std::string::npos);
  EXPECT_NE(text.find("4 KiB, 64 KiB"), std::string::npos) << text;
  // Throughput: one series (the one transfer) per gen, one point per size.
  auto lines =
      doc.select("(//figure/svg[.//polyline[@class='series']])[1]//polyline[@class='series']");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(XmlDocument::attribute(lines[0], "data-series"), "gen=3 / write");
  // Link utilisation: one heat map per topology (gen 3 and gen 4), a column per size and a
  // row per link direction that carried data (the writes' direction: posted writes have no
  // completions coming back).
  EXPECT_EQ(count(doc, "//rect[@class='cell']"), 2u * 1u * 2u);
  // The topologies, drawn by Graphviz from pciesim's DOT, told apart by their gen.
  EXPECT_EQ(count(doc, "//svg[.//g[@class='graph']]"), 2u);
  EXPECT_NE(html.find("host-dma-gen3x8 (gen=4)"), std::string::npos);
  EXPECT_EQ(html.find("<?xml"), std::string::npos);
  // The Markdown report has the tables and points at the same charts as files.
  std::string md = read_file(dir + "/report.md");
  EXPECT_NE(md.find("| p0003_gen-4_size-64KiB | 4 | 64 KiB | completed | write |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("](report-svg/throughput.svg)"), std::string::npos);
  XmlDocument chart(read_file(dir + "/report-svg/throughput.svg"));
  EXPECT_TRUE(chart.ok());
  // Writing it again gives the same bytes.
  CommandResult again = run_pciesim("report " + dir);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(read_file(dir + "/report.html"), html);
}

// A sweep of comparisons (the shipped migration-granularity sweep: 3 points, 2 topologies):
// its report has the crossover of every point and topology as that point's results.json has
// it, bars rather than lines for throughput (the size does not vary), and beside each chart
// its data, which adds up to what results.json says.
TEST(Report, AWorkloadSweepShowsItsCrossoversAndCategoricalBars) {
  std::string dir = make_temp_dir("report");
  CommandResult r =
      run_pciesim("sweep " + kSource +
                  "/scenarios/sweeps/migration-granularity.json -j 2 --quiet --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  XmlDocument doc(read_file(dir + "/report.html"), true);
  ASSERT_TRUE(doc.ok());
  auto rows = doc.select("//section[@id='crossover']//table//tr[td]");
  std::string table;
  for (xmlNodePtr row : rows)
    table += XmlDocument::content(row) + "\n";
  nlohmann::json merged = nlohmann::json::parse(read_file(dir + "/results.json"));
  std::size_t crossovers = 0;
  std::vector<std::pair<std::string, double>> totals; // every mechanism's total_time_ns
  for (const auto &point : merged["points"]) {
    nlohmann::json own = nlohmann::json::parse(
        read_file(dir + "/points/" + point["id"].get<std::string>() + "/results.json"));
    for (const auto &m : own["mechanisms"])
      totals.emplace_back(m["name"], m["total_time_ns"].get<double>());
    for (const auto &c : own["crossover"]) {
      ++crossovers;
      ASSERT_TRUE(c["reuses"].is_number()) << c.dump();
      // The row of this topology names its number of passes.
      EXPECT_NE(table.find(c["topology"].get<std::string>() + "hmm_migratep2p_dma_api" +
                           std::to_string(c["reuses"].get<long long>())),
                std::string::npos)
          << table;
    }
  }
  EXPECT_EQ(crossovers, 6u);
  EXPECT_EQ(rows.size(), crossovers);
  // Throughput where the size does not vary: bars, no lines.
  EXPECT_FALSE(doc.select("//section[@id='throughput']//rect[@class='bar']").empty());
  EXPECT_TRUE(doc.select("//section[@id='throughput']//polyline").empty());
  // Each breakdown chart's CSV adds up to its mechanisms' total times.
  std::size_t checked = 0;
  for (const auto &entry : fs::directory_iterator(dir + "/report-data")) {
    std::string name = entry.path().filename().string();
    if (name.rfind("breakdown-", 0) != 0)
      continue;
    std::map<std::string, double> total;
    std::istringstream csv(read_file(entry.path().string()));
    std::string line;
    std::getline(csv, line);
    EXPECT_EQ(line, "mechanism,part,time_ns");
    while (std::getline(csv, line)) {
      std::size_t a = line.find(','), b = line.rfind(',');
      total[line.substr(0, a)] += std::stod(line.substr(b + 1));
    }
    EXPECT_EQ(total.size(), 3u) << name;
    for (const auto &[mechanism, ns] : total) {
      bool found = false;
      for (const auto &[m, t] : totals)
        found = found || (m == mechanism && std::fabs(ns - t) <= 1e-5 * t);
      EXPECT_TRUE(found) << name << ": " << mechanism << " adds up to " << ns;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 6u);
}

TEST(Report, MergedShardsGiveTheSameReportAsOneSweep) {
  std::string whole = make_temp_dir("report"), a = make_temp_dir("report"),
              b = make_temp_dir("report"), merged = make_temp_dir("report");
  ASSERT_EQ(run_pciesim("sweep " + kTiny + " --quiet --out " + whole).exit_code, 0);
  ASSERT_EQ(run_pciesim("sweep " + kTiny + " --shard 1/2 --quiet --out " + a).exit_code, 0);
  ASSERT_EQ(run_pciesim("sweep " + kTiny + " --shard 2/2 --quiet --out " + b).exit_code, 0);
  EXPECT_FALSE(fs::exists(a + "/report.html")); // a shard alone has no results to show
  ASSERT_EQ(run_pciesim("merge " + a + " " + b + " --out " + merged).exit_code, 0);
  EXPECT_EQ(read_file(merged + "/report.html"), read_file(whole + "/report.html"));
  EXPECT_EQ(read_file(merged + "/report.md"), read_file(whole + "/report.md"));
}

// A run's results.json with the "mechanisms" array of the migration study, made by hand.
nlohmann::json mechanisms_fixture() {
  nlohmann::json cdf = nlohmann::json::array();
  for (int i = 0; i <= 20; ++i)
    cdf.push_back(1000 + 50 * i);
  auto breakdown = [](double dma, double copy, double faults) {
    return nlohmann::json{{"dma", dma},        {"copy", copy}, {"fault_handling", faults},
                          {"invalidation", 0}, {"setup", 100}, {"waiting", 0}};
  };
  auto latency = [](double p50) {
    return nlohmann::json{
        {"mean_ns", p50}, {"p50_ns", p50}, {"p99_ns", 2 * p50}, {"max_ns", 3 * p50}};
  };
  return {{"scenario", "migration-fixture"},
          {"status", "completed"},
          {"verdict", "p2p_dma_api is fastest; hmm_p2p is not supported here"},
          {"transfers", nlohmann::json::array()},
          {"mechanisms",
           {{{"name", "p2p_dma_api"},
             {"topology", "fixture"},
             {"status", "ok"},
             {"total_time_ns", 20000},
             {"throughput_GBps", 25.5},
             {"latency", latency(1500)},
             {"latency_cdf_ns", cdf},
             {"breakdown_ns", breakdown(19900, 0, 0)}},
            {{"name", "bounce"},
             {"topology", "fixture"},
             {"status", "ok"},
             {"total_time_ns", 60000},
             {"throughput_GBps", 8.25},
             {"latency", latency(4000)},
             {"pages_migrated", 16},
             {"faults", {{"gpu", 3}, {"cpu", 2}}},
             {"breakdown_ns", breakdown(29900, 20000, 10000)}},
            {{"name", "hmm_p2p"},
             {"topology", "fixture"},
             {"status", "not_supported"},
             {"reason", "no <HMM> & no P2P"}}}}};
}

TEST(Report, MechanismsGetBreakdownBarsCdfsAndATable) {
  std::string dir = make_temp_dir("report");
  std::ofstream(dir + "/results.json") << mechanisms_fixture().dump(2);
  CommandResult r = run_pciesim("report " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string html = read_file(dir + "/report.html");
  XmlDocument doc(html, true);
  ASSERT_TRUE(doc.ok());
  expect_self_contained(doc);
  // Stacked bars: p2p_dma_api has dma and setup, bounce dma, copy, fault_handling and setup;
  // lengths proportional to the nanoseconds.
  auto bars = doc.select("//section[@id='breakdown']//rect[@class='bar']");
  ASSERT_EQ(bars.size(), 6u);
  EXPECT_EQ(XmlDocument::attribute(bars[0], "data-bar"), "p2p_dma_api");
  double per_ns = std::stod(XmlDocument::attribute(bars[0], "width")) / 19900;
  for (xmlNodePtr bar : bars)
    EXPECT_NEAR(std::stod(XmlDocument::attribute(bar, "width")),
                per_ns * std::stod(XmlDocument::attribute(bar, "data-value")), 0.05);
  // Latency CDFs: 21 steps from latency_cdf_ns, 3 from bounce's percentiles.
  auto cdfs = doc.select("//polyline[@class='series'][@data-series='p2p_dma_api' or "
                         "@data-series='bounce']");
  ASSERT_EQ(cdfs.size(), 2u);
  auto points = [](xmlNodePtr line) {
    std::string p = XmlDocument::attribute(line, "points");
    return std::count(p.begin(), p.end(), ',');
  };
  EXPECT_EQ(points(cdfs[0]), 42);
  EXPECT_EQ(points(cdfs[1]), 6);
  // The mechanism that did not run is in the table with its reason (escaped), and so is the
  // verdict.
  std::string tables;
  for (xmlNodePtr t : doc.select("//table"))
    tables += XmlDocument::content(t);
  EXPECT_NE(tables.find("not_supported"), std::string::npos);
  EXPECT_NE(tables.find("no <HMM> & no P2P"), std::string::npos);
  EXPECT_NE(tables.find("60 µs"), std::string::npos) << tables;
  EXPECT_NE(html.find("p2p_dma_api is fastest"), std::string::npos);
  EXPECT_NE(read_file(dir + "/report.md").find("| hmm_p2p | fixture | not_supported |"),
            std::string::npos);
}

TEST(Report, WithoutGraphvizTheReportSaysSo) {
  std::string dir = make_temp_dir("report");
  ASSERT_EQ(
      run_pciesim("run " + kSource + "/scenarios/fabric-mix.json --quiet --out " + dir).exit_code,
      0);
  std::string path = std::getenv("PATH");
  setenv("PATH", dir.c_str(), 1); // no dot there
  CommandResult r = run_pciesim("report " + dir);
  setenv("PATH", path.c_str(), 1);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string html = read_file(dir + "/report.html");
  EXPECT_NE(html.find("Graphviz `dot` was not found on PATH"), std::string::npos);
  // With dot, the same run gets its picture.
  ASSERT_EQ(run_pciesim("report " + dir).exit_code, 0);
  XmlDocument doc(read_file(dir + "/report.html"), true);
  EXPECT_EQ(count(doc, "//svg[.//g[@class='graph']]"), 1u);
}

TEST(Report, DirectoriesWithoutResultsAreInputErrors) {
  std::string dir = make_temp_dir("report");
  CommandResult missing = run_pciesim("report " + dir);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err, dir + "/results.json:/: cannot open the file: it does not exist "
                               "(expected an existing file)\n");
  std::ofstream(dir + "/results.json") << R"({"points": [{"id": 3}]})";
  CommandResult wrong = run_pciesim("report " + dir);
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_EQ(wrong.err.find(dir + "/results.json:/"), 0u) << wrong.err;
  EXPECT_EQ(std::count(wrong.err.begin(), wrong.err.end(), '\n'), 1) << wrong.err;
  EXPECT_FALSE(fs::exists(dir + "/report.html"));
}

} // namespace
} // namespace pciesim::test
