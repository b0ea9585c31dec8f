// How a sweep shows and reaches its axis values: readable labels and point ids for object
// values, canonical CSV columns (sizes in bytes, times in ns) with the written value kept in
// results.json, pointers that select array elements by id (so topologies in another component
// order take the same axis), `sweep --set`, `--point-timeout` and `--sbatch-arg`.
#include <chrono>
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/batch/sweep_axis_values.h"
#include "tests/sim/batch/sweep_helpers.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

using nlohmann::json;

std::string header_of(const std::string &csv) { return csv.substr(0, csv.find('\n')); }

// A DMA sweep over the Gen3 x8 host, base and axes as given.
std::string write_sweep(const std::string &dir, const json &base, const json &axes) {
  return write_text(dir + "/sweep.json",
                    json{{"name", "values"}, {"base", base}, {"axes", axes}}.dump(2));
}

json dma_base(int count = 2) {
  return {{"topology", kHostTopology},
          {"transfers",
           {{{"id", "w"},
             {"initiator", "dma0"},
             {"target", "mem0"},
             {"direction", "write"},
             {"size", "1 KiB"},
             {"count", count}}}}};
}

TEST(SweepAxisValues, LabelsAreReadable) {
  EXPECT_EQ(axis_value_label(OrderedJson::parse(R"({"migrate_to_ram_pages": 1})")),
            "migrate_to_ram_pages=1");
  EXPECT_EQ(axis_value_label(OrderedJson::parse(R"({"a": 1, "b": "64 KiB"})")), "a=1,b=64 KiB");
  EXPECT_EQ(axis_value_label(OrderedJson::parse(R"({"a": {"b": 1, "c": 2}})")), "a={b=1,c=2}");
  EXPECT_EQ(axis_value_label(OrderedJson::parse(R"([1, "x"])")), "[1,x]");
  EXPECT_EQ(axis_value_label(OrderedJson("64 KiB")), "64 KiB");
  EXPECT_EQ(axis_value_label(OrderedJson(2.5)), "2.5");
}

