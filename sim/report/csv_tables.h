// The CSV files pciesim writes, as tables of columns over the JSON objects of results.json: a
// transfer, a link direction, a mechanism of a comparison. `run --out`, a comparison and the
// merge of a sweep all write their rows through these tables, so that a column has one name,
// one unit and one form in every file, and an absent or null value is an empty cell (never
// 0). docs/file-formats.md ("Outputs") documents every column; tests/sim/run/
// test_output_schemas.cpp compares the documented headers with the written ones.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pciesim {

// A column: its name (with its unit: _bytes, _ns, _GBps) and its cell of one JSON object.
struct CsvColumn {
  std::string name;
  std::function<std::string(const nlohmann::ordered_json &row)> cell;
};
using CsvColumns = std::vector<CsvColumn>;

// results.json "transfers[]" (a run's results.csv; a sweep's after the point columns).
const CsvColumns &transfer_csv_columns();
// results.json "links[]" (a run's links.csv; a comparison's after topology and mechanism).
const CsvColumns &link_csv_columns();
// A comparison's "mechanisms[]" (its results.csv; a workload sweep's mechanisms.csv).
const CsvColumns &mechanism_csv_columns();

std::vector<std::string> column_names(const CsvColumns &columns);
// "a,b,c" and the cells of one row, without the line end.
std::string csv_header(const CsvColumns &columns);
std::string csv_cells(const CsvColumns &columns, const nlohmann::ordered_json &row);
// The header line and one line per object of the array `rows`.
std::string csv_table(const CsvColumns &columns, const nlohmann::ordered_json &rows);

// A CSV field, quoted when it holds a comma, a quote, a line feed or a carriage return
// (RFC 4180).
std::string csv_field(const std::string &s);

} // namespace pciesim
