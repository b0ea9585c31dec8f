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

TlpPayload &TlpPool::grow() {
  auto *gp = new TlpPayload;
  all_.push_back(gp);
  return *gp;
}

} // namespace pciesim
