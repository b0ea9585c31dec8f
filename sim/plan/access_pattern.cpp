#include "sim/plan/access_pattern.h"

namespace pciesim {

const char *access_pattern_name(AccessPattern pattern) {
  switch (pattern) {
  case AccessPattern::Random:
    return "random";
  case AccessPattern::Strided:
    return "strided";
  case AccessPattern::Sequential:
    break;
  }
  return "sequential";
}

AccessPattern load_access_pattern(const Node &object, bool stride_alone_is_strided) {
  auto pattern_key = object.get("pattern");
  auto stride_key = object.get("stride");
  AccessPattern pattern = AccessPattern::Sequential;
  if (pattern_key) {
    std::string name = pattern_key->as_choice({"sequential", "random", "strided"});
    pattern = name == "random"    ? AccessPattern::Random
              : name == "strided" ? AccessPattern::Strided
                                  : AccessPattern::Sequential;
  } else if (stride_key && stride_alone_is_strided) {
    pattern = AccessPattern::Strided;
  }
  if (stride_key && pattern != AccessPattern::Strided)
    stride_key->fail("a stride for a pattern that is not \"strided\"",
                     "no stride, or \"pattern\": \"strided\"");
  if (!stride_key && pattern == AccessPattern::Strided)
    object.fail("a strided pattern without a \"stride\"", "a \"stride\" size");
  return pattern;
}

} // namespace pciesim
