// Published hardware measurements: every file in validation/hardware/ is a scenario on one
// testbed (validation/hardware/testbeds/: a host's platform file plus the device measured on
// it, the same for every figure of that host) whose expectations are published figures, each
// with its source in its description. A figure passes within 10% for a bandwidth and 15% for a
// latency; the test refuses a wider tolerance, so none can be widened to make a point pass.
// docs/validation.md's hardware table is regenerated from the same runs
// (PCIESIM_UPDATE_DOCS=1 rewrites it).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "tests/support/doc_section.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> hardware_scenarios() {
  std::vector<std::string> names;
  fs::path dir = fs::path(PCIESIM_SOURCE_DIR) / "validation" / "hardware";
  for (const auto &entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".json")
      names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

nlohmann::json run_hardware_scenario(const std::string &name) {
  std::string out = make_temp_dir("pciesim-hardware");
  CommandResult r = run_pciesim(
      fmt::format("run {}/validation/hardware/{}.json --out {}", PCIESIM_SOURCE_DIR, name, out));
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << name << ": " << r.err;
  return nlohmann::json::parse(read_file(out + "/results.json"));
}

bool is_latency(const nlohmann::json &expectation) {
  return expectation["metric"].get<std::string>().find("latency") != std::string::npos;
}

class HardwareFigure : public ::testing::TestWithParam<std::string> {};

TEST_P(HardwareFigure, SimulationMatchesThePublishedFigures) {
  nlohmann::json results = run_hardware_scenario(GetParam());
  ASSERT_EQ(results["status"], "completed") << results.dump(1);
  ASSERT_TRUE(results.contains("expectations")) << GetParam() << " holds no published figure";
  for (const nlohmann::json &e : results["expectations"]) {
    SCOPED_TRACE(e["name"].get<std::string>());
    ASSERT_EQ(e["comparison"], "within") << "a published figure is checked with within";
    double limit = is_latency(e) ? 0.15 : 0.10;
    EXPECT_LE(e["tolerance"].get<double>(), limit + 1e-12);
    ASSERT_TRUE(e.contains("description")) << "a published figure names its source";
    EXPECT_TRUE(e["passed"].get<bool>()) << e["message"].get<std::string>();
  }
}

INSTANTIATE_TEST_SUITE_P(Published, HardwareFigure, ::testing::ValuesIn(hardware_scenarios()),
                         [](const ::testing::TestParamInfo<std::string> &info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

std::string format_number(double value) {
  return value >= 100 ? fmt::format("{:.0f}", value) : fmt::format("{:.3g}", value);
}

TEST(ValidationReport, HardwareTableIsCurrent) {
  std::string table = "| testbed | figure | published | simulated | error | tolerance | source |\n"
                      "|---|---|---|---|---|---|---|\n";
  for (const std::string &name : hardware_scenarios()) {
    nlohmann::json results = run_hardware_scenario(name);
    for (const nlohmann::json &e : results["expectations"]) {
      double expected = e["expected"].get<double>();
      double actual = e["actual"].is_number() ? e["actual"].get<double>() : 0.0;
      table += fmt::format(
          "| {} | {} | {} | {} | {:+.1f}% | ±{:.0f}% | {} |\n",
          results["config"]["topology"]["name"].get<std::string>(), e["name"].get<std::string>(),
          format_number(expected), format_number(actual), 100.0 * (actual - expected) / expected,
          100.0 * e["tolerance"].get<double>(), e.value("description", std::string()));
    }
  }
  expect_doc_section("docs/validation.md", "hardware-table", table);
}

} // namespace
} // namespace pciesim::test
