#include "sim/report/run_output_dir.h"

#include <chrono>
#include <stdexcept>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>

#include "sim/report/report_page.h"
#include "sim/util/input_error.h"
#include "sim/util/lock_file.h"
#include "sim/util/output_directory.h"

namespace pciesim {

namespace {

bool holds_sweep(const std::string &dir) {
  struct stat st;
  return ::lstat((dir + "/sweep-manifest.json").c_str(), &st) == 0;
}

// DIR/.lock, held exclusively until destroyed.
class HeldDirectory {
public:
  HeldDirectory(const std::string &dir, int patience_ms) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(patience_ms);
    std::string holder;
    // Another run holds it for the moment it writes; a sweep or a merge for as long as it runs.
    while ((fd_ = try_lock_file(dir + "/.lock", LOCK_EX, holder)) < 0) {
      if (std::chrono::steady_clock::now() >= give_up)
        throw std::runtime_error(
            fmt::format("{} is in use by another pciesim sweep, merge or run ({}): this run's "
                        "results were not written; choose another --out",
                        dir, describe_lock_holder(holder)));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~HeldDirectory() { ::close(fd_); }
  HeldDirectory(const HeldDirectory &) = delete;
  HeldDirectory &operator=(const HeldDirectory &) = delete;

private:
  int fd_ = -1;
};

} // namespace

std::vector<std::string> run_output_paths(const std::string &dir) {
  std::vector<std::string> paths;
  for (const char *name : {"results.json", "results.csv", "links.csv", "run-info.json"})
    paths.push_back(dir + "/" + name);
  return paths;
}

void check_run_output_dir(const std::string &dir) {
  if (holds_sweep(dir))
    throw InputError(dir, "",
                     "holds a sweep's results (sweep-manifest.json), which a run's would be mixed "
                     "with",
                     "a new or empty directory, or one of an earlier run");
}

void write_run_output(const std::string &dir, OutputSet &files, int patience_ms) {
  create_output_directory(dir);
  HeldDirectory held(dir, patience_ms);
  // A sweep may have claimed the directory while this one ran.
  if (holds_sweep(dir))
    throw std::runtime_error(fmt::format(
        "{} took a sweep's results while this run ran: its results were not written", dir));
  const bool had_report = holds_pciesim_report(dir);
  files.write();
  files.remove_unwritten(run_output_paths(dir)); // what an earlier run wrote and this one not
  if (had_report)
    write_report(dir);
}

} // namespace pciesim
