#include "models/pcie/pcie_port.h"

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
    : egress((name + "_egress").c_str()), ingress((name + "_ingress").c_str()), name_(name),
      owner_(owner), index_(index) {
  egress.bind(*this);
  ingress.bind(*this);
}

void PciePort::send(tlm::tlm_generic_payload &gp, const sc_core::sc_time &delay) {
  tlm::tlm_phase phase = tlm::BEGIN_REQ;
  sc_core::sc_time d = delay;
  egress->nb_transport_fw(gp, phase, d);
}

void PciePort::release(tlm::tlm_generic_payload &gp, const sc_core::sc_time &delay) {
  tlm::tlm_phase phase = tlm::END_REQ;
  sc_core::sc_time d = delay;
  ingress->nb_transport_bw(gp, phase, d);
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
  owner_.tlp_departing(index_, gp, delay);
  return tlm::TLM_ACCEPTED;
}

void append_port_specs(std::vector<ParamSpec> &specs, const PortDefaults &d) {
  specs.push_back({"max_gen", ParamKind::generation, d.max_generation,
                   "highest PCIe generation the component's ports support (1-6 or \"16 GT/s\")", 1,
                   6});
  specs.push_back({"max_width", ParamKind::integer, d.max_width,
                   "widest link (lanes) the component's ports support", 1, 32});
  specs.push_back({"max_payload_supported", ParamKind::size, d.max_payload,
                   "Max_Payload_Size Supported in Device Capabilities", 128, 4096, true});
  auto credit = [&](const char *name, std::uint32_t value, const char *what) {
    specs.push_back({name, ParamKind::integer, value,
                     std::string("receive buffer advertised per port: ") + what + " (0 = infinite)",
                     0, 1 << 20, false, true});
  };
  credit("rx_credits_ph", d.ph, "posted header credits (TLPs)");
  credit("rx_credits_pd", d.pd, "posted data credits (16 B each)");
  credit("rx_credits_nph", d.nph, "non-posted header credits (TLPs)");
  credit("rx_credits_npd", d.npd, "non-posted data credits (16 B each)");
  credit("rx_credits_cplh", d.cplh, "completion header credits (TLPs)");
  credit("rx_credits_cpld", d.cpld, "completion data credits (16 B each)");
}

PortCapabilities port_capabilities_from(const ParamSet &p) {
  PortCapabilities c;
  c.max_generation = static_cast<int>(p.integer("max_gen"));
  c.max_width = static_cast<int>(p.integer("max_width"));
  c.max_payload_supported_bytes =
      static_cast<std::uint32_t>(p.bytes("max_payload_supported").count);
  c.credits.header[0] = static_cast<std::uint32_t>(p.integer("rx_credits_ph"));
  c.credits.data[0] = static_cast<std::uint32_t>(p.integer("rx_credits_pd"));
  c.credits.header[1] = static_cast<std::uint32_t>(p.integer("rx_credits_nph"));
  c.credits.data[1] = static_cast<std::uint32_t>(p.integer("rx_credits_npd"));
  c.credits.header[2] = static_cast<std::uint32_t>(p.integer("rx_credits_cplh"));
  c.credits.data[2] = static_cast<std::uint32_t>(p.integer("rx_credits_cpld"));
  return c;
}

} // namespace pciesim
