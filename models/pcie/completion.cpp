#include "models/pcie/completion.h"

namespace pciesim {

tlm::tlm_generic_payload &make_unsupported_request_completion(TlpPool &pool,
                                                              const TlpExtension &request,
                                                              std::uint16_t completer_id) {
  tlm::tlm_generic_payload &gp =
      make_completion(pool, request, completer_id, 0, request.request_bytes, request.address);
  TlpExtension &cpl = tlp_of(gp);
  cpl.type = TlpType::Cpl;
  cpl.status = CompletionStatus::UnsupportedRequest;
  return gp;
}

void terminate_unsupported_request(PciePort &port, TlpPool &pool, tlm::tlm_generic_payload &gp,
                                   std::uint16_t completer_id, std::int64_t delay_ps) {
  TlpExtension &request = tlp_of(gp);
  port.release(gp, 0);
  if (request.type == TlpType::MRd)
    port.send(make_unsupported_request_completion(pool, request, completer_id), delay_ps);
  else if (request.observer)
    request.observer->refused(request.cookie, request.payload_bytes, completer_id, request.address);
  pool.release(gp);
}

} // namespace pciesim
