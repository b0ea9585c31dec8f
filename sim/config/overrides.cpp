// `--set POINTER=VALUE` (see overrides.h): parsing the argument, resolving pointers with
// `[member=value]` selectors, and putting the value into a document before it is loaded.
#include "sim/config/overrides.h"

#include <fmt/format.h>

namespace pciesim {
namespace {

// `[member=value]` after an optional member name: `components[id=gpu0]`.
struct Selector {
  std::string array; // the member holding the array; empty: the value reached so far
  std::string member, value;
};

bool parse_selector(const std::string &token, Selector &s) {
  const std::size_t open = token.find('[');
  if (open == std::string::npos || token.back() != ']')
    return false;
  const std::string inside = token.substr(open + 1, token.size() - open - 2);
  const std::size_t equals = inside.find('=');
  if (equals == std::string::npos || equals == 0)
    return false;
  s.array = token.substr(0, open);
  s.member = inside.substr(0, equals);
  s.value = inside.substr(equals + 1);
  return true;
}

std::vector<std::string> split_commas(const std::string &text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t comma; (comma = text.find(',', start)) != std::string::npos; start = comma + 1)
    parts.push_back(text.substr(start, comma - start));
  parts.push_back(text.substr(start));
  return parts;
}

// Whether an array element's member matches a selector's value: a string or a number written
// as the value, or an array of strings that holds every comma-separated name of it.
template <class J> bool member_matches(const J &member, const std::string &value) {
  if (member.is_string())
    return member.template get<std::string>() == value;
  if (member.is_number() || member.is_boolean())
    return member.dump() == value;
  if (!member.is_array())
    return false;
  for (const std::string &name : split_commas(value)) {
    bool found = false;
    for (const J &item : member)
      found = found || (item.is_string() && item.template get<std::string>() == name);
    if (!found)
      return false;
  }
  return true;
}

std::string a_json_type(nlohmann::json::value_t type) { return describe_json_type(Json(type)); }

std::vector<std::string> pointer_tokens(const std::string &pointer) {
  std::vector<std::string> tokens;
  try {
    for (Json::json_pointer p(pointer); !p.empty(); p = p.parent_pointer())
      tokens.insert(tokens.begin(), p.back());
  } catch (const Json::exception &) {
    throw PointerProblem{"", fmt::format("\"{}\" is not a JSON pointer", pointer),
                         "a pointer such as /workload/costs/cpu_fault (~1 for '/', ~0 for '~')"};
  }
  return tokens;
}

// The index of the one element of `array` (reached at `walked`) that the selector picks.
template <class J>
std::size_t select_element(const J &array, const Selector &s, const std::string &walked) {
  std::vector<std::size_t> matches;
  std::vector<std::string> present;
  for (std::size_t i = 0; i < array.size(); ++i) {
    const J &element = array[i];
    if (!element.is_object() || !element.contains(s.member))
      continue;
    if (member_matches(element[s.member], s.value))
      matches.push_back(i);
    if (element[s.member].is_string())
      present.push_back(element[s.member].template get<std::string>());
  }
  const std::string where = walked.empty() ? "the document" : walked;
  if (matches.empty())
    throw PointerProblem{walked,
                         fmt::format("no element of {} has {} \"{}\"", where, s.member, s.value),
                         present.empty() ? fmt::format("elements with a \"{}\"", s.member)
                                         : fmt::format("one of: {}", join(present, ", "))};
  if (matches.size() > 1) {
    std::vector<std::string> at;
    for (std::size_t i : matches)
      at.push_back(fmt::format("{}/{}", walked, i));
    throw PointerProblem{walked,
                         fmt::format("{} elements of {} have {} \"{}\" ({})", matches.size(), where,
                                     s.member, s.value, join(at, ", ")),
                         "a selector that matches one element"};
  }
  return matches.front();
}

} // namespace

