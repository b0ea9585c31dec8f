// The output files against their documented form, on real outputs of a run of transfers, a
// comparison, a transfer sweep and a workload sweep: every results.json (the sweeps' points'
// too) against schemas/results.schema.json with valijson, and every CSV header against the
// column table docs/file-formats.md gives for that file (parsed here, so the doc and the
// writers cannot drift apart). Also the rule that a figure that was not measured (an
// unsupported transfer, a mechanism that cannot run) is empty or null, never 0, and that a
// sweep's CSV cells hold axis values in canonical units.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <gtest/gtest.h>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

std::string trim(const std::string &s) {
  auto b = s.find_first_not_of(" \t");
  auto e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string &line, char separator) {
  std::vector<std::string> out;
  std::stringstream in(line);
  std::string field;
  while (std::getline(in, field, separator))
    out.push_back(field);
  if (!line.empty() && line.back() == separator)
    out.push_back("");
  return out;
}

// The columns docs/file-formats.md documents for `file` ("run/results.csv", ...): the first
// cells of the table after `<!-- csv-columns FILE -->`. A row "*axis columns*" stands for
// `axes`; "*the columns of OTHER*" for OTHER's columns.
std::vector<std::string> documented_columns(const std::string &file,
                                            const std::vector<std::string> &axes = {}) {
  const std::string doc = read_repo_file("docs/file-formats.md");
  const std::string marker = "<!-- csv-columns " + file + " -->\n";
  auto at = doc.find(marker);
  if (at == std::string::npos)
    throw std::runtime_error("docs/file-formats.md documents no " + file);
  std::stringstream lines(doc.substr(at + marker.size()));
  std::vector<std::string> columns;
  std::string line;
  for (int row = 0; std::getline(lines, line) && !line.empty() && line[0] == '|'; ++row) {
    if (row < 2) // the table's header and separator
      continue;
    std::string cell = trim(split(line, '|').at(1));
    const std::string other = "*the columns of ";
    if (cell == "*axis columns*") {
      columns.insert(columns.end(), axes.begin(), axes.end());
    } else if (cell.rfind(other, 0) == 0) {
      std::string name = cell.substr(other.size(), cell.size() - other.size() - 1);
      for (const std::string &c : documented_columns(name))
        columns.push_back(c);
    } else {
      EXPECT_TRUE(cell.size() > 2 && cell.front() == '`' && cell.back() == '`')
          << file << ": " << line;
      columns.push_back(cell.substr(1, cell.size() - 2));
    }
  }
  return columns;
}

// A CSV file as rows of cells (RFC 4180: a quoted field may hold commas, doubled quotes and
// line ends).
std::vector<std::vector<std::string>> read_csv(const std::string &path) {
  const std::string text = read_file(path);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"')
        field += text[++i];
      else if (c == '"')
        quoted = false;
      else
        field += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
    } else if (c == '\n') {
      row.push_back(field);
      rows.push_back(row);
      row.clear();
      field.clear();
    } else {
      field += c;
    }
  }
  return rows;
}

void expect_documented_header(const std::string &path, const std::string &documented,
                              const std::vector<std::string> &axes = {}) {
  auto rows = read_csv(path);
  ASSERT_FALSE(rows.empty()) << path;
  EXPECT_EQ(rows[0], documented_columns(documented, axes)) << path << " against " << documented;
}

// The cell of `column` in `row` of a CSV read with read_csv.
std::string cell(const std::vector<std::vector<std::string>> &csv, std::size_t row,
                 const std::string &column) {
  auto it = std::find(csv[0].begin(), csv[0].end(), column);
  if (it == csv[0].end())
    throw std::runtime_error("no column " + column);
  return csv.at(row).at(static_cast<std::size_t>(it - csv[0].begin()));
}

const valijson::Schema &results_schema() {
  static const json document = json::parse(read_repo_file("schemas/results.schema.json"));
  static const std::unique_ptr<valijson::Schema> schema = [] {
    auto s = std::make_unique<valijson::Schema>();
    valijson::SchemaParser parser;
    valijson::adapters::NlohmannJsonAdapter adapter(document);
    parser.populateSchema(adapter, *s);
    return s;
  }();
  return *schema;
}

void expect_valid_results(const std::string &path) {
  json doc = json::parse(read_file(path));
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(doc);
  bool valid = validator.validate(results_schema(), target, &results);
  std::string errors;
  valijson::ValidationResults::Error e;
  while (results.popError(e)) {
    std::string where;
    for (const std::string &c : e.context)
      where += c;
    errors += "  " + where + ": " + e.description + "\n";
  }
  EXPECT_TRUE(valid) << path << " does not match schemas/results.schema.json:\n" << errors;
}

std::string topology_path(const std::string &name) {
  return std::string(PCIESIM_SOURCE_DIR) + "/topologies/" + name + ".json";
}

// The metric cells of a transfer or mechanism that measured nothing.
const char *const kTransferMetrics[] = {"start_ns",        "end_ns",         "bandwidth_GBps",
                                        "latency_mean_ns", "latency_p50_ns", "latency_p99_ns",
                                        "latency_max_ns"};
