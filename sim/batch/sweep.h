// Running a sweep: every point is its own pciesim child process (the SystemC kernel cannot be
// restarted in a process), a pool of -j of them at a time; finished points are marked done so
// that an interrupted sweep can be resumed, and shards of one sweep can run on many machines
// and be merged into the same results files, byte for byte, as a single run.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sim/batch/child_pool.h"
#include "sim/batch/sweep_file.h"

namespace pciesim {

struct SweepOptions {
  std::string file;
  std::string out_dir;
  PoolOptions pool; // -j (points at once) and --timeout (for the whole sweep)
  bool resume = false;
  bool quiet = false;
  std::string shard; // "K/N", 1-based K; empty for all points
  bool print_sbatch = false;
  bool slurm = false;                   // write DIR/sweep.sbatch and submit it
  unsigned array_tasks = 0;             // Slurm array size (0: one task per point, at most 64)
  std::vector<std::string> sbatch_args; // --sbatch-arg: an `#SBATCH ARG` line each
  std::vector<std::string> overrides;   // --set POINTER=VALUE, as given, for every point
  unsigned point_timeout_seconds = 0;   // --point-timeout: wall clock of one point, 0 for none
};

// The exit code of a sweep stopped by SIGINT, SIGTERM or SIGHUP (whatever the signal).
inline constexpr int kExitSweepInterrupted = 130;

// `pciesim sweep`: returns 0 if every point ran, 1 if some failed, 2 for a bad sweep file,
// 3 if its --timeout passed, 130 if interrupted.
int command_sweep(const SweepOptions &options);

// `pciesim merge`: gathers the points of the shard directories into `out_dir`.
int command_merge(const std::vector<std::string> &dirs, const std::string &out_dir);

// --- shared by sweep and merge (sim/batch/sweep_results.cpp) ---

// A point's outcome, recorded in DIR/points/<id>/done after its child exits.
struct PointOutcome {
  std::string status; // "completed" or "failed"
  int exit_code = 0;
  std::string error; // the child's one-line complaint, for a failed point
};
void write_point_done(const std::string &point_dir, const PointOutcome &outcome);
// The outcome in DIR/points/<id>/done; none if the point has no done marker yet. A marker that
// is not one pciesim wrote is an InputError naming it.
std::optional<PointOutcome> read_point_done(const std::string &point_dir);

// A JSON file that pciesim wrote itself (a manifest, a done marker, a point's results), in its
// key order; one that does not parse is an InputError naming it and `expected`.
OrderedJson read_written_json(const std::string &path, const std::string &expected);

// Writes DIR/results.json and DIR/results.csv from the manifest and the point directories
// (point id -> directory holding it; a point absent from the map is "missing"). Returns the
// number of points that did not complete.
std::size_t write_sweep_results(const OrderedJson &manifest,
                                const std::vector<std::string> &point_dirs,
                                const std::string &out_dir);

} // namespace pciesim
