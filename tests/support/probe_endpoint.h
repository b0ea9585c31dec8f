// A test endpoint: one PCIe port that records every TLP arriving (time, type, address,
// payload, status) and frees its buffer after a configurable hold time; it can inject TLPs.
// Also what a model test needs around it: the context to build models with, AtStart to make
// its first calls from inside the simulation, and the arrivals as JSON to send them back
// from the child process the simulation runs in.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <systemc>

#include "models/common/event_calendar.h"
#include "models/common/sim_context.h"
#include "models/pcie/link.h"
#include "models/pcie/pcie_port.h"

namespace pciesim::test {

struct Arrival {
  std::int64_t at_ps;
  TlpType type;
  std::uint64_t address;
  std::uint16_t requester_id;
  CompletionStatus status;
  std::uint32_t payload_bytes;
};

class ProbeEndpoint : public sc_core::sc_module, public PortOwner {
public:
  ProbeEndpoint(sc_core::sc_module_name name, SimContext &context)
      : sc_module(name), port("up", *this, 0), pool_(context.pool) {}

  PciePort port;
  std::vector<Arrival> arrivals;
  std::vector<std::int64_t> departures_ps;
  std::int64_t hold_ps = 0; // how long a received TLP occupies the receive buffer
  // Send and release with TLM-2.0 calls on the port's sockets instead of PciePort's direct
  // calls (which is what the models use); both must do the same.
  bool through_sockets = false;
  // What inject() sends: each TLP ready this long after the call, and the lookahead promised
  // for it (PortOwner::send_lookahead_ps), which a test may break on purpose.
  std::int64_t send_delay_ps = 0;
  std::int64_t promised_lookahead_ps = 0;
  // Takes TLPs early (PortOwner::tlp_arriving), all but those `refuse_early` says to leave
  // to the link (by their order of arrival, from 0); without it, takes none. A TLP taken
  // early is recorded at its arrival.
  std::function<bool(std::size_t index)> refuse_early;
  // The TLP types it declares it may take early (PortOwner::early_arrival_types).
  std::uint8_t early_types_declared = kEveryTlpType;
  std::size_t offered_early() const { return offered_early_; }

  void inject(TlpType type, std::uint64_t address, std::uint32_t payload,
              std::uint16_t requester = 0x0100) {
    tlm::tlm_generic_payload &gp = pool_.acquire();
    TlpExtension &t = tlp_of(gp);
    t.type = type;
    t.address = address;
    t.payload_bytes = type == TlpType::MWr || type == TlpType::CplD ? payload : 0;
    t.request_bytes = type == TlpType::MRd ? payload : 0;
    t.requester_id = requester;
    if (through_sockets) {
      tlm::tlm_phase phase = tlm::BEGIN_REQ;
      sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
      port.egress->nb_transport_fw(gp, phase, delay);
    } else {
      port.send(gp, send_delay_ps);
    }
  }

  void tlp_arrived(int, tlm::tlm_generic_payload &gp) override {
    record_arrival(gp, now_ps());
    if (through_sockets) {
      tlm::tlm_phase phase = tlm::END_REQ;
      sc_core::sc_time delay = ps_to_time(hold_ps);
      port.ingress->nb_transport_bw(gp, phase, delay);
    } else {
      port.release(gp, hold_ps);
    }
    pool_.release(gp);
  }
  std::uint8_t early_arrival_types() const override {
    return refuse_early ? early_types_declared : 0;
  }
  bool may_refuse_early_arrivals() const override { return true; }
  bool tlp_arriving(int, tlm::tlm_generic_payload &gp, std::int64_t arrival_delay_ps) override {
    if (refuse_early(offered_early_++))
      return false;
    record_arrival(gp, now_ps() + arrival_delay_ps);
    port.release(gp, hold_ps + arrival_delay_ps);
    pool_.release(gp);
    return true;
  }
  void tlp_departing(int, tlm::tlm_generic_payload &, std::int64_t delay_ps) override {
    departures_ps.push_back(now_ps() + delay_ps);
  }
  std::int64_t send_lookahead_ps(int) const override { return promised_lookahead_ps; }

private:
  void record_arrival(const tlm::tlm_generic_payload &gp, std::int64_t at_ps) {
    const TlpExtension &t = tlp_of(gp);
    arrivals.push_back({at_ps, t.type, t.address, t.requester_id, t.status, t.payload_bytes});
  }
  TlpPool &pool_;
  std::size_t offered_early_ = 0;
};

// The link of the link tests: Gen3 x8, MPS 256 B, 20 ns of flight.
inline TrainedLink gen3x8() {
  TrainedLink t;
  t.shape = {3, 8, 256};
  t.flight_latency = Duration{20000};
  return t;
}

// The calendar and TLP pool of a model test, and the SimContext its models are built with.
// Declare it before the models, after sc_set_time_resolution.
struct ModelTestContext {
  EventCalendar calendar;
  TlpPool pool;
  SimContext context{calendar, pool};
};

// What a probe received, one object per TLP: at (ps), type, address, payload, ur.
inline nlohmann::json arrivals_json(const ProbeEndpoint &probe) {
  nlohmann::json list = nlohmann::json::array();
  for (const Arrival &a : probe.arrivals)
    list.push_back({{"at", a.at_ps},
                    {"type", tlp_type_name(a.type)},
                    {"address", a.address},
                    {"payload", a.payload_bytes},
                    {"ur", a.status == CompletionStatus::UnsupportedRequest}});
  return list;
}

// Runs `body` once as the simulation starts (time 0), from a SystemC process: where a test
// injects its first TLPs or makes its first calls into the models.
class AtStart : public sc_core::sc_module {
public:
  AtStart(sc_core::sc_module_name name, std::function<void()> body)
      : sc_module(name), body_(std::move(body)) {
    SC_HAS_PROCESS(AtStart);
    SC_METHOD(run);
  }

private:
  void run() { body_(); }
  std::function<void()> body_;
};

} // namespace pciesim::test
