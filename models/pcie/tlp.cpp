#include "models/pcie/tlp.h"

#include <fmt/format.h>

namespace pciesim {

const char *tlp_type_name(TlpType t) {
  switch (t) {
  case TlpType::MRd:
    return "MRd";
  case TlpType::MWr:
    return "MWr";
  case TlpType::CplD:
    return "CplD";
  case TlpType::Cpl:
    return "Cpl";
  }
  return "?";
}

std::string format_bdf(const Bdf &bdf) {
  return fmt::format("{:02x}:{:02x}.{}", bdf.bus, bdf.device, bdf.function);
}

tlm::tlm_extension_base *TlpExtension::clone() const { return new TlpExtension(*this); }

void TlpExtension::copy_from(const tlm::tlm_extension_base &other) {
  *this = static_cast<const TlpExtension &>(other);
}

TlpPool::~TlpPool() {
  for (TlpPayload *gp : all_)
    delete gp;
}

tlm::tlm_generic_payload &TlpPool::acquire() {
  TlpPayload *gp;
  if (free_.empty()) {
    gp = new TlpPayload(this);
    all_.push_back(gp);
  } else {
    gp = free_.back();
    free_.pop_back();
  }
  gp->acquire();
  static_cast<TlpFields &>(gp->tlp) = TlpFields{};
  gp->set_data_ptr(nullptr);
  gp->set_data_length(0);
  gp->set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  return *gp;
}

void TlpPool::free(tlm::tlm_generic_payload *gp) {
  // The payload keeps its TLP extension (tlm_generic_payload::reset is never called here).
  free_.push_back(static_cast<TlpPayload *>(gp));
}

} // namespace pciesim
