// Self-describing model parameters. Each model declares its parameters once, in a table of
// ParamSpec (name, kind, default as written in JSON, bounds, documentation). That table is
// the single source for the loader (unknown keys, units, bounds), the resolved-config echo
// in every result file, and the generated reference in docs/file-formats.md.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/common/units.h"

namespace pciesim {

enum class ParamKind { size, time, rate, integer, boolean, choice, generation };

struct ParamSpec {
  ParamSpec(std::string name_, ParamKind kind_, nlohmann::json default_value_, std::string doc_,
            double min_ = 0, double max_ = 0, bool power_of_two_ = false,
            bool zero_means_unlimited_ = false, std::vector<std::string> choices_ = {})
      : name(std::move(name_)), kind(kind_), default_value(std::move(default_value_)),
        doc(std::move(doc_)), min(min_), max(max_), power_of_two(power_of_two_),
        zero_means_unlimited(zero_means_unlimited_), choices(std::move(choices_)) {}

  std::string name;
  ParamKind kind;
  nlohmann::json default_value; // as a user would write it, e.g. "105 ns" or 64
  std::string doc;
  double min = 0; // in base units: bytes, ps, bytes/s, count
  double max = 0; // 0 = no upper bound
  bool power_of_two = false;
  bool zero_means_unlimited = false; // documented meaning of 0 (e.g. infinite credits)
  std::vector<std::string> choices;  // for ParamKind::choice
};

using ParamValue = std::variant<Bytes, Duration, Bandwidth, std::int64_t, bool, std::string>;

// Resolved values of one component's (or link's) parameters, in table order.
class ParamSet {
public:
  ParamSet() = default;
  ParamSet(const std::vector<ParamSpec> *specs, std::vector<ParamValue> values,
           std::vector<bool> overridden);

  Bytes bytes(const std::string &name) const;
  Duration duration(const std::string &name) const;
  Bandwidth bandwidth(const std::string &name) const;
  std::int64_t integer(const std::string &name) const;
  bool boolean(const std::string &name) const;
  const std::string &choice(const std::string &name) const;
  bool overridden(const std::string &name) const;
  // Replaces a value after loading (used by enumeration-derived settings and tests).
  void set(const std::string &name, ParamValue value);

  // Resolved values as JSON, with units, in table order.
  nlohmann::ordered_json to_json() const;
  const std::vector<ParamSpec> &specs() const { return *specs_; }

private:
  std::size_t index_of(const std::string &name) const;
  const std::vector<ParamSpec> *specs_ = nullptr;
  std::vector<ParamValue> values_;
  std::vector<bool> overridden_;
};

std::string kind_name(ParamKind kind);
std::string default_text(const ParamSpec &spec); // for docs: "105 ns", "64", "true"
nlohmann::json value_to_json(const ParamValue &value);

} // namespace pciesim
