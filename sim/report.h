// Presenting a run: the terminal table, results.json and results.csv / links.csv. Files are
// written to a temporary name and renamed, so a crash never leaves a truncated result.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "sim/simulation.h"

namespace pciesim {

std::string format_table(const RunResult &result);
nlohmann::ordered_json result_json(const RunResult &result);
std::string transfers_csv(const RunResult &result);
std::string links_csv(const RunResult &result);

// Writes results.json, results.csv, links.csv and run-info.json (wall clock) into `dir`,
// creating it if needed. Throws std::runtime_error on I/O failure.
void write_results(const RunResult &result, const std::string &dir);
// Same, with results.json given (result_json plus what the caller added, e.g. expectations).
void write_results(const RunResult &result, const std::string &dir,
                   const nlohmann::ordered_json &results);

void write_file_atomically(const std::string &path, const std::string &content);
// The whole file as bytes ("" if it cannot be read).
std::string read_text_file(const std::string &path);
// A CSV field, quoted when it holds a comma, a quote or a newline (RFC 4180).
std::string csv_field(const std::string &s);

} // namespace pciesim
