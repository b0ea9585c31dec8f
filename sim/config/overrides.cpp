#include "sim/config/overrides.h"

#include <fmt/format.h>

namespace pciesim {

JsonOverride parse_override(const std::string &text) {
  JsonOverride o;
  std::string rest = text;
  const std::string prefix = "topology:";
  if (rest.rfind(prefix, 0) == 0) {
    o.topology = true;
    rest = rest.substr(prefix.size());
  }
  const std::size_t equals = rest.find('=');
  if (rest.empty() || rest[0] != '/' || equals == std::string::npos)
    throw InputError("--set", "", fmt::format("\"{}\" is not POINTER=VALUE", text),
                     "a JSON pointer into the scenario (or topology:POINTER into its topology "
                     "files), '=' and a value, e.g. /workload/iterations=4");
  o.pointer = rest.substr(0, equals);
  const std::string value = rest.substr(equals + 1);
  try {
    Json::json_pointer check(o.pointer);
    (void)check;
  } catch (const Json::exception &) {
    throw InputError("--set", "", fmt::format("\"{}\" is not a JSON pointer", o.pointer),
                     "a pointer such as /workload/costs/cpu_fault (~1 for '/', ~0 for '~')");
  }
  // JSON when it is JSON (numbers, booleans, quoted strings, objects), else the text itself.
  o.value = Json::parse(value, nullptr, false);
  if (o.value.is_discarded())
    o.value = value;
  return o;
}

std::shared_ptr<const JsonDocument> with_overrides(std::shared_ptr<const JsonDocument> doc,
                                                   const std::vector<JsonOverride> &overrides,
                                                   bool topology) {
  std::shared_ptr<JsonDocument> changed;
  for (const JsonOverride &o : overrides) {
    if (o.topology != topology)
      continue;
    if (!changed)
      changed = std::make_shared<JsonDocument>(*doc);
    const Json::json_pointer pointer(o.pointer);
    const std::string where = (o.topology ? "topology:" : "") + o.pointer;
    // Down to the parent: an object's missing member is made (an empty object, which the
    // loader checks like any key: `/workload/costs/x` works where the file has no "costs"),
    // an array's element must exist.
    Json *container = &changed->root;
    Json::json_pointer walked;
    const std::string target = pointer.empty() ? "" : pointer.back();
    Json::json_pointer parent = pointer.empty() ? pointer : pointer.parent_pointer();
    std::vector<std::string> tokens;
    for (Json::json_pointer p = parent; !p.empty(); p = p.parent_pointer())
      tokens.insert(tokens.begin(), p.back());
    tokens.push_back(target);
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      const std::string &token = tokens[i];
      const bool last = i + 1 == tokens.size();
      if (container->is_object()) {
        if (last)
          break;
        if (!container->contains(token))
          (*container)[token] = Json::object();
        container = &(*container)[token];
      } else if (container->is_array()) {
        const bool index =
            !token.empty() && token.find_first_not_of("0123456789") == std::string::npos;
        if (!index || std::stoull(token) >= container->size())
          throw InputError(changed->file, (walked / token).to_string(),
                           fmt::format("--set {}: no element \"{}\"", where, token),
                           fmt::format("an index below {}", container->size()));
        if (last)
          break;
        container = &(*container)[std::stoull(token)];
      } else {
        throw InputError(
            changed->file, walked.to_string(),
            fmt::format("--set {}: {} has no members", where, describe_json_type(*container)),
            "a pointer into objects and arrays");
      }
      walked /= token;
    }
    changed->root[pointer] = o.value;
  }
  return changed ? changed : doc;
}

} // namespace pciesim
