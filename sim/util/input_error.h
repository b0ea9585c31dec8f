// The one error type for bad input. Its text is the single line users see:
//   file:/json/pointer: problem (expected …)
#pragma once

#include <stdexcept>
#include <string>

namespace pciesim {

class InputError : public std::runtime_error {
public:
  InputError(std::string file, std::string pointer, std::string problem, std::string expected = "");
  const std::string &file() const { return file_; }
  const std::string &pointer() const { return pointer_; }
  const std::string &problem() const { return problem_; }

private:
  std::string file_, pointer_, problem_, expected_;
};

// `text` with control characters written as escapes (\n, \r, \t, \u001b): a message quoting
// what a user wrote stays one line on a terminal and in a log.
std::string printable_on_one_line(const std::string &text);

// Exit codes of the pciesim program.
enum ExitCode : int {
  kExitOk = 0,
  kExitExpectationFailed = 1,
  kExitBadInput = 2,
  kExitSimulationError = 3,
  kExitInternalError = 4,
};

} // namespace pciesim
