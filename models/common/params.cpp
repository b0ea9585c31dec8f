#include "models/common/params.h"

#include <stdexcept>

#include <fmt/format.h>

namespace pciesim {

ParamSet::ParamSet(const std::vector<ParamSpec> *specs, std::vector<ParamValue> values,
                   std::vector<bool> overridden)
    : specs_(specs), resolved_(std::make_shared<const Resolved>(
                         Resolved{std::move(values), std::move(overridden)})) {}

std::size_t ParamSet::index_of(const std::string &name) const {
  if (specs_)
    for (std::size_t i = 0; i < specs_->size(); ++i)
      if ((*specs_)[i].name == name)
        return i;
  // A model asking for a parameter its own table does not declare is a programming error.
  throw std::logic_error("parameter not declared in the model's table: " + name);
}

Bytes ParamSet::bytes(const std::string &name) const {
  return std::get<Bytes>(resolved_->values[index_of(name)]);
}
Duration ParamSet::duration(const std::string &name) const {
  return std::get<Duration>(resolved_->values[index_of(name)]);
}
Bandwidth ParamSet::bandwidth(const std::string &name) const {
  return std::get<Bandwidth>(resolved_->values[index_of(name)]);
}
std::int64_t ParamSet::integer(const std::string &name) const {
  return std::get<std::int64_t>(resolved_->values[index_of(name)]);
}
bool ParamSet::boolean(const std::string &name) const {
  return std::get<bool>(resolved_->values[index_of(name)]);
}
const std::string &ParamSet::choice(const std::string &name) const {
  return std::get<std::string>(resolved_->values[index_of(name)]);
}
bool ParamSet::overridden(const std::string &name) const {
  return resolved_->overridden[index_of(name)];
}

void ParamSet::set(const std::string &name, ParamValue value) {
  std::size_t i = index_of(name);
  if (value.index() != resolved_->values[i].index())
    throw std::logic_error("parameter set with a value of the wrong kind: " + name);
  auto own = std::make_shared<Resolved>(*resolved_); // never changes what another set shares
  own->values[i] = std::move(value);
  resolved_ = std::move(own);
}

const std::shared_ptr<const ParamSet::Resolved> &ParamSet::no_values() {
  static const auto empty = std::make_shared<const Resolved>();
  return empty;
}

void ParamSetSharing::share(ParamSet &set) {
  std::size_t distinct = 0;
  for (const ParamSet &seen : seen_) {
    if (!seen.same_table(set))
      continue;
    if (seen.same_values(set)) {
      set = seen;
      return;
    }
    ++distinct;
  }
  if (distinct < kDistinctPerTable)
    seen_.push_back(set);
}

nlohmann::json value_to_json(const ParamValue &value) {
  return std::visit(
      [](const auto &v) -> nlohmann::json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Bytes>)
          return format_bytes(v);
        else if constexpr (std::is_same_v<T, Duration>)
          return format_duration(v);
        else if constexpr (std::is_same_v<T, Bandwidth>)
          return format_bandwidth(v);
        else
          return v;
      },
      value);
}

nlohmann::ordered_json ParamSet::to_json() const {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  if (!specs_)
    return out;
  for (std::size_t i = 0; i < specs_->size(); ++i)
    out[(*specs_)[i].name] = value_to_json(resolved_->values[i]);
  return out;
}

std::string kind_name(ParamKind kind) {
  switch (kind) {
  case ParamKind::size:
    return "size";
  case ParamKind::time:
    return "time";
  case ParamKind::rate:
    return "rate";
  case ParamKind::integer:
    return "integer";
  case ParamKind::boolean:
    return "boolean";
  case ParamKind::choice:
    return "choice";
  case ParamKind::generation:
    return "generation";
  }
  return "?";
}

std::string default_text(const ParamSpec &spec) {
  if (spec.default_value.is_string())
    return spec.default_value.get<std::string>();
  return spec.default_value.dump();
}

} // namespace pciesim
