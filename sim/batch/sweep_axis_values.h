// How a sweep's axis values are shown: a readable label for every value (point ids, chart
// labels, the merged results.json), and the canonical column each axis gets in the CSV files
// (a size axis written "64 KiB" as an integer `<axis>_bytes` column, a time axis as `<axis>_ns`),
// so that the files hold numbers in fixed units while results.json keeps the values as written.
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

// An axis's column in results.csv, mechanisms.csv, crossovers.csv and verdicts.csv.
struct SweepAxisColumn {
  enum class Kind {
    AsWritten, // numbers, booleans and strings that are not quantities: the value itself
    Bytes,     // every value a size ("64 KiB"): integer bytes
    Ns,        // every value a time ("10 us"): nanoseconds
    Label,     // objects and arrays: their label
  };
  std::string axis;   // the axis name
  std::string column; // the header: the axis name, with _bytes or _ns for quantities
  Kind kind = Kind::AsWritten;
};

// The columns of the axes, from every point's values (a manifest's "points", each with
// "values"): an axis is a size or a time when all its values are.
std::vector<SweepAxisColumn> sweep_axis_columns(const std::vector<std::string> &axes,
                                                const OrderedJson &points);
// The CSV cell (already quoted where it must be) of a value in its axis's column.
std::string axis_cell(const SweepAxisColumn &column, const OrderedJson &value);
// ",cell,cell...": the cells of a point's values, one per column.
std::string axis_cells(const std::vector<SweepAxisColumn> &columns, const OrderedJson &values);
// ",column,column...": the header cells of the axes.
std::string axis_header(const std::vector<SweepAxisColumn> &columns);

} // namespace pciesim
