#include "models/pcie/pcie_switch.h"

#include <algorithm>

#include "models/pcie/completion.h"

namespace pciesim {

const StatTable<SwitchStats> &SwitchStats::table() {
  using S = SwitchStats;
  static const StatTable<S> table({
      stat(&S::acs_redirected,
           {"acs_redirected", "TLPs",
            "TLPs an ACS-redirecting downstream port sent upstream instead of to the peer port"}),
      stat(&S::forwarded_requests,
           {"forwarded_requests", "TLPs", "requests forwarded to another port"}),
      stat(&S::forwarded_completions,
           {"forwarded_completions", "TLPs", "completions forwarded to another port"}),
      stat(&S::unsupported_requests, {"unsupported_requests", "TLPs",
                                      "TLPs no port claims, terminated with Unsupported Request"}),
  });
  return table;
}

const ParamTable<SwitchParams> &SwitchParams::table() {
  using P = SwitchParams;
  static const ParamTable<P> table(
      field(&P::downstream_ports, {"downstream_ports", ParamKind::integer, 4,
                                   "number of downstream ports (dp0..dpN-1)", 1, 32}),
      field(&P::latency,
            {"latency", ParamKind::time, "105 ns",
             "port-to-port cut-through latency, header in to header out (PEX88000: 105 ns)", 0,
             1e9}),
      field(&P::acs, {"acs", ParamKind::boolean, true,
                      "downstream ports implement ACS (SV, RR, CR, UF, EC, DT); the kernel enables "
                      "redirection on them when an IOMMU is on"}),
      field(&P::acs_direct_translated,
            {"acs_direct_translated", ParamKind::boolean, false,
             "firmware set ACS Direct Translated P2P: translated requests route directly"}),
      nested(&P::ports, port_fields(kPortDefaults)));
  return table;
}

PcieSwitch::PcieSwitch(sc_core::sc_module_name name, const SwitchParams &params,
                       RoutingTable downstream, SimContext &context)
    : sc_module(name), params_(params), downstream_(std::move(downstream)), pool_(context.pool) {
  add_port("up");
  for (int i = 0; i < params.downstream_ports; ++i)
    add_port("dp" + std::to_string(i));
}

int PcieSwitch::route(const TlpExtension &tlp, int ingress, bool &acs_redirected) const {
  RouteQuery query;
  query.request = is_request(tlp.type);
  query.address = tlp.address;
  query.requester_bus = tlp.requester_id >> 8;
  query.translation_request = tlp.address_type == AddressType::TranslationRequest;
  query.translated = tlp.address_type == AddressType::Translated;
  acs_redirected = false;
  int egress = route_at_switch(downstream_, kUpstreamPort, ingress, query, acs_redirected);
  return egress == ingress ? -1 : egress;
}

void PcieSwitch::forward(int ingress, int egress, bool acs_redirected, tlm::tlm_generic_payload &gp,
                         std::int64_t arrival_delay_ps) {
  TlpExtension &tlp = tlp_of(gp);
  if (acs_redirected)
    ++stats_.acs_redirected;
  if (is_request(tlp.type))
    ++stats_.forwarded_requests;
  else
    ++stats_.forwarded_completions;
  tlp.ingress_port = static_cast<std::uint8_t>(ingress);
  tlp.arrives_after_ps = arrival_delay_ps;
  // Cut-through: the header arrived one serialization time before the last byte.
  std::int64_t delay_ps =
      std::max<std::int64_t>(0, params_.latency.ps - tlp.last_hop_ser_fs / 1000);
  ports_[static_cast<std::size_t>(egress)]->send(gp, arrival_delay_ps + delay_ps);
}

// Per TLP: flattened (docs/models.md, "Hot paths").
[[gnu::flatten]] bool PcieSwitch::tlp_arriving(int port, tlm::tlm_generic_payload &gp,
                                               std::int64_t arrival_delay_ps) {
  bool acs_redirected = false;
  int egress = route(tlp_of(gp), port, acs_redirected);
  if (egress < 0)
    return false; // terminated at its arrival, as hardware does
  forward(port, egress, acs_redirected, gp, arrival_delay_ps);
  return true;
}

// Per TLP: flattened (docs/models.md, "Hot paths").
[[gnu::flatten]] void PcieSwitch::tlp_arrived(int port, tlm::tlm_generic_payload &gp) {
  TlpExtension &tlp = tlp_of(gp);
  bool acs_redirected = false;
  int egress = route(tlp, port, acs_redirected);
  if (egress >= 0) {
    forward(port, egress, acs_redirected, gp, 0);
    return;
  }
  // No route (or back out the way it came, which a switch never does): terminate it.
  ++stats_.unsupported_requests;
  if (acs_redirected)
    ++stats_.acs_redirected;
  if (is_request(tlp.type))
    terminate_unsupported_request(*ports_[static_cast<std::size_t>(port)], pool_, gp, completer_id,
                                  params_.latency.ps);
  else
    drop_completion(port, gp);
}

// A completion with nowhere to go is discarded (an Unexpected Completion, PCIe 2.3.2).
void PcieSwitch::drop_completion(int port, tlm::tlm_generic_payload &gp) {
  ports_[static_cast<std::size_t>(port)]->release(gp, 0);
  pool_.release(gp);
}

} // namespace pciesim
