// Output directories: the one a command is given (`run --out`, `sweep --out`, `report DIR`),
// checked before any work and created with its parents, and the directories pciesim makes
// inside one (points/, report-svg/), which must be real directories so that nothing written
// in them leaves the output directory.
#pragma once

#include <string>

namespace pciesim {

// Refuses an output directory path that cannot be used: empty, not a directory, or, when it
// does not exist yet, under an existing ancestor that is not a writable directory (the missing
// directories are created when the results are written).
void check_output_directory(const std::string &dir, const std::string &option);
// Creates `dir` and its missing parents. Throws std::runtime_error naming the path.
void create_output_directory(const std::string &dir);

// Refuses a directory pciesim makes inside an output directory (points/, report-svg/) when
// something other than a real directory stands at its name (a symbolic link to one, too).
void check_output_subdirectory(const std::string &dir);
// Makes such a directory (its parent exists). Throws std::runtime_error naming the path when
// something else stands there.
void create_output_subdirectory(const std::string &dir);

} // namespace pciesim