template <class J> std::string settable_pointer(const J &doc, const std::string &pointer) {
  const std::vector<std::string> tokens = pointer_tokens(pointer);
  typename J::json_pointer walked;
  const J *at = &doc; // null past a member that the pointer makes
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string &token = tokens[i];
    Selector s;
    const bool selects = parse_selector(token, s);
    if (!at) {
      if (selects)
        throw PointerProblem{walked.to_string(),
                             fmt::format("{} has no element to select: the document has no {}",
                                         token, walked.to_string()),
                             "a selector on an array of the document"};
      walked /= token;
      continue;
    }
    if (selects) {
      if (!s.array.empty()) {
        if (!at->is_object() || !at->contains(s.array))
          throw PointerProblem{
              walked.to_string(),
              fmt::format("no array \"{}\" to select from in {}", s.array,
                          at->is_object() ? "this object" : a_json_type(at->type())),
              fmt::format("{}[{}={}] on an array member", s.array, s.member, s.value)};
        walked /= s.array;
        at = &(*at)[s.array];
      }
      if (!at->is_array())
        throw PointerProblem{walked.to_string(),
                             fmt::format("[{}={}] selects an array element, but this is {}",
                                         s.member, s.value, a_json_type(at->type())),
                             "a selector on an array"};
      const std::size_t index = select_element(*at, s, walked.to_string());
      walked /= std::to_string(index);
      at = &(*at)[index];
    } else if (at->is_object()) {
      at = at->contains(token) ? &(*at)[token] : nullptr;
      walked /= token;
    } else if (at->is_array()) {
      const bool index = !token.empty() && token.size() < 19 &&
                         token.find_first_not_of("0123456789") == std::string::npos;
      if (!index || std::stoull(token) >= at->size())
        throw PointerProblem{(walked / token).to_string(), fmt::format("no element \"{}\"", token),
                             fmt::format("an index below {}", at->size())};
      at = &(*at)[std::stoull(token)];
      walked /= token;
    } else {
      throw PointerProblem{walked.to_string(),
                           fmt::format("{} has no members", a_json_type(at->type())),
                           "a pointer into objects and arrays"};
    }
  }
  return walked.to_string();
}

template <class J> void set_at_pointer(J &doc, const std::string &pointer, const J &value) {
  const std::string plain = settable_pointer(doc, pointer);
  const std::vector<std::string> tokens = pointer_tokens(plain);
  J *at = &doc;
  // Down to the parent, making the object members the document lacks (an empty object, which
  // the loader checks like any key: `/workload/costs/x` works where the file has no "costs").
  for (std::size_t i = 0; i + 1 < tokens.size(); ++i) {
    if (at->is_array()) {
      at = &(*at)[std::stoull(tokens[i])];
      continue;
    }
    if (!at->contains(tokens[i]))
      (*at)[tokens[i]] = J::object();
    at = &(*at)[tokens[i]];
  }
  doc[typename J::json_pointer(plain)] = value;
}

template std::string settable_pointer(const nlohmann::json &, const std::string &);
template std::string settable_pointer(const nlohmann::ordered_json &, const std::string &);
template void set_at_pointer(nlohmann::json &, const std::string &, const nlohmann::json &);
template void set_at_pointer(nlohmann::ordered_json &, const std::string &,
                             const nlohmann::ordered_json &);

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
  // A selector's '=' is inside brackets: the value starts after the first '=' outside them.
  std::size_t split = std::string::npos;
  for (std::size_t i = 0, depth = 0; i < rest.size() && split == std::string::npos; ++i) {
    if (rest[i] == '[')
      ++depth;
    else if (rest[i] == ']' && depth > 0)
      --depth;
    else if (rest[i] == '=' && depth == 0)
      split = i;
  }
  if (split == std::string::npos)
    throw InputError("--set", "", fmt::format("\"{}\" is not POINTER=VALUE", text),
                     "a value after the pointer, e.g. /components[id=gpu0]/params/max_gen=3");
  o.pointer = rest.substr(0, split);
  const std::string value = rest.substr(split + 1);
  try {
    pointer_tokens(o.pointer);
  } catch (const PointerProblem &p) {
    throw InputError("--set", "", p.problem, p.expected);
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
    try {
      set_at_pointer(changed->root, o.pointer, o.value);
    } catch (const PointerProblem &p) {
      throw InputError(
          changed->file, p.at,
          fmt::format("--set {}{}: {}", o.topology ? "topology:" : "", o.pointer, p.problem),
          p.expected);
    }
  }
  return changed ? changed : doc;
}

} // namespace pciesim
