#include "sim/config/schema_check.h"

#include <map>
#include <memory>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include "sim/config/embedded_files.h"

namespace pciesim {
namespace {

const valijson::Schema &schema_for(const std::string &kind) {
  static std::map<std::string, std::unique_ptr<valijson::Schema>> cache;
  auto it = cache.find(kind);
  if (it != cache.end())
    return *it->second;
  static std::map<std::string, Json> documents;
  Json &doc = documents[kind] = Json::parse(embedded_file("schemas/" + kind + ".schema.json"));
  auto schema = std::make_unique<valijson::Schema>();
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter adapter(doc);
  parser.populateSchema(adapter, *schema);
  return *(cache[kind] = std::move(schema));
}

// valijson contexts look like {"<root>", "[components]", "[0]", "[type]"}.
std::string pointer_of(const std::vector<std::string> &context) {
  std::string pointer;
  for (const std::string &part : context) {
    if (part == "<root>")
      continue;
    std::string token = part;
    if (token.size() >= 2 && token.front() == '[' && token.back() == ']')
      token = token.substr(1, token.size() - 2);
    pointer += "/" + escape_pointer_token(token);
  }
  return pointer;
}

} // namespace

void validate_against_schema(const Node &root, const std::string &kind) {
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(root.json());
  if (validator.validate(schema_for(kind), target, &results))
    return;
  valijson::ValidationResults::Error error, best;
  bool have = false;
  while (results.popError(error)) {
    if (!have || error.context.size() > best.context.size()) {
      best = error;
      have = true;
    }
  }
  std::string pointer = pointer_of(best.context);
  std::string problem = best.description;
  // Name the offending key in the pointer when valijson only names the object.
  const std::string marker =
      "could not be validated using 'properties' or 'additionalProperties' constraints: '";
  auto at = problem.find(marker);
  if (at != std::string::npos) {
    std::string key = problem.substr(at + marker.size());
    if (!key.empty() && key.back() == '.')
      key.pop_back();
    if (!key.empty() && key.back() == '\'')
      key.pop_back();
    pointer += "/" + escape_pointer_token(key);
    problem = "unknown key \"" + key + "\"";
  }
  throw InputError(root.file(), pointer, problem, "what " + kind + ".schema.json allows");
}

} // namespace pciesim
