// The columns a sweep's axes take in its CSV files: each value in a canonical form that needs
// no parsing. A size becomes integer bytes (column "<axis>_bytes"), a time nanoseconds with 3
// decimals ("<axis>_ns"), a rate GB/s ("<axis>_GBps"), "16 GT/s" its generation, a path to a
// .json file the file's name without the extension; an axis of objects (a pointer at
// /workload/costs, say) becomes one column per member, "<axis>.<member>" or just the member's
// name when it is the axis's, each member converted the same way. The values as written in
// the sweep file stay in the merged results.json.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pciesim {

class AxisColumns {
public:
  // `axes`: the axis names; `points`: every point's "values" (axis name -> value as written),
  // from which each axis's kind is decided. A name that would be one of `taken` (the other
  // columns of the file, e.g. an axis "gen" in links.csv) or an earlier axis column's is
  // prefixed with "axis.".
  AxisColumns(const std::vector<std::string> &axes,
              const std::vector<nlohmann::ordered_json> &points,
              const std::vector<std::string> &taken);

  const std::vector<std::string> &names() const { return names_; }
  // The header cells, joined with commas (no leading or trailing comma).
  std::string header() const;
  // The cells of one point's values, joined with commas.
  std::string cells(const nlohmann::ordered_json &values) const;

private:
  enum class Kind { Bytes, Time, Rate, Generation, JsonFile, AsWritten };
  struct Column {
    std::string axis, member; // member: "" for a scalar axis
    Kind kind = Kind::AsWritten;
  };
  static Kind kind_of(const std::vector<const nlohmann::ordered_json *> &values);
  static std::string cell(Kind kind, const nlohmann::ordered_json &value);

  std::vector<Column> columns_;
  std::vector<std::string> names_;
};

} // namespace pciesim
