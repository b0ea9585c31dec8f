// Reading input files: regular files (or "-", standard input) only, within a size limit that
// holds while reading (sim/util/file_io.h).
#include <cstdint>
#include <fcntl.h>
#include <optional>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include "sim/util/file_detail.h"
#include "sim/util/file_io.h"
#include "sim/util/input_error.h"

namespace pciesim {
namespace {

using file_detail::file_kind;
using file_detail::FileDescriptor;
using file_detail::system_error;

// Why a path cannot be opened, as the problem of an InputError. A missing file keeps the text
// that scenario and sweep loaders recognise ("cannot open ..."); the others do not start so,
// since they are not "does not exist".
std::string open_problem(int error) {
  switch (error) {
  case ENOENT:
  case ENOTDIR:
    return "cannot open the file: it does not exist";
  case ELOOP:
    return "too many levels of symbolic links (a symbolic link loop?)";
  case EACCES:
    return "permission denied";
  default:
    return "cannot be read: " + system_error(error);
  }
}

std::string too_large(std::uint64_t max_bytes) {
  return fmt::format("more than {} bytes, over the limit", max_bytes);
}

const std::string &standard_input(std::uint64_t max_bytes) {
  static std::optional<std::string> text;
  if (!text) {
    std::string read;
    int error = read_at_most(STDIN_FILENO, max_bytes, read);
    if (error != 0)
      throw InputError(kStandardInputName, "", "cannot be read: " + system_error(error),
                       "a JSON document on standard input");
    text = std::move(read);
  }
  if (text->size() > max_bytes)
    throw InputError(kStandardInputName, "", "input is " + too_large(max_bytes),
                     fmt::format("at most {} bytes", max_bytes));
  return *text;
}

} // namespace

int read_at_most(int fd, std::uint64_t max_bytes, std::string &text) {
  char buffer[65536];
  while (text.size() <= max_bytes) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return errno;
    if (n == 0)
      break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  return 0;
}

namespace {
// Every regular file read as input so far, by device and inode, with the path it was read by.
struct ReadInput {
  dev_t device;
  ino_t inode;
  std::string path;
};
std::vector<ReadInput> &inputs_read() {
  static std::vector<ReadInput> inputs;
  return inputs;
}

// The input that is the file `st` describes, if one is.
const ReadInput *input_of(const struct stat &st) {
  for (const ReadInput &input : inputs_read())
    if (input.device == st.st_dev && input.inode == st.st_ino)
      return &input;
  return nullptr;
}

// Counts the regular file `st` (by `path`) among the inputs, once.
void remember_input(const struct stat &st, const std::string &path) {
  if (S_ISREG(st.st_mode) && !input_of(st))
    inputs_read().push_back({st.st_dev, st.st_ino, path});
}
} // namespace

std::string input_named_by(const std::string &path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return "";
  const ReadInput *input = input_of(st);
  return input ? input->path : "";
}

void note_input_file(const std::string &path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0)
    remember_input(st, path);
}

std::string read_input_file(const std::string &path, std::uint64_t max_bytes) {
  if (path == "-")
    return standard_input(max_bytes);
  // Not blocking: opening a FIFO would otherwise wait for a writer. fstat on what was opened,
  // so that the file checked is the file read.
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!fd.is_open()) {
    int error = errno;
    throw InputError(path, "", open_problem(error),
                     error == ENOENT || error == ENOTDIR ? "an existing file" : "a readable file");
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    throw InputError(path, "", "cannot be read: " + system_error(errno), "a readable file");
  if (S_ISDIR(st.st_mode))
    throw InputError(path, "", "is a directory", "a JSON file");
  if (!S_ISREG(st.st_mode))
    throw InputError(path, "", "is " + file_kind(st.st_mode) + ", not a regular file",
                     "a JSON file");
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes)
    throw InputError(path, "", fmt::format("file is {} bytes, over the limit", st.st_size),
                     fmt::format("at most {} bytes", max_bytes));
  std::string text;
  int error = read_at_most(fd.get(), max_bytes, text);
  if (error != 0)
    throw InputError(path, "", "cannot be read: " + system_error(error), "a readable file");
  // The file grew while it was read.
  if (text.size() > max_bytes)
    throw InputError(path, "", "file is " + too_large(max_bytes),
                     fmt::format("at most {} bytes", max_bytes));
  remember_input(st, path); // the descriptor's: no second lookup of the path
  return text;
}

std::string read_text_file(const std::string &path) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  std::string text;
  int error = fd.is_open() ? read_at_most(fd.get(), UINT64_MAX - 1, text) : errno;
  if (error != 0)
    throw std::runtime_error(fmt::format("cannot read {}: {}", path, system_error(error)));
  return text;
}

} // namespace pciesim
