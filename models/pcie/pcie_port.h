// A component's PCIe port: an egress initiator socket into the link and an ingress target
// socket from the link. Phases carry the flow-control meaning of PCIe:
//   egress  BEGIN_REQ (fw, delay d): a TLP joins the link's transmit queue at now+d;
//   egress  END_REQ   (bw, delay d): the link starts sending it at now+d, so the sender may
//                                     free the buffer the TLP occupied;
//   ingress BEGIN_REQ (fw, delay 0): the TLP's last byte has arrived, the owner holds it;
//   ingress END_REQ   (bw, delay d): the owner frees its receive buffer at now+d, which
//                                     returns flow-control credits to the far end.
// A port binds only to a link (Link::connect), so on the hot path the port and the link
// make these four calls on each other directly, with the delay in integer picoseconds: the
// same protocol, without building an sc_time, a phase and a socket call for each TLP at each
// end (docs/performance.md). The sockets stay bound as the model's structure, and a
// TLM-2.0 call on them does the same thing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>

#include "models/common/params.h"
#include "models/common/sim_time.h"
#include "models/pcie/link_timing.h"
#include "models/pcie/tlp.h"

namespace pciesim {

class PortOwner {
public:
  virtual ~PortOwner() = default;
  // The TLP has fully arrived on `port`; the owner now holds it and must release it later.
  virtual void tlp_arrived(int port, tlm::tlm_generic_payload &gp) = 0;
  // The link behind `port` starts transmitting `gp` at now + delay.
  virtual void tlp_departing(int port, tlm::tlm_generic_payload &gp, std::int64_t delay_ps) = 0;

  // Early arrival, for owners whose handling of a TLP depends on nothing that changes with
  // time (a switch routes by address and forwards after a fixed latency). The link offers
  // such an owner each TLP when it starts sending it, `arrival_delay_ps` before its last byte
  // arrives on `port`. If the owner takes it (returns true), it does then what tlp_arrived
  // would have done at the arrival, with every delay it annotates lengthened by
  // `arrival_delay_ps`, and tlp_arrived is not called; if not, tlp_arrived follows at the
  // arrival. Taking it saves the link a wake-up per TLP (docs/performance.md).
  // The TLP types the owner may take so (a bit per TlpType, early_types), asked once, at
  // connection: the link offers no other, and none when it is 0.
  virtual std::uint8_t early_arrival_types() const { return 0; }
  // Whether tlp_arriving may return false (a switch takes every TLP; a DMA engine only its
  // read data completions). Asked once, at connection.
  virtual bool may_refuse_early_arrivals() const { return false; }
  virtual bool tlp_arriving(int /*port*/, tlm::tlm_generic_payload & /*gp*/,
                            std::int64_t /*arrival_delay_ps*/) {
    return false;
  }

  // Send lookahead, for owners whose sending does not depend on when they are told things (a
  // switch). A positive answer promises two things about `port`: every TLP the owner sends on
  // it from now on is ready at least this long after the call that sends it, and
  // tlp_departing with a delay does exactly what it would do called that much later. The link
  // behind the port may then decide when each TLP starts up to this long ahead and tell the
  // owner at once, which saves it a wake-up per TLP (docs/performance.md). Asked once, at
  // connection; 0 (the default) promises nothing.
  virtual std::int64_t send_lookahead_ps(int /*port*/) const { return 0; }
};

// A port may stay unconnected (an empty root port or switch slot); routing never uses it.
using PcieInitiatorSocket =
    tlm::tlm_initiator_socket<32, PcieProtocolTypes, 1, sc_core::SC_ZERO_OR_MORE_BOUND>;
using PcieTargetSocket =
    tlm::tlm_target_socket<32, PcieProtocolTypes, 1, sc_core::SC_ZERO_OR_MORE_BOUND>;

// Both TLM-2.0 transport interfaces with the calls PCIe never makes answered once: pciesim's
// PCIe sockets are non-blocking only (no b_transport, DMI or debug access). A port or a link
// direction derives from it and implements nb_transport_fw and nb_transport_bw.
class PcieNonBlockingOnly : public tlm::tlm_fw_transport_if<PcieProtocolTypes>,
                            public tlm::tlm_bw_transport_if<PcieProtocolTypes> {
public:
  // Answers TLM_COMMAND_ERROR_RESPONSE.
  void b_transport(tlm::tlm_generic_payload &gp, sc_core::sc_time &delay) override;
  bool get_direct_mem_ptr(tlm::tlm_generic_payload &gp, tlm::tlm_dmi &dmi) override;
  unsigned int transport_dbg(tlm::tlm_generic_payload &gp) override;
  void invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end) override;
};

class LinkDirection;

