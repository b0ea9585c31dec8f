// Escaping text for XML and HTML (the JUnit report, SVG charts, the HTML report).
#pragma once

#include <string>
#include <string_view>

namespace pciesim {

// Text safe in XML 1.0 element content and attribute values: markup characters escaped,
// characters XML cannot hold (controls, invalid UTF-8) replaced by U+FFFD, and line breaks
// in attributes kept as character references (a parser would otherwise fold them to spaces).
std::string xml_escape(std::string_view s);

} // namespace pciesim
