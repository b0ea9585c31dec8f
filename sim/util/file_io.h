// Reading input files (sim/util/input_files.cpp) and writing output files (sim/util/file_io.cpp),
// safely whatever stands at the path.
//
// Inputs must be regular files (or "-" for standard input): a device such as /dev/zero or a
// FIFO is refused rather than read without end or waited on, and the size limit holds while
// reading, not only by the size the file claims.
//
// Outputs never leave a truncated or mixed result:
//  - a regular file (or a new name) is replaced atomically: the content goes to a temporary
//    beside it (NAME.tmp.PID), is flushed to disk and renamed over it;
//  - at a path the user named (an option's file, checked by check_output_file), a symbolic
//    link is followed: the file it points at is replaced, the link stays a link; anything else
//    that exists (a device such as /dev/null, a FIFO) is written in place; a FIFO is opened
//    without blocking and refused if no reader has it open, so nothing hangs;
//  - at a name pciesim chose inside an output directory (`run --out`, a sweep's, a report's),
//    only a regular file is replaced: a symbolic link, device or FIFO there is refused, never
//    followed, so no write leaves the directory. Directories pciesim makes there must be real
//    directories, not links to one elsewhere.
// An output set (the files of `run --out DIR`) is written whole: every file goes to its
// temporary first, and only when all of them are written are they renamed into place; on any
// failure the temporaries are removed and the files already there stay as they were.
// check_output_file/check_output_directory refuse, as bad input, a path that cannot be
// written, before any work is done.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace pciesim {

// Writes all `size` bytes to `fd`, through interruptions; 0, or the errno of the write that
// failed. Allocates nothing (safe where memory has run out, or in a signal handler).
int write_all(int fd, const char *data, std::size_t size);
// Appends what `fd` holds to `text`, through interruptions, stopping at its end or once `text`
// is over `max_bytes`. Returns 0, or the errno of a failed read.
int read_at_most(int fd, std::uint64_t max_bytes, std::string &text);
// Where scratch files go that cannot stand beside their output: $TMPDIR, or /tmp.
std::string temporary_directory();

// The directory part of `path`: "." for a bare file name, "/" for a file at the root.
std::string directory_of(const std::string &path);

// `relative` as named from `dir`: itself when absolute, else "dir/relative" (one slash at the
// root).
std::string path_in_directory(const std::string &dir, const std::string &relative);

// The name standard input is reported under ("-" on the command line).
inline constexpr char kStandardInputName[] = "<stdin>";

// The bytes of an input file, at most `max_bytes` of them. Throws InputError (file: the path,
// pointer "/") when the path does not exist ("cannot open the file: it does not exist"), is a
// directory ("is a directory"), is not a regular file, cannot be read, or is larger. "-" reads
// standard input, once: later reads of "-" return the same text.
std::string read_input_file(const std::string &path, std::uint64_t max_bytes);

// The path an input was read by (read_input_file) if `path` names that same file now, symbolic
// links followed; "" otherwise. Outputs are checked against it: an output written over an
// input would destroy what the run was made from.
std::string input_named_by(const std::string &path);
// Counts `path` among the inputs without reading it: a file that child processes read for this
// command (`check`'s scenarios). Nothing when it is not a regular file.
void note_input_file(const std::string &path);

// The whole of a file the program wrote itself (a `done` marker, a child's stderr). Throws
// std::runtime_error naming the path when it cannot be read.
std::string read_text_file(const std::string &path);

// Refuses (InputError naming the path and the reason) an output file path that cannot be
// written: empty, a directory, in a missing or read-only directory, a FIFO without a reader...
// `option` names the option the path was given with (for an empty path). A FIFO or device is
// opened here and kept open until written: its reader would otherwise see the end of it.
void check_output_file(const std::string &path, const std::string &option);
// The same for a file pciesim names inside an output directory (`option` is the directory's
// option): anything but a regular file or nothing at the name is refused, and so is an input.
void check_output_file_inside(const std::string &path, const std::string &option);
// Refuses (InputError naming the later path) two outputs of one command that name one file:
// written one after the other, the later would replace the earlier without a word.
// `outputs`: (option, path) pairs, in the order of the options; empty paths are skipped.
void check_distinct_outputs(const std::vector<std::pair<std::string, std::string>> &outputs);
// Files written together or not at all. write() throws std::runtime_error naming the path
// that failed (exit code 4); no temporary file is left behind.
class OutputSet {
public:
  void add(std::string path, std::string content);
  bool contains(const std::string &path) const;
  void write();
  // After write(): removes those of `earlier` (files an earlier set of the same kind wrote) that
  // this set did not write. Regular files only: anything else at such a name pciesim never wrote.
  template <class Paths> void remove_unwritten(const Paths &earlier) const {
    for (const std::string &path : earlier)
      if (!contains(path))
        remove_regular_file(path);
  }

private:
  static void remove_regular_file(const std::string &path);
  struct File {
    std::string path, content;
  };
  std::vector<File> files_;
};

// One file on its own, as an OutputSet of one.
void write_file_atomically(const std::string &path, const std::string &content);

// A file that a library writes itself, by name (SystemC's VCD writer): it gets a temporary
// name ending in `suffix`, created (so known to be writable) by the constructor, and commit()
// puts it in place as write_file_atomically would. As the library may not check its writes,
// commit() takes a file that ends at the file size limit, or on a full file system, as cut
// short. Destroyed uncommitted, it removes the temporary. Throws std::runtime_error naming the
// path.
class StagedFile {
public:
  StagedFile(const std::string &path, const std::string &suffix);
  ~StagedFile();
  StagedFile(const StagedFile &) = delete;
  StagedFile &operator=(const StagedFile &) = delete;

  const std::string &temporary() const { return temporary_; }
  void commit();

private:
  std::string path_, temporary_;
  bool committed_ = false;
  int slot_ = -1; // for remove_staged_files_now()
};

// An unnamed scratch file for data that ends up in the output `beside` (a VCD's values before
// its header): in the same directory, so on the output's file system, never in /tmp, and gone
// with the process however it ends. Open for reading and writing; nullptr with errno set when
// it cannot be made.
std::FILE *open_scratch_file_beside(const std::string &beside);

// Removes the temporaries of the StagedFiles that exist now. Async-signal-safe: for a signal
// handler that ends the process (the wall-clock --timeout), so that it leaves none behind.
void remove_staged_files_now();
// From now on SIGINT, SIGTERM and SIGHUP remove them too, then end the process as the signal
// would have (its status says so); a signal the process was started ignoring stays ignored.
void remove_staged_files_on_stop_signals();

} // namespace pciesim
