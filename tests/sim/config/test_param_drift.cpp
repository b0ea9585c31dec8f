// Drift between the places a parameter or a statistic is declared: each Params struct's C++
// defaults against its table (every table, every field: each catalog type's, found through the
// catalog, the link's and the costs'), the generated JSON Schema and docs against the checked-in
// files, and every stats table against the keys a run writes to results.json.
#include <set>

#include <fmt/format.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "models/dma/dma_engine.h"
#include "models/nic/rdma_nic.h"
#include "models/nvme/nvme_ssd.h"
#include "models/os/os_kernel.h"
#include "models/pcie/link.h"
#include "sim/cli/describe.h"
#include "sim/config/component_catalog.h"
#include "sim/config/param_loader.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

// A default-constructed struct holds, field by field, what the table's default texts parse to,
// and from() stores what the loader parsed.
void expect_struct_defaults_are_the_table_defaults(const AnyParamTable &table, const char *what) {
  ParamSet loaded = resolve_params(table.specs(), std::nullopt);
  std::vector<ParamValue> constructed = table.struct_defaults();
  std::vector<ParamValue> from_table = table.filled_from(loaded);
  ASSERT_EQ(constructed.size(), table.specs().size()) << what;
  for (std::size_t i = 0; i < table.specs().size(); ++i) {
    const ParamSpec &spec = table.specs()[i];
    nlohmann::json parsed = value_to_json(loaded.value(i));
    EXPECT_EQ(value_to_json(constructed[i]), parsed)
        << what << "." << spec.name << ": the C++ default differs from the table's \""
        << default_text(spec) << "\"";
    EXPECT_EQ(value_to_json(from_table[i]), parsed)
        << what << "." << spec.name << ": from() does not store what the loader parsed";
  }
}

// Calls check(table, name) for every Params table: each catalog type's (so a new type is
// checked without a line here), then the link's and the workload costs', which are not types.
template <class Check> void for_every_params_table(Check check) {
  for (const ComponentType &t : component_types())
    check(t.params_table(), t.name.c_str());
  check(LinkParams::table(), "link");
  check(OsCosts::table(), "costs");
}

TEST(ParamDrift, EveryStructDefaultIsItsTableDefault) {
  for_every_params_table(expect_struct_defaults_are_the_table_defaults);
}

// A value of the same kind that differs from `v` (bounds do not matter to from()).
ParamValue another(const ParamValue &v, const ParamSpec &spec) {
  if (const Bytes *b = std::get_if<Bytes>(&v))
    return Bytes{b->count + 4096};
  if (const Duration *d = std::get_if<Duration>(&v))
    return Duration{d->ps + 1000};
  if (const Bandwidth *r = std::get_if<Bandwidth>(&v))
    return Bandwidth{r->bytes_per_second * 2};
  if (const std::int64_t *i = std::get_if<std::int64_t>(&v))
    return *i + 1;
  if (const bool *b = std::get_if<bool>(&v))
    return !*b;
  const std::string &choice = std::get<std::string>(v);
  return spec.choices.at(spec.choices.at(0) == choice ? 1 : 0);
}

// Each row fills its own field: changing one parameter changes that field and no other.
void expect_each_row_fills_its_own_field(const AnyParamTable &table, const char *what) {
  ParamSet base = resolve_params(table.specs(), std::nullopt);
  for (std::size_t i = 0; i < table.specs().size(); ++i) {
    const ParamSpec &spec = table.specs()[i];
    ParamSet changed = base;
    changed.set(spec.name, another(base.value(i), spec));
    std::vector<ParamValue> filled = table.filled_from(changed);
    for (std::size_t j = 0; j < table.specs().size(); ++j)
      EXPECT_EQ(value_to_json(filled[j]), value_to_json(changed.value(j)))
          << what << ": setting " << spec.name << " shows in " << table.specs()[j].name;
  }
}

TEST(ParamDrift, EveryRowFillsItsOwnField) {
  for_every_params_table(expect_each_row_fills_its_own_field);
}

// The NIC's register BAR runs on its own table's bar_latency and bar_bandwidth.
// The endpoints built on the DMA engine core hand it every core parameter from their own
// table, so none runs on a core default that no table of theirs holds.
template <class DeviceParams> void expect_bar_timing_reaches_the_core() {
  DeviceParams device;
  device.bar_latency = Duration{123000};
  device.bar_bandwidth = Bandwidth{7e9};
  device.read_completion_boundary = Bytes{128};
  DmaEngineParams engine = device.engine_params();
  EXPECT_EQ(engine.bar_latency, Duration{123000});
  EXPECT_EQ(engine.bar_bandwidth.bytes_per_second, 7e9);
  EXPECT_EQ(engine.read_completion_boundary, Bytes{128});
}

TEST(ParamDrift, NicBarTimingReachesItsDmaEngineCore) {
  expect_bar_timing_reaches_the_core<RdmaNicParams>();
}

TEST(ParamDrift, NvmeBarTimingReachesItsDmaEngineCore) {
  expect_bar_timing_reaches_the_core<NvmeSsdParams>();
}

std::string json_type_of(ParamKind kind) {
  switch (kind) {
  case ParamKind::integer:
    return R"("integer")";
  case ParamKind::boolean:
    return R"("boolean")";
  case ParamKind::generation:
    return R"(["integer","string"])";
  default:
    return R"("string")";
  }
}

