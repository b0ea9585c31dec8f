// `pciesim topo FILE --p2p` on the 8-GPU dual-socket boxes: a row per DMA initiator, a column
// per GPU memory, each cell a short code for the map type of calc_map_type_and_dist (the
// decision the runs use) and where the traffic turns: the switch, the root complex, or both
// root complexes over the inter-socket link; narrow enough to read on a terminal. `--list`
// gives a line per pair with the kernel's reason.
#include <sstream>

#include <gtest/gtest.h>

#include "sim/fabric/pci_view.h"
#include "sim/fabric/topo_print.h"
#include "sim/fabric/topology.h"

namespace pciesim {
namespace {

LoadedTopology library_loaded(const std::string &name) {
  return load_topology_file(std::string(PCIESIM_SOURCE_DIR) + "/topologies/" + name + ".json");
}

// The matrix's cell in the row of `initiator` and the column of `target`.
std::string cell(const std::string &matrix, const std::string &initiator,
                 const std::string &target) {
  std::istringstream lines(matrix);
  std::string line;
  std::vector<std::string> header;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::vector<std::string> row;
    for (std::string w; words >> w;)
      row.push_back(w);
    if (row.empty())
      continue;
    if (row[0] == "initiator" && header.empty()) {
      header = row;
      continue;
    }
    if (!header.empty() && row[0] == initiator && row.size() == header.size())
      for (std::size_t c = 1; c < header.size(); ++c)
        if (header[c] == target)
          return row[c];
  }
  return "(none)";
}

TEST(P2pMatrix, EveryInitiatorAgainstEveryGpuOnTheZen4Box) {
  LoadedTopology t = library_loaded("hgx-zen4");
  std::string m = p2p_matrix(t.config, t.hierarchy);
  EXPECT_EQ(cell(m, "nic0", "gpu0"), "B:sw0");
  EXPECT_EQ(cell(m, "gpu0", "gpu0"), "-");
  EXPECT_EQ(cell(m, "nic0", "gpu2"), "H:rc0"); // another switch of the same socket
  EXPECT_EQ(cell(m, "nic0", "gpu4"), "H:rc0>rc1");
  EXPECT_EQ(cell(m, "nic7", "gpu0"), "H:rc1>rc0");
  // 16 initiators (8 GPUs, 8 NICs), 8 GPU memories.
  PciView view = build_pci_view(t.config, t.hierarchy);
  int rows = 0;
  for (const ComponentConfig &c : t.config.components)
    if (c.type->initiates_dma) {
      ++rows;
      for (int g = 0; g < 8; ++g) {
        std::string gpu = "gpu" + std::to_string(g);
        if (gpu == c.id)
          continue;
        // The cell's map type is the one the runs get for the pair.
        P2pVerdict v = p2p_verdict(view, t.config, t.config.find(gpu), t.config.find(c.id));
        std::string got = cell(m, c.id, gpu);
        EXPECT_EQ(got.substr(0, 2), v.type == P2pMapType::BusAddr          ? "B:"
                                    : v.type == P2pMapType::ThruHostBridge ? "H:"
                                                                           : "NO")
            << c.id << " -> " << gpu << ": " << got;
      }
    }
  EXPECT_EQ(rows, 16);
  // Eight GPU columns fit a 100-column terminal, and every code used is in the legend.
  std::istringstream lines(m);
  for (std::string line; std::getline(lines, line);)
    EXPECT_LE(line.size(), 100u) << line;
  for (const char *code : {"B:x ", "H:r ", "H:r>s ", "NO ", "- "})
    EXPECT_NE(m.find(std::string("\n") + code), std::string::npos) << code;
}

TEST(P2pMatrix, TheListGivesEveryPairItsDistanceAndReason) {
  LoadedTopology t = library_loaded("hgx-zen4");
  std::string list = p2p_list(t.config, t.hierarchy);
  std::istringstream lines(list);
  int pairs = 0;
  for (std::string line; std::getline(lines, line);)
    pairs += line.rfind("gpu", 0) == 0 ? 1 : 0;
  // 8 GPU memories x 16 initiators, less each GPU with itself.
  EXPECT_EQ(pairs, 8 * 16 - 8);
  EXPECT_NE(list.find("THRU_HOST_BRIDGE"), std::string::npos);
  EXPECT_NE(list.find("BUS_ADDR"), std::string::npos);
  EXPECT_EQ(list.find("B:sw0"), std::string::npos); // no matrix
}

TEST(P2pMatrix, SapphireRapidsRefusesEveryPairThroughTheHostBridge) {
  LoadedTopology t = library_loaded("hgx-spr");
  std::string m = p2p_matrix(t.config, t.hierarchy);
  EXPECT_EQ(cell(m, "nic0", "gpu0"), "B:sw0");
  EXPECT_EQ(cell(m, "nic0", "gpu2"), "NO");
  EXPECT_EQ(cell(m, "nic0", "gpu4"), "NO");
  EXPECT_NE(m.find("not on the P2PDMA allow-list"), std::string::npos);
}

} // namespace
} // namespace pciesim
