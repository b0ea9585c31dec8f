// Self-describing model parameters. Each model declares its parameters once, in a ParamTable:
// one row per parameter binding a ParamSpec (name, kind, default as written in JSON, bounds,
// documentation, cross-field rule) to the field of the model's Params struct it fills. That
// table is the single source for the loader (unknown keys, units, bounds, rules), the generic
// `from()` that fills the struct, the resolved-config echo in every result file, the generated
// reference in docs/file-formats.md and the generated JSON Schema of `params`.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/common/units.h"

namespace pciesim {

enum class ParamKind { size, time, rate, integer, boolean, choice, generation };

class ParamSet;

// A rule between parameters of one table (e.g. iotlb_ways divides iotlb_entries), attached to
// the parameter it blames: `problem` returns what is wrong with the resolved values, or "".
struct CrossCheck {
  std::string (*problem)(const ParamSet &params) = nullptr;
  std::string expected;
};

using ParamValue = std::variant<Bytes, Duration, Bandwidth, std::int64_t, bool, std::string>;

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
  CrossCheck check;                  // checked by the loader once every value is resolved
  // The default, parsed once by the loader (sim/config/param_loader.cpp): every component that
  // keeps a default would otherwise parse the same text again. The fields above are fixed at
  // construction, so the parsed value cannot go stale.
  mutable std::optional<ParamValue> parsed_default;

  ParamSpec &&with_check(CrossCheck rule) && {
    check = std::move(rule);
    return std::move(*this);
  }
};

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
  // The value of the table's i-th parameter (a ParamTable fills its struct in table order).
  const ParamValue &value(std::size_t index) const { return resolved_->values[index]; }
  std::size_t index_of(const std::string &name) const;
  // Replaces a value after loading (used by enumeration-derived settings and tests).
  void set(const std::string &name, ParamValue value);

  // Resolved values as JSON, with units, in table order.
  nlohmann::ordered_json to_json() const;
  const std::vector<ParamSpec> &specs() const { return *specs_; }

  bool same_table(const ParamSet &other) const { return specs_ == other.specs_; }
  // Whether `other` resolved the same table to the same values, the same ones given by the user.
  bool same_values(const ParamSet &other) const {
    return same_table(other) && (resolved_ == other.resolved_ || *resolved_ == *other.resolved_);
  }

private:
  struct Resolved {
    std::vector<ParamValue> values;
    std::vector<bool> overridden;
    bool operator==(const Resolved &o) const {
      return values == o.values && overridden == o.overridden;
    }
  };
  const std::vector<ParamSpec> *specs_ = nullptr;
  // Shared by copies, and by equal sets a ParamSetSharing joined; set() copies it first when
  // another set shares it.
  std::shared_ptr<const Resolved> resolved_ = no_values();
  static const std::shared_ptr<const Resolved> &no_values(); // one for every empty set
};

// Lets the equal ParamSets of one load share their values: a large topology's components of
// one type mostly resolve to the same few dozen values, whose copies were most of its memory
// (98 MB of 231 MB for 100,000 components). Keeps the first few distinct sets of each table.
class ParamSetSharing {
public:
  // `set` shares the storage of an equal set seen before, or is remembered as a new one.
  void share(ParamSet &set);

private:
  static constexpr std::size_t kDistinctPerTable = 8;
  std::vector<ParamSet> seen_;
};

// One table row bound to the field of a Params struct P that it fills (see field()).
template <class P> struct ParamField {
  ParamSpec spec;
  std::function<void(P &, const ParamValue &)> store;
  std::function<ParamValue(const P &)> load;
};

// What a ParamTable answers without naming its struct: the component catalog holds one per
// type, and the drift test checks every table through it, so a new type needs no line there.
class AnyParamTable {
public:
  virtual const std::vector<ParamSpec> &specs() const = 0;
  // Each field of a default-constructed struct, in the specs' order, as the loader holds it.
  virtual std::vector<ParamValue> struct_defaults() const = 0;
  // Each field of the struct that from(set) fills, in the same form.
  virtual std::vector<ParamValue> filled_from(const ParamSet &set) const = 0;

protected:
  ~AnyParamTable() = default; // the tables are statics, never deleted through this
};

