#include "sim/util/standard_streams.h"

#include <cerrno>
#include <cstddef>
#include <fcntl.h>
#include <iostream>
#include <streambuf>
#include <unistd.h>

#include "sim/util/file_io.h"

namespace pciesim {
namespace {

// std::cout's bytes go to standard output through this buffer, which keeps the reason a write
// failed: the C library's stdout forgets it once it drops the buffer it could not write.
class CheckedOutputBuffer : public std::streambuf {
public:
  int error() const { return error_; }

protected:
  int_type overflow(int_type c) override {
    if (sync() != 0)
      return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override {
    std::size_t size = static_cast<std::size_t>(pptr() - pbase());
    if (size > 0 && error_ == 0)
      error_ = write_all(STDOUT_FILENO, pbase(), size);
    setp(buffer_, buffer_ + sizeof buffer_);
    return error_ == 0 ? 0 : -1;
  }

private:
  char buffer_[65536];
  int error_ = 0;
};

CheckedOutputBuffer *checked_output = nullptr;

} // namespace

void hold_closed_standard_descriptors() {
  for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF)
      continue;
    // Opened the other way, so that reading standard input or writing standard output or
    // error still fails with EBADF, as on the closed descriptor. Without /dev (a bare chroot),
    // the root directory does as much for writes; a read of it fails with EISDIR.
    int held = ::open("/dev/null", fd == STDIN_FILENO ? O_WRONLY : O_RDONLY);
    if (held < 0)
      held = ::open("/", O_RDONLY | O_DIRECTORY);
    if (held >= 0 && held != fd) {
      ::dup2(held, fd);
      ::close(held);
    }
  }
}

void install_checked_standard_output() {
  if (checked_output)
    return;
  // Never destroyed: std::cout is flushed at exit, after static objects are gone.
  checked_output = new CheckedOutputBuffer;
  std::cout.rdbuf(checked_output);
}

int standard_output_error() {
  std::cout.flush();
  if (checked_output && checked_output->error() != 0)
    return checked_output->error();
  return std::cout.good() ? 0 : EIO;
}

} // namespace pciesim
