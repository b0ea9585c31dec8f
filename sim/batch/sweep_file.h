// A sweep file: a base scenario and the axes along which it is varied. Loading is strict like
// every other input (one InputError naming the sweep file and a JSON pointer), and every point
// is materialised and checked by the scenario loader before anything runs, so that a typo in
// the 17th value fails in a second rather than after an hour of simulation.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/config/overrides.h"

namespace pciesim {

using OrderedJson = nlohmann::ordered_json;

// A sweep has at most this many points (axis lengths multiplied, times the seeds). The count is
// checked before any point is built; each point is a child process and a directory, and the
// load checks every one of them. Also the largest N of --shard K/N.
inline constexpr std::size_t kMaxSweepPoints = 100000;

struct SweepAxis {
  std::string name;
  std::string document;              // "scenario" or "topology"
  std::vector<std::string> pointers; // each one is set to the axis value
  std::vector<OrderedJson> values;   // grid mode only
};

// One simulation of the sweep: the base scenario with one value per axis.
struct SweepPoint {
  std::size_t index = 0;
  std::string id;     // "p0007_size-4KiB_gen-3": index first, so ids sort by index
  OrderedJson values; // axis name -> value, in axis order
};

// A file the points are made from, and the SHA-256 of the bytes that were read.
struct SweepInput {
  std::string file; // relative to the sweep file's directory (or absolute), as in the manifest
  std::string sha256;
};

class SweepPointBuilder;

struct SweepSpec {
  std::string file;
  std::string name;
  std::string description;
  std::vector<SweepAxis> axes; // seeds, if given, are the last axis, named "seed"
  std::vector<SweepPoint> points;
  std::vector<SweepInput> inputs; // the sweep file, the base scenario, every topology file
  // The --set overrides put into the base (and topology: into every topology) before the
  // axes, as `[topology:]POINTER=JSON`; in the manifest, so --resume refuses other ones.
  std::vector<std::string> overrides;

  // The point's self-contained scenario (topology inlined), built again from the inputs as
  // they were read and checked: points are not all kept in memory.
  OrderedJson scenario_of(const SweepPoint &point) const;

  std::shared_ptr<SweepPointBuilder> builder;
};

// Reads an input file of a sweep: its bytes, or the InputError that load_json_file gives.
using SweepFileReader = std::function<std::string(const std::string &path)>;

// Loads the sweep file and materialises (and validates) every point, with `overrides` (from
// `sweep --set`) put into the base scenario and its topologies first.
SweepSpec load_sweep_file(const std::string &path, const std::vector<JsonOverride> &overrides = {});
// The same with another reader (the fuzz target serves the sweep from memory and refuses
// every other file) and another point limit.
SweepSpec load_sweep_file(const std::string &path, const SweepFileReader &read,
                          std::size_t max_points, const std::vector<JsonOverride> &overrides = {});

// The manifest written to DIR/sweep-manifest.json: everything that defines the points (the
// axes, the points, and the hashes of every input, the pciesim version and executable), and
// nothing that depends on where or how the sweep ran.
OrderedJson sweep_manifest(const SweepSpec &spec);

// Whether setting one of two JSON pointers changes the value the other names: they are equal,
// or one is a prefix of the other at a token boundary (/a/b and /a/b/c, not /a/b and /a/bc).
bool json_pointers_overlap(const std::string &a, const std::string &b);

// The columns of results.csv and mechanisms.csv (sim/batch/sweep_results.cpp) whose names no
// axis may take: the point's and those the files have always had. An axis column that would
// repeat another column of a file (a newer one such as "count", or one of links.csv's such
// as "gen") is written as "axis.<name>" there.
const std::vector<std::string> &sweep_results_columns();
const std::vector<std::string> &sweep_mechanisms_columns();

} // namespace pciesim
