#include "sim/batch/sweep_output_dir.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <iostream>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>

#include "sim/batch/sweep.h"
#include "sim/config/json_input.h"
#include "sim/report/report.h"
#include "sim/report/report_page.h"
#include "sim/util/file_io.h"
#include "sim/util/input_error.h"
#include "sim/util/lock_file.h"
#include "sim/util/output_directory.h"

namespace pciesim {
namespace fs = std::filesystem;

namespace {

const char *const kManifestExpected =
    "a sweep-manifest.json as pciesim sweep writes it (delete the directory to start again)";

// A point id names a directory under DIR/points: a manifest must not lead anywhere else.
bool is_point_id(const std::string &id) {
  return !id.empty() && id[0] != '.' && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' ||
           c == '_' || c == '=';
  });
}

} // namespace

// DIR/sweep-manifest.json, with what sweep and merge rely on checked; an InputError naming the
// file otherwise.
OrderedJson read_sweep_manifest(const std::string &dir) {
  std::string path = dir + "/sweep-manifest.json";
  OrderedJson m = read_written_json(path, kManifestExpected);
  auto require = [&](bool ok, const std::string &pointer, const std::string &problem) {
    if (!ok)
      throw InputError(path, pointer, problem, kManifestExpected);
  };
  auto is_string = [](const OrderedJson &j, const char *key) {
    return j.contains(key) && j[key].is_string();
  };
  require(m.is_object(), "", "not an object");
  for (const char *key : {"sweep", "description"})
    require(is_string(m, key), "", fmt::format("no string \"{}\"", key));
  if (m.contains("inputs")) {
    const OrderedJson &inputs = m["inputs"];
    require(inputs.is_object() && is_string(inputs, "pciesim_version") &&
                is_string(inputs, "executable") && inputs.contains("files") &&
                inputs["files"].is_array(),
            "/inputs", "not the hashes of a sweep's inputs");
    for (const OrderedJson &f : inputs["files"])
      require(f.is_object() && is_string(f, "file") && is_string(f, "sha256"), "/inputs/files",
              "not a list of files and their hashes");
  }
  if (m.contains("set")) {
    require(m["set"].is_array(), "/set", "not a list of --set overrides");
    for (const OrderedJson &o : m["set"])
      require(o.is_string(), "/set", "not a list of --set overrides");
  }
  require(m.contains("axes") && m["axes"].is_array(), "", "no \"axes\" array");
  std::vector<std::string> axes;
  for (std::size_t i = 0; i < m["axes"].size(); ++i) {
    require(m["axes"][i].is_object() && is_string(m["axes"][i], "name"), fmt::format("/axes/{}", i),
            "not an axis with a name");
    axes.push_back(m["axes"][i]["name"].get<std::string>());
  }
  require(m.contains("points") && m["points"].is_array(), "", "no \"points\" array");
  for (std::size_t i = 0; i < m["points"].size(); ++i) {
    const OrderedJson &p = m["points"][i];
    std::string at = fmt::format("/points/{}", i);
    require(p.is_object() && p.contains("index") && p["index"] == i, at,
            fmt::format("not point {}", i));
    require(is_string(p, "id") && is_point_id(p["id"].get<std::string>()), at + "/id",
            "not a point id (letters, digits, '.', '-', '+', '_', '=')");
    require(p.contains("values") && p["values"].is_object(), at, "no values object");
    for (const std::string &a : axes)
      require(p["values"].contains(a), at + "/values", fmt::format("no value of axis \"{}\"", a));
  }
  return m;
}

// What makes two manifests differ, for a message ("" if nothing): another sweep, or the same
// sweep made from other inputs. `a_name` and `b_name` say where each manifest comes from.
std::string manifest_difference(const OrderedJson &a, const std::string &a_name,
                                const OrderedJson &b, const std::string &b_name) {
  if (a == b)
    return "";
  for (const char *key : {"sweep", "axes", "points"})
    if (a.at(key) != b.at(key))
      return fmt::format("{} and {} are different sweeps (their {} differ)", a_name, b_name,
                         std::string(key) == "sweep" ? "names" : key);
  auto overrides = [](const OrderedJson &m) {
    std::vector<std::string> set;
    for (const OrderedJson &o : m.value("set", OrderedJson::array()))
      set.push_back("--set " + o.get<std::string>());
    return set.empty() ? std::string("no --set") : join(set, " ");
  };
  if (overrides(a) != overrides(b))
    return fmt::format("{} was made with {}, {} with {}", a_name, overrides(a), b_name,
                       overrides(b));
  if (!a.contains("inputs") || !b.contains("inputs"))
    return fmt::format("{} was written by a pciesim that kept no hashes of the sweep's inputs: "
                       "whether its points were made from the same inputs cannot be told",
                       a.contains("inputs") ? b_name : a_name);
  const OrderedJson &x = a["inputs"], &y = b["inputs"];
  std::vector<std::string> changes;
  for (const char *key : {"pciesim_version", "executable"})
    if (x[key] != y[key])
      changes.push_back(fmt::format(
          "{} changed ({} in {}, {} in {})",
          std::string(key) == "executable" ? "the pciesim executable" : "the pciesim version",
          x[key].get<std::string>(), a_name, y[key].get<std::string>(), b_name));
  auto hashes = [](const OrderedJson &inputs) {
    std::vector<std::pair<std::string, std::string>> files;
    for (const OrderedJson &f : inputs["files"])
      files.emplace_back(f["file"].get<std::string>(), f["sha256"].get<std::string>());
    return files;
  };
  auto find = [](const std::vector<std::pair<std::string, std::string>> &files,
                 const std::string &file) {
    for (const auto &[name, sha256] : files)
      if (name == file)
        return sha256;
    return std::string();
  };
  auto x_files = hashes(x), y_files = hashes(y);
  for (const auto &[file, sha256] : x_files) {
    std::string other = find(y_files, file);
    if (other.empty())
      changes.push_back(fmt::format("input {} of {} is not one of {}", file, a_name, b_name));
    else if (other != sha256)
      changes.push_back(fmt::format("input {} changed (sha256 {}… in {}, {}… in {})", file,
                                    sha256.substr(0, 12), a_name, other.substr(0, 12), b_name));
  }
  for (const auto &[file, sha256] : y_files)
    if (find(x_files, file).empty())
      changes.push_back(fmt::format("input {} of {} is not one of {}", file, b_name, a_name));
  if (changes.empty())
    return fmt::format("{} and {} differ (their descriptions)", a_name, b_name);
  return join(changes, "; ");
}