const char *const kMechanismMetrics[] = {
    "total_time_ns",  "throughput_GBps", "latency_mean_ns", "latency_p50_ns",    "latency_p99_ns",
    "latency_max_ns", "bytes_accessed",  "nic_bytes",       "cpu_faults",        "gpu_faults",
    "odp_faults",     "pages_migrated",  "pages_to_ram",    "pages_to_device",   "bytes_migrated",
    "invalidations",  "dma_ns",          "copy_ns",         "fault_handling_ns", "invalidation_ns",
    "shootdown_ns",   "setup_ns",        "waiting_ns"};

// A NIC-reads-GPU workload on a host bridge Linux does not allow P2P through: p2p_dma_api
// cannot run there, hmm_migrate can.
json workload_scenario() {
  return {{"name", "schema-check"},
          {"topology", json::array({topology_path("gpu-nic-root-ports-other")})},
          {"workload",
           {{"mechanisms", {"p2p_dma_api", "hmm_migrate"}},
            {"buffers", {{{"id", "buf"}, {"gpu", "gpu0"}, {"size", "256 KiB"}}}},
            {"phases",
             {{{"id", "send"},
               {"actor", "nic0"},
               {"op", "read"},
               {"buffer", "buf"},
               {"access_size", "64 KiB"}}}}}}};
}

// Runs `scenario` with --out DIR/out; checks results.json against the schema and results.csv
// and links.csv against the documented "<kind>/results.csv" and "<kind>/links.csv".
json run_and_check(const json &scenario, const std::string &kind, const std::string &dir) {
  std::ofstream(dir + "/s.json") << scenario.dump(2);
  CommandResult r = run_pciesim("run " + dir + "/s.json --quiet --out " + dir + "/out");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  expect_valid_results(dir + "/out/results.json");
  expect_documented_header(dir + "/out/results.csv", kind + "/results.csv");
  expect_documented_header(dir + "/out/links.csv", kind + "/links.csv");
  return json::parse(read_file(dir + "/out/results.json"));
}

