// What the components that forward TLPs between their own ports (a switch, a root complex)
// share: the ports, and the rule that a forwarded TLP's receive buffer on the port it came in
// by is freed once the TLP starts leaving by another, so that a congested egress port
// backpressures the ingress link through its credits.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "models/pcie/pcie_port.h"

namespace pciesim {

class ForwardingBridge : public PortOwner {
public:
  PciePort &port(int index) { return *ports_[static_cast<std::size_t>(index)]; }
  int port_count() const { return static_cast<int>(ports_.size()); }

  void tlp_departing(int port, tlm::tlm_generic_payload &gp, std::int64_t delay_ps) override;

protected:
  // Adds a port numbered after the existing ones; call from the component's constructor.
  PciePort &add_port(const std::string &name);
  // The rule above, for a TLP now leaving: the buffer it held on the port it came in by frees
  // (one this component made held none). Inline: every forwarded TLP comes here.
  void release_ingress(tlm::tlm_generic_payload &gp, std::int64_t delay_ps) {
    const std::uint8_t ingress = tlp_of(gp).ingress_port;
    if (ingress != kNoIngressPort)
      ports_[ingress]->release(gp, delay_ps);
  }

  std::vector<std::unique_ptr<PciePort>> ports_;
};

} // namespace pciesim
