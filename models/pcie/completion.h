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

// The payload of the completion that carries a read's bytes from `address` on, `remaining`
// of them left (PCIe 2.3.1.1): it ends on a multiple of `rcb_bytes` unless it ends the request,
// and carries at most `max_payload_bytes`.
inline std::uint32_t next_completion_bytes(std::uint64_t address, std::uint32_t remaining,
                                           std::uint64_t max_payload_bytes,
                                           std::uint64_t rcb_bytes) {
  // The boundary at or below address + max_payload_bytes; by a mask for a power-of-two RCB
  // (PCIe's are 64 and 128 bytes), since a division costs tens of cycles per completion.
  const std::uint64_t limit = address + max_payload_bytes;
  const std::uint64_t end_limit =
      (rcb_bytes & (rcb_bytes - 1)) == 0 ? limit & ~(rcb_bytes - 1) : limit / rcb_bytes * rcb_bytes;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(
      remaining, end_limit > address ? end_limit - address : max_payload_bytes));
}

// Calls each(address, payload_bytes, remaining) for the completions, in address order, that
// answer a read of `remaining` bytes from `address`, split as above.
template <class Each>
void for_each_read_completion(std::uint64_t address, std::uint32_t remaining,
                              std::uint64_t max_payload_bytes, std::uint64_t rcb_bytes,
                              Each &&each) {
  while (remaining > 0) {
    std::uint32_t chunk = next_completion_bytes(address, remaining, max_payload_bytes, rcb_bytes);
    each(address, chunk, remaining);
    address += chunk;
    remaining -= chunk;
  }
}

// Answers the read `request` with completions of all its bytes, split as above.
// Calls send(completion) for each, in address order.
template <class Send>
void split_read_completions(TlpPool &pool, const TlpExtension &request, std::uint16_t completer_id,
                            std::uint64_t max_payload_bytes, std::uint64_t rcb_bytes, Send &&send) {
  for_each_read_completion(
      request.address, request.request_bytes, max_payload_bytes, rcb_bytes,
      [&](std::uint64_t address, std::uint32_t chunk, std::uint32_t remaining) {
        send(make_completion(pool, request, completer_id, chunk, remaining, address));
      });
}

// A completion train: a read request whose completions its completer's egress link makes one
// at a time, each when it reaches the head of the link's queue (LinkDirection::
// queue_completions), so that a completer answering a large read holds one queue entry and one
// TLP until they go, not one of each per completion. The request's TLP carries the train: its
// address and request_bytes are the next completion's first byte and the bytes left, its
// completer_id the completer's, and its payload_bytes and byte_count, which a read request does
// not use, the largest payload and the Read Completion Boundary.
inline void start_completion_train(TlpExtension &request, std::uint16_t completer_id,
                                   std::uint32_t max_payload_bytes, std::uint32_t rcb_bytes) {
  request.completer_id = completer_id;
  request.payload_bytes = max_payload_bytes;
  request.byte_count = rcb_bytes;
}
inline bool is_completion_train(const TlpExtension &tlp) { return tlp.type == TlpType::MRd; }
inline std::uint32_t train_next_bytes(const TlpExtension &train) {
  return next_completion_bytes(train.address, train.request_bytes, train.payload_bytes,
                               train.byte_count);
}
// The completions the train has still to make.
inline std::uint32_t train_completions_left(const TlpExtension &train) {
  std::uint32_t count = 0;
  for_each_read_completion(train.address, train.request_bytes, train.payload_bytes,
                           train.byte_count,
                           [&count](std::uint64_t, std::uint32_t, std::uint32_t) { ++count; });
  return count;
}
// The train's next completion; the train moves past it (request_bytes 0: it was the last).
inline tlm::tlm_generic_payload &train_take_next(TlpPool &pool, TlpExtension &train) {
  const std::uint32_t chunk = train_next_bytes(train);
  tlm::tlm_generic_payload &cpl =
      make_completion(pool, train, train.completer_id, chunk, train.request_bytes, train.address);
  train.address += chunk;
  train.request_bytes -= chunk;
  return cpl;
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
