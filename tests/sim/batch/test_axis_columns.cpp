// The columns a sweep's axes take in the merged CSV files (sim/batch/axis_columns.h): each
// kind of value in its canonical unit, objects split into member columns, name collisions
// prefixed with "axis.".
#include <gtest/gtest.h>

#include "sim/batch/axis_columns.h"

namespace pciesim {
namespace {
using AxisPointJson = nlohmann::ordered_json;

std::vector<AxisPointJson> points_of(const std::string &axis, const AxisPointJson &values) {
  std::vector<AxisPointJson> points;
  for (const AxisPointJson &v : values)
    points.push_back(AxisPointJson{{axis, v}});
  return points;
}

// The header and the cells of every value of one axis.
std::vector<std::string> table(const std::string &axis, const AxisPointJson &values,
                               const std::vector<std::string> &taken = {}) {
  std::vector<AxisPointJson> points = points_of(axis, values);
  AxisColumns columns({axis}, points, taken);
  std::vector<std::string> out{columns.header()};
  for (const AxisPointJson &p : points)
    out.push_back(columns.cells(p));
  return out;
}

using Lines = std::vector<std::string>;

TEST(AxisColumns, ValuesWithUnitsBecomeNumbersInTheUnitOfTheColumnName) {
  EXPECT_EQ(table("size", {"64 B", "4 KiB", "1.5 KiB"}),
            (Lines{"size_bytes", "64", "4096", "1536"}));
  EXPECT_EQ(table("limit", {"1 ms", "250 ps"}), (Lines{"limit_ns", "1000000.000", "0.250"}));
  EXPECT_EQ(table("cap", {"25 GB/s", "200 Gb/s"}), (Lines{"cap_GBps", "25.000000", "25.000000"}));
  EXPECT_EQ(table("gen", {"8 GT/s", "16 GT/s"}), (Lines{"gen", "3", "4"}));
  // A name that says its unit already keeps it once.
  EXPECT_EQ(table("mrrs_bytes", {"512 B"}), (Lines{"mrrs_bytes", "512"}));
}

TEST(AxisColumns, PathsBecomeNamesAndOtherValuesStayAsWritten) {
  EXPECT_EQ(table("topology", {"../topologies/a-b.json", "/x/c.json"}),
            (Lines{"topology", "a-b", "c"}));
  EXPECT_EQ(table("mechanism", {"bounce", "p2p_dma_api"}),
            (Lines{"mechanism", "bounce", "p2p_dma_api"}));
  EXPECT_EQ(table("n", {1, 16, true}), (Lines{"n", "1", "16", "true"}));
  // Sizes mixed with other strings: no unit to put in the name, so as written.
  EXPECT_EQ(table("x", {"4 KiB", "big"}), (Lines{"x", "4 KiB", "big"}));
}

TEST(AxisColumns, ObjectsBecomeOneColumnPerMember) {
  EXPECT_EQ(table("migrate_to_ram_pages",
                  {{{"migrate_to_ram_pages", 1}}, {{"migrate_to_ram_pages", 512}}}),
            (Lines{"migrate_to_ram_pages", "1", "512"}));
  EXPECT_EQ(table("costs", {{{"odp_fault", "10 us"}}, {{"odp_fault", "1 us"}, {"batch", 4}}}),
            (Lines{"costs.odp_fault_ns,costs.batch", "10000.000,", "1000.000,4"}));
}

TEST(AxisColumns, ANameTakenByAnotherColumnIsPrefixed) {
  EXPECT_EQ(table("gen", {3, 4}, {"link", "gen"}), (Lines{"axis.gen", "3", "4"}));
  EXPECT_EQ(table("transfer", {"4 KiB"}, {"transfer_bytes"}),
            (Lines{"axis.transfer_bytes", "4096"}));
  // Two axes, in order; a point without a value has an empty cell.
  AxisColumns two({"a", "b"},
                  {AxisPointJson{{"a", "1 KiB"}, {"b", 2}}, AxisPointJson{{"a", "2 KiB"}}}, {});
  EXPECT_EQ(two.header(), "a_bytes,b");
  EXPECT_EQ(two.cells(AxisPointJson{{"a", "2 KiB"}}), "2048,");
}

} // namespace
} // namespace pciesim