// Runs a sweep into `out`; checks its results.json and every point's against the schema.
json sweep_and_check(const std::string &sweep_file, const std::string &out) {
  CommandResult r = run_pciesim("sweep " + sweep_file + " -j 2 --quiet --out " + out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  expect_valid_results(out + "/results.json");
  json merged = json::parse(read_file(out + "/results.json"));
  for (const json &p : merged["points"])
    expect_valid_results(out + "/points/" + p["id"].get<std::string>() + "/results.json");
  return merged;
}

TEST(OutputSchemas, RunOfTransfers) {
  std::string dir = make_temp_dir("schemas-run");
  // The NIC writes host memory; its write of the GPU on the other socket is refused (no
  // P2PDMA allow-list across the sockets).
  json scenario = {{"name", "schema-check"},
                   {"topology", topology_path("gpu-nic-two-sockets")},
                   {"transfers",
                    {{{"id", "local"},
                      {"initiator", "nic0"},
                      {"target", "mem1"},
                      {"direction", "write"},
                      {"size", "4 KiB"},
                      {"count", 4}},
                     {{"id", "peer"},
                      {"initiator", "nic0"},
                      {"target", "gpu0"},
                      {"direction", "write"},
                      {"size", "4 KiB"},
                      {"count", 4},
                      {"buffer", "64 MiB"}}}}};
  json results = run_and_check(scenario, "run", dir);
  const json &peer = transfer(results, "peer");
  EXPECT_EQ(peer["status"], "unsupported");
  EXPECT_TRUE(peer["bandwidth_GBps"].is_null());
  EXPECT_TRUE(peer["latency_ns"]["p50"].is_null());
  EXPECT_EQ(transfer(results, "local")["status"], "completed");
  auto csv = read_csv(dir + "/out/results.csv");
  ASSERT_EQ(csv.size(), 3u);
  EXPECT_EQ(cell(csv, 1, "transfer"), "local");
  EXPECT_EQ(cell(csv, 1, "status"), "completed");
  EXPECT_EQ(cell(csv, 1, "transfer_bytes"), "4096");
  EXPECT_NE(cell(csv, 1, "bandwidth_GBps"), "");
  EXPECT_EQ(cell(csv, 2, "status"), "unsupported");
  EXPECT_EQ(cell(csv, 2, "map_type"), "NOT_SUPPORTED");
  for (const char *metric : kTransferMetrics)
    EXPECT_EQ(cell(csv, 2, metric), "") << metric;
}

TEST(OutputSchemas, Comparison) {
  std::string dir = make_temp_dir("schemas-compare");
  json results = run_and_check(workload_scenario(), "comparison", dir);
  const json &refused = results["mechanisms"][0];
  ASSERT_EQ(refused["status"], "not_supported");
  EXPECT_FALSE(refused.contains("total_time_ns"));
  EXPECT_FALSE(refused.contains("throughput_GBps"));
  auto csv = read_csv(dir + "/out/results.csv");
  ASSERT_EQ(csv.size(), 3u);
  EXPECT_EQ(cell(csv, 1, "status"), "not_supported");
  for (const char *metric : kMechanismMetrics)
    EXPECT_EQ(cell(csv, 1, metric), "") << metric;
  EXPECT_EQ(cell(csv, 2, "status"), "ok");
  for (const char *metric : kMechanismMetrics)
    EXPECT_NE(cell(csv, 2, metric), "") << metric;
  // Only hmm_migrate moved anything: its link directions, none of p2p_dma_api's.
  auto links = read_csv(dir + "/out/links.csv");
  ASSERT_GT(links.size(), 1u);
  for (std::size_t row = 1; row < links.size(); ++row)
    EXPECT_EQ(cell(links, row, "mechanism"), "hmm_migrate");
}

// Every row of each point's own links.csv is in the merged one after its point columns.
void expect_links_merged(const std::string &out, const json &merged, std::size_t axis_columns) {
  auto links = read_csv(out + "/links.csv");
  std::size_t row = 1;
  for (const json &p : merged["points"]) {
    auto own = read_csv(out + "/points/" + p["id"].get<std::string>() + "/links.csv");
    for (std::size_t k = 1; k < own.size(); ++k, ++row) {
      ASSERT_LT(row, links.size());
      EXPECT_EQ(links[row][0], p["id"]);
      EXPECT_EQ(std::vector<std::string>(links[row].begin() + 2 + axis_columns, links[row].end()),
                own[k]);
    }
  }
  EXPECT_EQ(row, links.size());
}

TEST(OutputSchemas, TransferSweep) {
  std::string dir = make_temp_dir("schemas-sweep");
  json merged =
      sweep_and_check(std::string(PCIESIM_SOURCE_DIR) + "/scenarios/sweeps/tiny.json", dir);
  // Sizes in bytes; the topology's "gen" is a column of links.csv already.
  expect_documented_header(dir + "/results.csv", "sweep/results.csv", {"gen", "size_bytes"});
  expect_documented_header(dir + "/links.csv", "sweep/links.csv", {"axis.gen", "size_bytes"});
  EXPECT_FALSE(fs::exists(dir + "/mechanisms.csv"));
  auto csv = read_csv(dir + "/results.csv");
  ASSERT_EQ(csv.size(), 5u);
  EXPECT_EQ(cell(csv, 2, "gen"), "3");
  EXPECT_EQ(cell(csv, 2, "size_bytes"), "65536"); // "64 KiB" in the sweep file and results.json
  EXPECT_EQ(merged["points"][1]["values"]["size"], "64 KiB");
  EXPECT_EQ(cell(csv, 2, "point_status"), "completed");
  EXPECT_EQ(cell(csv, 2, "status"), "completed");
  EXPECT_EQ(cell(csv, 2, "route"), transfer(merged["points"][1], "write")["route"]);
  expect_links_merged(dir, merged, 2);
}

TEST(OutputSchemas, WorkloadSweep) {
  std::string dir = make_temp_dir("schemas-workload-sweep");
  json sweep = {{"name", "schema-check"},
                {"base", workload_scenario()},
                {"axes",
                 {{{"name", "migrate_to_ram_pages"},
                   {"pointer", "/workload/costs"},
                   {"values", {{{"migrate_to_ram_pages", 1}}, {{"migrate_to_ram_pages", 16}}}}}}}};
  std::ofstream(dir + "/sweep.json") << sweep.dump(2);
  std::string out = dir + "/out";
  json merged = sweep_and_check(dir + "/sweep.json", out);
  // The object value becomes a column of its member.
  expect_documented_header(out + "/results.csv", "sweep/results.csv", {"migrate_to_ram_pages"});
  expect_documented_header(out + "/mechanisms.csv", "sweep/mechanisms.csv",
                           {"migrate_to_ram_pages"});
  expect_documented_header(out + "/links.csv", "sweep/workload-links.csv",
                           {"migrate_to_ram_pages"});
  auto mechanisms = read_csv(out + "/mechanisms.csv");
  ASSERT_EQ(mechanisms.size(), 5u); // 2 points x 2 mechanisms
  EXPECT_EQ(cell(mechanisms, 1, "migrate_to_ram_pages"), "1");
  EXPECT_EQ(cell(mechanisms, 3, "migrate_to_ram_pages"), "16");
  EXPECT_EQ(cell(mechanisms, 3, "status"), "not_supported");
  for (const char *metric : kMechanismMetrics)
    EXPECT_EQ(cell(mechanisms, 3, metric), "") << metric;
  EXPECT_NE(cell(mechanisms, 4, "setup_ns"), "");
  EXPECT_NE(cell(mechanisms, 4, "latency_p99_ns"), "");
  // Each point's comparison links.csv, merged.
  expect_links_merged(out, merged, 1);
}

} // namespace
} // namespace pciesim::test
