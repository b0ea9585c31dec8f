// A test endpoint: one PCIe port that records every TLP arriving (time, type, address) and
// frees its buffer after a configurable hold time; it can inject TLPs.
#pragma once

#include <string>
#include <vector>

#include <fmt/format.h>
#include <systemc>

#include "models/pcie/pcie_port.h"

namespace pciesim::test {

struct Arrival {
  std::int64_t at_ps;
  TlpType type;
  std::uint64_t address;
  std::uint16_t requester_id;
  CompletionStatus status;
};

class ProbeEndpoint : public sc_core::sc_module, public PortOwner {
public:
  ProbeEndpoint(sc_core::sc_module_name name, TlpPool &pool)
      : sc_module(name), port("up", *this, 0), pool_(pool) {}

  PciePort port;
  std::vector<Arrival> arrivals;
  std::vector<std::int64_t> departures_ps;
  std::int64_t hold_ps = 0; // how long a received TLP occupies the receive buffer

  void inject(TlpType type, std::uint64_t address, std::uint32_t payload,
              std::uint16_t requester = 0x0100) {
    tlm::tlm_generic_payload &gp = pool_.acquire();
    TlpExtension &t = tlp_of(gp);
    t.type = type;
    t.address = address;
    t.payload_bytes = type == TlpType::MWr || type == TlpType::CplD ? payload : 0;
    t.request_bytes = type == TlpType::MRd ? payload : 0;
    t.requester_id = requester;
    port.send(gp, sc_core::SC_ZERO_TIME);
  }

  void tlp_arrived(int, tlm::tlm_generic_payload &gp) override {
    const TlpExtension &t = tlp_of(gp);
    arrivals.push_back({now_ps(), t.type, t.address, t.requester_id, t.status});
    port.release(gp, ps_to_time(hold_ps));
    pool_.release(gp);
  }
  void tlp_departing(int, tlm::tlm_generic_payload &, const sc_core::sc_time &delay) override {
    departures_ps.push_back(now_ps() + time_to_ps(delay));
  }

private:
  TlpPool &pool_;
};

} // namespace pciesim::test
