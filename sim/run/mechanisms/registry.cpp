#include "sim/run/mechanisms/registry.h"

#include <stdexcept>

#include "sim/run/mechanisms/bounce.h"
#include "sim/run/mechanisms/dmabuf.h"
#include "sim/run/mechanisms/hmm.h"
#include "sim/run/mechanisms/p2p_dma_api.h"

namespace pciesim {

const std::vector<MechanismType> &mechanism_types() {
  static const std::vector<MechanismType> types = {
      {Mechanism::P2pDmaApi, "p2p_dma_api", &make_p2p_dma_api},
      {Mechanism::HmmMigrate, "hmm_migrate", &make_hmm_migrate},
      {Mechanism::HmmP2p, "hmm_p2p", &make_hmm_p2p},
      {Mechanism::DmabufP2p, "dmabuf_p2p", &make_dmabuf_p2p},
      {Mechanism::Bounce, "bounce", &make_bounce},
  };
  return types;
}

std::vector<std::string> mechanism_type_names() {
  std::vector<std::string> names;
  for (const MechanismType &type : mechanism_types())
    names.push_back(type.name);
  return names;
}

std::unique_ptr<MechanismPolicy> make_mechanism(Mechanism mechanism, MechanismContext &context) {
  for (const MechanismType &type : mechanism_types())
    if (type.id == mechanism)
      return type.make(context);
  throw std::logic_error(std::string("no policy registered for mechanism ") +
                         mechanism_name(mechanism));
}

} // namespace pciesim
