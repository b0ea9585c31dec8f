// Sweeps on a Slurm cluster: the array job script whose task K runs shard K of the sweep
// (--print-sbatch), and its submission with a merge job that runs after it (--slurm).
#include "sim/batch/sweep_slurm.h"

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sys/wait.h>

#include <fmt/format.h>

#include "sim/batch/child_pool.h"
#include "sim/batch/sweep_output_dir.h"
#include "sim/report/report.h"
#include "sim/util/file_io.h"
#include "sim/util/input_error.h"

namespace pciesim {
namespace fs = std::filesystem;
namespace {

std::string shell_quote(const std::string &s) {
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string absolute(const std::string &path) { return fs::absolute(path).lexically_normal(); }

// Slurm job names end up in shell commands and squeue columns: keep them plain.
std::string job_name(const SweepSpec &spec) {
  std::string name = "pciesim-";
  for (char c : spec.name)
    name += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ? c : '-';
  return name;
}

// Runs a command line through the shell; returns its stdout, or throws with its stderr.
std::string run_shell(const std::string &command) {
  FILE *pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe)
    throw std::runtime_error("cannot run: " + command);
  std::string out;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0)
    out.append(buffer, n);
  int status = ::pclose(pipe);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error(fmt::format("`{}` failed: {}", command, out));
  return out;
}

// The options of `pciesim sweep` that every array task repeats: --set and --point-timeout.
std::string point_options(const SweepOptions &o) {
  std::string options;
  for (const std::string &text : o.overrides)
    options += " --set " + shell_quote(text);
  if (o.point_timeout_seconds > 0)
    options += fmt::format(" --point-timeout {}", o.point_timeout_seconds);
  return options;
}

} // namespace

void check_sbatch_arg(const std::string &arg) {
  for (unsigned char c : arg)
    if (c < 0x20 || c == 0x7f)
      throw SweepUsageError(fmt::format("--sbatch-arg {}: the control character U+{:04X} cannot "
                                        "be in an #SBATCH line",
                                        OrderedJson(arg).dump(), c));
  if (arg.empty() || arg[0] != '-')
    throw SweepUsageError(fmt::format("--sbatch-arg {}: not an sbatch option; give one such as "
                                      "--sbatch-arg=--time=01:00:00 or --sbatch-arg=--partition=x",
                                      OrderedJson(arg).dump()));
}

std::string sbatch_script(const SweepSpec &spec, const SweepOptions &o, unsigned tasks,
                          bool output_in_dir) {
  std::string dir = absolute(o.out_dir);
  // Shell quoting does not help in a comment or an #SBATCH line, where a line break would
  // start a command of its own (or end the #SBATCH block): such paths are refused, and the
  // name (free of control characters since loading) is written JSON-quoted.
  for (const auto &[what, path] : {std::pair<const char *, std::string>{"--out", dir},
                                   {"the sweep file", absolute(o.file)},
                                   {"the pciesim executable", self_executable()}})
    for (unsigned char c : path)
      if (c < 0x20 || c == 0x7f)
        throw SweepUsageError(
            fmt::format("{} {}: the path has the control character U+{:04X}, which "
                        "a Slurm script cannot hold",
                        what, OrderedJson(path).dump(), c));
  std::string s = "#!/bin/bash\n";
  s += fmt::format(
      "# pciesim sweep {}: {} points in {} array tasks; task K runs the points\n"
      "# whose index % {} == K-1, skipping points already done (safe to requeue).\n"
      "# When every task has finished: {} merge {} --out {}\n",
      OrderedJson(spec.name).dump(-1, ' ', false, OrderedJson::error_handler_t::replace),
      spec.points.size(), tasks, tasks, shell_quote(self_executable()), shell_quote(dir),
      shell_quote(dir));
  s += fmt::format("#SBATCH --job-name={}\n", job_name(spec));
  s += fmt::format("#SBATCH --array=1-{}\n", tasks);
  s += "#SBATCH --ntasks=1\n";
  s += fmt::format("#SBATCH --cpus-per-task={}\n", o.pool.jobs);
  if (output_in_dir)
    s += fmt::format("#SBATCH --output={}/slurm-%A_%a.out\n", dir);
  for (const std::string &arg : o.sbatch_args) {
    check_sbatch_arg(arg);
    s += "#SBATCH " + arg + "\n";
  }
  s += "set -euo pipefail\n";
  s += fmt::format("exec {} sweep {} --shard \"${{SLURM_ARRAY_TASK_ID}}/{}\" -j {} --out {} "
                   "--resume --quiet{}\n",
                   shell_quote(self_executable()), shell_quote(absolute(o.file)), tasks,
                   o.pool.jobs, shell_quote(dir), point_options(o));
  return s;
}

int submit_to_slurm(const SweepSpec &spec, const SweepOptions &o, unsigned tasks) {
  std::string text = sbatch_script(spec, o, tasks, true);
  fs::create_directories(o.out_dir);
  std::string script = o.out_dir + "/sweep.sbatch";
  write_file_atomically(script, text);
  std::string dir = absolute(o.out_dir);
  std::string array = run_shell("sbatch --parsable " + shell_quote(script));
  array = array.substr(0, array.find_first_of(";\n"));
  // afterany: a shard with a failed point exits 1, and its results still belong in the merge.
  // The merge job runs with the same sbatch options (the account and partition it needs).
  std::string merge_options;
  for (const std::string &arg : o.sbatch_args)
    merge_options += shell_quote(arg) + " ";
  std::string merge = run_shell(
      fmt::format("sbatch --parsable --dependency=afterany:{} --job-name={}-merge "
                  "--output={}/slurm-merge-%j.out {}--wrap {}",
                  array, job_name(spec), shell_quote(dir), merge_options,
                  shell_quote(fmt::format("{} merge {} --out {}", shell_quote(self_executable()),
                                          shell_quote(dir), shell_quote(dir)))));
  merge = merge.substr(0, merge.find_first_of(";\n"));
  std::cout << fmt::format("submitted array job {} ({} tasks, script {}) and merge job {}, which "
                           "runs after it; results will be in {}/results.csv\n",
                           array, tasks, script, merge, o.out_dir);
  return kExitOk;
}

} // namespace pciesim
