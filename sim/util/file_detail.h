// What sim/util/input_files.cpp, file_io.cpp and output_directory.cpp share: a file descriptor
// closed with its scope, the words for errors and kinds of files in messages, and why a
// directory cannot take new files. Not for use elsewhere.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace pciesim::file_detail {

// A file descriptor that is closed when it goes out of scope.
class FileDescriptor {
public:
  explicit FileDescriptor(int fd = -1) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  FileDescriptor(FileDescriptor &&other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor &operator=(FileDescriptor &&other) noexcept {
    if (this != &other) {
      if (fd_ >= 0)
        ::close(fd_);
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  FileDescriptor(const FileDescriptor &) = delete;
  FileDescriptor &operator=(const FileDescriptor &) = delete;

  int get() const { return fd_; }
  bool is_open() const { return fd_ >= 0; }
  // Closes now: 0, or the errno of a failed close (a network file system may report a failed
  // write only here).
  int close() {
    int fd = std::exchange(fd_, -1);
    return fd >= 0 && ::close(fd) != 0 ? errno : 0;
  }

private:
  int fd_;
};

inline std::string system_error(int error) { return std::strerror(error); }

// What kind of file a mode says, for messages ("a character device").
inline std::string file_kind(mode_t mode) {
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISSOCK(mode))
    return "a socket";
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISREG(mode))
    return "a regular file";
  if (S_ISLNK(mode))
    return "a symbolic link";
  return "a special file";
}

// Why new files cannot be created in `dir` ("" if they can). In output_directory.cpp.
std::string directory_problem(const std::string &dir);

} // namespace pciesim::file_detail
