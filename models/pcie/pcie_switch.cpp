#include "models/pcie/pcie_switch.h"

#include <algorithm>

namespace pciesim {

const std::vector<ParamSpec> &SwitchParams::specs() {
  static const std::vector<ParamSpec> specs = [] {
    std::vector<ParamSpec> s = {
        {"downstream_ports", ParamKind::integer, 4, "number of downstream ports (dp0..dpN-1)", 1,
         32},
        {"latency", ParamKind::time, "105 ns",
         "port-to-port cut-through latency, header in to header out (PEX88000: 105 ns)", 0, 1e9},
    };
    append_port_specs(s, PortDefaults{5, 16, "512 B", 64, 1024, 64, 0, 64, 1024});
    return s;
  }();
  return specs;
}

SwitchParams SwitchParams::from(const ParamSet &p) {
  SwitchParams s;
  s.downstream_ports = static_cast<int>(p.integer("downstream_ports"));
  s.latency = p.duration("latency");
  s.ports = port_capabilities_from(p);
  return s;
}

tlm::tlm_generic_payload &make_unsupported_request_completion(TlpPool &pool,
                                                              const TlpExtension &request,
                                                              std::uint16_t completer_id) {
  tlm::tlm_generic_payload &gp = pool.acquire();
  TlpExtension &cpl = tlp_of(gp);
  cpl.type = TlpType::Cpl;
  cpl.status = CompletionStatus::UnsupportedRequest;
  cpl.requester_id = request.requester_id;
  cpl.completer_id = completer_id;
  cpl.tag = request.tag;
  cpl.byte_count = request.request_bytes;
  cpl.address = request.address;
  cpl.cookie = request.cookie;
  return gp;
}

PcieSwitch::PcieSwitch(sc_core::sc_module_name name, const SwitchParams &params,
                       RoutingTable downstream, TlpPool &pool)
    : sc_module(name), params_(params), downstream_(std::move(downstream)), pool_(pool) {
  ports_.push_back(std::make_unique<PciePort>("up", *this, 0));
  for (int i = 0; i < params.downstream_ports; ++i)
    ports_.push_back(std::make_unique<PciePort>("dp" + std::to_string(i), *this, i + 1));
}

int PcieSwitch::route(const TlpExtension &tlp, int ingress) const {
  int egress = is_request(tlp.type) ? downstream_.port_for_address(tlp.address)
                                    : downstream_.port_for_bus(tlp.requester_id >> 8);
  if (egress >= 0)
    return egress;
  // Not below any downstream port: upstream, unless it came from there (an address hole).
  return ingress == kUpstreamPort ? -1 : kUpstreamPort;
}

void PcieSwitch::tlp_arrived(int port, tlm::tlm_generic_payload &gp) {
  TlpExtension &tlp = tlp_of(gp);
  int egress = route(tlp, port);
  if (egress < 0 || egress == port) {
    // No route (or back out the way it came, which a switch never does): terminate it.
    ++stats_.unsupported_requests;
    ports_[static_cast<std::size_t>(port)]->release(gp, sc_core::SC_ZERO_TIME);
    if (tlp.type == TlpType::MRd)
      ports_[static_cast<std::size_t>(port)]->send(
          make_unsupported_request_completion(pool_, tlp, completer_id),
          ps_to_time(params_.latency.ps));
    pool_.release(gp);
    return;
  }
  if (is_request(tlp.type))
    ++stats_.forwarded_requests;
  else
    ++stats_.forwarded_completions;
  tlp.ingress_port = static_cast<std::uint8_t>(port);
  // Cut-through: the header arrived one serialization time before the last byte.
  std::int64_t delay_ps =
      std::max<std::int64_t>(0, params_.latency.ps - tlp.last_hop_ser_fs / 1000);
  ports_[static_cast<std::size_t>(egress)]->send(gp, ps_to_time(delay_ps));
}

void PcieSwitch::tlp_departing(int port, tlm::tlm_generic_payload &gp,
                               const sc_core::sc_time &delay) {
  (void)port;
  const TlpExtension &tlp = tlp_of(gp);
  if (tlp.ingress_port == kNoIngressPort)
    return; // created here, held no receive buffer
  ports_[tlp.ingress_port]->release(gp, delay);
}

} // namespace pciesim
