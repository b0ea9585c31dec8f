#include "models/pcie/tlp.h"

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

tlm::tlm_extension_base *TlpExtension::clone() const { return new TlpExtension(*this); }

void TlpExtension::copy_from(const tlm::tlm_extension_base &other) {
  *this = static_cast<const TlpExtension &>(other);
}

TlpPool::~TlpPool() {
  for (tlm::tlm_generic_payload *gp : all_) {
    // The extension is owned by the payload once set; the payload's destructor frees it.
    delete gp;
  }
}

tlm::tlm_generic_payload &TlpPool::acquire() {
  tlm::tlm_generic_payload *gp;
  if (free_.empty()) {
    gp = new tlm::tlm_generic_payload(this);
    gp->set_extension(new TlpExtension);
    all_.push_back(gp);
  } else {
    gp = free_.back();
    free_.pop_back();
  }
  gp->acquire();
  TlpExtension &ext = tlp_of(*gp);
  ext = TlpExtension{};
  gp->set_data_ptr(nullptr);
  gp->set_data_length(0);
  gp->set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  return *gp;
}

void TlpPool::free(tlm::tlm_generic_payload *gp) {
  // Keep the TLP extension attached: free() must not strip it (tlm_generic_payload::reset
  // would delete extensions only if they were registered as auto-extensions).
  free_.push_back(gp);
}

} // namespace pciesim
