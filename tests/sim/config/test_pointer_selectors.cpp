// JSON pointers with `[member=value]` selectors (sim/config/overrides.h), used by `--set` and
// by sweep axes: an element is picked by its id (or a link by its ends) wherever it is in its
// array, and a selector that picks none or several, or an array that is not one, is an error
// naming the pointer; through `run --set` it is a bad input naming the file (exit 2).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/config/overrides.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

using nlohmann::json;

const json kTopology = json::parse(R"({
  "components": [{"id": "rc0"}, {"id": "gpu0", "params": {"bar_size": "256 MiB"}}, {"id": "nic0"}],
  "links": [{"between": ["rc0.rp0", "gpu0"]}, {"between": ["rc0.rp1", "nic0"]}]
})");

PointerProblem problem_of(const std::string &pointer) {
  try {
    settable_pointer(kTopology, pointer);
  } catch (const PointerProblem &p) {
    return p;
  }
  ADD_FAILURE() << pointer << " resolved";
  return {};
}

TEST(PointerSelectors, PickTheElementById) {
  EXPECT_EQ(settable_pointer(kTopology, "/components[id=gpu0]/params/bar_size"),
            "/components/1/params/bar_size");
  EXPECT_EQ(settable_pointer(kTopology, "/components[id=nic0]"), "/components/2");
  // A link by one end, or by both in either order.
  EXPECT_EQ(settable_pointer(kTopology, "/links[between=nic0]/params/gen"), "/links/1/params/gen");
  EXPECT_EQ(settable_pointer(kTopology, "/links[between=gpu0,rc0.rp0]/params"), "/links/0/params");
  // The same pointer in a document listing the components in another order.
  json reordered = kTopology;
  std::reverse(reordered["components"].begin(), reordered["components"].end());
  EXPECT_EQ(settable_pointer(reordered, "/components[id=gpu0]/params/bar_size"),
            "/components/1/params/bar_size");
  EXPECT_EQ(settable_pointer(reordered, "/components[id=rc0]/params/x"), "/components/2/params/x");

  json doc = kTopology;
  set_at_pointer(doc, "/components[id=nic0]/params/line_rate", json("400 Gb/s"));
  EXPECT_EQ(doc["components"][2]["params"]["line_rate"], "400 Gb/s");
  set_at_pointer(doc, "/links[between=gpu0]/params/gen", json(4));
  EXPECT_EQ(doc["links"][0]["params"]["gen"], 4);
}

TEST(PointerSelectors, NoneTwoOrANonArrayAreProblemsNamingWhere) {
  PointerProblem none = problem_of("/components[id=gpu9]/params");
  EXPECT_EQ(none.at, "/components");
  EXPECT_EQ(none.problem, "no element of /components has id \"gpu9\"");
  EXPECT_EQ(none.expected, "one of: rc0, gpu0, nic0");
  PointerProblem two = problem_of("/links[between=rc0.rp0,rc0.rp1]/params");
  EXPECT_EQ(two.problem, "no element of /links has between \"rc0.rp0,rc0.rp1\"");
  json doubled = kTopology;
  doubled["components"].push_back({{"id", "gpu0"}});
  try {
    settable_pointer(doubled, "/components[id=gpu0]/params");
    ADD_FAILURE();
  } catch (const PointerProblem &p) {
    EXPECT_EQ(p.problem, "2 elements of /components have id \"gpu0\" (/components/1, "
                         "/components/3)");
  }
  EXPECT_EQ(problem_of("/components/1/params[id=x]").problem,
            "[id=x] selects an array element, but this is an object");
  EXPECT_EQ(problem_of("/fabric[id=x]/mps").problem,
            "no array \"fabric\" to select from in this object");
  EXPECT_EQ(problem_of("/new/more[id=x]").problem,
            "more[id=x] has no element to select: the document has no /new");
}

const std::string kThrashing = std::string(PCIESIM_SOURCE_DIR) + "/scenarios/uvm-thrashing.json";

TEST(PointerSelectors, RunSetTakesThem) {
  auto run = [](const std::string &set) {
    return run_pciesim("run --json --quiet " + kThrashing + " --set '" + set + "'");
  };
  CommandResult as_is = run_pciesim("run --json --quiet " + kThrashing);
  CommandResult by_id = run("topology:/links[between=gpu0]/params/gen=3");
  CommandResult by_index = run("topology:/links/1/params/gen=3");
  ASSERT_EQ(by_id.exit_code, as_is.exit_code) << by_id.err;
  EXPECT_EQ(json::parse(by_id.out)["mechanisms"], json::parse(by_index.out)["mechanisms"]);
  EXPECT_NE(json::parse(by_id.out)["mechanisms"][0]["total_time_ns"],
            json::parse(as_is.out)["mechanisms"][0]["total_time_ns"]);

  CommandResult none = run("topology:/components[id=gpu9]/params/max_gen=3");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("topologies/gpu-nic-shared-switch.json:/components: --set "
                          "topology:/components[id=gpu9]/params/max_gen: no element of "
                          "/components has id \"gpu9\""),
            std::string::npos)
      << none.err;
  CommandResult not_array = run("/workload[id=x]/iterations=2");
  EXPECT_EQ(not_array.exit_code, 2);
  EXPECT_NE(not_array.err.find("uvm-thrashing.json:/workload: --set /workload[id=x]/iterations: "
                               "[id=x] selects an array element, but this is an object"),
            std::string::npos)
      << not_array.err;
}

} // namespace
} // namespace pciesim::test
