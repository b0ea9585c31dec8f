#include "sim/config/json_input.h"

#include <cctype>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "sim/util/file_io.h"

namespace pciesim {

namespace {
// Appends `token` to `out` as a JSON pointer token (RFC 6901: "~" as "~0", "/" as "~1").
void append_pointer_token(std::string &out, std::string_view token) {
  if (token.find_first_of("~/") == std::string_view::npos) {
    out.append(token); // nearly every key: copied whole
    return;
  }
  for (char c : token) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
}

// `pointer` + "/" + the escaped `token`, in one allocation: a loader builds one per key read.
std::string child_pointer(const std::string &pointer, std::string_view token) {
  std::string out;
  out.reserve(pointer.size() + 1 + token.size());
  out.append(pointer);
  out += '/';
  append_pointer_token(out, token);
  return out;
}
} // namespace

std::string escape_pointer_token(std::string_view token) {
  std::string out;
  append_pointer_token(out, token);
  return out;
}

std::string join(const std::vector<std::string> &items, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i)
      out += separator;
    out += items[i];
  }
  return out;
}

std::string describe_json_type(const Json &value) {
  switch (value.type()) {
  case Json::value_t::null:
    return "null";
  case Json::value_t::boolean:
    return "a boolean";
  case Json::value_t::number_integer:
  case Json::value_t::number_unsigned:
    return "an integer";
  case Json::value_t::number_float:
    return "a number";
  case Json::value_t::string:
    return "a string";
  case Json::value_t::array:
    return "an array";
  case Json::value_t::object:
    return "an object";
  default:
    return "an unsupported value";
  }
}

namespace {

// Builds the DOM while keeping the JSON pointer of the current position, so that
// duplicate keys, excessive depth and syntax errors can all be reported with a pointer.
class StrictSaxBuilder {
public:
  explicit StrictSaxBuilder(std::string file) : file_(std::move(file)) {}

  Json result;

  bool null() { return add(Json(nullptr)); }
  bool boolean(bool v) { return add(Json(v)); }
  bool number_integer(Json::number_integer_t v) { return add(Json(v)); }
  bool number_unsigned(Json::number_unsigned_t v) { return add(Json(v)); }
  bool number_float(Json::number_float_t v, const Json::string_t &text) {
    if (!std::isfinite(v))
      fail_value(fmt::format("{} is out of range", text), "a finite number");
    // nlohmann turns an integer literal beyond 64 bits into a double; no integer in pciesim's
    // inputs is that large, and "1e+20 is written as a fraction" would hide what is wrong.
    if (text.find_first_of(".eE") == std::string::npos)
      fail_value(fmt::format("{} is out of range", text), "an integer that fits in 64 bits");
    return add(Json(v));
  }
  bool string(Json::string_t &v) {
    reject_control_characters(v, [&](const std::string &problem, const std::string &expected) {
      fail_value(problem, expected);
    });
    return add(Json(std::move(v)));
  }
  bool binary(Json::binary_t &) { return add(Json(nullptr)); }
  bool start_object(std::size_t) { return open(Json::object()); }
  bool start_array(std::size_t) { return open(Json::array()); }
  bool key(Json::string_t &k) {
    reject_control_characters(k, [&](const std::string &problem, const std::string &expected) {
      throw InputError(file_, pointer_with(escape_pointer_token(k)), "a key with " + problem,
                       expected);
    });
    // Every earlier key of this object already holds its value (place() puts each value, and
    // each nested container, in the object as it starts), so the object itself tells.
    Frame &f = stack_.back();
    if (f.container->contains(k))
      throw InputError(file_, pointer_with(escape_pointer_token(k)),
                       fmt::format("duplicate key \"{}\"", k), "each key once per object");
    f.pending_key = k;
    return true;
  }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool parse_error(std::size_t position, const std::string &last_token,
                   const nlohmann::detail::exception &ex) {
    // 406: a number too large for a double (1e400). The parser reports it before any SAX
    // event for the value, but the value's key or index is already known: point at it.
    if (ex.id == 406)
      fail_value(fmt::format("{} is out of range", last_token), "a finite number");
    std::string what = ex.what();
    // nlohmann's text is "[json.exception.parse_error.101] parse error at line 3, column 5:
    // syntax error while parsing object - unexpected ...": keep the part after the id.
    auto bracket = what.find("] ");
    if (bracket != std::string::npos)
      what = what.substr(bracket + 2);
    (void)position;
    throw InputError(file_, current_pointer(), "not valid JSON: " + what, "well-formed JSON");
  }

private:
  // No input string needs a control character, and one in a name or id would reach places
  // that read lines: a CSV row, a one-line error, a comment in a Slurm script (where a newline
  // turns the rest of a name into a command). A NUL would also cut a path short when opened.
  template <typename Fail> static void reject_control_characters(const std::string &s, Fail fail) {
    for (unsigned char c : s)
      if (c < 0x20 || c == 0x7f)
        fail(fmt::format("a control character (U+{:04X})", static_cast<unsigned>(c)),
             "text without control characters");
  }

