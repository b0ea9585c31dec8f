#include "sim/util/output_directory.h"

#include <cerrno>
#include <filesystem>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "sim/util/file_detail.h"
#include "sim/util/file_io.h"
#include "sim/util/input_error.h"

namespace pciesim {

namespace file_detail {
// Why new files cannot be created in `dir` ("" if they can).
std::string directory_problem(const std::string &dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0)
    return errno == ENOENT
               ? fmt::format("the directory {} does not exist", dir)
               : fmt::format("cannot use the directory {}: {}", dir, system_error(errno));
  if (!S_ISDIR(st.st_mode))
    return fmt::format("{} is not a directory", dir);
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return errno == EROFS ? fmt::format("the directory {} is on a read-only file system", dir)
                          : fmt::format("no permission to create files in the directory {}", dir);
  return "";
}
} // namespace file_detail

using file_detail::directory_problem;
using file_detail::file_kind;
using file_detail::system_error;

void check_output_directory(const std::string &dir, const std::string &option) {
  if (dir.empty())
    throw InputError(option, "", "an empty path", "a directory path");
  if (dir == "-")
    throw InputError(dir, "", "standard output is not a directory for " + option,
                     "a directory path");
  const std::string expected = "a writable directory, or a path where one can be created";
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode))
      throw InputError(dir, "", "is " + file_kind(st.st_mode) + ", not a directory", expected);
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
      throw InputError(dir, "",
                       errno == EROFS ? "is on a read-only file system"
                                      : "cannot be written: permission denied",
                       expected);
    return;
  }
  if (errno != ENOENT)
    throw InputError(dir, "", "cannot be used: " + system_error(errno), expected);
  // It is created with its missing parents when the results are written: the nearest one
  // that exists must take new directories.
  std::string ancestor = dir;
  do {
    ancestor = directory_of(ancestor);
  } while (::stat(ancestor.c_str(), &st) != 0 && errno == ENOENT);
  std::string problem = directory_problem(ancestor);
  if (!problem.empty())
    throw InputError(dir, "", "cannot be created: " + problem, expected);
}

void create_output_directory(const std::string &dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error)
    throw std::runtime_error(
        fmt::format("cannot create the directory {}: {}", dir, error.message()));
}

namespace {
// Why `dir` cannot be a directory pciesim makes inside an output directory ("" if it can:
// absent, or a real directory). A symbolic link, even to a directory, would take the files
// written in it outside.
std::string subdirectory_problem(const std::string &dir) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0)
    return errno == ENOENT ? "" : "cannot be used: " + system_error(errno);
  if (S_ISDIR(st.st_mode))
    return "";
  std::string kind = file_kind(st.st_mode);
  struct stat followed {};
  if (S_ISLNK(st.st_mode) && ::stat(dir.c_str(), &followed) == 0 && S_ISDIR(followed.st_mode))
    kind += " to a directory";
  return "is " + kind +
         " inside an output directory, where pciesim makes only directories of "
         "its own";
}
} // namespace

void check_output_subdirectory(const std::string &dir) {
  const std::string problem = subdirectory_problem(dir);
  if (!problem.empty())
    throw InputError(dir, "", problem, "no file at this name, or a directory");
}

void create_output_subdirectory(const std::string &dir) {
  if (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST)
    throw std::runtime_error(
        fmt::format("cannot create the directory {}: {}", dir, system_error(errno)));
  // What stood there already (or was made meanwhile) must be a real directory, not a link.
  const std::string problem = subdirectory_problem(dir);
  if (!problem.empty())
    throw std::runtime_error(fmt::format("cannot write in {}: it {}", dir, problem));
}

} // namespace pciesim
