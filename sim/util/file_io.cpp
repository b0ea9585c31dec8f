#include "sim/util/file_io.h"

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <utility>

#include <fmt/format.h>

#include "sim/util/file_detail.h"
#include "sim/util/input_error.h"

namespace pciesim {
namespace {

using file_detail::directory_problem;
using file_detail::file_kind;
using file_detail::FileDescriptor;
using file_detail::system_error;

[[noreturn]] void fail_to_write(const std::string &path, int error) {
  throw std::runtime_error(fmt::format("cannot write {}: {}", path, system_error(error)));
}

// Where an output path leads, and whether it can be written there.
struct Destination {
  std::string target;    // the file to replace: the path with its symbolic links followed
  bool in_place = false; // it exists and is not a regular file (a device, a FIFO)
  bool replaces = false; // a regular file is there now
  mode_t mode = 0;       // its permissions, kept by the file that replaces it
  std::string problem;   // why it cannot be written, if it cannot
  std::string expected;  // what would do instead
};

// `path` with the symbolic links of its last component followed, even to a file that does not
// exist yet. The directories on the way are left to the kernel.
std::string follow_links(std::string path) {
  for (int hops = 0; hops < 64; ++hops) {
    struct stat st {};
    char link[PATH_MAX];
    if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode))
      break;
    ssize_t n = ::readlink(path.c_str(), link, sizeof link - 1);
    if (n <= 0)
      break;
    std::string to(link, static_cast<std::size_t>(n));
    path = path_in_directory(directory_of(path), to);
  }
  return path;
}

// The output paths the user named (check_output_file): there a symbolic link is followed and
// a device or FIFO written in place, as the user chose. Every other output path is a name
// pciesim chose inside an output directory (examine_inside).
std::set<std::string> &named_outputs() {
  static std::set<std::string> paths;
  return paths;
}

// What stands at a name inside an output directory pciesim writes ("" if nothing, or a regular
// file, which it may replace). Anything else would take the write outside the directory (a
// symbolic link to someone's file, a device) or was never pciesim's to replace.
std::string problem_inside(const std::string &path, const struct stat &st) {
  if (S_ISREG(st.st_mode))
    return "";
  std::string problem = "is " + file_kind(st.st_mode);
  if (S_ISLNK(st.st_mode)) {
    char link[PATH_MAX];
    ssize_t n = ::readlink(path.c_str(), link, sizeof link - 1);
    if (n > 0)
      problem += " (to " + std::string(link, static_cast<std::size_t>(n)) + ")";
  }
  return problem + " inside an output directory, where pciesim writes only regular files of "
                   "its own";
}

// A name pciesim chose inside an output directory: replaced only if a regular file (or nothing)
// stands there; never followed.
Destination examine_inside(const std::string &path) {
  Destination d;
  d.target = path;
  d.expected = "no file at this name, or a regular file that pciesim may replace";
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    d.problem = problem_inside(path, st);
    if (!d.problem.empty())
      return d;
    d.replaces = true;
    d.mode = st.st_mode & 07777;
  } else if (errno != ENOENT) {
    d.problem = "cannot be written: " + system_error(errno);
    return d;
  }
  std::string problem = directory_problem(directory_of(path));
  if (!problem.empty())
    d.problem = "cannot be written: " + problem;
  return d;
}

Destination examine(const std::string &path) {
  if (!path.empty() && named_outputs().count(path) == 0)
    return examine_inside(path);
  Destination d;
  d.target = path;
  d.expected = "a path in an existing, writable directory";
  if (path.empty()) {
    d.problem = "an empty path";
    d.expected = "a file path";
    return d;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      d.problem = "is a directory";
      d.expected = "a file path";
      return d;
    }
    if (!S_ISREG(st.st_mode)) {
      d.in_place = true;
      return d;
    }
    d.replaces = true;
    d.mode = st.st_mode & 07777;
  } else if (errno == ELOOP) {
    d.problem = "cannot be written: too many levels of symbolic links (a symbolic link loop?)";
    return d;
  } else if (errno == EACCES) {
    d.problem = "cannot be written: permission denied";
    return d;
  } else if (errno != ENOENT) {
    d.problem = "cannot be written: " + system_error(errno);
    return d;
  }
  // The temporary goes beside the file it replaces, whose directory must take new files.
  d.target = follow_links(path);
  std::string problem = directory_problem(directory_of(d.target));
  if (!problem.empty())
    d.problem = "cannot be written: " + problem;
  return d;
}

