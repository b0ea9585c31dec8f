// The output directory of `pciesim run --out DIR` (a plain run or a comparison): it holds one
// run's results, whole, and nothing of another's.
//
// - A sweep's directory is refused before the run (its results.csv and report would be
//   overwritten beside the sweep's points and manifest).
// - The run's files replace an earlier run's as a set, and a file of that earlier run that this
//   one does not write (a plain run's run-info.json, under a comparison's results) goes.
// - A report made from the earlier results (`pciesim report DIR`) is made again from the new
//   ones, so that report.html never describes results the directory no longer holds (a page of
//   that name pciesim did not write is left alone).
// - Two pciesim processes never write into DIR at once: the run holds DIR/.lock while it
//   writes (a sweep holds it for its whole run), waiting a few seconds for another holder.
#pragma once

#include <string>
#include <vector>

#include "sim/util/file_io.h"

namespace pciesim {

// Every file a run or a comparison may write into `dir`.
std::vector<std::string> run_output_paths(const std::string &dir);

// Refuses (InputError naming DIR) a directory that holds a sweep's results.
void check_run_output_dir(const std::string &dir);

// Writes `files` (paths inside `dir`) as the run's results in `dir`, created with its missing
// parents if needed, as described above. Throws std::runtime_error naming the path that
// failed, or DIR when another pciesim process kept it for longer than `patience_ms`.
void write_run_output(const std::string &dir, OutputSet &files, int patience_ms = 5000);

} // namespace pciesim
