#include "sim/input_error.h"

namespace pciesim {
namespace {
std::string compose(const std::string &file, const std::string &pointer, const std::string &problem,
                    const std::string &expected) {
  std::string text = file + ":" + (pointer.empty() ? "/" : pointer) + ": " + problem;
  if (!expected.empty())
    text += " (expected " + expected + ")";
  return text;
}
} // namespace

InputError::InputError(std::string file, std::string pointer, std::string problem,
                       std::string expected)
    : std::runtime_error(compose(file, pointer, problem, expected)), file_(std::move(file)),
      pointer_(std::move(pointer)), problem_(std::move(problem)), expected_(std::move(expected)) {}

} // namespace pciesim