// FIFOs and devices opened before the run (check_output_file), by the path given.
std::map<std::string, int> &opened_in_place() {
  static std::map<std::string, int> files;
  return files;
}

// Opens a FIFO or device for writing without waiting for a reader. Returns the descriptor, or
// -1 with `problem` set.
int open_in_place(const std::string &path, std::string &problem) {
  auto &opened = opened_in_place();
  auto it = opened.find(path);
  if (it != opened.end()) {
    int fd = it->second;
    opened.erase(it);
    return fd;
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    int error = errno;
    struct stat st {};
    bool known = ::stat(path.c_str(), &st) == 0;
    if (error == ENXIO && known && S_ISFIFO(st.st_mode))
      problem = "is a FIFO that no process is reading (refused rather than waiting for one)";
    else if (error == ENXIO && known)
      problem = "is " + file_kind(st.st_mode) + ", which cannot be written";
    else
      problem = "cannot be written: " + system_error(error);
    return -1;
  }
  // Once open, writes may wait for a slow reader like any pipe.
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0)
    ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

// Creates the temporary `name` (one left by a dead process of the same id is replaced).
FileDescriptor create_temporary(const std::string &name, const std::string &path) {
  for (int attempt = 0;; ++attempt) {
    int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd >= 0)
      return FileDescriptor(fd);
    if (errno != EEXIST || attempt > 0)
      fail_to_write(path, errno);
    ::unlink(name.c_str());
  }
}

std::string temporary_beside(const std::string &target, const std::string &suffix = "") {
  return fmt::format("{}.tmp.{}{}", target, ::getpid(), suffix);
}

// Flushes to disk and closes `fd`, which holds a temporary for `path`.
void finish_temporary(FileDescriptor &fd, const std::string &path) {
  int error = ::fsync(fd.get()) != 0 ? errno : 0;
  int close_error = fd.close();
  if (error == 0)
    error = close_error;
  if (error != 0)
    fail_to_write(path, error);
}

// The library writing a staged file may not check its writes (SystemC's VCD writer does not):
// a file that ends at the file size limit (ulimit -f), or on a file system with no space left,
// was cut short. Returns the errno its writes met (0 if none is likely).
int stopped_short(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return errno;
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
      static_cast<rlim_t>(st.st_size) >= limit.rlim_cur)
    return EFBIG;
  struct statvfs space {};
  // The superuser may use the blocks reserved for it.
  if (::fstatvfs(fd, &space) == 0 && (::geteuid() == 0 ? space.f_bfree : space.f_bavail) == 0)
    return ENOSPC;
  return 0;
}

// The names of the staged files of this process, for remove_staged_files_now(), which may run
// in a signal handler: fixed storage, and a slot counts only once its name is complete.
constexpr int kStagedSlots = 4;
char staged_names[kStagedSlots][PATH_MAX];
volatile std::sig_atomic_t staged_in_use[kStagedSlots];

int remember_staged(const std::string &name) {
  for (int slot = 0; slot < kStagedSlots; ++slot)
    if (!staged_in_use[slot] && name.size() < PATH_MAX) {
      std::memcpy(staged_names[slot], name.c_str(), name.size() + 1);
      staged_in_use[slot] = 1;
      return slot;
    }
  return -1;
}

void forget_staged(int slot) {
  if (slot >= 0)
    staged_in_use[slot] = 0;
}

} // namespace

int write_all(int fd, const char *data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return errno;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return 0;
}

std::string temporary_directory() {
  const char *dir = std::getenv("TMPDIR");
  return dir && *dir ? dir : "/tmp";
}

std::string directory_of(const std::string &path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string path_in_directory(const std::string &dir, const std::string &relative) {
  if (!relative.empty() && relative[0] == '/')
    return relative;
  return dir == "/" ? "/" + relative : dir + "/" + relative;
}

std::FILE *open_scratch_file_beside(const std::string &beside) {
  int fd = ::open(directory_of(beside).c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    // A file system without O_TMPFILE: a named file, unlinked at once.
    std::string name = beside + ".scratch.XXXXXX";
    fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd >= 0)
      ::unlink(name.c_str());
  }
  if (fd < 0)
    return nullptr;
  std::FILE *file = ::fdopen(fd, "w+b");
  if (!file) {
    int error = errno;
    ::close(fd);
    errno = error;
  }
  return file;
}

