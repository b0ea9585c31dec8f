// Self-describing model statistics. Each stats struct declares its counters once, in a
// StatTable beside the struct: one row per counter binding a StatSpec (the key it has in
// results.json, its unit, what it counts) to the field that holds it. The table drives the
// struct's `for_each` (so results.json's keys and their order come from it) and the generated
// docs/statistics.md (`pciesim describe --stats`), which a test keeps identical.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

namespace pciesim {

struct StatSpec {
  std::string name; // the key in results.json
  std::string unit; // "count", "bytes", "ps", "ns", "TLPs"
  std::string doc;
};

// One counter of a stats struct S: a field, or a value computed from S (e.g. one element of
// an array, or a time reported in a coarser unit than it is kept in).
template <class S> struct StatField {
  StatSpec spec;
  std::function<std::variant<std::uint64_t, std::int64_t>(const S &)> value;
};

template <class S> class StatTable {
public:
  explicit StatTable(std::vector<StatField<S>> rows) : rows_(std::move(rows)) {
    for (const StatField<S> &row : rows_)
      specs_.push_back(row.spec);
  }
  const std::vector<StatSpec> &specs() const { return specs_; }
  // Calls f(name, value) for every counter in table order; value keeps the field's type.
  template <class F> void for_each(const S &stats, F &&f) const {
    for (const StatField<S> &row : rows_)
      std::visit([&](auto v) { f(row.spec.name.c_str(), v); }, row.value(stats));
  }

private:
  std::vector<StatField<S>> rows_;
  std::vector<StatSpec> specs_;
};

// A row for a counter field: stat(&SwitchStats::acs_redirected, {"acs_redirected", ...}).
template <class S, class M> StatField<S> stat(M S::*member, StatSpec spec) {
  return {std::move(spec),
          [member](const S &s) { return std::variant<std::uint64_t, std::int64_t>(s.*member); }};
}

// A row whose value is computed from the struct.
template <class S, class Get> StatField<S> stat_of(Get get, StatSpec spec) {
  return {std::move(spec),
          [get](const S &s) { return std::variant<std::uint64_t, std::int64_t>(get(s)); }};
}

} // namespace pciesim
