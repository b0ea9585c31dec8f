#include "sim/report/xml_text.h"

#include <cstdint>

namespace pciesim {

std::string xml_escape(std::string_view s) {
  static const char kReplacement[] = "\xEF\xBF\xBD";
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\n':
        out += "&#10;";
        break;
      case '\r':
        out += "&#13;";
        break;
      case '\t':
        out += "&#9;";
        break;
      default:
        out += c < 0x20 || c == 0x7f ? std::string(kReplacement) : std::string(1, char(c));
      }
      ++i;
      continue;
    }
    // A multi-byte UTF-8 sequence: copied when well formed, replaced otherwise.
    std::size_t length = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    bool ok = length > 0 && i + length <= s.size();
    std::uint32_t code = length == 4 ? c & 0x07u : length == 3 ? c & 0x0Fu : c & 0x1Fu;
    for (std::size_t k = 1; ok && k < length; ++k) {
      auto d = static_cast<unsigned char>(s[i + k]);
      ok = (d & 0xC0) == 0x80;
      code = (code << 6) | (d & 0x3Fu);
    }
    ok = ok && !(length == 3 && (code < 0x800 || (code >= 0xD800 && code <= 0xDFFF) ||
                                 code == 0xFFFE || code == 0xFFFF));
    ok = ok && !(length == 4 && (code < 0x10000 || code > 0x10FFFF));
    if (ok) {
      out.append(s.substr(i, length));
      i += length;
    } else {
      out += kReplacement;
      ++i;
    }
  }
  return out;
}

} // namespace pciesim
