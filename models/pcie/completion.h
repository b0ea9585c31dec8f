// How a completer answers a request, written once for every component that completes one (the
// root complex's host bridge, a DMA engine's BARs, a switch or port that cannot route it):
// the completion header, read completions split at the Read Completion Boundary, and the
// Unsupported Request answer.
#pragma once

#include <algorithm>
#include <cstdint>

#include <systemc>

#include "models/pcie/pcie_port.h"
#include "models/pcie/tlp.h"

namespace pciesim {

// A successful completion (CplD) of `request` from `completer_id`, carrying `payload_bytes` of
// data for `address`, with `byte_count` bytes of the request left including these.
// Inline: every read request a component serves makes one or more.
inline tlm::tlm_generic_payload &make_completion(TlpPool &pool, const TlpExtension &request,
                                                 std::uint16_t completer_id,
                                                 std::uint32_t payload_bytes,
                                                 std::uint32_t byte_count, std::uint64_t address) {
  tlm::tlm_generic_payload &gp = pool.acquire();
  TlpExtension &cpl = tlp_of(gp);
  cpl.type = TlpType::CplD;
  cpl.requester_id = request.requester_id;
  cpl.completer_id = completer_id;
  cpl.tag = request.tag;
  cpl.payload_bytes = payload_bytes;
  cpl.byte_count = byte_count;
  cpl.address = address;
  cpl.cookie = request.cookie;
  return gp;
}

// Answers the read `request` with completions of all its bytes (PCIe 2.3.1.1): each ends on a
// multiple of `rcb_bytes` unless it ends the request, and carries at most `max_payload_bytes`.
// Calls send(completion) for each, in address order.
template <class Send>
void split_read_completions(TlpPool &pool, const TlpExtension &request, std::uint16_t completer_id,
                            std::uint64_t max_payload_bytes, std::uint64_t rcb_bytes, Send &&send) {
  std::uint64_t address = request.address;
  std::uint32_t remaining = request.request_bytes;
  while (remaining > 0) {
    std::uint64_t end_limit = (address + max_payload_bytes) / rcb_bytes * rcb_bytes;
    std::uint32_t chunk = static_cast<std::uint32_t>(std::min<std::uint64_t>(
        remaining, end_limit > address ? end_limit - address : max_payload_bytes));
    send(make_completion(pool, request, completer_id, chunk, remaining, address));
    address += chunk;
    remaining -= chunk;
  }
}

// A completion without data carrying Unsupported Request status, answering a non-posted
// request that no one can complete.
tlm::tlm_generic_payload &make_unsupported_request_completion(TlpPool &pool,
                                                              const TlpExtension &request,
                                                              std::uint16_t completer_id);

// Terminates a request that arrived on `port` and that nobody can complete: frees its
// receive buffer, answers a read with an Unsupported Request completion after `delay_ps`, and
// tells a dropped posted write's observer (hardware stays silent; the report does not).
void terminate_unsupported_request(PciePort &port, TlpPool &pool, tlm::tlm_generic_payload &gp,
                                   std::uint16_t completer_id, std::int64_t delay_ps);

} // namespace pciesim
