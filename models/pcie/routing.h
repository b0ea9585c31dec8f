// Routing state that enumeration programs into bridges: each downstream-facing port's memory
// window (address routing of requests) and secondary..subordinate bus range (ID routing of
// completions). A handful of ports per bridge, so a linear scan beats any map.
#pragma once

#include <cstdint>
#include <vector>

namespace pciesim {

struct AddressWindow {
  std::uint64_t base = 0;
  std::uint64_t limit = 0; // inclusive; limit < base means the window is closed
  bool contains(std::uint64_t address) const { return base <= address && address <= limit; }
  bool open() const { return limit >= base; }
};

struct BusRange {
  int secondary = -1;
  int subordinate = -1;
  bool contains(int bus) const { return secondary <= bus && bus <= subordinate; }
};

// The ACS Control register bits of one function (PCIe Base Spec 7.7.8.3).
struct AcsControl {
  bool source_validation = false;
  bool request_redirect = false;    // RR: P2P requests go upstream
  bool completion_redirect = false; // CR: P2P completions go upstream
  bool upstream_forwarding = false; // UF
  bool egress_control = false;      // EC
  bool direct_translated = false;   // DT: translated (AT=10b) P2P requests route directly
};

struct PortRoute {
  int port = -1;
  AddressWindow window;
  BusRange buses;
  AcsControl acs; // what the kernel programmed into this downstream port's ACS Control
};

class RoutingTable {
public:
  void add(const PortRoute &route) { routes_.push_back(route); }
  // The port whose window holds `address`, or -1.
  int port_for_address(std::uint64_t address) const {
    for (const PortRoute &r : routes_)
      if (r.window.open() && r.window.contains(address))
        return r.port;
    return -1;
  }
  // The port whose bus range holds `bus`, or -1.
  int port_for_bus(int bus) const {
    for (const PortRoute &r : routes_)
      if (r.buses.contains(bus))
        return r.port;
    return -1;
  }
  // The route of downstream port `port`, or nullptr.
  const PortRoute *of_port(int port) const {
    for (const PortRoute &r : routes_)
      if (r.port == port)
        return &r;
    return nullptr;
  }
  PortRoute *of_port(int port) {
    for (PortRoute &r : routes_)
      if (r.port == port)
        return &r;
    return nullptr;
  }
  const std::vector<PortRoute> &routes() const { return routes_; }

private:
  std::vector<PortRoute> routes_;
};

// What a bridge routes a TLP by: its kind and the fields that decide.
struct RouteQuery {
  bool request = true;              // else a completion, routed by ID
  std::uint64_t address = 0;        // requests
  int requester_bus = 0;            // completions
  bool translation_request = false; // ATS Translation Request: for the root complex
  bool translated = false;          // AT = Translated: ACS Direct Translated may let it pass
};

// The egress a switch picks for a TLP that came in at `ingress` (`upstream` is its upstream
// port; `downstream` its downstream ports' windows, bus ranges and ACS controls): the
// downstream port that claims it, unless ACS on the ingress port redirects a peer TLP upstream
// (PCIe Base Spec 6.12), else upstream. -1 when nothing claims it (a TLP from upstream to an
// address hole, or out the way it came). `acs_redirected` is set when ACS sent it upstream.
// The switch model routes with it, and so does the route the scenario loader reports.
// Inline: a switch routes every TLP it forwards.
inline int route_at_switch(const RoutingTable &downstream, int upstream, int ingress,
                           const RouteQuery &query, bool &acs_redirected) {
  acs_redirected = false;
  // ATS Translation Requests are for the translation agent in the root complex.
  if (query.translation_request)
    return ingress == upstream ? -1 : upstream;
  int egress = query.request ? downstream.port_for_address(query.address)
                             : downstream.port_for_bus(query.requester_bus);
  if (egress >= 0 && ingress != upstream) {
    // Peer-to-peer between downstream ports: ACS on the ingress port may send it upstream
    // instead, so that the root complex (and its IOMMU) sees it (PCIe Base Spec 6.12).
    const PortRoute *from = downstream.of_port(ingress);
    const AcsControl acs = from ? from->acs : AcsControl{};
    bool redirect = query.request ? (acs.request_redirect || acs.egress_control) &&
                                        !(acs.direct_translated && query.translated)
                                  : acs.completion_redirect;
    // Back where it came from: a TLP a switch below redirected up to this port. ACS Upstream
    // Forwarding sends requests and completions alike on up (PCIe Base Spec 6.12.1.1);
    // without it the port would answer Unsupported Request, and with a switch between the
    // peers' switch and the root complex every redirected read's completions were lost.
    if (egress == ingress)
      redirect = acs.upstream_forwarding;
    if (redirect) {
      acs_redirected = true;
      return upstream;
    }
  }
  if (egress >= 0)
    return egress;
  // Not below any downstream port: upstream, unless it came from there (an address hole).
  return ingress == upstream ? -1 : upstream;
}

} // namespace pciesim
