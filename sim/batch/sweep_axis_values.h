// How a sweep's axis values are shown: a readable label for every value (point ids, chart
// labels, the merged results.json). Their canonical CSV columns are sim/batch/axis_columns.h.
#pragma once

#include <string>
#include <vector>

#include "sim/batch/sweep_file.h"

namespace pciesim {

// A value as a person writes it: strings and numbers as themselves, an object as
// `member=value` pairs joined by ',' (`migrate_to_ram_pages=1`, `a=1,b=2`), an array as
// `[a,b]`. Deterministic: the same value always gives the same label.
std::string axis_value_label(const OrderedJson &value);

// The labels of a point's values, axis name -> label, in axis order.
OrderedJson axis_value_labels(const OrderedJson &values);

} // namespace pciesim
