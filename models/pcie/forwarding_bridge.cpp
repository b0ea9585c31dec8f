#include "models/pcie/forwarding_bridge.h"

namespace pciesim {

PciePort &ForwardingBridge::add_port(const std::string &name) {
  ports_.push_back(std::make_unique<PciePort>(name, *this, port_count()));
  return *ports_.back();
}

// Per TLP: flattened (docs/models.md, "Hot paths").
[[gnu::flatten]] void ForwardingBridge::tlp_departing(int, tlm::tlm_generic_payload &gp,
                                                      std::int64_t delay_ps) {
  release_ingress(gp, delay_ps);
}

} // namespace pciesim
