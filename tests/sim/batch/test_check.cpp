// Expectations in scenarios (`expect`), as `pciesim run` evaluates them and `pciesim check`
// reports them, including the JUnit XML report, read back with a real XML parser (xmllint).
#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdlib.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

using nlohmann::json;

// A quick scenario on the Gen3 x8 host-DMA machine: transfer "w" writes 16 x 64 KiB.
json scenario(const json &expect) {
  json s = {{"name", "check-test"},
            {"topology", std::string(PCIESIM_SOURCE_DIR) + "/topologies/host-dma-gen3x8.json"},
            {"transfers",
             {{{"id", "w"},
               {"initiator", "dma0"},
               {"target", "mem0"},
               {"direction", "write"},
               {"size", "64 KiB"},
               {"count", 16},
               {"concurrency", 4}}}}};
  if (!expect.is_null())
    s["expect"] = expect;
  return s;
}

std::string write_file(const std::string &dir, const std::string &name, const std::string &text) {
  std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

std::string write_scenario(const std::string &dir, const std::string &name, const json &s) {
  return write_file(dir, name, s.dump(2));
}

// Runs a shell command; returns its stdout (exit code in *code).
std::string shell(const std::string &command, int *code = nullptr) {
  FILE *p = popen(command.c_str(), "r");
  std::string out;
  std::array<char, 4096> buffer{};
  std::size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), p)) > 0)
    out.append(buffer.data(), n);
  int status = pclose(p);
  if (code)
    *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// xmllint prints a string result followed by a newline (libxml2 2.9.14 and later).
std::string xpath(const std::string &file, const std::string &expression) {
  std::string out = shell("xmllint --xpath '" + expression + "' " + file + " 2>&1");
  if (!out.empty() && out.back() == '\n')
    out.pop_back();
  return out;
}

// Runs a scenario with these expectations, of which some fail (exit 1), and returns their
// outcomes from results.json.
json failing_expectations(const std::string &name, const json &expect) {
  std::string dir = make_temp_dir("check-test");
  CommandResult r =
      run_pciesim("run " + write_scenario(dir, name + ".json", scenario(expect)) + " --json");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  return json::parse(r.out)["expectations"];
}