// The manifest in DIR, if there is one, must be this sweep's, made from the same inputs.
// Returns whether there is one.
bool require_same_sweep(const std::string &dir, const OrderedJson &manifest) {
  if (!fs::exists(dir + "/sweep-manifest.json")) {
    // A run's results (`run --out DIR`): the sweep's results.csv and report would replace
    // them beside what is left of the run's.
    if (fs::exists(dir + "/results.json"))
      throw SweepUsageError(fmt::format("{} holds a run's results (results.json, no "
                                        "sweep-manifest.json), which the sweep's would be mixed "
                                        "with; choose another --out",
                                        dir));
    return false;
  }
  std::string difference = manifest_difference(
      read_sweep_manifest(dir), dir + "/sweep-manifest.json", manifest, "this sweep");
  if (!difference.empty())
    throw SweepUsageError(fmt::format(
        "{} cannot take this sweep's points: {}; choose another --out", dir, difference));
  return true;
}

namespace {
// What stands at the names a sweep or merge writes in `dir` must be a regular file or a real
// directory, or nothing (InputError otherwise): a symbolic link there would take the write
// outside the directory.
void check_sweep_outputs(const std::string &dir) {
  for (const char *name : {"sweep-manifest.json", "sweep-info.json", "results.json", "results.csv",
                           "links.csv", "mechanisms.csv"})
    check_output_file_inside(dir + "/" + name, "--out");
  for (const char *folder : {"/points", "/shards"})
    check_output_subdirectory(dir + folder);
  check_report_outputs(dir);
}
} // namespace

void claim_output_dir(const std::string &dir, const OrderedJson &manifest) {
  check_sweep_outputs(dir);
  const bool holds_this_sweep = require_same_sweep(dir, manifest); // before anything is made
  create_output_subdirectory(dir + "/points");
  if (!holds_this_sweep)
    write_file_atomically(dir + "/sweep-manifest.json", manifest.dump(2) + "\n");
}

OutputDirLock::OutputDirLock(const std::string &dir, unsigned shard_k, unsigned shard_n) {
  if (shard_n > 1) {
    take(dir, dir + "/.lock", LOCK_SH);
    create_output_subdirectory(dir + "/shards");
    take(dir, fmt::format("{}/shards/.lock-{}-of-{}", dir, shard_k, shard_n), LOCK_EX);
  } else {
    take(dir, dir + "/.lock", LOCK_EX);
  }
}

OutputDirLock::~OutputDirLock() {
  for (int fd : fds_)
    ::close(fd);
}

void OutputDirLock::take(const std::string &dir, const std::string &path, int operation) {
  std::string holder;
  int fd = try_lock_file(path, operation, holder);
  if (fd < 0)
    throw SweepUsageError(fmt::format("{} is in use by another pciesim sweep, merge or run ({}); "
                                      "wait for it to finish, or choose another --out",
                                      dir, describe_lock_holder(holder)));
  fds_.push_back(fd);
}

// merge --out DIR: a new or empty directory, or one that holds this sweep (a shard's
// directory, an earlier merge); never another sweep's results or someone's other files.
void check_merge_target(const std::string &out_dir, const OrderedJson &manifest) {
  if (fs::is_directory(out_dir))
    check_sweep_outputs(out_dir);
  if (fs::exists(out_dir + "/sweep-manifest.json")) {
    std::string difference =
        manifest_difference(read_sweep_manifest(out_dir), out_dir + "/sweep-manifest.json",
                            manifest, "the merged directories");
    if (!difference.empty())
      throw SweepUsageError(fmt::format("{} cannot take the merged points: {}; merge into a new "
                                        "directory",
                                        out_dir, difference));
    return;
  }
  if (!fs::exists(out_dir))
    return;
  if (!fs::is_directory(out_dir))
    throw SweepUsageError(fmt::format("--out {} is not a directory", out_dir));
  for (const auto &entry : fs::directory_iterator(out_dir))
    if (entry.path().filename() != ".lock")
      throw SweepUsageError(
          fmt::format("{} holds no sweep but other files ({} ...); merge into a new "
                      "or empty directory, or into one of this sweep",
                      out_dir, entry.path().filename().string()));
}

} // namespace pciesim
