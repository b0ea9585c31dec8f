// A PCIe switch: one upstream port (port 0) and N downstream ports (1..N). Requests are
// routed by address against the downstream ports' memory windows (anything else goes
// upstream), completions by requester ID against their bus ranges. Cut-through: a TLP leaves
// `latency` after its header arrived. Each egress port's queue is its link's transmit queue;
// an ingress buffer is freed when the TLP starts leaving, so a congested egress port
// backpressures the ingress links through their credits.
#pragma once

#include <vector>

#include <systemc>

#include "models/common/sim_context.h"
#include "models/common/stats.h"
#include "models/pcie/component.h"
#include "models/pcie/forwarding_bridge.h"
#include "models/pcie/routing.h"

namespace pciesim {

struct SwitchParams {
  int downstream_ports = 4;
  Duration latency{105000};
  bool acs = true;
  bool acs_direct_translated = false;
  PortCapabilities ports = PortCapabilities::with(kPortDefaults);

  static constexpr PortDefaults kPortDefaults{5, 16, 512, 64, 1024, 64, 0, 64, 1024};
  static const ParamTable<SwitchParams> &table();
  static const std::vector<ParamSpec> &specs() { return table().specs(); }
  static SwitchParams from(const ParamSet &params) { return table().from(params); }
};

struct SwitchStats {
  std::uint64_t forwarded_requests = 0;
  std::uint64_t forwarded_completions = 0;
  std::uint64_t unsupported_requests = 0;
  std::uint64_t acs_redirected = 0;
  static const StatTable<SwitchStats> &table();
  template <class F> void for_each(F &&f) const { table().for_each(*this, f); }
};

class PcieSwitch : public sc_core::sc_module, public ForwardingBridge, public Component {
public:
  static constexpr int kUpstreamPort = 0;

  PcieSwitch(sc_core::sc_module_name name, const SwitchParams &params, RoutingTable downstream,
             SimContext &context);

  PciePort &port(int index) override { return ForwardingBridge::port(index); }
  const SwitchStats &stats() const { return stats_; }
  nlohmann::ordered_json stats_json() const override { return stats_to_json(stats_); }
  std::uint16_t completer_id = 0; // the upstream port's BDF, for UR completions

  void tlp_arrived(int port, tlm::tlm_generic_payload &gp) override;
  // Routing and the switch's latency do not depend on when a TLP arrives, so the switch
  // forwards each TLP it can route when the link starts sending it, to join the egress queue
  // at its arrival plus the latency.
  std::uint8_t early_arrival_types() const override { return kEveryTlpType; }
  bool tlp_arriving(int port, tlm::tlm_generic_payload &gp, std::int64_t arrival_delay_ps) override;
  // Every TLP leaves at least the latency after the switch sends it on: one taken early joins
  // its egress queue at its arrival plus the latency less its serialization, which the arrival
  // delay covers, and an Unsupported Request completion waits the latency. Its departing only
  // frees the ingress buffer, at the time it is given.
  std::int64_t send_lookahead_ps(int /*port*/) const override { return params_.latency.ps; }

private:
  // The egress port, or -1 when no port claims the TLP (or it would go back out by `ingress`).
  int route(const TlpExtension &tlp, int ingress, bool &acs_redirected) const;
  // Sends a routed TLP on towards `egress`, joining its queue `arrival_delay_ps` from now.
  void forward(int ingress, int egress, bool acs_redirected, tlm::tlm_generic_payload &gp,
               std::int64_t arrival_delay_ps);
  void drop_completion(int port, tlm::tlm_generic_payload &gp);

  SwitchParams params_;
  RoutingTable downstream_;
  TlpPool &pool_;
  SwitchStats stats_;
};

} // namespace pciesim