TEST(Expect, PassingExpectationsExitZeroAndAreWrittenToResults) {
  std::string dir = make_temp_dir("check-test");
  std::string file = write_scenario(
      dir, "pass.json",
      scenario({{{"name", "fast enough"}, {"metric", "/transfers/w/bandwidth_GBps"}, {">", 1}}}));
  CommandResult r = run_pciesim("run " + file + " --out " + dir + "/out");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("expectations: 1 passed, 0 failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("PASS fast enough: "), std::string::npos) << r.out;
  std::ifstream in(dir + "/out/results.json");
  json results = json::parse(in);
  ASSERT_EQ(results["expectations"].size(), 1u);
  const json &e = results["expectations"][0];
  EXPECT_EQ(e["name"], "fast enough");
  EXPECT_EQ(e["metric"], "/transfers/w/bandwidth_GBps");
  EXPECT_EQ(e["comparison"], ">");
  EXPECT_EQ(e["expected"], 1);
  EXPECT_EQ(e["actual"], results["transfers"][0]["bandwidth_GBps"]);
  EXPECT_EQ(e["passed"], true);
}

TEST(Expect, AFailingExpectationExitsOneAndSaysWhy) {
  std::string dir = make_temp_dir("check-test");
  std::string file = write_scenario(
      dir, "fail.json", scenario({{{"metric", "/transfers/w/bandwidth_GBps"}, {">=", 1000}}}));
  CommandResult table = run_pciesim("run " + file);
  EXPECT_EQ(table.exit_code, 1) << table.err;
  EXPECT_NE(table.out.find("FAIL /transfers/w/bandwidth_GBps >= 1000: "), std::string::npos)
      << table.out;
  EXPECT_NE(table.out.find("is not >= 1000"), std::string::npos) << table.out;
  // With --json, stdout stays pure JSON and the failure is told on stderr.
  CommandResult j = run_pciesim("run " + file + " --json");
  EXPECT_EQ(j.exit_code, 1);
  json results = json::parse(j.out);
  EXPECT_EQ(results["expectations"][0]["passed"], false);
  EXPECT_NE(j.err.find("FAIL /transfers/w/bandwidth_GBps >= 1000"), std::string::npos) << j.err;
  CommandResult quiet = run_pciesim("run " + file + " --quiet");
  EXPECT_EQ(quiet.exit_code, 1);
  EXPECT_TRUE(quiet.out.empty());
  EXPECT_NE(quiet.err.find("is not >= 1000"), std::string::npos);
}

TEST(Expect, EveryComparisonOperator) {
  // transfers_done is exactly 16 and bytes exactly 1 MiB: every operator on both sides.
  const std::string done = "/transfers/w/transfers_done";
  json expect = json::array();
  auto add = [&](const std::string &name, json e) {
    e["name"] = name;
    if (!e.contains("metric"))
      e["metric"] = done;
    expect.push_back(e);
  };
  add("lt-pass", {{"<", 17}});
  add("lt-fail", {{"<", 16}});
  add("le-pass", {{"<=", 16}});
  add("le-fail", {{"<=", 15.5}});
  add("gt-pass", {{">", 15}});
  add("gt-fail", {{">", 16}});
  add("ge-pass", {{">=", 16.0}});
  add("ge-fail", {{">=", 17}});
  add("eq-pass", {{"==", 16}});
  add("eq-fail", {{"==", 15}});
  add("ne-pass", {{"!=", 15}});
  add("ne-fail", {{"!=", 16}});
  add("eq-string-pass", {{"metric", "/status"}, {"==", "completed"}});
  add("eq-string-fail", {{"metric", "/status"}, {"==", "stalled"}});
  add("ne-string-pass", {{"metric", "/status"}, {"!=", "stalled"}});
  add("ne-string-fail", {{"metric", "/status"}, {"!=", "completed"}});
  add("eq-string-vs-number-fail", {{"==", "16"}});
  add("within-pass", {{"metric", "/transfers/w/bytes"}, {"within", 0.01}, {"value", 1040000}});
  add("within-fail", {{"metric", "/transfers/w/bytes"}, {"within", 0.001}, {"value", 1040000}});
  add("within-exact-pass", {{"within", 0}, {"value", 16}});
  add("within-on-string-fail", {{"metric", "/status"}, {"within", 0.5}, {"value", 1}});
  json outcomes = failing_expectations("ops", expect);
  ASSERT_EQ(outcomes.size(), expect.size());
  for (const json &o : outcomes) {
    std::string name = o["name"];
    bool should_pass = name.size() > 4 && name.substr(name.size() - 4) == "pass";
    EXPECT_EQ(o["passed"], should_pass) << name << ": " << o["message"];
  }
  EXPECT_EQ(outcomes[1]["message"], "16 is not < 16");
  EXPECT_EQ(outcomes[17]["tolerance"], 0.01);
  EXPECT_NE(outcomes[17]["message"].get<std::string>().find("within 1% of 1040000"),
            std::string::npos);
  EXPECT_NE(outcomes[20]["message"].get<std::string>().find("not a number"), std::string::npos);
}

TEST(Expect, RatiosAndArraySelectionByIdIndexAndField) {
  json expect = {
      {{"name", "ratio-pass"},
       {"ratio", {"/transfers/w/bytes", "/transfers/0/transfer_bytes"}},
       {"==", 16}},
      {{"name", "ratio-fail"},
       {"ratio", {"/transfers/w/bytes", "/transfers/direction=write/transfer_bytes"}},
       {">=", 16.5}},
      {{"name", "ratio-within-pass"},
       {"ratio", {"/transfers/w/bandwidth_GBps", "/transfers/w/bandwidth_GBps"}},
       {"within", 1e-9},
       {"value", 1}},
      {{"name", "zero-denominator-fail"},
       {"ratio", {"/transfers/w/bytes", "/transfers/w/start_ns"}},
       {">", 0}},
      {{"name", "key-value-pass"}, {"metric", "/transfers/initiator=dma0/count"}, {"==", 16}},
  };
  json outcomes = failing_expectations("ratio", expect);
  ASSERT_EQ(outcomes.size(), 5u);
  EXPECT_EQ(outcomes[0]["passed"], true) << outcomes[0]["message"];
  EXPECT_EQ(outcomes[0]["actual"], 16.0);
  EXPECT_EQ(outcomes[0]["metric"], "ratio(/transfers/w/bytes, /transfers/0/transfer_bytes)");
  EXPECT_EQ(outcomes[1]["passed"], false);
  EXPECT_EQ(outcomes[2]["passed"], true) << outcomes[2]["message"];
  EXPECT_EQ(outcomes[3]["passed"], false);
  EXPECT_NE(outcomes[3]["message"].get<std::string>().find("/transfers/w/start_ns is 0"),
            std::string::npos)
      << outcomes[3]["message"];
  EXPECT_EQ(outcomes[4]["passed"], true) << outcomes[4]["message"];
}

TEST(Expect, ASumAddsItsMetrics) {
  json expect = {
      {{"name", "sum-pass"},
       {"sum", {"/transfers/w/bytes", "/transfers/0/transfer_bytes", "/transfers/w/count"}},
       {"==", 16 * 65536 + 65536 + 16}},
      {{"name", "sum-fail"}, {"sum", {"/transfers/w/bytes", "/transfers/w/bytes"}}, {"<", 1}},
      {{"name", "sum-of-a-string"}, {"sum", {"/transfers/w/bytes", "/status"}}, {">", 0}},
  };
  json outcomes = failing_expectations("sum", expect);
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_EQ(outcomes[0]["passed"], true) << outcomes[0]["message"];
  EXPECT_EQ(outcomes[0]["metric"],
            "sum(/transfers/w/bytes, /transfers/0/transfer_bytes, /transfers/w/count)");
  EXPECT_EQ(outcomes[1]["passed"], false);
  EXPECT_EQ(outcomes[1]["actual"], 2.0 * 16 * 65536);
  EXPECT_EQ(outcomes[2]["passed"], false);
  EXPECT_NE(outcomes[2]["message"].get<std::string>().find("cannot be in a sum"), std::string::npos)
      << outcomes[2]["message"];
}

TEST(Expect, AMaxTakesTheLargestOfItsMetrics) {
  json expect = {
      {{"name", "max-pass"},
       {"max", {"/transfers/w/count", "/transfers/w/bytes", "/transfers/0/transfer_bytes"}},
       {"==", 16 * 65536}},
      {{"name", "max-fail"}, {"max", {"/transfers/w/count", "/transfers/w/count"}}, {">", 16}},
      {{"name", "max-of-a-string"}, {"max", {"/transfers/w/bytes", "/status"}}, {">", 0}},
  };
  json outcomes = failing_expectations("max", expect);
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_EQ(outcomes[0]["passed"], true) << outcomes[0]["message"];
  EXPECT_EQ(outcomes[0]["metric"],
            "max(/transfers/w/count, /transfers/w/bytes, /transfers/0/transfer_bytes)");
  EXPECT_EQ(outcomes[1]["passed"], false);
  EXPECT_EQ(outcomes[1]["actual"], 16.0);
  EXPECT_EQ(outcomes[2]["passed"], false);
  EXPECT_NE(outcomes[2]["message"].get<std::string>().find("cannot be in a max"), std::string::npos)
      << outcomes[2]["message"];
}

TEST(Expect, ADifferenceTakesTheSecondMetricFromTheFirst) {
  json expect = {
      {{"name", "difference-pass"},
       {"difference", {"/transfers/w/bytes", "/transfers/w/transfer_bytes"}},
       {"==", 15 * 65536}},
      {{"name", "difference-is-signed"},
       {"difference", {"/transfers/w/transfer_bytes", "/transfers/w/bytes"}},
       {">", 0}},
      {{"name", "difference-of-a-string"},
       {"difference", {"/transfers/w/bytes", "/status"}},
       {">", 0}},
  };
  json outcomes = failing_expectations("difference", expect);
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_EQ(outcomes[0]["passed"], true) << outcomes[0]["message"];
  EXPECT_EQ(outcomes[0]["metric"], "difference(/transfers/w/bytes, /transfers/w/transfer_bytes)");
  EXPECT_EQ(outcomes[1]["passed"], false);
  EXPECT_EQ(outcomes[1]["actual"], -15.0 * 65536);
  EXPECT_EQ(outcomes[2]["passed"], false);
  EXPECT_NE(outcomes[2]["message"].get<std::string>().find("cannot be in a difference"),
            std::string::npos)
      << outcomes[2]["message"];
}

TEST(Expect, AMetricAbsentFromTheResultsFailsWithAMessage) {
  json expect = {
      {{"metric", "/transfers/nope/bandwidth_GBps"}, {">", 1}},
      {{"metric", "/transfers/w/bandwidth_gbps"}, {">", 1}},
      {{"metric", "/transfers/7/bytes"}, {">", 1}},
      {{"metric", "/sim_time_ns/x"}, {">", 1}},
  };
  std::string dir = make_temp_dir("check-test");
  CommandResult r =
      run_pciesim("run " + write_scenario(dir, "missing.json", scenario(expect)) + " --json");
  ASSERT_EQ(r.exit_code, 1) << r.err;
  json outcomes = json::parse(r.out)["expectations"];
  ASSERT_EQ(outcomes.size(), 4u);
  for (const json &o : outcomes) {
    EXPECT_EQ(o["passed"], false);
    EXPECT_TRUE(o["actual"].is_null());
  }
  EXPECT_EQ(outcomes[0]["message"], "metric /transfers/nope/bandwidth_GBps is not in the results: "
                                    "/transfers has no element with id \"nope\" (ids: w)");
  EXPECT_EQ(outcomes[1]["message"], "metric /transfers/w/bandwidth_gbps is not in the results: "
                                    "/transfers/w has no key \"bandwidth_gbps\"");
  EXPECT_NE(outcomes[2]["message"].get<std::string>().find("none at index 7"), std::string::npos);
  EXPECT_NE(outcomes[3]["message"].get<std::string>().find("/sim_time_ns is a value"),
            std::string::npos);
}

TEST(Expect, BadSyntaxIsABadInputWithItsPointer) {
  std::string dir = make_temp_dir("check-test");
  struct Case {
    json expect;
    std::string pointer, text;
  };
  std::vector<Case> cases = {
      {{{{"metric", "/sim_time_ns"}, {"<", 1}, {"bogus", 1}}}, "/expect/0/bogus", "unknown key"},
      {{{{"metric", "/sim_time_ns"}}}, "/expect/0", "no comparison"},
      {{{{"metric", "/sim_time_ns"}, {"<", 1}, {">=", 0}}}, "/expect/0/>=", "a second comparison"},
      {{{{"metric", "/sim_time_ns"}, {"<", "fast"}}}, "/expect/0/<", "a string where a number"},
      {{{{"ratio", {"/a", "/b"}}, {"==", "x"}}}, "/expect/0/==", "a string where a number"},
      {{{{"metric", "/sim_time_ns"}, {"within", -0.1}, {"value", 1}}},
       "/expect/0/within",
       "negative"},
      {{{{"metric", "/a"}, {"ratio", {"/a", "/b"}}, {"<", 1}}}, "/expect/0/ratio", "more than one"},
      {{{{"metric", "/a//b"}, {"<", 1}}}, "/expect/0/metric", "empty segment"},
      {{{{"<", 1}}}, "/expect/0", "no \"metric\", \"ratio\", \"difference\", \"sum\" or \"max\""},
      {{{{"max", {"/a"}}, {"<", 1}}}, "/expect/0/max", "compared as the largest"},
      {{{{"sum", {"/a", "/b"}}, {"max", {"/a", "/b"}}, {"<", 1}}},
       "/expect/0/max",
       "more than one"},
      {{{{"difference", {"/a"}}, {"<", 1}}}, "/expect/0/difference", "compared as A - B"},
      {{{{"ratio", {"/a", "/b"}}, {"difference", {"/a", "/b"}}, {"<", 1}}},
       "/expect/0/difference",
       "more than one"},
  };
  for (const Case &c : cases) {
    std::string file = write_scenario(dir, "bad.json", scenario(c.expect));
    CommandResult r = run_pciesim("validate " + file);
    EXPECT_EQ(r.exit_code, 2) << c.expect;
    EXPECT_EQ(r.err.rfind(file + ":" + c.pointer + ": ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(c.text), std::string::npos) << r.err;
  }
}

TEST(Check, ExitCodesFollowTheWorstScenario) {
  std::string dir = make_temp_dir("check-test");
  std::string pass = write_scenario(
      dir, "pass.json", scenario({{{"metric", "/transfers/w/bandwidth_GBps"}, {">", 1}}}));
  std::string none = write_scenario(dir, "none.json", scenario(json()));
  std::string fail = write_scenario(
      dir, "fail.json", scenario({{{"metric", "/transfers/w/bandwidth_GBps"}, {"<", 1}}}));
  std::string bad = write_scenario(dir, "bad.json", scenario({{{"metric", "/x"}}}));
  json stalling = scenario({{{"metric", "/transfers/w/bandwidth_GBps"}, {">", 1}}});
  stalling["max_sim_time"] = "1 ns";
  std::string stall = write_scenario(dir, "stall.json", stalling);

  CommandResult r = run_pciesim("check " + pass + " " + none);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("PASS " + pass + ": 1 expectation passed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("PASS " + none + ": completed, no expectations"), std::string::npos);
  r = run_pciesim("check " + pass + " " + fail);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("FAIL " + fail + ": 1 of 1 expectations failed"), std::string::npos);
  EXPECT_NE(r.out.find("  FAIL /transfers/w/bandwidth_GBps < 1: "), std::string::npos) << r.out;
  r = run_pciesim("check " + fail + " " + bad);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("ERROR " + bad + ": bad input: " + bad + ":/expect/0: no comparison"),
            std::string::npos)
      << r.out;
  r = run_pciesim("check -j 2 " + bad + " " + stall + " " + pass);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.out.find("STALL " + stall + ": the run stalled: "), std::string::npos) << r.out;
  // Reports keep the order of the files whatever order the runs end in.
  EXPECT_LT(r.out.find(bad), r.out.find(stall));
  EXPECT_LT(r.out.find("STALL"), r.out.find("PASS"));
  EXPECT_NE(r.out.find("check: 3 scenarios: 1 passed, 0 failed, 1 bad input, 1 stalled"),
            std::string::npos)
      << r.out;
  r = run_pciesim("check " + dir + "/does-not-exist.json");
  EXPECT_EQ(r.exit_code, 2);
}

TEST(Check, JUnitReportParsesAndCountsMatch) {
  std::string dir = make_temp_dir("check-test");
  std::string pass = write_scenario(dir, "pass.json",
                                    scenario({{{"metric", "/transfers/w/bandwidth_GBps"}, {">", 1}},
                                              {{"name", "odd <name> & \"quotes\" 'too'"},
                                               {"metric", "/transfers/w/count"},
                                               {"==", 16}}}));
  std::string fail =
      write_scenario(dir, "fail.json",
                     scenario({{{"metric", "/transfers/w/bandwidth_GBps"}, {"<", 1}},
                               {{"metric", "/transfers/w/count"}, {"==", 16}},
                               {{"metric", "/transfers/missing/count"}, {"==", 16}}}));
  std::string bad = write_scenario(dir, "bad.json", scenario({{{"metric", "a&b"}, {"<", 1}}}));
  json stalling = scenario({{{"metric", "/transfers/w/bandwidth_GBps"}, {">", 1}}});
  stalling["max_sim_time"] = "1 ns";
  std::string stall = write_scenario(dir, "stall.json", stalling);
  std::string xml = dir + "/report.xml";
  CommandResult r =
      run_pciesim("check " + pass + " " + fail + " " + bad + " " + stall + " --junit " + xml);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;

  int code = -1;
  std::string lint = shell("xmllint --noout " + xml + " 2>&1", &code);
  ASSERT_EQ(code, 0) << lint;
  EXPECT_EQ(xpath(xml, "count(/testsuites/testsuite)"), "4");
  EXPECT_EQ(xpath(xml, "count(//testcase)"), "7"); // 2 + 3 + 1 error case each
  EXPECT_EQ(xpath(xml, "count(//testcase/failure)"), "2");
  EXPECT_EQ(xpath(xml, "count(//testcase/error)"), "2");
  EXPECT_EQ(xpath(xml, "string(/testsuites/@tests)"), "7");
  EXPECT_EQ(xpath(xml, "string(/testsuites/@failures)"), "2");
  EXPECT_EQ(xpath(xml, "string(/testsuites/@errors)"), "2");
  // Every suite's counts agree with its cases.
  EXPECT_EQ(xpath(xml, "count(//testsuite[@tests != count(testcase)])"), "0");
  EXPECT_EQ(xpath(xml, "count(//testsuite[@failures != count(testcase/failure)])"), "0");
  EXPECT_EQ(xpath(xml, "count(//testsuite[@errors != count(testcase/error)])"), "0");
  EXPECT_EQ(xpath(xml, "string(//testsuite[2]/@name)"), fail);
  EXPECT_EQ(xpath(xml, "string(//testsuite[3]/testcase/error/@type)"), "bad input");
  EXPECT_EQ(xpath(xml, "string(//testsuite[4]/testcase/error/@type)"), "stalled");
  // Markup in names and messages survives the round trip.
  EXPECT_EQ(xpath(xml, "string(//testsuite[1]/testcase[2]/@name)"),
            "odd <name> & \"quotes\" 'too'");
  EXPECT_NE(xpath(xml, "string(//testsuite[3]/testcase/error/@message)").find("\"a&b\""),
            std::string::npos);
  EXPECT_NE(
      xpath(xml, "string(//testsuite[2]/testcase[3]/failure/@message)").find("id \"missing\""),
      std::string::npos);
}

} // namespace
} // namespace pciesim::test