  struct Frame {
    Json *container;
    std::string token; // pointer token of this container within its parent
    std::string pending_key;
    std::size_t next_index = 0;
  };

  std::string current_pointer() const {
    std::string p;
    for (const Frame &f : stack_)
      if (&f != &stack_.front())
        p += "/" + f.token;
    return p;
  }
  std::string pointer_with(const std::string &token) const {
    return current_pointer() + "/" + token;
  }
  [[noreturn]] void fail_here(const std::string &problem, const std::string &expected) const {
    throw InputError(file_, current_pointer(), problem, expected);
  }
  // The pointer of the scalar being read: the container's pointer plus the pending key or the
  // next index (a scalar is not pushed on the stack, so current_pointer() names its parent).
  [[noreturn]] void fail_value(const std::string &problem, const std::string &expected) const {
    std::string pointer;
    if (!stack_.empty()) {
      const Frame &f = stack_.back();
      pointer = f.container->is_object() ? pointer_with(escape_pointer_token(f.pending_key))
                                         : pointer_with(std::to_string(f.next_index));
    }
    throw InputError(file_, pointer, problem, expected);
  }

  // Places a value in the current container; returns the stored value's address.
  Json *place(Json &&v, std::string *token_out) {
    if (stack_.empty()) {
      result = std::move(v);
      if (token_out)
        *token_out = "";
      return &result;
    }
    Frame &f = stack_.back();
    if (f.container->is_object()) {
      if (token_out)
        *token_out = escape_pointer_token(f.pending_key);
      Json &slot = (*f.container)[f.pending_key];
      slot = std::move(v);
      return &slot;
    }
    if (token_out)
      *token_out = std::to_string(f.next_index);
    ++f.next_index;
    f.container->push_back(std::move(v));
    return &f.container->back();
  }
  bool add(Json &&v) {
    place(std::move(v), nullptr);
    return true;
  }
  bool open(Json &&v) {
    std::string token;
    Json *slot = place(std::move(v), &token);
    if (static_cast<int>(stack_.size()) >= kMaxJsonDepth)
      fail_here(fmt::format("nesting deeper than {} levels", kMaxJsonDepth), "a flatter document");
    stack_.push_back(Frame{slot, token, {}, 0});
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }

  std::string file_;
  std::vector<Frame> stack_;
};

} // namespace

std::shared_ptr<const JsonDocument> parse_json_text(std::string_view text, std::string file) {
  if (text.size() > kMaxInputFileBytes)
    throw InputError(file, "", fmt::format("input is {} bytes, over the limit", text.size()),
                     fmt::format("at most {} bytes", kMaxInputFileBytes));
  bool blank = std::all_of(text.begin(), text.end(),
                           [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; });
  if (blank)
    throw InputError(file, "", "the file is empty", "a JSON object");
  StrictSaxBuilder builder(file);
  Json::sax_parse(text.begin(), text.end(), &builder, nlohmann::detail::input_format_t::json,
                  /*strict=*/true);
  auto doc = std::make_shared<JsonDocument>();
  doc->file = std::move(file);
  doc->root = std::move(builder.result);
  return doc;
}

