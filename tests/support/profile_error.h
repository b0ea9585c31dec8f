// The error a platform or device document gives, as the user sees it ("" when it loads).
#pragma once

#include <memory>
#include <string>

#include "sim/config/platform.h"
#include "sim/util/input_error.h"

namespace pciesim::test {

inline std::string
profile_error(std::shared_ptr<const PlatformProfile> (*load)(const Node &, const std::string &),
              const std::string &text, const std::string &path) {
  try {
    load(Node::root(parse_json_text(text, path)), "bad");
  } catch (const InputError &e) {
    return e.what();
  }
  return "";
}

} // namespace pciesim::test
