// The output directory of a sweep or a merge: its manifest (which sweep, made from which
// inputs), the check that a directory may take a sweep's points, and the lock held while one
// writes into it.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "sim/batch/sweep_file.h"

namespace pciesim {

// A command-line problem that is not in a file: one line, exit code 2.
struct SweepUsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// DIR/sweep-manifest.json, with what sweep and merge rely on checked; an InputError naming the
// file otherwise.
OrderedJson read_sweep_manifest(const std::string &dir);

// What makes two manifests differ, for a message ("" if nothing): another sweep, or the same
// sweep made from other inputs. `a_name` and `b_name` say where each manifest comes from.
std::string manifest_difference(const OrderedJson &a, const std::string &a_name,
                                const OrderedJson &b, const std::string &b_name);

// The manifest in DIR, if there is one, must be this sweep's, made from the same inputs
// (SweepUsageError otherwise). Returns whether there is one.
bool require_same_sweep(const std::string &dir, const OrderedJson &manifest);

// Makes DIR/points and writes the manifest, unless DIR holds this sweep already.
void claim_output_dir(const std::string &dir, const OrderedJson &manifest);

// merge --out DIR: a new or empty directory, or one that holds this sweep (a shard's
// directory, an earlier merge); never another sweep's results or someone's other files.
void check_merge_target(const std::string &out_dir, const OrderedJson &manifest);

// Holds DIR/.lock (flock) while a sweep or a merge writes into DIR, so that a second one
// started there is refused rather than running or deleting the same points. Shards of one
// sweep may share DIR: each holds DIR/.lock shared and its own DIR/shards/.lock-K-of-N
// exclusively; an unsharded sweep and a merge hold DIR/.lock exclusively. Each holder writes
// its pid into the files it holds, for the message of the one refused. The descriptors are
// close-on-exec: the points' child processes do not hold the lock.
class OutputDirLock {
public:
  OutputDirLock(const std::string &dir, unsigned shard_k, unsigned shard_n);
  OutputDirLock(const OutputDirLock &) = delete;
  OutputDirLock &operator=(const OutputDirLock &) = delete;
  ~OutputDirLock();

private:
  void take(const std::string &dir, const std::string &path, int operation);

  std::vector<int> fds_;
};

} // namespace pciesim