std::shared_ptr<const JsonDocument> load_json_file(const std::string &path) {
  return parse_json_text(read_input_file(path, kMaxInputFileBytes),
                         path == "-" ? kStandardInputName : path);
}

Node::Node(std::shared_ptr<const JsonDocument> doc, const Json *value, std::string pointer)
    : doc_(std::move(doc)), value_(value), pointer_(std::move(pointer)) {}

Node Node::root(std::shared_ptr<const JsonDocument> doc) {
  const Json *r = &doc->root;
  return Node(std::move(doc), r, "");
}

void Node::fail(const std::string &problem, const std::string &expected) const {
  throw InputError(doc_->file, pointer_, problem, expected);
}

const Node &Node::require_object() const {
  if (!value_->is_object())
    fail(describe_json_type(*value_) + " where an object belongs", "an object");
  return *this;
}

const Node &Node::require_array() const {
  if (!value_->is_array())
    fail(describe_json_type(*value_) + " where an array belongs", "an array");
  return *this;
}

bool Node::has(std::string_view key) const { return value_->is_object() && value_->contains(key); }

Node Node::at(std::string_view key) const {
  require_object();
  auto it = value_->find(key);
  if (it == value_->end())
    fail(fmt::format("missing key \"{}\"", key), fmt::format("a \"{}\" key", key));
  return Node(doc_, &*it, child_pointer(pointer_, key));
}

std::optional<Node> Node::get(std::string_view key) const {
  require_object();
  auto it = value_->find(key);
  if (it == value_->end())
    return std::nullopt;
  return Node(doc_, &*it, child_pointer(pointer_, key));
}

