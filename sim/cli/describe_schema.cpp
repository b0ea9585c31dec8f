// `pciesim describe --schema`: schemas/topology.schema.json with its generated parts filled in
// from the parameter tables: the enum of component types, and for each type (and for links)
// a `params` schema naming every key with its JSON type, bounds, default and meaning. The
// rest of the file is hand-written; a test keeps the checked-in file equal to this output.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "models/pcie/link.h"
#include "sim/cli/describe.h"
#include "sim/config/component_catalog.h"
#include "sim/config/embedded_files.h"
#include "sim/config/platform.h"

namespace pciesim {
namespace {

using OrderedJson = nlohmann::ordered_json;

// The JSON a value of the spec may be written as; the loader's checks (units, ranges of
// sizes, times and rates, rules between keys) stay finer than this.
OrderedJson param_schema(const ParamSpec &s) {
  OrderedJson j;
  switch (s.kind) {
  case ParamKind::size:
  case ParamKind::time:
  case ParamKind::rate:
    j["type"] = "string";
    break;
  case ParamKind::boolean:
    j["type"] = "boolean";
    break;
  case ParamKind::choice:
    j["type"] = "string";
    j["enum"] = s.choices;
    break;
  case ParamKind::generation:
    j["type"] = {"integer", "string"};
    j["minimum"] = static_cast<std::int64_t>(s.min);
    j["maximum"] = static_cast<std::int64_t>(s.max);
    break;
  case ParamKind::integer:
    j["type"] = "integer";
    j["minimum"] = static_cast<std::int64_t>(s.min);
    if (s.max > 0)
      j["maximum"] = static_cast<std::int64_t>(s.max);
    break;
  }
  j["default"] = s.default_value;
  j["description"] = s.doc;
  return j;
}

OrderedJson params_schema(const std::vector<ParamSpec> &specs) {
  OrderedJson properties = OrderedJson::object();
  for (const ParamSpec &s : specs)
    properties[s.name] = param_schema(s);
  return {{"type", "object"}, {"additionalProperties", false}, {"properties", properties}};
}

} // namespace

std::string describe_schema() {
  OrderedJson schema = OrderedJson::parse(embedded_file("schemas/topology.schema.json"));
  OrderedJson &component = schema["properties"]["components"]["items"];
  component["properties"]["type"]["enum"] = component_type_names();
  component["properties"]["params"] = {{"type", "object"}}; // its keys: by type, below
  component["properties"]["platform"] = {
      {"type", "string"},
      {"enum", platform_names()},
      {"description", "root_complex: the platform file whose values replace the defaults of the "
                      "root complex, its host memory and its inter-socket link"}};
  component["properties"]["device"] = {
      {"type", "string"},
      {"enum", device_names()},
      {"description", "an endpoint: the device file whose values replace the defaults of its "
                      "type (a GPU generation's copy engines, ...)"}};
  OrderedJson per_type = OrderedJson::array();
  OrderedJson definitions = OrderedJson::object();
  for (const ComponentType &t : component_types()) {
    std::string name = t.name + "_params";
    definitions[name] = params_schema(t.specs());
    per_type.push_back(
        {{"if", {{"properties", {{"type", {{"const", t.name}}}}}, {"required", {"type"}}}},
         {"then", {{"properties", {{"params", {{"$ref", "#/definitions/" + name}}}}}}}});
  }
  component["allOf"] = per_type;
  definitions["link_params"] = params_schema(LinkParams::specs());
  schema["properties"]["links"]["items"]["properties"]["params"] = {
      {"$ref", "#/definitions/link_params"}};
  schema["definitions"] = definitions;
  return schema.dump(2) + "\n";
}

} // namespace pciesim
