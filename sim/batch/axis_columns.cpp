#include "sim/batch/axis_columns.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "models/common/units.h"
#include "sim/report/csv_tables.h"

namespace pciesim {
namespace {
using ValueJson = nlohmann::ordered_json; // a sweep point's values, as in its manifest

bool ends_with(const std::string &s, const std::string &tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Whether every value is a string that `parses`.
template <class Parse>
bool all_strings(const std::vector<const ValueJson *> &values, Parse parses) {
  return std::all_of(values.begin(), values.end(), [&](const ValueJson *v) {
    return v->is_string() && parses(v->get<std::string>());
  });
}

} // namespace

AxisColumns::Kind AxisColumns::kind_of(const std::vector<const ValueJson *> &values) {
  if (values.empty())
    return Kind::AsWritten;
  if (all_strings(values, [](const std::string &s) { return parse_bytes(s).value.has_value(); }))
    return Kind::Bytes;
  if (all_strings(values, [](const std::string &s) { return parse_duration(s).value.has_value(); }))
    return Kind::Time;
  if (all_strings(values,
                  [](const std::string &s) { return parse_bandwidth(s).value.has_value(); }))
    return Kind::Rate;
  if (all_strings(values,
                  [](const std::string &s) { return parse_generation_rate(s).value.has_value(); }))
    return Kind::Generation;
  if (all_strings(values, [](const std::string &s) { return ends_with(s, ".json"); }))
    return Kind::JsonFile;
  return Kind::AsWritten;
}

std::string AxisColumns::cell(Kind kind, const ValueJson &value) {
  if (value.is_null())
    return "";
  if (!value.is_string())
    return csv_field(value.dump());
  const std::string text = value.get<std::string>();
  switch (kind) {
  case Kind::Bytes:
    return std::to_string(parse_bytes(text).value->count);
  case Kind::Time:
    return fmt::format("{:.3f}", parse_duration(text).value->ns());
  case Kind::Rate:
    return fmt::format("{:.6f}", parse_bandwidth(text).value->gb_per_s());
  case Kind::Generation:
    return std::to_string(*parse_generation_rate(text).value);
  case Kind::JsonFile:
    return csv_field(std::filesystem::path(text).stem().string());
  case Kind::AsWritten:
    break;
  }
  return csv_field(text);
}

AxisColumns::AxisColumns(const std::vector<std::string> &axes, const std::vector<ValueJson> &points,
                         const std::vector<std::string> &taken) {
  std::vector<std::string> used = taken;
  for (const std::string &axis : axes) {
    std::vector<const ValueJson *> values;
    for (const ValueJson &p : points)
      if (p.contains(axis) && !p.at(axis).is_null())
        values.push_back(&p.at(axis));
    const bool objects =
        !values.empty() && std::all_of(values.begin(), values.end(),
                                       [](const ValueJson *v) { return v->is_object(); });
    std::vector<std::string> members{""};
    if (objects) {
      members.clear();
      for (const ValueJson *v : values)
        for (const auto &item : v->items())
          if (std::find(members.begin(), members.end(), item.key()) == members.end())
            members.push_back(item.key());
    }
    for (const std::string &member : members) {
      Column c{axis, member, Kind::AsWritten};
      std::vector<const ValueJson *> member_values = values;
      if (!member.empty()) {
        member_values.clear();
        for (const ValueJson *v : values)
          if (v->contains(member) && !v->at(member).is_null())
            member_values.push_back(&v->at(member));
      }
      c.kind = kind_of(member_values);
      std::string name = member.empty() || member == axis ? axis : axis + "." + member;
      const char *unit = c.kind == Kind::Bytes  ? "_bytes"
                         : c.kind == Kind::Time ? "_ns"
                         : c.kind == Kind::Rate ? "_GBps"
                                                : "";
      if (!ends_with(name, unit))
        name += unit;
      if (std::find(used.begin(), used.end(), name) != used.end())
        name = "axis." + name;
      used.push_back(name);
      names_.push_back(name);
      columns_.push_back(c);
    }
  }
}

std::string AxisColumns::header() const {
  std::string out;
  for (std::size_t i = 0; i < names_.size(); ++i)
    out += (i ? "," : "") + csv_field(names_[i]);
  return out;
}

std::string AxisColumns::cells(const ValueJson &values) const {
  static const ValueJson null;
  std::string out;
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    const Column &c = columns_[i];
    const ValueJson &v = values.contains(c.axis) ? values.at(c.axis) : null;
    const ValueJson &member = c.member.empty()                        ? v
                              : v.is_object() && v.contains(c.member) ? v.at(c.member)
                                                                      : null;
    out += (i ? "," : "") + cell(c.kind, member);
  }
  return out;
}

} // namespace pciesim
