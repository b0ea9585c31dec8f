// Reading JSON input files strictly: size and nesting limits, duplicate keys rejected, and
// a Node cursor whose every accessor knows its JSON pointer, so that any problem found while
// loading becomes an InputError naming the file and the exact place.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/common/units.h"
#include "sim/util/input_error.h"

namespace pciesim {

using Json = nlohmann::json;

inline constexpr std::uint64_t kMaxInputFileBytes = 16ull << 20; // 16 MiB
inline constexpr int kMaxJsonDepth = 64;

// A parsed document and the name it is reported under.
struct JsonDocument {
  std::string file;
  Json root;
};

// Reads and parses a file; throws InputError for a missing/unreadable/empty/huge file, one that
// is not a regular file (a device, a FIFO), invalid JSON, duplicate object keys, or nesting
// deeper than kMaxJsonDepth. "-" reads standard input (reported as "<stdin>").
std::shared_ptr<const JsonDocument> load_json_file(const std::string &path);
// Same rules for text already in memory (inline topologies, embedded defaults, fuzzing).
std::shared_ptr<const JsonDocument> parse_json_text(std::string_view text, std::string file);

std::string escape_pointer_token(std::string_view token);

// A position in a document. Cheap to copy; keeps the document alive.
class Node {
public:
  Node(std::shared_ptr<const JsonDocument> doc, const Json *value, std::string pointer);
  static Node root(std::shared_ptr<const JsonDocument> doc);

  const Json &json() const { return *value_; }
  const std::string &pointer() const { return pointer_; }
  const std::string &file() const { return doc_->file; }
  const std::shared_ptr<const JsonDocument> &document() const { return doc_; }

  [[noreturn]] void fail(const std::string &problem, const std::string &expected = "") const;

  bool is_object() const { return value_->is_object(); }
  bool is_string() const { return value_->is_string(); }
  bool is_array() const { return value_->is_array(); }

  // Object access. require_object/require_array fail with a type error.
  const Node &require_object() const;
  const Node &require_array() const;
  bool has(std::string_view key) const;
  Node at(std::string_view key) const; // required key
  std::optional<Node> get(std::string_view key) const;
  // Fails on the first key not in `allowed`, naming it and listing what is allowed.
  void allow_only(const std::vector<std::string> &allowed) const;
  void allow_only(std::initializer_list<const char *> allowed) const;
  std::vector<std::string> keys() const; // in document order

  // Array access.
  std::size_t size() const;
  Node at(std::size_t index) const;
  std::vector<Node> items() const;

  // Scalars, each with a typed error.
  std::string as_string() const;
  std::string as_choice(const std::vector<std::string> &choices) const;
  // A non-empty string naming one of `what`s (a transfer, a phase), unique among them: ids name
  // them in reports and in references, so an empty one could not be told apart.
  std::string as_id(const std::string &what) const;
  std::int64_t as_int(std::int64_t min, std::int64_t max) const;
  bool as_bool() const;
  Bytes as_bytes() const;
  Duration as_duration() const;
  Bandwidth as_bandwidth() const;

private:
  std::shared_ptr<const JsonDocument> doc_;
  const Json *value_;
  std::string pointer_;
};

std::string describe_json_type(const Json &value);
std::string join(const std::vector<std::string> &items, std::string_view separator);
// The candidate a misspelt `word` most likely meant (a few edits away, case aside), or "".
std::string closest_spelling(const std::string &word, const std::vector<std::string> &candidates);

} // namespace pciesim
