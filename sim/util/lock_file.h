// Advisory locks (flock) on a lock file inside an output directory, which tell pciesim processes
// writing into the same directory apart: a sweep or a merge holds DIR/.lock for as long as it
// runs (sim/batch/sweep_output_dir.h), a run or a comparison while it writes its results
// (sim/report/run_output_dir.h).
#pragma once

#include <string>

namespace pciesim {

// Takes `operation` (LOCK_EX or LOCK_SH) on `path`, creating the file if needed, without
// waiting. On success returns the descriptor (close-on-exec, so that child processes do not
// hold the lock) and writes this process's pid into the file, for the message of the one
// refused. When another process holds the lock, returns -1 and sets `holder` to the pid it
// wrote ("" when unknown). Throws std::runtime_error naming the path on any other failure.
int try_lock_file(const std::string &path, int operation, std::string &holder);

// "pid N", or "pid unknown" for an empty `holder`: for the messages of those refused.
std::string describe_lock_holder(const std::string &holder);

} // namespace pciesim
