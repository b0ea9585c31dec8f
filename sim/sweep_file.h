// A sweep file: a base scenario and the axes along which it is varied. Loading is strict like
// every other input (one InputError naming the sweep file and a JSON pointer), and every point
// is materialised and checked by the scenario loader before anything runs, so that a typo in
// the 17th value fails in a second rather than after an hour of simulation.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pciesim {

using OrderedJson = nlohmann::ordered_json;

struct SweepAxis {
  std::string name;
  std::string document;              // "scenario" or "topology"
  std::vector<std::string> pointers; // each one is set to the axis value
  std::vector<OrderedJson> values;   // grid mode only
};

// One simulation of the sweep: the base scenario with one value per axis.
struct SweepPoint {
  std::size_t index = 0;
  std::string id;       // "p0007_size-4KiB_gen-3": index first, so ids sort by index
  OrderedJson values;   // axis name -> value, in axis order
  OrderedJson scenario; // self-contained scenario (topology inlined)
};

struct SweepSpec {
  std::string file;
  std::string name;
  std::string description;
  std::vector<SweepAxis> axes; // seeds, if given, are the last axis, named "seed"
  std::vector<SweepPoint> points;
};

// Loads the sweep file and materialises (and validates) every point.
SweepSpec load_sweep_file(const std::string &path);

// The manifest written to DIR/sweep-manifest.json: everything that defines the points, and
// nothing that depends on where or how the sweep ran.
OrderedJson sweep_manifest(const SweepSpec &spec);

} // namespace pciesim
