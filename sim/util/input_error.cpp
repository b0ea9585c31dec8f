#include "sim/util/input_error.h"

#include <fmt/format.h>

namespace pciesim {

std::string printable_on_one_line(const std::string &text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else if (c < 0x20 || c == 0x7f)
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    else
      out += static_cast<char>(c);
  }
  return out;
}

namespace {
std::string compose(const std::string &file, const std::string &pointer, const std::string &problem,
                    const std::string &expected) {
  std::string text = file + ":" + (pointer.empty() ? "/" : pointer) + ": " + problem;
  if (!expected.empty())
    text += " (expected " + expected + ")";
  // The message is one line whatever the file name, keys or values it quotes hold.
  return printable_on_one_line(text);
}
} // namespace

InputError::InputError(std::string file, std::string pointer, std::string problem,
                       std::string expected)
    : std::runtime_error(compose(file, pointer, problem, expected)), file_(std::move(file)),
      pointer_(std::move(pointer)), problem_(std::move(problem)), expected_(std::move(expected)) {}

} // namespace pciesim
