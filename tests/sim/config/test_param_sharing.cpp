// Parameter sets that resolve to the same values share one copy (ParamSetSharing, used by
// load_topology), and sharing never lets a change to one set reach another.
#include <gtest/gtest.h>

#include "models/pcie/link.h"
#include "sim/config/json_input.h"
#include "sim/config/param_loader.h"
#include "sim/fabric/topology.h"

namespace pciesim::test {
namespace {

ParamSet link_params(const std::string &params_json) {
  Node root = Node::root(parse_json_text(params_json, "params.json"));
  return resolve_params(LinkParams::specs(), root);
}

TEST(ParamSharing, EqualSetsShareAndDifferentOnesDoNot) {
  ParamSet a = link_params(R"({"width": 8})");
  ParamSet b = link_params(R"({"width": 8})");
  ParamSet c = link_params(R"({"width": 4})");
  ParamSet d = link_params(R"({})"); // width 16 by default
  EXPECT_TRUE(a.same_values(b));
  EXPECT_FALSE(a.same_values(c));
  EXPECT_FALSE(a.same_values(d));
  // Given or left to its default is part of the value: 16 written out is not the default 16.
  EXPECT_FALSE(link_params(R"({"width": 16})").same_values(d));
  EXPECT_TRUE(link_params(R"({"width": 16})").same_values(link_params(R"({"width": 16})")));

  ParamSetSharing sharing;
  for (ParamSet *set : {&a, &b, &c, &d})
    sharing.share(*set);
  EXPECT_EQ(&a.value(0), &b.value(0)) << "b takes a's storage";
  EXPECT_NE(&a.value(0), &c.value(0));
  EXPECT_EQ(c.integer("width"), 4);
  EXPECT_EQ(d.integer("width"), 16);
}

TEST(ParamSharing, ChangingASharedSetLeavesTheOthersAlone) {
  ParamSet a = link_params(R"({"width": 8})");
  ParamSet b = link_params(R"({"width": 8})");
  ParamSetSharing sharing;
  sharing.share(a);
  sharing.share(b);
  ASSERT_EQ(&a.value(0), &b.value(0));
  b.set("width", std::int64_t{2});
  EXPECT_EQ(b.integer("width"), 2);
  EXPECT_EQ(a.integer("width"), 8);
  ParamSet copy = a; // a plain copy shares too, and changing it changes only the copy
  copy.set("gen", std::int64_t{3});
  EXPECT_EQ(copy.integer("gen"), 3);
  EXPECT_EQ(a.integer("gen"), 5);
}

TEST(ParamSharing, ATopologysEqualComponentsShareTheirParameters) {
  Node root = Node::root(parse_json_text(R"({"components": [
      {"id": "rc0", "type": "root_complex", "params": {"root_ports": 2}},
      {"id": "rc1", "type": "root_complex", "params": {"root_ports": 2}},
      {"id": "rc2", "type": "root_complex", "params": {"root_ports": 1}},
      {"id": "dma0", "type": "dma_engine"}, {"id": "dma1", "type": "dma_engine"}],
    "links": [{"between": ["rc0.rp0", "dma0"]},
              {"between": ["rc1.rp0", "dma1"], "params": {"width": 8}}]})",
                                         "wide.json"));
  TopologyConfig topology = load_topology(root);
  const auto &c = topology.components;
  EXPECT_EQ(&c[0].params.value(0), &c[1].params.value(0));
  EXPECT_NE(&c[0].params.value(0), &c[2].params.value(0));
  EXPECT_EQ(&c[3].params.value(0), &c[4].params.value(0));
  EXPECT_EQ(c[2].params.integer("root_ports"), 1);
  EXPECT_EQ(c[1].params.integer("root_ports"), 2);
  EXPECT_NE(&topology.links[0].params.value(0), &topology.links[1].params.value(0));
  EXPECT_EQ(topology.links[1].params.integer("width"), 8);
}

} // namespace
} // namespace pciesim::test