class PciePort : public PcieNonBlockingOnly {
  // First, in the object's first cache line: what a TLP's passage reads (its owner's send and
  // release go through here); the sockets, far larger, are used at elaboration.
  PortOwner &owner_;
  int index_;
  LinkDirection *egress_link_ = nullptr;  // takes what this port sends
  LinkDirection *ingress_link_ = nullptr; // delivers to this port, takes its releases

public:
  PciePort(const std::string &name, PortOwner &owner, int index);

  PcieInitiatorSocket egress;
  PcieTargetSocket ingress;

  const std::string &name() const { return name_; }
  int index() const { return index_; }

  // Egress BEGIN_REQ: the TLP joins the link's queue `delay_ps` from now (0 if negative).
  // Inline (defined in link.h): every TLP a component sends or frees goes through these.
  inline void send(tlm::tlm_generic_payload &gp, std::int64_t delay_ps);
  // Ingress END_REQ: the receive buffer the TLP held frees `delay_ps` from now (0 if negative).
  inline void release(tlm::tlm_generic_payload &gp, std::int64_t delay_ps);
  // Answers the read `request` (taken from the caller, who has released its receive buffer) with
  // completions of all its bytes, split as split_read_completions splits them, joining the
  // link's queue `delay_ps` from now as one completion train (completion.h): the same TLPs at
  // the same times as sending each, made as they reach the head of the queue. Returns the
  // number of completions.
  std::uint32_t send_completions(tlm::tlm_generic_payload &request, std::uint16_t completer_id,
                                 std::uint32_t max_payload_bytes, std::uint32_t rcb_bytes,
                                 std::int64_t delay_ps);
  // What the owner answers for this port at connection (PortOwner). A link calls the owner's
  // tlp_departing, tlp_arriving and tlp_arrived itself, without the port.
  std::uint8_t early_arrival_types() const { return owner_.early_arrival_types(); }
  bool may_refuse_early_arrivals() const { return owner_.may_refuse_early_arrivals(); }
  std::int64_t send_lookahead_ps() const { return owner_.send_lookahead_ps(index_); }

  // A TLM-2.0 call on the sockets does the same: ingress BEGIN_REQ (the owner's tlp_arrived),
  // egress END_REQ (its tlp_departing). tlm_fw_transport_if (ingress)
  tlm::tlm_sync_enum nb_transport_fw(tlm::tlm_generic_payload &gp, tlm::tlm_phase &phase,
                                     sc_core::sc_time &delay) override;
  // tlm_bw_transport_if (egress)
  tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload &gp, tlm::tlm_phase &phase,
                                     sc_core::sc_time &delay) override;

private:
  friend class Link; // sets the directions it binds the sockets to, reads the owner and number
  // Throws: a TLP `what` ("sent", "released") on a port no link connects. Out of line, so
  // that send and release stay a test and a call.
  [[noreturn, gnu::cold, gnu::noinline]] void unconnected(const char *what) const;
  std::string name_;
};

// Receive-buffer sizes a port advertises, in flow-control credits (header credits = TLPs,
// data credits = 16 bytes); 0 advertises infinite credits, as the spec lets endpoints and
// root ports do for completions.
struct ReceiveCredits {
  std::uint32_t header[kFcClasses] = {0, 0, 0};
  std::uint32_t data[kFcClasses] = {0, 0, 0};
};

// The port parameters' defaults of one component type: the same numbers fill its table's
// defaults and its Params struct's `ports` initializer.
struct PortDefaults {
  int max_generation;
  int max_width;
  std::uint32_t max_payload_bytes;
  std::uint32_t ph, pd, nph, npd, cplh, cpld;
};

// What every PCIe port of a component can do, and the buffers it offers its link partner.
struct PortCapabilities {
  int max_generation = 5;
  int max_width = 16;
  std::uint32_t max_payload_supported_bytes = 512;
  ReceiveCredits credits;
  DllpIntervalUnit dllp_interval_unit = DllpIntervalUnit::symbol_time;

  static PortCapabilities with(const PortDefaults &d) {
    return {d.max_generation, d.max_width, d.max_payload_bytes,
            ReceiveCredits{{d.ph, d.nph, d.cplh}, {d.pd, d.npd, d.cpld}},
            DllpIntervalUnit::symbol_time};
  }
};

// The shared port parameters (max_gen, max_width, max_payload_supported and the six
// receive-credit counts) of a component's table, with that component's defaults.
std::vector<ParamField<PortCapabilities>> port_fields(const PortDefaults &defaults);
// From the port rows of any component's resolved parameters.
PortCapabilities port_capabilities_from(const ParamSet &params);

} // namespace pciesim

// The definitions of PciePort's inline calls, which need the link's class: link.h includes this
// header first, so either may be included first.
#include "models/pcie/link.h"
