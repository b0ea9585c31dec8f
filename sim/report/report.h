// Presenting a run: the terminal table, results.json and results.csv / links.csv. The files are
// written as one set (sim/util/file_io.h), so a crash or a full disk never leaves a truncated or
// mixed result.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "sim/run/simulation.h"
#include "sim/util/file_io.h" // write_file_atomically, read_text_file

namespace pciesim {

std::string format_table(const RunResult &result);
nlohmann::ordered_json result_json(const RunResult &result);
std::string transfers_csv(const RunResult &result);
std::string links_csv(const RunResult &result);

// Writes results.json, results.csv, links.csv and run-info.json (wall clock) into `dir`,
// creating it and its missing parents if needed: all four files or none of them. Throws
// std::runtime_error naming the path on I/O failure.
void write_results(const RunResult &result, const std::string &dir);
// Same, with results.json given (result_json plus what the caller added, e.g. expectations).
void write_results(const RunResult &result, const std::string &dir,
                   const nlohmann::ordered_json &results);

// A CSV field, quoted when it holds a comma, a quote, a line feed or a carriage return
// (RFC 4180).
std::string csv_field(const std::string &s);

} // namespace pciesim
