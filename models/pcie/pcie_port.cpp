#include "models/pcie/pcie_port.h"

#include <algorithm>
#include <stdexcept>

#include "models/pcie/link.h"

namespace pciesim {

void PcieNonBlockingOnly::b_transport(tlm::tlm_generic_payload &gp, sc_core::sc_time &) {
  gp.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
}
bool PcieNonBlockingOnly::get_direct_mem_ptr(tlm::tlm_generic_payload &, tlm::tlm_dmi &) {
  return false;
}
unsigned int PcieNonBlockingOnly::transport_dbg(tlm::tlm_generic_payload &) { return 0; }
void PcieNonBlockingOnly::invalidate_direct_mem_ptr(sc_dt::uint64, sc_dt::uint64) {}

PciePort::PciePort(const std::string &name, PortOwner &owner, int index)
    : owner_(owner), index_(index), egress((name + "_egress").c_str()),
      ingress((name + "_ingress").c_str()), name_(name) {
  egress.bind(*this);
  ingress.bind(*this);
}

void PciePort::unconnected(const char *what) const {
  throw std::logic_error(std::string("a TLP ") + what + " on port " + name_ +
                         ", which no link connects");
}

std::uint32_t PciePort::send_completions(tlm::tlm_generic_payload &request,
                                         std::uint16_t completer_id,
                                         std::uint32_t max_payload_bytes, std::uint32_t rcb_bytes,
                                         std::int64_t delay_ps) {
  if (!egress_link_)
    unconnected("sent");
  return egress_link_->queue_completions(request, completer_id, max_payload_bytes, rcb_bytes,
                                         std::max<std::int64_t>(0, delay_ps));
}

tlm::tlm_sync_enum PciePort::nb_transport_fw(tlm::tlm_generic_payload &gp, tlm::tlm_phase &phase,
                                             sc_core::sc_time &delay) {
  (void)phase;
  (void)delay;
  owner_.tlp_arrived(index_, gp);
  return tlm::TLM_ACCEPTED;
}

tlm::tlm_sync_enum PciePort::nb_transport_bw(tlm::tlm_generic_payload &gp, tlm::tlm_phase &phase,
                                             sc_core::sc_time &delay) {
  (void)phase;
  owner_.tlp_departing(index_, gp, time_to_ps(delay));
  return tlm::TLM_ACCEPTED;
}

std::vector<ParamField<PortCapabilities>> port_fields(const PortDefaults &d) {
  using P = PortCapabilities;
  std::vector<ParamField<P>> rows = {
      field(&P::max_generation,
            {"max_gen", ParamKind::generation, d.max_generation,
             "highest PCIe generation the component's ports support (1-6 or \"16 GT/s\")", 1, 6}),
      field(&P::max_width, {"max_width", ParamKind::integer, d.max_width,
                            "widest link (lanes) the component's ports support", 1, 32}),
      field(&P::max_payload_supported_bytes,
            {"max_payload_supported", ParamKind::size, format_bytes(Bytes{d.max_payload_bytes}),
             "Max_Payload_Size Supported in Device Capabilities", 128, 4096, true}),
  };
  auto credit = [&rows](const char *name, std::uint32_t value, const char *what, auto access) {
    rows.push_back(field_at<P>(
        access, {name, ParamKind::integer, value,
                 std::string("receive buffer advertised per port: ") + what + " (0 = infinite)", 0,
                 1 << 20, false, true}));
  };
  credit(
      "rx_credits_ph", d.ph, "posted header credits (TLPs)",
      [](auto &p) -> auto & { return p.credits.header[0]; });
  credit(
      "rx_credits_pd", d.pd, "posted data credits (16 B each)",
      [](auto &p) -> auto & { return p.credits.data[0]; });
  credit(
      "rx_credits_nph", d.nph, "non-posted header credits (TLPs)",
      [](auto &p) -> auto & { return p.credits.header[1]; });
  credit(
      "rx_credits_npd", d.npd, "non-posted data credits (16 B each)",
      [](auto &p) -> auto & { return p.credits.data[1]; });
  credit(
      "rx_credits_cplh", d.cplh, "completion header credits (TLPs)",
      [](auto &p) -> auto & { return p.credits.header[2]; });
  credit(
      "rx_credits_cpld", d.cpld, "completion data credits (16 B each)",
      [](auto &p) -> auto & { return p.credits.data[2]; });
  rows.push_back(field(
      &P::dllp_interval_unit,
      {"dllp_interval_unit",
       ParamKind::choice,
       "symbol_time",
       "how the ports count the spec's ACK and UpdateFC intervals: symbol_time as the spec (a "
       "symbol on every lane, under 1% of a x16 link), byte as pcie-bench's analytic model "
       "(about 9% at x16), which NVIDIA copy engines before Hopper and the NFP-6000 are measured "
       "to lose (docs/references.md); a link charges byte if either end declares it",
       0,
       0,
       false,
       false,
       {"symbol_time", "byte"}}));
  return rows;
}

PortCapabilities port_capabilities_from(const ParamSet &params) {
  return from_named_rows(port_fields(PortDefaults{}), params);
}

} // namespace pciesim
