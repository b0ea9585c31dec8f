// The component catalog (sim/config/component_catalog.h): the JSON Schema's type enum lists
// exactly its rows, and every row's factory builds a model whose interface agrees with the
// capabilities the row claims (the core trusts those flags instead of type names).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "models/common/event_calendar.h"
#include "models/common/sim_context.h"
#include "models/pcie/component.h"
#include "models/pcie/tlp.h"
#include "sim/config/component_catalog.h"
#include "sim/config/embedded_files.h"
#include "sim/config/param_loader.h"

namespace pciesim::test {
namespace {

TEST(ComponentCatalog, SchemaTypeEnumListsExactlyTheCatalogTypes) {
  nlohmann::json schema = nlohmann::json::parse(embedded_file("schemas/topology.schema.json"));
  const nlohmann::json &type =
      schema.at("properties").at("components").at("items").at("properties").at("type");
  EXPECT_EQ(type.at("enum").get<std::vector<std::string>>(), component_type_names())
      << "schemas/topology.schema.json's type enum must list the catalog's rows, in order";
}

TEST(ComponentCatalog, EveryRowHasItsTablesAndAFactory) {
  for (const ComponentType &type : component_types()) {
    SCOPED_TRACE(type.name);
    EXPECT_FALSE(type.doc.empty());
    ASSERT_NE(type.params_table, nullptr);
    ASSERT_NE(type.bars, nullptr);
    ASSERT_NE(type.make, nullptr);
    ParamSet defaults = resolve_params(type.specs(), std::nullopt);
    std::size_t bars = type.bars(defaults).size();
    // One of a function's six BARs; the parameters may leave it out (an optional memory
    // buffer), which makes the component no transfer target.
    EXPECT_LT(type.data_bar, 6) << "the data BAR must be one of a function's six BARs";
    EXPECT_EQ(bars != 0, type.role == ComponentRole::Endpoint);
    if (type.initiates_dma || type.workload_actor != WorkloadActor::None) {
      EXPECT_EQ(type.role, ComponentRole::Endpoint);
    }
    if (type.copy_engines) {
      EXPECT_GE(type.copy_engines(defaults), 1);
    }
    if (type.reads_per_queue_pair) {
      EXPECT_GE(type.reads_per_queue_pair(defaults), 1);
    }
    if (type.workload_actor == WorkloadActor::BufferOwner) {
      // Its buffers live behind its data BAR and its copy engines migrate them.
      EXPECT_GE(type.data_bar, 0);
      EXPECT_NE(type.copy_engines, nullptr);
      EXPECT_NE(type.device_memory_bytes, nullptr);
    }
  }
}

TEST(ComponentCatalog, FactoriesBuildModelsThatMatchTheirCapabilities) {
  EventCalendar calendar{"calendar"};
  TlpPool pool;
  SimContext context{calendar, pool};
  std::vector<std::unique_ptr<Component>> built; // alive together: SystemC names must differ
  for (const ComponentType &type : component_types()) {
    SCOPED_TRACE(type.name);
    ParamSet defaults = resolve_params(type.specs(), std::nullopt);
    ComponentWiring wiring;
    for (Bytes size : type.bars(defaults)) {
      wiring.bar_bases.push_back(0);
      wiring.bar_sizes.push_back(size.count);
    }
    std::unique_ptr<Component> model = type.make(type.name.c_str(), defaults, wiring, context);
    ASSERT_NE(model, nullptr);
    EXPECT_EQ(model->dma_engine() != nullptr, type.initiates_dma);
    EXPECT_EQ(model->host_memory_target() != nullptr, type.role == ComponentRole::Memory);
    EXPECT_TRUE(model->stats_json().is_object());
    EXPECT_FALSE(model->stats_json().empty());
    EXPECT_TRUE(model->quiescent());
    if (has_pcie_ports(type.role)) {
      EXPECT_NO_THROW(model->port(0));
    }
    built.push_back(std::move(model));
  }
}

} // namespace
} // namespace pciesim::test
