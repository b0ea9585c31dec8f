#include "models/pcie/routing.h"

namespace pciesim {

int route_at_switch(const RoutingTable &downstream, int upstream, int ingress,
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
