// Sweeps on a Slurm cluster: an array job whose task K runs `pciesim sweep --shard K/N
// --resume` into the shared --out directory, and a merge job after it.
#pragma once

#include <string>

#include "sim/batch/sweep.h"

namespace pciesim {

// Refuses an --sbatch-arg that an `#SBATCH` line cannot hold (SweepUsageError): empty, not an
// option ("--time=01:00:00", "-p x"), or with a line break or another control character.
void check_sbatch_arg(const std::string &arg);

// The array job script of `tasks` tasks; its output goes to DIR/slurm-*.out when
// `output_in_dir` (with --slurm), to Slurm's default place otherwise (--print-sbatch).
std::string sbatch_script(const SweepSpec &spec, const SweepOptions &o, unsigned tasks,
                          bool output_in_dir);
// Writes DIR/sweep.sbatch, submits it and a merge job that runs after it; returns the exit code.
int submit_to_slurm(const SweepSpec &spec, const SweepOptions &o, unsigned tasks);

} // namespace pciesim