void expect_schema_matches(const nlohmann::json &params_schema, const std::vector<ParamSpec> &specs,
                           const std::string &what) {
  const nlohmann::json &properties = params_schema.at("properties");
  EXPECT_EQ(params_schema.at("additionalProperties"), false) << what;
  EXPECT_EQ(properties.size(), specs.size()) << what;
  for (const ParamSpec &s : specs) {
    ASSERT_TRUE(properties.contains(s.name)) << what << "." << s.name << " not in the schema";
    const nlohmann::json &p = properties.at(s.name);
    EXPECT_EQ(p.at("type").dump(), json_type_of(s.kind)) << what << "." << s.name;
    EXPECT_EQ(p.at("default"), s.default_value) << what << "." << s.name;
    if (s.kind == ParamKind::choice) {
      EXPECT_EQ(p.at("enum"), nlohmann::json(s.choices)) << what << "." << s.name;
    }
  }
}

TEST(ParamDrift, CheckedInSchemaIsTheGeneratedOne) {
  std::string file = read_repo_file("schemas/topology.schema.json");
  EXPECT_EQ(file, describe_schema())
      << "schemas/topology.schema.json is stale: write the output of `pciesim describe --schema`";
  nlohmann::json schema = nlohmann::json::parse(file);
  const nlohmann::json &component = schema["properties"]["components"]["items"];
  EXPECT_EQ(component["properties"]["type"]["enum"], nlohmann::json(component_type_names()));
  for (const ComponentType &t : component_types())
    expect_schema_matches(schema["definitions"][t.name + "_params"], t.specs(), t.name);
  expect_schema_matches(schema["definitions"]["link_params"], LinkParams::specs(), "link");
}

TEST(ParamDrift, StatisticsReferenceMatchesTheStatsTables) {
  std::string doc = read_repo_file("docs/statistics.md");
  EXPECT_NE(doc.find(describe_stats_markdown()), std::string::npos)
      << "docs/statistics.md is stale: paste the output of `pciesim describe --stats`";
}

// Sorted: the harness's JSON does not keep key order (for_each, from the table, gives it).
std::set<std::string> keys_of(const nlohmann::json &object) {
  std::set<std::string> keys;
  for (auto it = object.begin(); it != object.end(); ++it)
    keys.insert(it.key());
  return keys;
}

// One component of every type (the IOMMU on, so its counters appear too).
// A scenario with one component of every catalog type: a root complex (IOMMU on, so its
// stats appear), its host memory, and a switch with one endpoint of each endpoint type below
// it; built from the catalog, so a newly registered type is covered without editing the test.
nlohmann::json every_type_scenario() {
  nlohmann::json components = nlohmann::json::array(
      {{{"id", "rc0"},
        {"type", "root_complex"},
        {"params", {{"root_ports", 1}, {"iommu", "translated"}}}},
       {{"id", "mem0"}, {"type", "host_memory"}, {"root_complex", "rc0"}},
       // A second socket, so that the inter-socket link is there too.
       {{"id", "rc1"},
        {"type", "root_complex"},
        {"params", {{"root_ports", 1}, {"iommu", "translated"}}}},
       {{"id", "mem1"}, {"type", "host_memory"}, {"root_complex", "rc1"}},
       {{"id", "xsock"}, {"type", "inter_socket_link"}, {"root_complexes", {"rc0", "rc1"}}}});
  nlohmann::json links = nlohmann::json::array({{{"between", {"rc0.rp0", "sw0.up"}}}});
  int port = 0;
  for (const ComponentType &t : component_types()) {
    if (t.role != ComponentRole::Endpoint)
      continue;
    std::string id = t.name + "0";
    components.push_back({{"id", id}, {"type", t.name}});
    links.push_back({{"between", {fmt::format("sw0.dp{}", port++), id}}});
  }
  components.push_back(
      {{"id", "sw0"}, {"type", "switch"}, {"params", {{"downstream_ports", port}}}});
  return {
      {"topology", {{"fabric", {{"mps", "256 B"}}}, {"components", components}, {"links", links}}},
      {"transfers", nlohmann::json::array({{{"id", "w"},
                                            {"initiator", "dma_engine0"},
                                            {"target", "mem0"},
                                            {"direction", "write"},
                                            {"size", "4 KiB"}}})}};
}

TEST(ParamDrift, EveryStatInTheTablesIsInResultsAndNothingElse) {
  nlohmann::json results = simulate_in_child(every_type_scenario());
  const nlohmann::json &components = results.at("components");
  std::set<std::string> types_seen;
  for (const nlohmann::json &c : results.at("config").at("topology").at("components")) {
    std::string id = c.at("id"), type = c.at("type");
    types_seen.insert(type);
    std::set<std::string> expected;
    for (const StatGroup &g : find_component_type(type)->stats)
      for (const StatSpec &s : *g.specs)
        expected.insert(s.name);
    EXPECT_EQ(keys_of(components.at(id)), expected) << id << " (" << type << ")";
  }
  for (const ComponentType &t : component_types())
    EXPECT_EQ(types_seen.count(t.name), 1u) << "the scenario lacks a " << t.name;

  // Links: the table names the keys of links[]; busy_fs is reported as `utilization`.
  const nlohmann::json &link = results.at("links").at(0);
  for (const StatSpec &s : LinkDirectionStats::table().specs()) {
    std::string key = s.name == "busy_fs" ? "utilization" : s.name;
    auto dot = key.find('.');
    bool present = dot == std::string::npos
                       ? link.contains(key)
                       : link.contains(key.substr(0, dot)) &&
                             link.at(key.substr(0, dot)).contains(key.substr(dot + 1));
    EXPECT_TRUE(present) << s.name << " is not under links[] in results.json";
  }
}

} // namespace
} // namespace pciesim::test
