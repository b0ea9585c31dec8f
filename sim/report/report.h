// Presenting a run: the terminal table, results.json and results.csv / links.csv. The files are
// written as one set (sim/util/file_io.h), so a crash or a full disk never leaves a truncated or
// mixed result.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "sim/report/csv_tables.h"
#include "sim/run/simulation.h"
#include "sim/util/file_io.h" // write_file_atomically, read_text_file

namespace pciesim {

std::string format_table(const RunResult &result);
nlohmann::ordered_json result_json(const RunResult &result);
// A transfer's status in results.json and results.csv: "completed" (every one of its count
// finished), "incomplete" (the run stopped first), "unsupported" (refused before it ran: the
// platform cannot map it) or "failed" (an error, e.g. an Unsupported Request completion).
std::string transfer_status(const TransferResult &transfer);
// results.csv and links.csv: the rows of result_json's "transfers" and "links".
std::string transfers_csv(const RunResult &result);
std::string links_csv(const RunResult &result);

// Writes results.json, results.csv, links.csv and run-info.json (wall clock) into `dir`,
// creating it and its missing parents if needed: all four files or none of them. Throws
// std::runtime_error naming the path on I/O failure.
void write_results(const RunResult &result, const std::string &dir);
// Same, with results.json given (result_json plus what the caller added, e.g. expectations).
void write_results(const RunResult &result, const std::string &dir,
                   const nlohmann::ordered_json &results);

} // namespace pciesim
