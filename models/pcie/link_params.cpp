// The link's parameter table (what a topology's link `params` may set, with defaults and
// ranges) and its per-direction statistics table (what results.json reports under links[]):
// the descriptions users read, kept apart from the timing model in link.cpp.
#include "models/pcie/link.h"

#include <string>

namespace pciesim {

const StatTable<LinkDirectionStats> &LinkDirectionStats::table() {
  using S = LinkDirectionStats;
  auto tlps_of = [](TlpType type, const char *name, const char *doc) {
    return stat_of<S>([type](const S &s) { return s.tlps[static_cast<int>(type)]; },
                      {std::string("tlps.") + name, "TLPs", doc});
  };
  static const StatTable<S> table({
      tlps_of(TlpType::MRd, "MRd", "memory read requests sent in this direction"),
      tlps_of(TlpType::MWr, "MWr", "memory writes sent in this direction"),
      tlps_of(TlpType::CplD, "CplD", "completions with data sent in this direction"),
      tlps_of(TlpType::Cpl, "Cpl", "completions without data sent in this direction"),
      stat(&S::payload_bytes, {"payload_bytes", "bytes", "TLP payload bytes"}),
      stat(&S::wire_bytes,
           {"wire_bytes", "bytes", "TLP bytes on the wire, including per-TLP framing overhead"}),
      stat(&S::busy_fs, {"busy_fs", "fs",
                         "time the serializer was sending; reported as `utilization`, this time "
                         "over the whole run"}),
      stat(&S::credit_stalls,
           {"credit_stalls", "count",
            "queue heads that were ready, with the serializer idle, but lacked credits"}),
      stat(&S::max_queue_depth,
           {"max_queue_depth", "TLPs",
            "most TLPs queued in the three flow-control classes together, counting those not "
            "yet ready"}),
  });
  return table;
}

const ParamTable<LinkParams> &LinkParams::table() {
  using P = LinkParams;
  using O = LinkOverheads;
  static const ParamTable<P> table(
      field(&P::generation, {"gen", ParamKind::generation, 5,
                             "requested generation (1-6 or \"16 GT/s\"); trains to the lowest of "
                             "this and both ends",
                             1, 6}),
      field(&P::width, {"width", ParamKind::integer, 16,
                        "requested lanes (1, 2, 4, 8, 12, 16, 32); trains to the narrowest of this "
                        "and both ends",
                        1, 32}),
      field(&P::flight_latency,
            {"flight_latency", ParamKind::time, "20 ns",
             "one-way flight plus PHY/DLL pipeline latency (estimate: 10-50 ns, plus about 5 ns "
             "per metre of cable; docs/references.md)",
             0, 1e9}),
      nested(&P::overheads,
             std::vector<ParamField<O>>{
                 field(&O::ack_interval_symbols,
                       {"ack_interval", ParamKind::integer, 0,
                        "symbol times between ACK DLLPs (0 = PCIe Base Spec 5.0 Tables 3-7..3-9)",
                        0, 100000}),
                 field(&O::updatefc_interval_symbols,
                       {"updatefc_interval", ParamKind::integer, 0,
                        "symbol times between UpdateFC DLLPs (0 = PCIe Base Spec 5.0 Tables "
                        "2-46..2-48)",
                        0, 100000}),
                 field(&O::dllp_bytes, {"dllp_bytes", ParamKind::integer, 8,
                                        "bytes of one ACK or UpdateFC DLLP on the wire", 0, 64}),
                 field(&O::skip_interval_symbols,
                       {"skip_interval", ParamKind::integer, 1538,
                        "symbol times between SKIP ordered sets", 1, 1000000}),
                 field(&O::skip_bytes, {"skip_bytes", ParamKind::integer, 4,
                                        "bytes of one SKIP ordered set", 0, 64}),
                 field(&O::ecrc,
                       {"ecrc", ParamKind::boolean, false, "TLPs carry a 4-byte ECRC digest"}),
                 field(&O::ack_each_tlp,
                       {"ack_each_tlp", ParamKind::boolean, true,
                        "the receiver answers each TLP with an ACK and an UpdateFC DLLP, which "
                        "take the other direction's serializer when it is busy (Gen1-5, unless "
                        "an end counts the DLLP intervals in bytes: docs/models.md)"}),
             }));
  return table;
}

} // namespace pciesim
