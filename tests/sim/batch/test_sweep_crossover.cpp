// A workload sweep gives the answer it exists for: the shipped migration-granularity sweep's
// crossover (sends needed to recover hmm_migrate's migration against the DMA-API peer
// mapping) and verdict per point and topology, in the merged results.json, crossovers.csv and
// verdicts.csv, the same as each point's own results.json, ordered as the model says (more
// pages moved per CPU fault, fewer sends to recover), and kept by a merge of Slurm-style
// shards.
#include <algorithm>
#include <map>
#include <sstream>
#include <utility>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/sim/batch/sweep_helpers.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

using nlohmann::json;

const std::string kGranularity = kSource + "/scenarios/sweeps/migration-granularity.json";

std::vector<std::vector<std::string>> csv_rows(const std::string &text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> cells;
    std::string cell;
    bool quoted = false;
    for (char c : line) {
      if (c == '"')
        quoted = !quoted;
      else if (c == ',' && !quoted)
        cells.push_back(std::exchange(cell, ""));
      else
        cell += c;
    }
    cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

std::size_t column(const std::vector<std::string> &header, const std::string &name) {
  auto it = std::find(header.begin(), header.end(), name);
  EXPECT_NE(it, header.end()) << name;
  return static_cast<std::size_t>(it - header.begin());
}

// Slurm-style: two array tasks into one directory, then the merge job into another.
std::string run_sharded_and_merge() {
  std::string dir = make_temp_dir("sweep-crossover");
  for (const char *shard : {"1/2", "2/2"}) {
    CommandResult r = pciesim("sweep " + kGranularity + " --out " + dir + "/shared --shard " +
                                  shard + " --resume --quiet -j 2",
                              600);
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_FALSE(fs::exists(dir + "/shared/crossovers.csv")); // only merge writes results
  CommandResult m = pciesim("merge " + dir + "/shared --out " + dir + "/merged");
  EXPECT_EQ(m.exit_code, 0) << m.err;
  return dir + "/merged";
}

TEST(SweepCrossover, EveryPointsCrossoverAndVerdictReachTheMergedOutputs) {
  const std::string out = run_sharded_and_merge();
  json results = json::parse(read_file(out + "/results.json"));
  ASSERT_EQ(results["points"].size(), 3u);

  auto rows = csv_rows(read_file(out + "/crossovers.csv"));
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(
      read_file(out + "/crossovers.csv").substr(0, read_file(out + "/crossovers.csv").find('\n')),
      "point,index,migrate_to_ram_pages,topology,mechanism,versus,reuses,"
      "mechanism_first_pass_ns,versus_first_pass_ns,mechanism_steady_pass_ns,"
      "versus_steady_pass_ns,explanation");
  const auto &header = rows[0];
  // One row per point and topology: 3 points x 2 topologies.
  ASSERT_EQ(rows.size(), 1u + 3 * 2);
  std::map<std::string, std::vector<long long>> reuses_by_topology;
  for (std::size_t i = 0; i < 3; ++i) {
    const json &p = results["points"][i];
    const std::string id = p["id"];
    // The merged point carries its own results.json's crossover and verdicts unchanged.
    json own = json::parse(read_file(out + "/points/" + id + "/results.json"));
    EXPECT_EQ(p["crossover"], own["crossover"]) << id;
    EXPECT_EQ(p["verdict"], own["verdict"]) << id;
    EXPECT_EQ(p["verdicts"], own["verdicts"]) << id;
    ASSERT_EQ(own["crossover"].size(), 2u) << id;
    for (std::size_t t = 0; t < 2; ++t) {
      const auto &row = rows[1 + 2 * i + t];
      const json &c = own["crossover"][t];
      EXPECT_EQ(row[column(header, "point")], id);
      EXPECT_EQ(row[column(header, "migrate_to_ram_pages")],
                p["values"]["migrate_to_ram_pages"].dump());
      EXPECT_EQ(row[column(header, "topology")], c["topology"]);
      EXPECT_EQ(row[column(header, "mechanism")], "hmm_migrate");
      EXPECT_EQ(row[column(header, "versus")], "p2p_dma_api");
      ASSERT_TRUE(c["reuses"].is_number()) << c;
      EXPECT_EQ(row[column(header, "reuses")], c["reuses"].dump());
      // Times to the picosecond.
      EXPECT_NEAR(std::stod(row[column(header, "mechanism_first_pass_ns")]),
                  c["first_pass_ns"]["hmm_migrate"].get<double>(), 5e-4);
      EXPECT_NEAR(std::stod(row[column(header, "versus_steady_pass_ns")]),
                  c["steady_pass_ns"]["p2p_dma_api"].get<double>(), 5e-4);
      reuses_by_topology[c["topology"]].push_back(c["reuses"].get<long long>());
    }
  }
  // More pages per migrate_to_ram (1 to 16): fewer CPU faults and TLB shootdowns for the same
  // buffer, a cheaper first pass, and the same steady pass: the crossover comes sooner. A 2 MiB
  // granule (512) cuts them further, but its first fault's migration holds the MR's page work
  // while the other queue pairs' faults wait, so their fixed parts no longer overlap the page
  // work: it beats one page, not 16.
  const auto &amd = reuses_by_topology["gpu-nic-root-ports-amd"];
  ASSERT_EQ(amd.size(), 3u);
  EXPECT_GT(amd[0], amd[1]);
  EXPECT_GT(amd[0], amd[2]);
  EXPECT_GE(amd[2], 2); // peer access still wins the first send
  const auto &shared = reuses_by_topology["gpu-nic-shared-switch"];
  EXPECT_GE(shared[0], shared[1]);
  EXPECT_GE(shared[0], shared[2]);

  // verdicts.csv: the fastest of each point and topology, each mechanism's time over its time.
  auto verdicts = csv_rows(read_file(out + "/verdicts.csv"));
  ASSERT_EQ(verdicts.size(), 1u + 3 * 2);
  const auto &vh = verdicts[0];
  EXPECT_EQ(read_file(out + "/verdicts.csv").substr(0, read_file(out + "/verdicts.csv").find('\n')),
            "point,index,migrate_to_ram_pages,topology,fastest,fastest_time_ns,"
            "p2p_dma_api_vs_fastest,hmm_migrate_vs_fastest,hmm_p2p_vs_fastest,verdict");
  for (std::size_t r = 1; r < verdicts.size(); ++r) {
    const auto &row = verdicts[r];
    const json &p = results["points"][(r - 1) / 2];
    const std::string fastest = row[column(vh, "fastest")];
    EXPECT_EQ(row[column(vh, fastest + "_vs_fastest")], "1.0000");
    double best = std::stod(row[column(vh, "fastest_time_ns")]);
    for (const json &m : p["mechanisms"]) {
      if (m["topology"] != row[column(vh, "topology")])
        continue;
      double ratio = std::stod(row[column(vh, m["name"].get<std::string>() + "_vs_fastest")]);
      EXPECT_NEAR(ratio, m["total_time_ns"].get<double>() / best, 1e-4);
      EXPECT_GE(ratio, 1.0);
    }
    EXPECT_TRUE(contains(p["verdict"].get<std::string>(),
                         row[column(vh, "topology")] + ": fastest " + fastest))
        << p["verdict"];
    EXPECT_TRUE(starts_with(row[column(vh, "verdict")], "fastest " + fastest));
  }
}

} // namespace
} // namespace pciesim::test
