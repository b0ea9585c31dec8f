// The arithmetic of a PCIe link (PCIe Base Specification 5.0 and 6.0, and the pcie-bench model of
// Neugebauer et al., SIGCOMM 2018; docs/models.md, "Link"): usable rate per direction after DLLP
// and SKIP overhead, and the bytes a TLP occupies on the wire for Gen1-5 (framing, sequence
// number, header, payload, LCRC, optional ECRC) and for Gen6 FLIT mode. Pure functions, so
// the analytic model and the simulated link use exactly the same figures.
#pragma once

#include <cstdint>

#include "models/pcie/tlp.h"

namespace pciesim {

struct LinkShape {
  int generation = 3; // 1..6
  int width = 8;      // lanes
  std::uint32_t mps_bytes = 256;
};

// Bytes per second per lane after line encoding (8b/10b, 128b/130b); Gen6 is the raw
// 64 GT/s PAM4 rate, its FLIT overhead is applied by flit_tlp_fraction().
double lane_bytes_per_second(int generation);
// Recommended ACK and UpdateFC intervals in symbol times (PCIe Base Spec 5.0 Tables 3-7..3-9
// and 2-46..2-48) for a generation, width and MPS; Gen4 and Gen5 use the Gen3 values.
int ack_interval_symbols(const LinkShape &shape);
int updatefc_interval_symbols(const LinkShape &shape);

// How a port's data link layer counts the ACK and UpdateFC intervals of the spec's tables.
// symbol_time: as the spec does, a symbol time is one symbol on every lane at once, so an 8-byte
// DLLP per interval L costs 8 / (L x width) of the link. byte: one DLLP per L bytes of the link, as
// pcie-bench's analytic model charges it; devices measured to lose that much (NVIDIA copy engines
// before Hopper, the NFP-6000) declare it, and a link charges it if either end does.
enum class DllpIntervalUnit { symbol_time, byte };

// The link-layer overhead knobs, all overridable per link.
struct LinkOverheads {
  int ack_interval_symbols = 0;      // 0 = take the spec table
  int updatefc_interval_symbols = 0; // 0 = take the spec table
  int dllp_bytes = 8;                // ACK/UpdateFC DLLP incl. framing
  int skip_interval_symbols = 1538;
  int skip_bytes = 4;
  bool ecrc = false;
  bool ack_each_tlp = true; // the receiver answers each TLP with an ACK and an UpdateFC
  DllpIntervalUnit dllp_interval_unit = DllpIntervalUnit::symbol_time; // from the ends' ports
};

// Bytes per second available to TLPs in one direction.
double usable_bytes_per_second(const LinkShape &shape, const LinkOverheads &overheads);

// Header size of a TLP (3DW or 4DW).
std::uint32_t tlp_header_bytes(TlpType type, bool address_64bit);
// Bytes a TLP occupies in the link's TLP byte stream: Gen1-5 add framing+sequence (4),
// LCRC (4) and ECRC (4, optional); Gen6 FLIT mode carries only header and payload (its
// per-FLIT DLLP/CRC/FEC bytes are in flit_tlp_fraction).
std::uint32_t tlp_wire_bytes(int generation, TlpType type, bool address_64bit,
                             std::uint32_t payload_bytes, bool ecrc);
// Fraction of a 256-byte FLIT that carries TLP bytes (236/256); 1 below Gen6.
double flit_tlp_fraction(int generation);

} // namespace pciesim