std::string closest_spelling(const std::string &word, const std::vector<std::string> &candidates) {
  // Levenshtein distance, case-insensitive; a candidate within a third of the word's length
  // (at least 1, at most 3 edits) is a likely misspelling; ties go to the first listed.
  auto distance = [](const std::string &a, const std::string &b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
      row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      std::size_t diagonal = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
        const std::size_t above = row[j];
        const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                          std::tolower(static_cast<unsigned char>(b[j - 1]));
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
        diagonal = above;
      }
    }
    return row[b.size()];
  };
  const std::size_t limit = std::min<std::size_t>(3, std::max<std::size_t>(1, word.size() / 3));
  std::string best;
  std::size_t best_distance = limit + 1;
  for (const std::string &c : candidates) {
    const std::size_t d = distance(word, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

void Node::allow_only(const std::vector<std::string> &allowed) const {
  require_object();
  for (auto it = value_->begin(); it != value_->end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      Node key(doc_, &*it, child_pointer(pointer_, it.key()));
      std::string closest = closest_spelling(it.key(), allowed);
      if (!closest.empty())
        key.fail(fmt::format("unknown key \"{}\": did you mean \"{}\"?", it.key(), closest),
                 allowed.size() <= 8
                     ? "one of: " + join(allowed, ", ")
                     : fmt::format("one of the {} keys allowed here", allowed.size()));
      key.fail(fmt::format("unknown key \"{}\"", it.key()), "one of: " + join(allowed, ", "));
    }
  }
}

void Node::allow_only(std::initializer_list<const char *> allowed) const {
  require_object();
  // The list is only made (and allow_only(vector) names the key) when a key is not in it.
  for (auto it = value_->begin(); it != value_->end(); ++it)
    if (std::none_of(allowed.begin(), allowed.end(),
                     [&](const char *name) { return it.key() == name; }))
      allow_only(std::vector<std::string>(allowed.begin(), allowed.end()));
}

std::vector<std::string> Node::keys() const {
  std::vector<std::string> out;
  if (!value_->is_object())
    return out;
  for (auto it = value_->begin(); it != value_->end(); ++it)
    out.push_back(it.key());
  return out;
}

std::size_t Node::size() const {
  require_array();
  return value_->size();
}

Node Node::at(std::size_t index) const {
  require_array();
  if (index >= value_->size())
    fail(fmt::format("no element {}", index));
  return Node(doc_, &(*value_)[index], child_pointer(pointer_, std::to_string(index)));
}

std::vector<Node> Node::items() const {
  std::vector<Node> out;
  for (std::size_t i = 0; i < size(); ++i)
    out.push_back(at(i));
  return out;
}

std::string Node::as_string() const {
  if (!value_->is_string())
    fail(describe_json_type(*value_) + " where a string belongs", "a string");
  return value_->get<std::string>();
}

std::string Node::as_id(const std::string &what) const {
  std::string id = as_string();
  if (id.empty())
    fail("an empty " + what + " id", "a non-empty id, unique among the " + what + "s");
  return id;
}

std::string Node::as_choice(const std::vector<std::string> &choices) const {
  std::string s = as_string();
  if (std::find(choices.begin(), choices.end(), s) == choices.end())
    fail(fmt::format("\"{}\" is not a known value", s), "one of: " + join(choices, ", "));
  return s;
}

std::int64_t Node::as_int(std::int64_t min, std::int64_t max) const {
  // Only a failure needs the text (a large topology reads hundreds of thousands of integers).
  auto range = [min, max] { return fmt::format("an integer from {} to {}", min, max); };
  if (value_->is_number_float()) {
    double d = value_->get<double>();
    if (d != std::floor(d))
      fail(fmt::format("{} is not a whole number", d), range());
    if (d < static_cast<double>(min) || d > static_cast<double>(max))
      fail(fmt::format("{} is out of range", d), range());
    fail(fmt::format("{} is written as a fraction", d), range());
  }
  if (value_->is_number_unsigned()) {
    auto u = value_->get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(max) || (min > 0 && u < static_cast<std::uint64_t>(min)))
      fail(fmt::format("{} is out of range", u), range());
    return static_cast<std::int64_t>(u);
  }
  if (!value_->is_number_integer())
    fail(describe_json_type(*value_) + " where an integer belongs", range());
  auto v = value_->get<std::int64_t>();
  if (v < min || v > max)
    fail(fmt::format("{} is out of range", v), range());
  return v;
}

bool Node::as_bool() const {
  if (!value_->is_boolean())
    fail(describe_json_type(*value_) + " where a boolean belongs", "true or false");
  return value_->get<bool>();
}

namespace {
template <class T> T unwrap(const Node &node, const Parsed<T> &parsed, std::string_view text) {
  if (!parsed.value)
    node.fail(fmt::format("\"{}\" is not valid here", text), parsed.error);
  return *parsed.value;
}
} // namespace

Bytes Node::as_bytes() const {
  if (!value_->is_string())
    fail(describe_json_type(*value_) + " where a size with a unit belongs",
         "a string such as \"4 KiB\"");
  std::string s = value_->get<std::string>();
  return unwrap(*this, parse_bytes(s), s);
}

Duration Node::as_duration() const {
  if (!value_->is_string())
    fail(describe_json_type(*value_) + " where a time with a unit belongs",
         "a string such as \"110 ns\"");
  std::string s = value_->get<std::string>();
  return unwrap(*this, parse_duration(s), s);
}

Bandwidth Node::as_bandwidth() const {
  if (!value_->is_string())
    fail(describe_json_type(*value_) + " where a rate with a unit belongs",
         "a string such as \"100 GB/s\"");
  std::string s = value_->get<std::string>();
  return unwrap(*this, parse_bandwidth(s), s);
}

} // namespace pciesim
