#include <gtest/gtest.h>

#include "models/pcie/link_timing.h"

namespace pciesim {
namespace {

TEST(LinkTiming, LaneRatesFollowEncoding) {
  EXPECT_DOUBLE_EQ(lane_bytes_per_second(1), 250e6);     // 2.5 GT/s, 8b/10b
  EXPECT_DOUBLE_EQ(lane_bytes_per_second(2), 500e6);     // 5 GT/s, 8b/10b
  EXPECT_NEAR(lane_bytes_per_second(3), 984.6e6, 0.1e6); // 8 GT/s, 128b/130b
  EXPECT_NEAR(lane_bytes_per_second(5), 3938.5e6, 0.1e6);
  EXPECT_DOUBLE_EQ(lane_bytes_per_second(6), 8e9); // 64 GT/s PAM4
}

TEST(LinkTiming, SpecIntervalsByGenerationWidthAndMps) {
  EXPECT_EQ(ack_interval_symbols({3, 8, 128}), 163);
  EXPECT_EQ(ack_interval_symbols({3, 8, 256}), 203);
  EXPECT_EQ(ack_interval_symbols({3, 8, 512}), 182);
  EXPECT_EQ(ack_interval_symbols({4, 16, 256}), 168);
  EXPECT_EQ(updatefc_interval_symbols({5, 16, 512}), 182);
  EXPECT_EQ(ack_interval_symbols({1, 1, 128}), 237);
  EXPECT_EQ(updatefc_interval_symbols({2, 4, 256}), 169);
  EXPECT_EQ(updatefc_interval_symbols({1, 32, 2048}), 148); // pcie-bench had 248
  EXPECT_EQ(ack_interval_symbols({2, 32, 4096}), 327);      // pcie-bench had 237
}

constexpr int kWidths[] = {1, 2, 4, 8, 16, 32};
constexpr std::uint32_t kMpss[] = {128, 256, 512, 1024, 2048, 4096};

// The spec's formula behind its ACK and UpdateFC tables (PCIe Base Spec 5.0, sections 2.6.1.2
// and 3.6.3.1): floor((MPS + TLP overhead 28) * factor / width) + internal delay, with the
// factor in tenths so that the floor is exact in integers.
int spec_formula(int generation, int width, std::uint32_t mps) {
  int factor_tenths = mps <= 256 ? (width <= 4   ? 14
                                    : width == 8 ? 25
                                                 : 30)
                                 : (width <= 8 ? 10 : 20);
  int delay = generation == 1 ? 19 : generation == 2 ? 70 : 115;
  return static_cast<int>((mps + 28) * static_cast<std::uint32_t>(factor_tenths) /
                          (10u * static_cast<std::uint32_t>(width))) +
         delay;
}

TEST(LinkTiming, EveryTableCellFollowsTheSpecFormula) {
  // Catches transcription errors that monotonicity cannot (Gen1 FC x32 MPS 2048 read 248,
  // Gen2 ACK x32 MPS 4096 read 237: both still monotone in MPS and width).
  for (int gen = 1; gen <= 5; ++gen)
    for (int w : kWidths)
      for (std::uint32_t mps : kMpss) {
        LinkShape s{gen, w, mps};
        EXPECT_EQ(ack_interval_symbols(s), spec_formula(gen, w, mps))
            << "ACK Gen" << gen << " x" << w << " MPS " << mps;
        EXPECT_EQ(updatefc_interval_symbols(s), ack_interval_symbols(s))
            << "UpdateFC Gen" << gen << " x" << w << " MPS " << mps;
      }
}

TEST(LinkTiming, TablesAreMonotoneInWidthAndMps) {
  for (int gen = 1; gen <= 5; ++gen)
    for (auto interval : {&ack_interval_symbols, &updatefc_interval_symbols}) {
      // Wider links get ACKs and UpdateFCs sooner (in symbol times).
      for (std::uint32_t mps : kMpss)
        for (std::size_t i = 1; i < std::size(kWidths); ++i)
          EXPECT_LE(interval({gen, kWidths[i], mps}), interval({gen, kWidths[i - 1], mps}))
              << "Gen" << gen << " MPS " << mps << " x" << kWidths[i];
      // Larger payloads allow longer intervals, except where the spec's factor drops from
      // 2.5 to 1.0: x8 from MPS 256 to 512 (e.g. Gen3 203 -> 182, as in the spec).
      for (int w : kWidths)
        for (std::size_t i = 1; i < std::size(kMpss); ++i) {
          if (w == 8 && kMpss[i] == 512)
            continue;
          EXPECT_GE(interval({gen, w, kMpss[i]}), interval({gen, w, kMpss[i - 1]}))
              << "Gen" << gen << " x" << w << " MPS " << kMpss[i];
        }
    }
}

TEST(LinkTiming, UsableRateGen3x8MatchesPcieBenchWhenAnEndCountsDllpIntervalsInBytes) {
  // 52.9 Gb/s predicted for large writes on Gen3 x8 (pcie-bench, SIGCOMM 2018), whose model
  // charges an ACK and an UpdateFC per L bytes.
  LinkOverheads pcie_bench;
  pcie_bench.dllp_interval_unit = DllpIntervalUnit::byte;
  double usable = usable_bytes_per_second({3, 8, 256}, pcie_bench);
  double large_writes_gbit = usable * 256.0 / 280.0 * 8 / 1e9;
  EXPECT_NEAR(large_writes_gbit, 52.9, 0.05);
}

TEST(LinkTiming, SpecIntervalsAreSymbolTimesOfEveryLane) {
  // Gen3 x8, MPS 256: L = 203 symbol times, 1624 bytes of the link, per ACK and per UpdateFC.
  double usable = usable_bytes_per_second({3, 8, 256}, LinkOverheads{});
  double raw = 8e9 * 128 / 130 / 8 * 8;
  EXPECT_NEAR(usable, raw * (1 - 16.0 / (203 * 8) - 4.0 / 1538), 1.0);
  // At x16 the same 8-byte DLLP is half a symbol time: the share halves again.
  double x16 = usable_bytes_per_second({3, 16, 256}, LinkOverheads{});
  EXPECT_NEAR(x16, 2 * raw * (1 - 16.0 / (168 * 16) - 4.0 / 1538), 1.0);
}

TEST(LinkTiming, OverheadKnobsChangeTheRate) {
  LinkOverheads none;
  none.dllp_bytes = 0;
  none.skip_bytes = 0;
  EXPECT_DOUBLE_EQ(usable_bytes_per_second({3, 8, 256}, none), lane_bytes_per_second(3) * 8);
  LinkOverheads frequent_acks;
  frequent_acks.ack_interval_symbols = 50;
  EXPECT_LT(usable_bytes_per_second({3, 8, 256}, frequent_acks),
            usable_bytes_per_second({3, 8, 256}, LinkOverheads{}));
}

TEST(LinkTiming, TlpWireBytesGen1To5) {
  // PCIe Base Specification (4DW header, sequence number, LCRC, Gen3 STP token): a 64-bit MWr of
  // 256 bytes costs 280 bytes; MRd 24; CplD payload + 20.
  EXPECT_EQ(tlp_wire_bytes(3, TlpType::MWr, true, 256, false), 280u);
  EXPECT_EQ(tlp_wire_bytes(3, TlpType::MRd, true, 0, false), 24u);
  EXPECT_EQ(tlp_wire_bytes(3, TlpType::MRd, false, 0, false), 20u);
  EXPECT_EQ(tlp_wire_bytes(4, TlpType::CplD, true, 64, false), 84u);
  EXPECT_EQ(tlp_wire_bytes(1, TlpType::MWr, true, 256, false), 280u);
  EXPECT_EQ(tlp_wire_bytes(3, TlpType::MWr, true, 256, true), 284u); // ECRC
}

TEST(LinkTiming, Gen6FlitModeCarriesNoPerTlpFramingButFlitOverhead) {
  EXPECT_EQ(tlp_wire_bytes(6, TlpType::MWr, true, 256, false), 272u); // header + payload
  EXPECT_EQ(tlp_wire_bytes(6, TlpType::CplD, true, 64, false), 76u);
  EXPECT_DOUBLE_EQ(flit_tlp_fraction(6), 236.0 / 256.0);
  EXPECT_DOUBLE_EQ(flit_tlp_fraction(5), 1.0);
  double usable = usable_bytes_per_second({6, 16, 256}, LinkOverheads{});
  EXPECT_NEAR(usable, 8e9 * 16 * 236.0 / 256.0 * (1 - 4.0 / 1538), 1.0);
  // Per 256-byte write, Gen6 x16 moves more payload per second than Gen5 x16.
  double gen6 = usable * 256 / 272;
  double gen5 = usable_bytes_per_second({5, 16, 256}, LinkOverheads{}) * 256 / 280;
  EXPECT_GT(gen6, 1.8 * gen5);
}

} // namespace
} // namespace pciesim
