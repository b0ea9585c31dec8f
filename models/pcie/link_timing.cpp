#include "models/pcie/link_timing.h"

#include <array>

namespace pciesim {
namespace {

// Index helpers for the spec tables.
int width_index(int width) {
  switch (width) {
  case 1:
    return 0;
  case 2:
    return 1;
  case 4:
    return 2;
  case 8:
    return 3;
  case 12: // the spec lists x12 between x8 and x16; use the x16 row (conservative)
  case 16:
    return 4;
  default:
    return 5; // x32
  }
}
int mps_index(std::uint32_t mps) {
  switch (mps) {
  case 128:
    return 0;
  case 256:
    return 1;
  case 512:
    return 2;
  case 1024:
    return 3;
  case 2048:
    return 4;
  default:
    return 5; // 4096
  }
}

using Table = std::array<std::array<int, 6>, 6>; // [width][mps]

// PCIe Base Spec 5.0, recommended UpdateFC transmission latency guidelines (Tables
// 2-46..2-48) and ACK transmission latency limits (Tables 3-7..3-9), in symbol times. Every
// cell is the spec's formula floor((MPS + 28) * factor / width) + internal delay (factor 1.4,
// 2.5 for x8, 3.0 for x12+, at MPS 128/256; 1.0, 2.0 for x12+, above; delay 19, 70 and 115
// symbols at 2.5, 5 and 8+ GT/s), and the UpdateFC and ACK tables are equal cell for cell, so one
// table serves both. Two cells copied from pcie-bench's model/pcie.py carried its typos and are
// corrected here: Gen1 UpdateFC x32 MPS 2048 (248 there, 148 by the formula) and Gen2 ACK x32 MPS
// 4096 (237 there, 327). test_link_timing.cpp checks every cell against the formula.
constexpr Table kGen1{{{237, 416, 559, 1071, 2095, 4143},
                       {128, 217, 289, 545, 1057, 2081},
                       {73, 118, 154, 282, 538, 1050},
                       {67, 107, 86, 150, 278, 534},
                       {48, 72, 86, 150, 278, 534},
                       {33, 45, 52, 84, 148, 276}}};
constexpr Table kGen2{{{288, 467, 610, 1122, 2146, 4194},
                       {179, 268, 340, 596, 1108, 2132},
                       {124, 169, 205, 333, 589, 1101},
                       {118, 158, 137, 201, 329, 585},
                       {99, 123, 137, 201, 329, 585},
                       {84, 96, 103, 135, 199, 327}}};
constexpr Table kGen3{{{333, 512, 655, 1167, 2191, 4239},
                       {224, 313, 385, 641, 1153, 2177},
                       {169, 214, 250, 378, 634, 1146},
                       {163, 203, 182, 246, 374, 630},
                       {144, 168, 182, 246, 374, 630},
                       {129, 141, 148, 180, 244, 372}}};

int lookup(const Table &t, const LinkShape &s) {
  return t[width_index(s.width)][mps_index(s.mps_bytes)];
}

} // namespace

double lane_bytes_per_second(int generation) {
  switch (generation) {
  case 1:
    return 2.5e9 * 8.0 / 10.0 / 8.0;
  case 2:
    return 5.0e9 * 8.0 / 10.0 / 8.0;
  case 3:
    return 8.0e9 * 128.0 / 130.0 / 8.0;
  case 4:
    return 16.0e9 * 128.0 / 130.0 / 8.0;
  case 5:
    return 32.0e9 * 128.0 / 130.0 / 8.0;
  default:
    return 64.0e9 / 8.0; // Gen6: PAM4, 1 bit per UI per lane at 64 GT/s
  }
}

int ack_interval_symbols(const LinkShape &shape) {
  if (shape.generation == 1)
    return lookup(kGen1, shape);
  if (shape.generation == 2)
    return lookup(kGen2, shape);
  return lookup(kGen3, shape);
}

int updatefc_interval_symbols(const LinkShape &shape) { return ack_interval_symbols(shape); }

double flit_tlp_fraction(int generation) { return generation >= 6 ? 236.0 / 256.0 : 1.0; }

double usable_bytes_per_second(const LinkShape &shape, const LinkOverheads &o) {
  double raw = lane_bytes_per_second(shape.generation) * shape.width;
  double skip = static_cast<double>(o.skip_bytes) / o.skip_interval_symbols;
  if (shape.generation >= 6) {
    // FLIT mode: ACK/UpdateFC ride in each FLIT's 6 DLLP bytes, already in the 236/256.
    return raw * flit_tlp_fraction(shape.generation) * (1.0 - skip);
  }
  int ack = o.ack_interval_symbols ? o.ack_interval_symbols : ack_interval_symbols(shape);
  int fc =
      o.updatefc_interval_symbols ? o.updatefc_interval_symbols : updatefc_interval_symbols(shape);
  double dllp = static_cast<double>(o.dllp_bytes) / ack + static_cast<double>(o.dllp_bytes) / fc;
  if (o.dllp_interval_unit == DllpIntervalUnit::symbol_time)
    dllp /= shape.width; // an interval of L symbol times carries L x width bytes
  return raw * (1.0 - dllp - skip);
}

std::uint32_t tlp_header_bytes(TlpType type, bool address_64bit) {
  if (is_request(type))
    return address_64bit ? 16 : 12;
  return 12; // completions: 3DW
}

std::uint32_t tlp_wire_bytes(int generation, TlpType type, bool address_64bit,
                             std::uint32_t payload_bytes, bool ecrc) {
  std::uint32_t bytes = tlp_header_bytes(type, address_64bit) + payload_bytes + (ecrc ? 4 : 0);
  if (generation >= 6)
    return bytes; // FLIT mode: no per-TLP framing or LCRC
  // Gen1/2: STP(1)+seq(2)+...+LCRC(4)+END(1); Gen3-5: 4-byte STP token with seq + LCRC(4).
  return bytes + 8;
}

} // namespace pciesim
