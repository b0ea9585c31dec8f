// Labels of sweep axis values (see sweep_axis_values.h).
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

} // namespace pciesim
