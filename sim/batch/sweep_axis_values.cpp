// Labels and canonical CSV columns of sweep axis values (see sweep_axis_values.h).
#include "sim/batch/sweep_axis_values.h"

#include <fmt/format.h>

#include "models/common/units.h"
#include "sim/config/json_input.h"
#include "sim/report/report.h"

namespace pciesim {
namespace {

std::string scalar_label(const OrderedJson &value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

// A member's value inside a label: scalars as themselves, containers labelled in turn but
// bracketed, so that `a={b=1,c=2}` cannot read as three members.
std::string inner_label(const OrderedJson &value) {
  if (value.is_object())
    return "{" + axis_value_label(value) + "}";
  return axis_value_label(value);
}

std::optional<Bytes> as_size(const OrderedJson &value) {
  return value.is_string() ? parse_bytes(value.get<std::string>()).value : std::nullopt;
}

std::optional<Duration> as_time(const OrderedJson &value) {
  return value.is_string() ? parse_duration(value.get<std::string>()).value : std::nullopt;
}

// `name` with `suffix`, unless it ends in it already (an axis named "size_bytes").
std::string with_unit(const std::string &name, const std::string &suffix) {
  bool has = name.size() >= suffix.size() &&
             name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  return has ? name : name + suffix;
}

} // namespace

std::string axis_value_label(const OrderedJson &value) {
  if (value.is_object()) {
    std::vector<std::string> members;
    for (const auto &[key, member] : value.items())
      members.push_back(key + "=" + inner_label(member));
    return join(members, ",");
  }
  if (value.is_array()) {
    std::vector<std::string> items;
    for (const OrderedJson &item : value)
      items.push_back(inner_label(item));
    return "[" + join(items, ",") + "]";
  }
  return scalar_label(value);
}

OrderedJson axis_value_labels(const OrderedJson &values) {
  OrderedJson labels = OrderedJson::object();
  for (const auto &[axis, value] : values.items())
    labels[axis] = axis_value_label(value);
  return labels;
}

std::vector<SweepAxisColumn> sweep_axis_columns(const std::vector<std::string> &axes,
                                                const OrderedJson &points) {
  std::vector<SweepAxisColumn> columns;
  for (const std::string &axis : axes) {
    bool sizes = true, times = true, containers = false;
    for (const OrderedJson &p : points) {
      const OrderedJson &v = p.at("values").at(axis);
      sizes = sizes && as_size(v).has_value();
      times = times && as_time(v).has_value();
      containers = containers || v.is_object() || v.is_array();
    }
    SweepAxisColumn c{axis, axis, SweepAxisColumn::Kind::AsWritten};
    if (points.empty())
      ;
    else if (sizes)
      c = {axis, with_unit(axis, "_bytes"), SweepAxisColumn::Kind::Bytes};
    else if (times)
      c = {axis, with_unit(axis, "_ns"), SweepAxisColumn::Kind::Ns};
    else if (containers)
      c.kind = SweepAxisColumn::Kind::Label;
    columns.push_back(c);
  }
  return columns;
}

std::string axis_cell(const SweepAxisColumn &column, const OrderedJson &value) {
  switch (column.kind) {
  case SweepAxisColumn::Kind::Bytes:
    return std::to_string(as_size(value)->count);
  case SweepAxisColumn::Kind::Ns: {
    const std::int64_t ps = as_time(value)->ps;
    // Whole nanoseconds as integers; a time finer than that keeps its picoseconds.
    return ps % 1000 == 0 ? std::to_string(ps / 1000) : fmt::format("{:.3f}", ps / 1000.0);
  }
  case SweepAxisColumn::Kind::Label:
    return csv_field(axis_value_label(value));
  case SweepAxisColumn::Kind::AsWritten:
    break;
  }
  return csv_field(scalar_label(value));
}

std::string axis_cells(const std::vector<SweepAxisColumn> &columns, const OrderedJson &values) {
  std::string cells;
  for (const SweepAxisColumn &c : columns)
    cells += "," + axis_cell(c, values.at(c.axis));
  return cells;
}

std::string axis_header(const std::vector<SweepAxisColumn> &columns) {
  std::string header;
  for (const SweepAxisColumn &c : columns)
    header += "," + csv_field(c.column);
  return header;
}

} // namespace pciesim
