// The JUnit XML report of `pciesim check`, in the shape CI systems read (GitHub test
// reporters, GitLab's artifacts:reports:junit, Jenkins): one <testsuite> per scenario file,
// one <testcase> per expectation, <failure> for a failed expectation, and <error> in a
// single "run" testcase when the scenario could not be loaded or its run stalled.
#include <fmt/format.h>

#include "sim/batch/junit.h"
#include "sim/report/xml_text.h"

namespace pciesim {
namespace {

std::string seconds(double s) { return fmt::format("{:.3f}", s); }

} // namespace

std::string junit_xml(const std::vector<ScenarioCheck> &checks) {
  std::size_t tests = 0, failures = 0, errors = 0;
  double total = 0;
  std::string suites;
  for (const ScenarioCheck &c : checks) {
    std::string cases;
    std::size_t suite_tests = 0, suite_failures = 0, suite_errors = 0;
    std::string classname = xml_escape(c.file);
    if (c.status != ScenarioCheck::Status::Completed) {
      const char *type = c.status == ScenarioCheck::Status::BadInput  ? "bad input"
                         : c.status == ScenarioCheck::Status::Stalled ? "stalled"
                                                                      : "internal error";
      suite_tests = suite_errors = 1;
      cases += fmt::format("    <testcase name=\"run\" classname=\"{}\" time=\"{}\">\n"
                           "      <error message=\"{}\" type=\"{}\">{}</error>\n"
                           "    </testcase>\n",
                           classname, seconds(c.seconds), xml_escape(c.message), type,
                           xml_escape(c.details));
    } else if (c.outcomes.empty()) {
      // A suite needs a case: the run itself, which completed.
      suite_tests = 1;
      cases += fmt::format("    <testcase name=\"run\" classname=\"{}\" time=\"{}\"/>\n", classname,
                           seconds(c.seconds));
    } else {
      // The run's time is shared out: expectations cost nothing of their own.
      std::string each = seconds(c.seconds / static_cast<double>(c.outcomes.size()));
      for (const ScenarioCheck::Outcome &o : c.outcomes) {
        ++suite_tests;
        std::string head = fmt::format("    <testcase name=\"{}\" classname=\"{}\" time=\"{}\"",
                                       xml_escape(o.name), classname, each);
        if (o.passed) {
          cases += head + "/>\n";
          continue;
        }
        ++suite_failures;
        cases += head + ">\n";
        cases += fmt::format(
            "      <failure message=\"{}\" type=\"expectation\">metric {}: {}</failure>\n",
            xml_escape(o.message), xml_escape(o.metric), xml_escape(o.message));
        cases += "    </testcase>\n";
      }
    }
    tests += suite_tests;
    failures += suite_failures;
    errors += suite_errors;
    total += c.seconds;
    suites += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" "
                          "skipped=\"0\" time=\"{}\">\n{}  </testsuite>\n",
                          classname, suite_tests, suite_failures, suite_errors, seconds(c.seconds),
                          cases);
  }
  return fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<testsuites name=\"pciesim check\" tests=\"{}\" failures=\"{}\" "
                     "errors=\"{}\" time=\"{}\">\n{}</testsuites>\n",
                     tests, failures, errors, seconds(total), suites);
}

} // namespace pciesim
