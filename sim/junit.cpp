// The JUnit XML report of `pciesim check`, in the shape CI systems read (GitHub test
// reporters, GitLab's artifacts:reports:junit, Jenkins): one <testsuite> per scenario file,
// one <testcase> per expectation, <failure> for a failed expectation, and <error> in a
// single "run" testcase when the scenario could not be loaded or its run stalled.
#include <fmt/format.h>

#include "sim/check.h"

namespace pciesim {
namespace {

// Text safe in XML 1.0 element content and attribute values: markup characters escaped,
// characters XML cannot hold (controls, invalid UTF-8) replaced by U+FFFD, and line breaks
// in attributes kept as character references (a parser would otherwise fold them to spaces).
std::string xml_escape(const std::string &s) {
  static const char kReplacement[] = "\xEF\xBF\xBD";
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\n':
        out += "&#10;";
        break;
      case '\r':
        out += "&#13;";
        break;
      case '\t':
        out += "&#9;";
        break;
      default:
        out += c < 0x20 || c == 0x7f ? std::string(kReplacement) : std::string(1, char(c));
      }
      ++i;
      continue;
    }
    // A multi-byte UTF-8 sequence: copied when well formed, replaced otherwise.
    std::size_t length = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    bool ok = length > 0 && i + length <= s.size();
    std::uint32_t code = length == 4 ? c & 0x07u : length == 3 ? c & 0x0Fu : c & 0x1Fu;
    for (std::size_t k = 1; ok && k < length; ++k) {
      auto d = static_cast<unsigned char>(s[i + k]);
      ok = (d & 0xC0) == 0x80;
      code = (code << 6) | (d & 0x3Fu);
    }
    ok = ok && !(length == 3 && (code < 0x800 || (code >= 0xD800 && code <= 0xDFFF) ||
                                 code == 0xFFFE || code == 0xFFFF));
    ok = ok && !(length == 4 && (code < 0x10000 || code > 0x10FFFF));
    if (ok) {
      out.append(s, i, length);
      i += length;
    } else {
      out += kReplacement;
      ++i;
    }
  }
  return out;
}

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
