// `pciesim describe`: every component type's parameters from the same tables the loader
// uses, as text or as the Markdown section of docs/file-formats.md (kept identical by a test).
#pragma once

#include <string>

namespace pciesim {

std::string describe_text();
std::string describe_markdown();

} // namespace pciesim