TEST(SweepAxisValues, ColumnsAreCanonicalAndResultsKeepTheWrittenValues) {
  std::string dir = make_temp_dir("sweep-values");
  json axes = {
      {{"name", "size"}, {"pointer", "/transfers/0/size"}, {"values", {"1 KiB", "2 KiB"}}},
      {{"name", "limit"}, {"pointer", "/max_sim_time"}, {"values", {"1 ms", "10000001 ps"}}},
      {{"name", "n"}, {"pointer", "/transfers/0/count"}, {"values", {1}}},
      {{"name", "pattern"},
       {"document", "topology"},
       {"pointer", "/links/0/params"},
       {"values", {{{"gen", 3}, {"width", 4}}}}}};
  std::string file = write_sweep(dir, dma_base(), axes);
  CommandResult r = pciesim("sweep " + file + " --out " + dir + "/out --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string csv = read_file(dir + "/out/results.csv");
  EXPECT_TRUE(starts_with(
      header_of(csv), "point,index,size_bytes,limit_ns,n,pattern.gen,pattern.width,point_status"))
      << header_of(csv);
  // Object values: a label in the id, a column per member; sizes in bytes; times in ns.
  EXPECT_TRUE(contains(csv, "\np0000_size-1KiB_limit-1ms_n-1_pattern-gen=3+width=4,0,"
                            "1024,1000000.000,1,3,4,completed,"))
      << csv;
  EXPECT_TRUE(contains(csv, ",1,1024,10000.001,1,3,4,")) << csv;
  json results = json::parse(read_file(dir + "/out/results.json"));
  EXPECT_EQ(results["points"][1]["values"]["limit"], "10000001 ps");
  EXPECT_EQ(results["points"][1]["values"]["pattern"], json({{"gen", 3}, {"width", 4}}));
  EXPECT_EQ(results["points"][1]["labels"]["pattern"], "gen=3,width=4");
  EXPECT_TRUE(
      fs::is_directory(dir + "/out/points/" + results["points"][1]["id"].get<std::string>()));
}

TEST(SweepAxisValues, AUnitColumnThatIsAnotherColumnIsPrefixed) {
  std::string dir = make_temp_dir("sweep-values");
  // "latency_p50" is free, but its times would make it "latency_p50_ns", a results.csv column:
  // the axis's column is told apart by a prefix rather than refused.
  json axes = {{{"name", "latency_p50"}, {"pointer", "/max_sim_time"}, {"values", {"1 ms"}}}};
  CommandResult r =
      pciesim("sweep " + write_sweep(dir, dma_base(), axes) + " --out " + dir + "/out --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string header = header_of(read_file(dir + "/out/results.csv"));
  EXPECT_TRUE(starts_with(header, "point,index,axis.latency_p50_ns,point_status")) << header;
  EXPECT_TRUE(contains(header, ",latency_p50_ns,")) << header;
}

TEST(SweepAxisValues, APointerMayNameAMemberTheBaseLacks) {
  // The shipped sweep reaches /workload/costs/migrate_to_ram_pages; its base has no "costs".
  const std::string shipped = kSource + "/scenarios/sweeps/migration-granularity.json";
  EXPECT_FALSE(
      json::parse(read_file(kSource + "/scenarios/nic-reuse-crossover.json"))["workload"].contains(
          "costs"));
  SweepSpec spec = load_sweep_file(shipped);
  ASSERT_EQ(spec.points.size(), 3u);
  EXPECT_EQ(spec.points[2].id, "p0002_migrate_to_ram_pages-512");
  OrderedJson scenario = spec.scenario_of(spec.points[2]);
  EXPECT_EQ(scenario["workload"]["costs"]["migrate_to_ram_pages"], 512);
}

// host-dma-gen3x8.json with its components in the reverse order, written into `dir`.
std::string reordered_topology(const std::string &dir) {
  json t = json::parse(read_file(kHostTopology));
  std::reverse(t["components"].begin(), t["components"].end());
  t["name"] = "host-dma-reordered";
  return write_text(dir + "/reordered.json", t.dump(2));
}

TEST(SweepIdPointers, ATopologyAxisSelectsComponentsById) {
  std::string dir = make_temp_dir("sweep-ids");
  json axes = {{{"name", "topology"},
                {"pointer", "/topology"},
                {"values", {kHostTopology, reordered_topology(dir)}}},
               {{"name", "tags"},
                {"document", "topology"},
                {"pointer", "/components[id=dma0]/params/tags"},
                {"values", {1, 256}}},
               {{"name", "width"},
                {"document", "topology"},
                {"pointer", "/links[between=dma0]/params/width"},
                {"values", {4}}}};
  CommandResult r = pciesim("sweep " + write_sweep(dir, dma_base(64), axes) + " --out " + dir +
                            "/out --quiet -j 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json results = json::parse(read_file(dir + "/out/results.json"));
  ASSERT_EQ(results["points"].size(), 4u);
  for (const json &p : results["points"]) {
    json scenario = json::parse(
        read_file(dir + "/out/points/" + p["id"].get<std::string>() + "/scenario.json"));
    int dma_index = scenario["topology"]["components"][0]["id"] == "dma0" ? 0 : 2;
    EXPECT_EQ(scenario["topology"]["components"][dma_index]["id"], "dma0");
    EXPECT_EQ(scenario["topology"]["components"][dma_index]["params"]["tags"], p["values"]["tags"]);
    EXPECT_EQ(scenario["topology"]["links"][0]["params"]["width"], 4);
  }
  // One outstanding read tag or 256: the component order does not change what the axis does.
  auto bandwidth = [&](int i) {
    return results["points"][i]["transfers"][0]["bandwidth_GBps"].get<double>();
  };
  EXPECT_DOUBLE_EQ(bandwidth(0), bandwidth(2));
  EXPECT_DOUBLE_EQ(bandwidth(1), bandwidth(3));
}

TEST(SweepIdPointers, SelectorsThatPickNothingOrTwoAreBadInput) {
  std::string dir = make_temp_dir("sweep-ids");
  auto refused = [&](const json &base, const json &axis) {
    CommandResult r = pciesim("validate " + write_sweep(dir, base, json::array({axis})));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    return r.err;
  };
  std::string err = refused(dma_base(), {{"name", "t"},
                                         {"document", "topology"},
                                         {"pointer", "/components[id=gpu9]/params/tags"},
                                         {"values", {1}}});
  EXPECT_TRUE(contains(err, "sweep.json:/axes/0/pointer: /components[id=gpu9]/params/tags in "
                            "topology " +
                                kHostTopology + ": no element of /components has id \"gpu9\""))
      << err;
  EXPECT_TRUE(contains(err, "one of: rc0, mem0, dma0")) << err;
  json two = dma_base();
  two["transfers"].push_back(two["transfers"][0]);
  two["transfers"][1]["id"] = "w2";
  err = refused(
      two, {{"name", "s"}, {"pointer", "/transfers[initiator=dma0]/size"}, {"values", {"1 KiB"}}});
  EXPECT_TRUE(contains(err, "2 elements of /transfers have initiator \"dma0\" (/transfers/0, "
                            "/transfers/1)"))
      << err;
  // A bad value through a selector is blamed on the value, as through an index.
  err = refused(dma_base(), {{"name", "tags"},
                             {"document", "topology"},
                             {"pointer", "/components[id=dma0]/params/tags"},
                             {"values", {0}}});
  EXPECT_TRUE(contains(err, "sweep.json:/axes/0/values/0: point p0000_tags-0: ")) << err;
  err =
      refused(dma_base(),
              {{"name", "s"}, {"pointer", "/transfers[id=w]/direction"}, {"values", {"sideways"}}});
  EXPECT_TRUE(contains(err, "sweep.json:/axes/0/values/0: point p0000_s-sideways: ")) << err;
  err = refused(dma_base(),
                {{"name", "s"}, {"pointer", "/transfers/0/size[id=w]"}, {"values", {"1 KiB"}}});
  EXPECT_TRUE(contains(err, "[id=w] selects an array element, but this is a string")) << err;
}

TEST(SweepSet, OverridesEveryPointAndIsRecorded) {
  std::string dir = make_temp_dir("sweep-set");
  json axes = {
      {{"name", "size"}, {"pointer", "/transfers/0/size"}, {"values", {"1 KiB", "4 KiB"}}}};
  std::string file = write_sweep(dir, dma_base(), axes);
  std::string out = dir + "/out";
  CommandResult r = pciesim("sweep " + file + " --out " + out +
                            " --quiet --set /transfers/0/count=5"
                            " --set 'topology:/components[id=dma0]/params/tags=2'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json results = json::parse(read_file(out + "/results.json"));
  EXPECT_EQ(results["set"],
            json({"/transfers/0/count=5", "topology:/components[id=dma0]/params/tags=2"}));
  for (const json &p : results["points"]) {
    EXPECT_EQ(p["transfers"][0]["transfers_done"], 5);
    json scenario =
        json::parse(read_file(out + "/points/" + p["id"].get<std::string>() + "/scenario.json"));
    EXPECT_EQ(scenario["topology"]["components"][2]["params"]["tags"], 2);
  }
  EXPECT_EQ(json::parse(read_file(out + "/sweep-manifest.json"))["set"], results["set"]);
  // --resume with another --set (or none) would mix points made from other inputs.
  for (const std::string &other : {std::string(""), std::string(" --set /transfers/0/count=6")}) {
    CommandResult again = pciesim("sweep " + file + " --out " + out + " --resume" + other);
    EXPECT_EQ(again.exit_code, 2) << again.err;
    EXPECT_TRUE(contains(again.err, "was made with --set /transfers/0/count=5")) << again.err;
  }
  CommandResult same = pciesim("sweep " + file + " --out " + out +
                               " --resume --quiet --set /transfers/0/count=5"
                               " --set 'topology:/components[id=dma0]/params/tags=2'");
  EXPECT_EQ(same.exit_code, 0) << same.err;
  // A bad one names the file and the pointer.
  CommandResult bad = pciesim("sweep " + file + " --out " + dir + "/bad --set /transfers/7/size=1");
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_TRUE(contains(bad.err, "sweep.json:/base/transfers/7: --set /transfers/7/size: no "
                                "element \"7\""))
      << bad.err;
  EXPECT_FALSE(fs::exists(dir + "/bad"));
}

TEST(SweepPointTimeout, APointThatRunsTooLongFailsAndTheSweepGoesOn) {
  std::string dir = make_temp_dir("sweep-timeout");
  json base = dma_base();
  base["max_sim_time"] = "1000 s";
  // 2 writes finish at once; a billion of them cannot finish in 1 s.
  json axes = {{{"name", "count"}, {"pointer", "/transfers/0/count"}, {"values", {2, 1000000000}}}};
  auto start = std::chrono::steady_clock::now();
  CommandResult r = pciesim(
      "sweep " + write_sweep(dir, base, axes) + " --out " + dir + "/out --point-timeout 1", 60);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_LT(seconds, 20);
  json results = json::parse(read_file(dir + "/out/results.json"));
  EXPECT_EQ(results["points"][0]["status"], "completed");
  EXPECT_EQ(results["points"][1]["status"], "failed");
  EXPECT_TRUE(starts_with(results["points"][1]["error"].get<std::string>(),
                          "timed out: still running after the --point-timeout of 1 s"))
      << results["points"][1];
  EXPECT_TRUE(contains(r.err, "p0001_count-1000000000 failed (exit 3): timed out")) << r.err;
}

TEST(SweepHelp, SaysTheDefaults) {
  CommandResult r = pciesim("sweep --help");
  EXPECT_TRUE(contains(r.out, "-j,--jobs UINT:UINT in [1 - 1024]=1")) << r.out;
  EXPECT_TRUE(contains(r.out, "--point-timeout UINT:UINT in [1 - 86400]=none")) << r.out;
}

TEST(SweepSbatch, ArgsBecomeSbatchLinesAndLineBreaksAreRefused) {
  std::string out = make_temp_dir("sweep-sbatch");
  CommandResult r =
      pciesim("sweep " + kTiny + " --out " + out +
              " --print-sbatch --sbatch-arg=--time=01:00:00 "
              "--sbatch-arg=--partition=x --sbatch-arg=--account=y --point-timeout 30 "
              "--set /transfers/0/count=3");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::size_t time = r.out.find("\n#SBATCH --time=01:00:00\n");
  EXPECT_NE(time, std::string::npos) << r.out;
  EXPECT_TRUE(contains(r.out, "\n#SBATCH --partition=x\n#SBATCH --account=y\n")) << r.out;
  // Every #SBATCH line before the first command, which repeats the point options.
  EXPECT_LT(time, r.out.find("\nset -euo pipefail\n"));
  EXPECT_TRUE(contains(r.out, "--quiet --set '/transfers/0/count=3' --point-timeout 30\n"))
      << r.out;
  CommandResult bad = pciesim("sweep " + kTiny + " --out " + out +
                              " --print-sbatch --sbatch-arg=\"$(printf -- '--time=1\\nrm')\"");
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_TRUE(contains(bad.err, "U+000A cannot be in an #SBATCH line")) << bad.err;
  EXPECT_EQ(bad.out, "");
}

} // namespace
} // namespace pciesim::test
