// Enumeration of the switch topology: bus numbers depth-first, BARs inside their bridge
// windows, windows nested, routing tables from windows and bus ranges; link training.
#include <gtest/gtest.h>

#include "sim/config/json_input.h"
#include "sim/fabric/enumeration.h"
#include "sim/fabric/topology.h"

namespace pciesim {
namespace {

struct Fixture {
  LoadedTopology t;
  Enumeration e;
  int id(const std::string &name) const { return t.config.find(name); }
  const ComponentAddressing &at(const std::string &name) const {
    return e.components[static_cast<std::size_t>(id(name))];
  }
};

Fixture load(const std::string &file) {
  Fixture f;
  f.t = load_topology_file(std::string(PCIESIM_SOURCE_DIR) + "/topologies/" + file);
  f.e = enumerate(f.t.config, f.t.hierarchy);
  return f;
}

TEST(Enumeration, BusNumbersAreDepthFirst) {
  Fixture f = load("switch-two-dma.json");
  EXPECT_EQ(f.at("rc0").bdf.packed(), 0x0000);
  EXPECT_EQ(format_bdf(f.at("rc0").ports[0].bdf), "00:01.0");
  EXPECT_EQ(f.at("rc0").ports[0].buses.secondary, 1);
  EXPECT_EQ(f.at("rc0").ports[0].buses.subordinate, 4);
  EXPECT_EQ(format_bdf(f.at("sw0").bdf), "01:00.0");
  EXPECT_EQ(f.at("sw0").ports[0].buses.secondary, 2); // internal bus
  EXPECT_EQ(format_bdf(f.at("sw0").ports[1].bdf), "02:00.0");
  EXPECT_EQ(format_bdf(f.at("sw0").ports[2].bdf), "02:01.0");
  EXPECT_EQ(format_bdf(f.at("dma0").bdf), "03:00.0");
  EXPECT_EQ(format_bdf(f.at("dma1").bdf), "04:00.0");
  EXPECT_EQ(f.e.buses_used, 5);
}

TEST(Enumeration, BarsSitInsideNestedWindows) {
  Fixture f = load("switch-two-dma.json");
  const Bar &bar0 = f.at("dma0").bars.at(0);
  const Bar &bar1 = f.at("dma1").bars.at(0);
  EXPECT_EQ(bar0.size, 1u << 20);
  EXPECT_EQ(bar0.base % bar0.size, 0u); // naturally aligned
  const AddressWindow &dp0 = f.at("sw0").ports[1].window;
  const AddressWindow &dp1 = f.at("sw0").ports[2].window;
  const AddressWindow &up = f.at("sw0").ports[0].window;
  const AddressWindow &rp = f.at("rc0").ports[0].window;
  EXPECT_TRUE(dp0.contains(bar0.base) && dp0.contains(bar0.base + bar0.size - 1));
  EXPECT_TRUE(dp1.contains(bar1.base) && dp1.contains(bar1.base + bar1.size - 1));
  EXPECT_FALSE(dp0.contains(bar1.base));
  for (const AddressWindow *w : {&dp0, &dp1}) {
    EXPECT_TRUE(up.contains(w->base) && up.contains(w->limit));
    EXPECT_TRUE(rp.contains(w->base) && rp.contains(w->limit));
  }
  EXPECT_FALSE(f.at("sw0").ports[3].window.open()); // empty slot
  // MMIO sits above host memory.
  EXPECT_GE(rp.base, f.at("rc0").memory_base + f.at("rc0").memory_size);
  EXPECT_LE(rp.limit, f.at("rc0").mmio_limit);
}

TEST(Enumeration, RoutingTablesFollowWindowsAndBuses) {
  Fixture f = load("switch-two-dma.json");
  RoutingTable sw = routing_for(f.e, f.t.config, f.id("sw0"));
  EXPECT_EQ(sw.port_for_address(f.at("dma1").bars[0].base + 100), 2);
  EXPECT_EQ(sw.port_for_address(f.at("dma0").bars[0].base), 1);
  EXPECT_EQ(sw.port_for_address(0x1000), -1); // host memory: not below
  EXPECT_EQ(sw.port_for_bus(4), 2);
  EXPECT_EQ(sw.port_for_bus(1), -1);
  RoutingTable rc = routing_for(f.e, f.t.config, f.id("rc0"));
  EXPECT_EQ(rc.port_for_bus(3), 0);
  EXPECT_EQ(rc.port_for_address(f.at("dma0").bars[0].base), 0);
}

TEST(Enumeration, LinksTrainToTheLowerOfBothEnds) {
  auto doc = parse_json_text(R"({
    "components": [
      {"id": "rc0", "type": "root_complex", "params": {"max_gen": 4}},
      {"id": "d", "type": "dma_engine", "params": {"max_width": 4}},
      {"id": "e", "type": "dma_engine", "params": {"max_width": 12}}
    ],
    "links": [{"between": ["rc0.rp0", "d"], "params": {"gen": 5, "width": 16}},
              {"between": ["rc0.rp1", "e"], "params": {"gen": "8 GT/s", "width": 16}}]
  })",
                             "inline");
  TopologyConfig t = load_topology(Node::root(doc));
  Hierarchy h = build_hierarchy(t);
  EXPECT_EQ(h.trained[0].shape.generation, 4);
  EXPECT_EQ(h.trained[0].shape.width, 4);
  EXPECT_EQ(h.trained[1].shape.generation, 3);
  EXPECT_EQ(h.trained[1].shape.width, 12);
  EXPECT_EQ(h.mps_bytes, 512u); // lowest max_payload_supported
}

TEST(Enumeration, ALinkCountsDllpIntervalsInBytesIfEitherEndDoes) {
  auto doc = parse_json_text(R"({
    "components": [
      {"id": "rc0", "type": "root_complex"},
      {"id": "d", "type": "dma_engine", "params": {"dllp_interval_unit": "byte"}},
      {"id": "e", "type": "dma_engine"}
    ],
    "links": [{"between": ["rc0.rp0", "d"]}, {"between": ["rc0.rp1", "e"]}]
  })",
                             "inline");
  Hierarchy h = build_hierarchy(load_topology(Node::root(doc)));
  EXPECT_EQ(h.trained[0].overheads.dllp_interval_unit, DllpIntervalUnit::byte);
  EXPECT_EQ(h.trained[1].overheads.dllp_interval_unit, DllpIntervalUnit::symbol_time);
}

} // namespace
} // namespace pciesim
