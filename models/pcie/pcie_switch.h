// A PCIe switch: one upstream port (port 0) and N downstream ports (1..N). Requests are
// routed by address against the downstream ports' memory windows (anything else goes
// upstream), completions by requester ID against their bus ranges. Cut-through: a TLP leaves
// `latency` after its header arrived. Each egress port's queue is its link's transmit queue;
// an ingress buffer is freed when the TLP starts leaving, so a congested egress port
// backpressures the ingress links through their credits.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <systemc>

#include "models/common/stats.h"
#include "models/pcie/pcie_port.h"
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

class PcieSwitch : public sc_core::sc_module, public PortOwner {
public:
  static constexpr int kUpstreamPort = 0;

  PcieSwitch(sc_core::sc_module_name name, const SwitchParams &params, RoutingTable downstream,
             TlpPool &pool);

  PciePort &port(int index) { return *ports_[static_cast<std::size_t>(index)]; }
  int port_count() const { return static_cast<int>(ports_.size()); }
  const SwitchStats &stats() const { return stats_; }
  std::uint16_t completer_id = 0; // the upstream port's BDF, for UR completions

  void tlp_arrived(int port, tlm::tlm_generic_payload &gp) override;
  void tlp_departing(int port, tlm::tlm_generic_payload &gp,
                     const sc_core::sc_time &delay) override;

private:
  int route(const TlpExtension &tlp, int ingress);
  void drop_completion(int port, tlm::tlm_generic_payload &gp);

  SwitchParams params_;
  RoutingTable downstream_;
  TlpPool &pool_;
  std::vector<std::unique_ptr<PciePort>> ports_;
  SwitchStats stats_;
};

// A completion without data carrying Unsupported Request status, answering a non-posted
// request that no one can complete. Shared by every component that terminates requests.
tlm::tlm_generic_payload &make_unsupported_request_completion(TlpPool &pool,
                                                              const TlpExtension &request,
                                                              std::uint16_t completer_id);

// Terminates a request that arrived on `port` and that nobody can complete: frees its
// receive buffer, answers a read with an Unsupported Request completion after `delay`, and
// tells a dropped posted write's observer (hardware stays silent; the report does not).
void terminate_unsupported_request(PciePort &port, TlpPool &pool, tlm::tlm_generic_payload &gp,
                                   std::uint16_t completer_id, const sc_core::sc_time &delay);

} // namespace pciesim