void remove_staged_files_now() {
  for (int slot = 0; slot < kStagedSlots; ++slot)
    if (staged_in_use[slot])
      ::unlink(staged_names[slot]);
}

namespace {
extern "C" void remove_staged_files_and_stop(int sig) {
  remove_staged_files_now();
  std::signal(sig, SIG_DFL);
  std::raise(sig); // delivered as the handler returns
}
} // namespace

void remove_staged_files_on_stop_signals() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP})
    if (std::signal(sig, remove_staged_files_and_stop) == SIG_IGN)
      std::signal(sig, SIG_IGN); // ignored by whoever started it (nohup): it stays so
}

namespace {
// Refuses an output at a file read as input so far: it would destroy what the run is made from.
void check_not_an_input(const std::string &path, const std::string &option) {
  const std::string input = input_named_by(path);
  if (!input.empty())
    throw InputError(path, "",
                     (input == path ? std::string("is an input") : "is the input " + input) +
                         " of this command, which the " + option + " output would replace",
                     "a file that is not one of the command's inputs");
}
} // namespace

void check_output_file(const std::string &path, const std::string &option) {
  if (path.empty())
    throw InputError(option, "", "an empty path", "a file path");
  // "-" reads standard input; as an output it would be a file named "-" in the current
  // directory, which nobody means.
  if (path == "-")
    throw InputError(path, "", "standard output is not a file for " + option,
                     "a file path, or /dev/stdout to write there");
  check_not_an_input(path, option);
  named_outputs().insert(path);
  Destination d = examine(path);
  if (!d.problem.empty())
    throw InputError(path, "", d.problem, d.expected);
  if (d.in_place && opened_in_place().count(path) == 0) {
    std::string problem;
    int fd = open_in_place(path, problem);
    if (fd < 0)
      throw InputError(path, "", problem, "a file path, or a FIFO that a reader has open");
    opened_in_place()[path] = fd;
  }
}

namespace {
// Whether two output paths name one file: the same path once symbolic links and "." and ".."
// are resolved, or two names (hard links) of one existing file. A character device (/dev/null)
// takes any number of writers.
bool same_output_file(const std::string &a, const std::string &b) {
  namespace fs = std::filesystem;
  std::error_code error;
  struct stat st {};
  if (::stat(a.c_str(), &st) == 0 && S_ISCHR(st.st_mode))
    return false;
  // weakly_canonical leaves a symbolic link to a file not yet written as it is: those are
  // followed first (as the writers will follow them), at most as deep as the kernel would.
  auto resolved = [&error](fs::path path) {
    for (int depth = 0; depth < 40 && fs::is_symlink(fs::symlink_status(path, error)); ++depth) {
      const fs::path target = fs::read_symlink(path, error);
      path = target.is_absolute() ? target : path.parent_path() / target;
    }
    return fs::weakly_canonical(path, error);
  };
  const fs::path canonical_a = resolved(a);
  if (error)
    return false;
  const fs::path canonical_b = resolved(b);
  if (error)
    return false;
  return canonical_a == canonical_b || fs::equivalent(a, b, error);
}
} // namespace

void check_distinct_outputs(const std::vector<std::pair<std::string, std::string>> &outputs) {
  for (std::size_t later = 1; later < outputs.size(); ++later)
    for (std::size_t earlier = 0; earlier < later; ++earlier) {
      const auto &[later_option, later_path] = outputs[later];
      const auto &[earlier_option, earlier_path] = outputs[earlier];
      if (!later_path.empty() && !earlier_path.empty() &&
          same_output_file(earlier_path, later_path))
        throw InputError(later_path, "", "is also where " + earlier_option + " goes",
                         "a file of its own for " + later_option);
    }
}

void check_output_file_inside(const std::string &path, const std::string &option) {
  check_not_an_input(path, option);
  Destination d = examine_inside(path);
  if (!d.problem.empty())
    throw InputError(path, "", d.problem, d.expected);
}

void OutputSet::add(std::string path, std::string content) {
  files_.push_back({std::move(path), std::move(content)});
}

bool OutputSet::contains(const std::string &path) const {
  for (const File &f : files_)
    if (f.path == path)
      return true;
  return false;
}

void OutputSet::remove_regular_file(const std::string &path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode))
    ::unlink(path.c_str());
}

