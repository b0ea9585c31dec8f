// The answer a workload sweep exists for, one row per point and topology: DIR/crossovers.csv
// (after how many reuses migration overtakes peer access, the "crossover" entries of each
// point's results.json) and DIR/verdicts.csv (the fastest mechanism and every mechanism's time
// as a multiple of it). Written beside results.csv by sweep and merge from the merged points.
#pragma once

#include <string>
#include <vector>

#include "sim/batch/axis_columns.h"
#include "sim/batch/sweep_file.h"
#include "sim/util/file_io.h"

namespace pciesim {

// The columns after point, index and the axes.
const std::vector<std::string> &sweep_crossovers_columns();
// verdicts.csv: these, then `<mechanism>_vs_fastest` for every mechanism, then "verdict".
const std::vector<std::string> &sweep_verdicts_columns();

// The two files' text, from the merged results.json "points" (each with "id", "index",
// "values", and for a completed workload point "mechanisms", "crossover" and "verdicts").
std::string sweep_crossovers_csv(const OrderedJson &points, const AxisColumns &axes);
std::string sweep_verdicts_csv(const OrderedJson &points, const AxisColumns &axes);

// Adds DIR/crossovers.csv and DIR/verdicts.csv to `files`.
void add_comparison_summaries(const OrderedJson &points, const AxisColumns &axes,
                              const std::string &out_dir, OutputSet &files);

} // namespace pciesim
