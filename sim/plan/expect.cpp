#include "sim/plan/expect.h"

#include <cmath>

#include <fmt/format.h>

#include "sim/plan/scenario.h"

namespace pciesim {
namespace {

using OJson = nlohmann::ordered_json;

const std::vector<std::string> kComparisons = {"<", "<=", ">", ">=", "==", "!=", "within"};

// Splits a pointer into unescaped tokens; an empty string when the syntax is fine, or what is
// wrong with it (checked when loading, so that a typo fails before a long run).
std::string split_pointer(const std::string &pointer, std::vector<std::string> *tokens) {
  if (pointer.empty())
    return "an empty metric pointer";
  if (pointer[0] != '/')
    return fmt::format("\"{}\" does not start with '/'", pointer);
  std::string token;
  for (std::size_t i = 1; i <= pointer.size(); ++i) {
    if (i == pointer.size() || pointer[i] == '/') {
      if (token.empty())
        return fmt::format("\"{}\" has an empty segment", pointer);
      if (tokens)
        tokens->push_back(token);
      token.clear();
    } else if (pointer[i] == '~') {
      if (i + 1 >= pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1'))
        return fmt::format("\"{}\" has a '~' not followed by 0 or 1", pointer);
      token += pointer[++i] == '0' ? '~' : '/';
    } else {
      token += pointer[i];
    }
  }
  return "";
}

std::string checked_pointer(const Node &n) {
  std::string pointer = n.as_string();
  std::string problem = split_pointer(pointer, nullptr);
  if (!problem.empty())
    n.fail(problem, "a JSON pointer into results.json, such as "
                    "/transfers/<id or index>/bandwidth_GBps");
  return pointer;
}

bool is_index(const std::string &token) {
  if (token.empty() || token.size() > 9 || (token.size() > 1 && token[0] == '0'))
    return false;
  for (char c : token)
    if (c < '0' || c > '9')
      return false;
  return true;
}

// A field of an array element as text, for key=value selection.
bool field_equals(const OJson &element, const std::string &key, const std::string &value) {
  if (!element.is_object())
    return false;
  auto it = element.find(key);
  if (it == element.end())
    return false;
  return it->is_string() ? it->get<std::string>() == value : it->dump() == value;
}

// Resolves like resolve_metric, and says where the pointer stopped matching when it fails.
const OJson *resolve(const OJson &results, const std::string &pointer, std::string *why) {
  std::vector<std::string> tokens;
  std::string problem = split_pointer(pointer, &tokens);
  if (!problem.empty()) {
    *why = problem;
    return nullptr;
  }
  const OJson *at = &results;
  std::string walked;
  for (const std::string &token : tokens) {
    const OJson *next = nullptr;
    if (at->is_object()) {
      auto it = at->find(token);
      if (it != at->end())
        next = &*it;
      else
        *why = fmt::format("{} has no key \"{}\"", walked.empty() ? "the results" : walked, token);
    } else if (at->is_array()) {
      if (is_index(token)) {
        std::size_t i = std::stoul(token);
        if (i < at->size())
          next = &(*at)[i];
        else
          *why = fmt::format("{} has {} elements, none at index {}", walked, at->size(), i);
      } else {
        for (const OJson &element : *at)
          if (field_equals(element, "id", token)) {
            next = &element;
            break;
          }
        auto eq = token.find('=');
        if (!next && eq != std::string::npos)
          for (const OJson &element : *at)
            if (field_equals(element, token.substr(0, eq), token.substr(eq + 1))) {
              next = &element;
              break;
            }
        if (!next) {
          std::vector<std::string> ids;
          for (const OJson &element : *at)
            if (element.is_object() && element.contains("id") && element["id"].is_string())
              ids.push_back(element["id"].get<std::string>());
          *why = fmt::format("{} has no element with id \"{}\"{}", walked, token,
                             ids.empty() ? std::string() : " (ids: " + join(ids, ", ") + ")");
        }
      }
    } else {
      *why = fmt::format("{} is a value, with nothing inside", walked);
    }
    if (!next)
      return nullptr;
    at = next;
    walked += "/" + escape_pointer_token(token);
  }
  return at;
}

std::string show(const OJson &v) {
  if (v.is_number_float())
    return fmt::format("{}", v.get<double>());
  return v.dump();
}

std::string percent(double fraction) { return fmt::format("{:.6g}%", fraction * 100.0); }

bool compare_numbers(const std::string &op, double a, double b) {
  if (op == "<")
    return a < b;
  if (op == "<=")
    return a <= b;
  if (op == ">")
    return a > b;
  if (op == ">=")
    return a >= b;
  if (op == "==")
    return a == b;
  return a != b; // "!="
}

using Combination = Expectation::Combination;

// The key that names each combination in a scenario file (and in results.json's "metric").
const char *combination_key(Combination c) {
  switch (c) {
  case Combination::single:
    return "metric";
  case Combination::ratio:
    return "ratio";
  case Combination::difference:
    return "difference";
  case Combination::sum:
    return "sum";
  case Combination::max:
    return "max";
  }
  return "metric";
}

// Reads the actual value (one metric, or the metrics combined); false with a message if it
// cannot.
bool actual_value(const Expectation &e, const OJson &results, OJson *actual, std::string *why) {
  std::vector<const OJson *> values;
  for (const std::string &m : e.metric) {
    std::string problem;
    const OJson *v = resolve(results, m, &problem);
    if (!v) {
      *why = fmt::format("metric {} is not in the results: {}", m, problem);
      return false;
    }
    values.push_back(v);
  }
  if (e.combination == Combination::single) {
    *actual = *values[0];
    return true;
  }
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!values[i]->is_number()) {
      *why = fmt::format("metric {} is {}, not a number, and cannot be in a {}", e.metric[i],
                         show(*values[i]), combination_key(e.combination));
      return false;
    }
  switch (e.combination) {
  case Combination::sum: {
    double total = 0;
    for (const OJson *v : values)
      total += v->get<double>();
    *actual = total;
    return true;
  }
  case Combination::max: {
    double largest = values[0]->get<double>();
    for (const OJson *v : values)
      largest = std::max(largest, v->get<double>());
    *actual = largest;
    return true;
  }
  case Combination::difference:
    *actual = values[0]->get<double>() - values[1]->get<double>();
    return true;
  default:
    break;
  }
  double denominator = values[1]->get<double>();
  if (denominator == 0) {
    *why = fmt::format("metric {} is 0: the ratio is undefined", e.metric[1]);
    return false;
  }
  *actual = values[0]->get<double>() / denominator;
  return true;
}

} // namespace

std::string describe_metric(const Expectation &e) {
  if (e.combination == Combination::single)
    return e.metric.empty() ? std::string() : e.metric[0];
  return fmt::format("{}({})", combination_key(e.combination), join(e.metric, ", "));
}

std::vector<Expectation> parse_expectations(const Node &expect) {
  expect.require_array();
  std::vector<Expectation> out;
  for (const Node &n : expect.items()) {
    n.require_object();
    std::vector<std::string> allowed = {"name",       "description", "metric", "ratio",
                                        "difference", "sum",         "max"};
    allowed.insert(allowed.end(), kComparisons.begin(), kComparisons.end());
    allowed.push_back("value");
    n.allow_only(allowed);
    Expectation e;
    e.pointer = n.pointer();
    if (auto name = n.get("name"))
      e.name = name->as_string();
    if (auto d = n.get("description"))
      e.description = d->as_string();

    // Exactly one of the combination keys names the metrics.
    std::optional<Node> metrics;
    for (Combination c : {Combination::single, Combination::ratio, Combination::difference,
                          Combination::sum, Combination::max})
      if (auto found = n.get(combination_key(c))) {
        if (metrics)
          found->fail(fmt::format("more than one of \"metric\", \"ratio\", \"difference\", "
                                  "\"sum\" and \"max\""),
                      "one of them");
        metrics = found;
        e.combination = c;
      }
    if (!metrics)
      n.fail("no \"metric\", \"ratio\", \"difference\", \"sum\" or \"max\"",
             "a \"metric\" pointer into results.json, a \"ratio\" or \"difference\" of two, or "
             "a \"sum\" or \"max\" of two or more");
    if (e.combination == Combination::single) {
      e.metric.push_back(checked_pointer(*metrics));
    } else {
      metrics->require_array();
      const bool pair =
          e.combination == Combination::ratio || e.combination == Combination::difference;
      const std::size_t count = metrics->size();
      if (pair ? count != 2 : count < 2)
        metrics->fail(fmt::format("{} metric pointer{}", count, count == 1 ? "" : "s"),
                      e.combination == Combination::ratio
                          ? "two metric pointers [A, B], compared as A / B"
                      : e.combination == Combination::difference
                          ? "two metric pointers [A, B], compared as A - B"
                      : e.combination == Combination::sum
                          ? "two or more metric pointers, compared as their sum"
                          : "two or more metric pointers, compared as the largest");
      for (const Node &m : metrics->items())
        e.metric.push_back(checked_pointer(m));
    }

    std::optional<Node> op;
    for (const std::string &c : kComparisons)
      if (auto found = n.get(c)) {
        if (op)
          found->fail(fmt::format("a second comparison \"{}\" after \"{}\"", c, e.comparison),
                      "exactly one comparison");
        op = found;
        e.comparison = c;
      }
    if (!op)
      n.fail("no comparison", "one of the keys " + join(kComparisons, ", "));

    const char *number_expected = "a number";
    auto value = n.get("value");
    if (e.comparison == "within") {
      if (!op->json().is_number())
        op->fail(describe_json_type(op->json()) + " where a relative tolerance belongs",
                 "a fraction of the value, such as 0.01 for 1%");
      e.tolerance = op->json().get<double>();
      if (e.tolerance < 0)
        op->fail(fmt::format("a negative tolerance {}", e.tolerance), "0 or more");
      if (!value)
        n.fail("\"within\" without \"value\"", "a \"value\" key with the number to be near");
      if (!value->json().is_number())
        value->fail(describe_json_type(value->json()) + " where a number belongs", number_expected);
      e.expected = value->json().get<double>();
    } else {
      if (value)
        value->fail("\"value\" with \"" + e.comparison + "\"",
                    "\"value\" only with \"within\"; other comparisons hold the value, as in "
                    "{\">=\": 6.5}");
      bool equality = e.comparison == "==" || e.comparison == "!=";
      const Json &v = op->json();
      if (equality && v.is_string() && e.metric.size() == 1)
        e.expected = v.get<std::string>();
      else if (v.is_number_integer())
        e.expected = v.get<std::int64_t>();
      else if (v.is_number_unsigned())
        e.expected = v.get<std::uint64_t>();
      else if (v.is_number())
        e.expected = v.get<double>();
      else
        op->fail(describe_json_type(v) + " where a number belongs",
                 equality && e.metric.size() == 1 ? "a number or a string" : number_expected);
    }

    if (e.name.empty())
      e.name = e.comparison == "within"
                   ? fmt::format("{} within {} of {}", describe_metric(e), percent(e.tolerance),
                                 show(e.expected))
                   : fmt::format("{} {} {}", describe_metric(e), e.comparison, show(e.expected));
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<Expectation> scenario_expectations(const ScenarioConfig &scenario) {
  if (scenario.expect.is_null())
    return {};
  auto doc = parse_json_text(scenario.expect.dump(), scenario.file);
  return parse_expectations(Node(doc, &doc->root, "/expect"));
}

const nlohmann::ordered_json *resolve_metric(const nlohmann::ordered_json &results,
                                             const std::string &pointer) {
  std::string ignored;
  return resolve(results, pointer, &ignored);
}

std::vector<ExpectationOutcome> evaluate_expectations(const std::vector<Expectation> &expectations,
                                                      const nlohmann::ordered_json &results) {
  std::vector<ExpectationOutcome> out;
  for (const Expectation &e : expectations) {
    ExpectationOutcome o;
    o.expectation = e;
    if (!actual_value(e, results, &o.actual, &o.message)) {
      o.actual = nullptr;
      out.push_back(std::move(o));
      continue;
    }
    const OJson &a = o.actual;
    if (e.expected.is_string()) {
      if (!a.is_string()) {
        o.message = fmt::format("{} is {}, compared with the string {}", describe_metric(e),
                                show(a), show(e.expected));
      } else {
        o.passed = (a == e.expected) == (e.comparison == "==");
        o.message =
            fmt::format("{} {} {}", show(a), o.passed ? e.comparison : "is not " + e.comparison,
                        show(e.expected));
      }
    } else if (!a.is_number()) {
      o.message = fmt::format("{} is {}, not a number", describe_metric(e), show(a));
    } else if (e.comparison == "within") {
      double actual = a.get<double>(), expected = e.expected.get<double>();
      double off = actual - expected;
      o.passed = std::fabs(off) <= e.tolerance * std::fabs(expected);
      std::string by = expected != 0 ? fmt::format(" (off by {})", percent(off / expected)) : "";
      o.message = fmt::format("{} is {}within {} of {}{}", show(a), o.passed ? "" : "not ",
                              percent(e.tolerance), show(e.expected), by);
    } else {
      o.passed = compare_numbers(e.comparison, a.get<double>(), e.expected.get<double>());
      o.message = fmt::format("{} {} {}", show(a),
                              o.passed ? e.comparison : "is not " + e.comparison, show(e.expected));
    }
    out.push_back(std::move(o));
  }
  return out;
}

nlohmann::ordered_json expectations_json(const std::vector<ExpectationOutcome> &outcomes) {
  OJson out = OJson::array();
  for (const ExpectationOutcome &o : outcomes) {
    const Expectation &e = o.expectation;
    OJson j;
    j["name"] = e.name;
    if (!e.description.empty())
      j["description"] = e.description;
    j["metric"] = describe_metric(e);
    j["comparison"] = e.comparison;
    j["expected"] = e.expected;
    if (e.comparison == "within")
      j["tolerance"] = e.tolerance;
    j["actual"] = o.actual;
    j["passed"] = o.passed;
    j["message"] = o.message;
    out.push_back(j);
  }
  return out;
}

std::string format_outcome(const ExpectationOutcome &o) {
  return fmt::format("{} {}: {}", o.passed ? "PASS" : "FAIL", o.expectation.name, o.message);
}

} // namespace pciesim
