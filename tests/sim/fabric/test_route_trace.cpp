// The route of a request traced through the routing tables enumeration programmed and the ACS
// controls the kernel set, with the switch model's own decision: peer traffic stays below a
// switch unless ACS redirects it to the root complex, crosses the root complex between root
// ports, and host-memory requests end in the socket's memory.
#include <gtest/gtest.h>

#include "sim/fabric/route_trace.h"

namespace pciesim {
namespace {

struct Traced {
  LoadedTopology t;
  Enumeration e;
  PciView view;
  int id(const std::string &name) const { return t.config.find(name); }
  // The route of a request from `from` to the first byte of `to`'s BAR `bar` (or of its memory).
  std::string route(const std::string &from, const std::string &to, int bar = 1,
                    bool translated = false) const {
    const ComponentAddressing &target = e.components[static_cast<std::size_t>(id(to))];
    std::uint64_t address =
        target.bars.empty()
            ? e
                  .components[static_cast<std::size_t>(
                      t.config.components[static_cast<std::size_t>(id(to))].memory_of_root)]
                  .memory_base
            : target.bars[static_cast<std::size_t>(bar)].base;
    std::string out;
    for (int c : trace_request_route(t.config, t.hierarchy, e, view, id(from), address, translated))
      out += (out.empty() ? "" : " > ") + t.config.components[static_cast<std::size_t>(c)].id;
    return out;
  }
};

Traced load_traced(const std::string &file) {
  Traced f;
  f.t = load_topology_file(std::string(PCIESIM_SOURCE_DIR) + "/topologies/" + file);
  f.e = enumerate(f.t.config, f.t.hierarchy);
  f.view = build_pci_view(f.t.config, f.t.hierarchy);
  return f;
}

TEST(RouteTrace, PeerRequestsTurnAtTheSwitchWithoutAcsRedirect) {
  Traced f = load_traced("gpu-nic-shared-switch.json");
  EXPECT_EQ(f.route("nic0", "gpu0"), "nic0 > sw0 > gpu0");
  EXPECT_EQ(f.route("nic0", "mem0"), "nic0 > sw0 > rc0 > mem0");
}

TEST(RouteTrace, AcsRedirectSendsPeerRequestsThroughTheRootComplex) {
  Traced f = load_traced("gpu-nic-shared-switch-iommu.json"); // IOMMU on: the kernel enables ACS RR
  EXPECT_EQ(f.route("nic0", "gpu0"), "nic0 > sw0 > rc0 > sw0 > gpu0");
}

TEST(RouteTrace, RootPortsForwardPeerRequestsInTheRootComplex) {
  Traced f = load_traced("gpu-nic-root-ports-amd.json");
  EXPECT_EQ(f.route("nic0", "gpu0"), "nic0 > rc0 > gpu0");
  EXPECT_EQ(f.route("gpu0", "mem0"), "gpu0 > rc0 > mem0");
}

TEST(RouteTrace, RequestsForTheOtherSocketCrossItsLink) {
  Traced f = load_traced("gpu-nic-two-sockets.json");
  EXPECT_EQ(f.route("nic0", "gpu0"), "nic0 > rc1 > xsock > rc0 > gpu0");
  EXPECT_EQ(f.route("nic0", "mem0"), "nic0 > rc1 > xsock > mem0"); // the far home agent
  EXPECT_EQ(f.route("nic0", "mem1"), "nic0 > rc1 > mem1");
}

TEST(RouteTrace, AnAddressNothingClaimsHasNoRoute) {
  Traced f = load_traced("gpu-nic-shared-switch.json");
  EXPECT_TRUE(trace_request_route(f.t.config, f.t.hierarchy, f.e, f.view, f.id("nic0"),
                                  ~std::uint64_t{0} - 4096, false)
                  .empty());
}

} // namespace
} // namespace pciesim