// A Params struct's table: its specs (for the loader, docs and schema) and a generic `from()`
// that fills every field from a resolved ParamSet. A default-constructed P must hold the
// table's defaults; tests/sim/config/test_param_drift.cpp checks it field by field.
template <class P> class ParamTable final : public AnyParamTable {
public:
  template <class... Rows> explicit ParamTable(Rows &&...rows) {
    (append(std::forward<Rows>(rows)), ...);
    for (const ParamField<P> &f : fields_)
      specs_.push_back(f.spec);
  }
  const std::vector<ParamSpec> &specs() const override { return specs_; }
  const std::vector<ParamField<P>> &fields() const { return fields_; }
  P from(const ParamSet &set) const {
    P p;
    for (std::size_t i = 0; i < fields_.size(); ++i)
      fields_[i].store(p, set.value(i));
    return p;
  }
  std::vector<ParamValue> struct_defaults() const override { return loaded(P{}); }
  std::vector<ParamValue> filled_from(const ParamSet &set) const override {
    return loaded(from(set));
  }

private:
  std::vector<ParamValue> loaded(const P &p) const {
    std::vector<ParamValue> values;
    for (const ParamField<P> &f : fields_)
      values.push_back(f.load(p));
    return values;
  }
  void append(ParamField<P> row) { fields_.push_back(std::move(row)); }
  void append(std::vector<ParamField<P>> rows) {
    for (ParamField<P> &row : rows)
      fields_.push_back(std::move(row));
  }
  std::vector<ParamField<P>> fields_;
  std::vector<ParamSpec> specs_;
};

namespace param_detail {

template <class M> M stored(const ParamValue &v, const std::vector<std::string> &choices) {
  if constexpr (std::is_same_v<M, bool> || std::is_same_v<M, Bytes> ||
                std::is_same_v<M, Duration> || std::is_same_v<M, Bandwidth> ||
                std::is_same_v<M, std::string>) {
    return std::get<M>(v);
  } else if constexpr (std::is_enum_v<M>) {
    // An enum field's values are its choices, in order.
    const std::string &name = std::get<std::string>(v);
    std::size_t i = 0;
    while (i < choices.size() && choices[i] != name)
      ++i;
    return static_cast<M>(i);
  } else {
    static_assert(std::is_integral_v<M>, "a parameter field is a unit type, bool, enum or integer");
    if (const Bytes *b = std::get_if<Bytes>(&v))
      return static_cast<M>(b->count);
    return static_cast<M>(std::get<std::int64_t>(v));
  }
}

template <class M>
ParamValue loaded(const M &m, ParamKind kind, const std::vector<std::string> &choices) {
  if constexpr (std::is_same_v<M, bool> || std::is_same_v<M, Bytes> ||
                std::is_same_v<M, Duration> || std::is_same_v<M, Bandwidth> ||
                std::is_same_v<M, std::string>) {
    return m;
  } else if constexpr (std::is_enum_v<M>) {
    return choices.at(static_cast<std::size_t>(m));
  } else if (kind == ParamKind::size) {
    return Bytes{static_cast<std::uint64_t>(m)};
  } else {
    return static_cast<std::int64_t>(m);
  }
}

} // namespace param_detail

// Binds a row to the field `access(p)` returns (for fields inside arrays or nested structs).
template <class P, class Access> ParamField<P> field_at(Access access, ParamSpec spec) {
  using M = std::decay_t<decltype(access(std::declval<P &>()))>;
  ParamKind kind = spec.kind;
  std::vector<std::string> choices = spec.choices;
  return {std::move(spec),
          [access, choices](P &p, const ParamValue &v) {
            access(p) = param_detail::stored<M>(v, choices);
          },
          [access, kind, choices](const P &p) {
            return param_detail::loaded<M>(access(p), kind, choices);
          }};
}

// Binds a row to a member: field(&SwitchParams::latency, {"latency", ParamKind::time, ...}).
template <class P, class M> ParamField<P> field(M P::*member, ParamSpec spec) {
  return field_at<P>(
      [member](auto &p) -> auto & { return p.*member; }, std::move(spec));
}

// The rows of a nested struct's table (e.g. PortCapabilities), bound through `member`.
template <class P, class S>
std::vector<ParamField<P>> nested(S P::*member, std::vector<ParamField<S>> rows) {
  std::vector<ParamField<P>> out;
  for (ParamField<S> &row : rows) {
    auto store = row.store;
    auto load = row.load;
    out.push_back({std::move(row.spec),
                   [member, store](P &p, const ParamValue &v) { store(p.*member, v); },
                   [member, load](const P &p) { return load(p.*member); }});
  }
  return out;
}

// A nested struct filled from the rows of a larger table that embeds them, found by name.
template <class S> S from_named_rows(const std::vector<ParamField<S>> &rows, const ParamSet &set) {
  S s;
  for (const ParamField<S> &row : rows)
    row.store(s, set.value(set.index_of(row.spec.name)));
  return s;
}

std::string kind_name(ParamKind kind);
std::string default_text(const ParamSpec &spec); // for docs: "105 ns", "64", "true"
nlohmann::json value_to_json(const ParamValue &value);

} // namespace pciesim