void OutputSet::write() {
  struct Pending {
    const File *file;
    Destination destination;
    std::string temporary;     // written and flushed, not yet renamed
    FileDescriptor in_place{}; // a FIFO or device, opened before anything is renamed
  };
  std::vector<Pending> pending;
  for (const File &f : files_) {
    Destination d = examine(f.path);
    if (!d.problem.empty())
      throw std::runtime_error(fmt::format("cannot write {}: {}", f.path, d.problem));
    pending.push_back({&f, std::move(d), ""});
  }
  auto remove_temporaries = [&pending] {
    for (Pending &p : pending)
      if (!p.temporary.empty())
        ::unlink(std::exchange(p.temporary, "").c_str());
  };
  try {
    for (Pending &p : pending) {
      if (p.destination.in_place) {
        // Opened now: a FIFO without a reader fails the set before any file is replaced.
        std::string problem;
        p.in_place = FileDescriptor(open_in_place(p.file->path, problem));
        if (!p.in_place.is_open())
          throw std::runtime_error(fmt::format("cannot write {}: {}", p.file->path, problem));
        continue;
      }
      std::string name = temporary_beside(p.destination.target);
      FileDescriptor fd = create_temporary(name, p.file->path);
      p.temporary = name;
      if (p.destination.replaces)
        ::fchmod(fd.get(), p.destination.mode); // best effort, as an editor saving a file
      int error = write_all(fd.get(), p.file->content.data(), p.file->content.size());
      if (error != 0)
        fail_to_write(p.file->path, error);
      finish_temporary(fd, p.file->path);
    }
    // Every file is written: now they replace the old ones.
    for (Pending &p : pending) {
      if (p.destination.in_place) {
        int error = write_all(p.in_place.get(), p.file->content.data(), p.file->content.size());
        if (error == 0)
          error = p.in_place.close();
        if (error != 0)
          fail_to_write(p.file->path, error);
        continue;
      }
      if (::rename(p.temporary.c_str(), p.destination.target.c_str()) != 0)
        fail_to_write(p.file->path, errno);
      p.temporary.clear();
    }
  } catch (...) {
    remove_temporaries();
    throw;
  }
}

void write_file_atomically(const std::string &path, const std::string &content) {
  OutputSet set;
  set.add(path, content);
  set.write();
}

StagedFile::StagedFile(const std::string &path, const std::string &suffix) : path_(path) {
  Destination d = examine(path);
  if (!d.problem.empty())
    throw std::runtime_error(fmt::format("cannot write {}: {}", path, d.problem));
  if (d.in_place) {
    // Not beside a device (no files in /dev): in the temporary directory, then copied over.
    std::string name = temporary_directory() + "/pciesim-XXXXXX" + suffix;
    FileDescriptor fd(::mkostemps(name.data(), static_cast<int>(suffix.size()), O_CLOEXEC));
    if (!fd.is_open())
      fail_to_write(name, errno);
    temporary_ = name;
    slot_ = remember_staged(temporary_);
    return;
  }
  temporary_ = temporary_beside(d.target, suffix);
  create_temporary(temporary_, path_);
  slot_ = remember_staged(temporary_);
}

StagedFile::~StagedFile() {
  forget_staged(slot_);
  if (!committed_)
    ::unlink(temporary_.c_str());
}

void StagedFile::commit() {
  Destination d = examine(path_);
  if (!d.problem.empty())
    throw std::runtime_error(fmt::format("cannot write {}: {}", path_, d.problem));
  FileDescriptor fd(::open(temporary_.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.is_open())
    fail_to_write(path_, errno);
  if (int error = stopped_short(fd.get()))
    fail_to_write(path_, error);
  if (d.in_place) {
    // Copied in pieces: a long run's waveforms need not fit in memory.
    std::string problem;
    FileDescriptor out(open_in_place(path_, problem));
    if (!out.is_open())
      throw std::runtime_error(fmt::format("cannot write {}: {}", path_, problem));
    char buffer[65536];
    for (;;) {
      ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        fail_to_write(path_, errno);
      if (n == 0)
        break;
      if (int error = write_all(out.get(), buffer, static_cast<std::size_t>(n)))
        fail_to_write(path_, error);
    }
    if (int error = out.close())
      fail_to_write(path_, error);
    return; // the destructor removes the temporary
  }
  if (d.replaces)
    ::fchmod(fd.get(), d.mode);
  finish_temporary(fd, path_);
  if (::rename(temporary_.c_str(), d.target.c_str()) != 0)
    fail_to_write(path_, errno);
  committed_ = true;
}

} // namespace pciesim
