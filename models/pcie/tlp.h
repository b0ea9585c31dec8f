// Transaction Layer Packets as TLM-2.0 generic payloads with a TLP extension, pooled so that
// the hot path never allocates. pciesim's sockets use their own protocol-types class so a
// PCIe port can only ever be bound to another PCIe port.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include <tlm>

namespace pciesim {

enum class TlpType : std::uint8_t { MRd, MWr, CplD, Cpl };
// A set of TLP types, a bit each (PortOwner::early_arrival_types).
constexpr std::uint8_t early_types(std::initializer_list<TlpType> types) {
  std::uint8_t mask = 0;
  for (TlpType type : types)
    mask = static_cast<std::uint8_t>(mask | 1u << static_cast<unsigned>(type));
  return mask;
}
inline constexpr std::uint8_t kEveryTlpType =
    early_types({TlpType::MRd, TlpType::MWr, TlpType::CplD, TlpType::Cpl});
enum class CompletionStatus : std::uint8_t { SuccessfulCompletion, UnsupportedRequest };

// The Address Type field of a memory request (PCIe Base Spec 10.2.1): untranslated (an IOVA
// or bus address the IOMMU may translate), an ATS Translation Request (answered by the
// translation agent in the root complex), or already translated by the device's ATC.
enum class AddressType : std::uint8_t { Untranslated, TranslationRequest, Translated };

// Flow-control classes (PCIe Base Spec 2.6): posted, non-posted, completion.
enum class FcClass : std::uint8_t { Posted = 0, NonPosted = 1, Completion = 2 };
inline constexpr int kFcClasses = 3;

inline FcClass fc_class(TlpType t) {
  // A table, not a switch: the links ask it several times per TLP.
  static constexpr FcClass kClassOf[4] = {FcClass::NonPosted, FcClass::Posted, FcClass::Completion,
                                          FcClass::Completion};
  static_assert(static_cast<int>(TlpType::MRd) == 0 && static_cast<int>(TlpType::MWr) == 1 &&
                static_cast<int>(TlpType::CplD) == 2 && static_cast<int>(TlpType::Cpl) == 3);
  return kClassOf[static_cast<std::uint8_t>(t) & 3];
}
inline bool is_request(TlpType t) { return t == TlpType::MRd || t == TlpType::MWr; }
const char *tlp_type_name(TlpType t);

// Requester/completer IDs are bus/device/function numbers packed as in the TLP header.
struct Bdf {
  std::uint8_t bus = 0, device = 0, function = 0;
  std::uint16_t packed() const {
    return static_cast<std::uint16_t>(bus << 8 | device << 3 | function);
  }
  static Bdf unpack(std::uint16_t id) {
    return Bdf{static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>((id >> 3) & 0x1f),
               static_cast<std::uint8_t>(id & 7)};
  }
};
// "bb:dd.f", as lspci writes it.
std::string format_bdf(const Bdf &bdf);

// Observer of a TLP's life that the requester leaves in the TLP: the final consumer of a
// posted write reports delivery, so that posted transfers can be timed (instrumentation,
// not protocol: real hardware sends nothing back for a posted write).
class TlpObserver {
public:
  virtual ~TlpObserver() = default;
  // `payload_bytes` reached their destination at simulated time `at_ps` (>= now).
  virtual void delivered(std::uint64_t cookie, std::uint32_t payload_bytes, std::int64_t at_ps) = 0;
  // The posted write was dropped by `completer_id` (no route, or refused as Unsupported
  // Request). Hardware is silent about it; the model reports it so that the run can say so.
  virtual void refused(std::uint64_t cookie, std::uint32_t payload_bytes,
                       std::uint16_t completer_id, std::uint64_t address) = 0;
};

// ingress_port value of a TLP that its current holder created (it occupies no receive buffer).
inline constexpr std::uint8_t kNoIngressPort = 0xFF;

// What a TLP carries, as plain data: a pooled TLP is reset by assigning a fresh one, a few
// stores, where the extension as a whole (it has a vtable) goes through a temporary.
// Its fields are in the order the hops read them: every field a link, switch or root complex
// touches at a hop sits in the payload's third cache line (TlpPayload); the observer and the
// cookie, read where the TLP starts and ends, follow.
struct TlpFields {
  TlpType type = TlpType::MWr;
  CompletionStatus status = CompletionStatus::SuccessfulCompletion;
  bool address_64bit = true;
  AddressType address_type = AddressType::Untranslated;
  // Simulation bookkeeping, rewritten at each hop: the port on which the current holder
  // received it.
  std::uint8_t ingress_port = kNoIngressPort;
  std::uint16_t requester_id = 0;
  std::uint16_t tag = 0;
  std::uint16_t completer_id = 0;
  std::uint32_t payload_bytes = 0;  // data carried (MWr, CplD); 0 for MRd/Cpl
  std::uint64_t address = 0;        // requests: target address; CplD: lower address bits
  std::int64_t last_hop_ser_fs = 0; // serialization time on the hop it just crossed
  // Set by a forwarder that took the TLP ahead of its arrival (PortOwner::tlp_arriving) for
  // the link it hands it to: the TLP counts as queued there only this long after now. The
  // link reads it and sets it back to 0.
  std::int64_t arrives_after_ps = 0;
  std::uint32_t request_bytes = 0; // MRd: bytes requested
  std::uint32_t byte_count = 0;    // CplD: bytes remaining including this one
  TlpObserver *observer = nullptr; // see TlpObserver
  std::uint64_t cookie = 0;
};
static_assert(sizeof(TlpFields) == 64, "TlpFields grew: recheck TlpPayload's cache lines");

struct TlpExtension : tlm::tlm_extension<TlpExtension>, TlpFields {
  tlm::tlm_extension_base *clone() const override;
  void copy_from(const tlm::tlm_extension_base &other) override;
};

// The protocol-types class of pciesim sockets (payload = generic payload, phases = base).
struct PcieProtocolTypes {
  using tlm_payload_type = tlm::tlm_generic_payload;
  using tlm_phase_type = tlm::tlm_phase;
};

// A pooled TLP: the payload with its extension inline. The extension is also attached (so
// get_extension<TlpExtension>() works), but the hot path reaches it with a static_cast instead
// of SystemC's out-of-line extension lookup: every TLP in pciesim comes from a TlpPool.
// A payload and its TLP in one object, on cache-line boundaries (four lines): the generic
// payload's fields, which no PCIe model reads, fill the first two, and the hops touch only the
// third (TlpFields).
struct alignas(64) TlpPayload : tlm::tlm_generic_payload {
  TlpPayload() { set_extension(&tlp); }
  ~TlpPayload() override { clear_extension(&tlp); } // a member, not the payload's to delete
  TlpExtension tlp;
};

inline TlpExtension &tlp_of(tlm::tlm_generic_payload &gp) {
  return static_cast<TlpPayload &>(gp).tlp;
}
inline const TlpExtension &tlp_of(const tlm::tlm_generic_payload &gp) {
  return static_cast<const TlpPayload &>(gp).tlp;
}

// A pool of payloads, each carrying its TLP extension for life. acquire() never allocates
// once the pool has grown to the working-set size; release() returns a payload for reuse.
// The pool hands them out and takes them back itself, without TLM's reference counting (a
// tlm_mm_interface): only the pool ever holds a reference, and releasing through the
// payload's memory manager read a cache line of it once per TLP for nothing else.
class TlpPool {
public:
  TlpPool() = default;
  TlpPool(const TlpPool &) = delete;
  TlpPool &operator=(const TlpPool &) = delete;
  ~TlpPool();

  // Inline: a TLP is acquired at every request and completion a component creates.
  tlm::tlm_generic_payload &acquire() {
    TlpPayload *gp;
    if (free_.empty()) {
      gp = &grow();
    } else {
      gp = free_.back();
      free_.pop_back();
    }
    // Only the TLP is reset: a TLP's bytes and status are in its fields, and nothing sets the
    // generic payload's data pointer, length or response status.
    static_cast<TlpFields &>(gp->tlp) = TlpFields{};
    return *gp;
  }
  void release(tlm::tlm_generic_payload &gp) { free_.push_back(static_cast<TlpPayload *>(&gp)); }

  std::size_t allocated() const { return all_.size(); }
  std::size_t in_use() const { return all_.size() - free_.size(); }

private:
  // A new payload, for the pool to hand out (the pool is empty); rare once it has grown.
  [[gnu::noinline]] TlpPayload &grow();
  std::vector<TlpPayload *> all_;
  std::vector<TlpPayload *> free_;
};

} // namespace pciesim
