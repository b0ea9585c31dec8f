#include "sim/util/lock_file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <stdexcept>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace pciesim {

int try_lock_file(const std::string &path, int operation, std::string &holder) {
  // Never through a symbolic link, nor into a FIFO, a device or a file with other names: the pid
  // written below would land in a file outside the output directory.
  int fd =
      ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0644);
  if (fd < 0 && errno == ELOOP)
    throw std::runtime_error(
        fmt::format("cannot lock {}: it is a symbolic link, not a lock file pciesim made", path));
  if (fd < 0)
    throw std::runtime_error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
    ::close(fd);
    throw std::runtime_error(fmt::format("cannot lock {}: it is not a lock file pciesim made (a "
                                         "regular file with no other name)",
                                         path));
  }
  if (::flock(fd, operation | LOCK_NB) != 0) {
    int error = errno;
    char pid[32] = {};
    ssize_t n = ::pread(fd, pid, sizeof pid - 1, 0);
    ::close(fd);
    if (error != EWOULDBLOCK)
      throw std::runtime_error(fmt::format("cannot lock {}: {}", path, std::strerror(error)));
    holder = n > 0 ? std::string(pid, static_cast<std::size_t>(n)) : "";
    holder = holder.substr(0, holder.find('\n'));
    return -1;
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0)
    std::cerr << fmt::format("pciesim: cannot write the pid into {}: {}\n", path,
                             std::strerror(errno));
  return fd;
}

std::string describe_lock_holder(const std::string &holder) {
  return holder.empty() ? "pid unknown" : "pid " + holder;
}

} // namespace pciesim
