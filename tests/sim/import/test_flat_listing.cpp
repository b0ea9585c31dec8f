// Flat PCI listings (`lspci -nn`, IOMMU-group listings) name no bridge's bus numbers: the tree
// is guessed from a depth-first numbering, and the guess is written in the inventory's notes.
#include <gtest/gtest.h>

#include "sim/import/flat_listing.h"
#include "sim/import/lspci_text.h"
#include "sim/util/input_error.h"

namespace pciesim::test {
namespace {

const PciFunctionInfo &at(const PciInventory &inventory, const char *address) {
  const int index = inventory.find(*parse_pci_address(address));
  EXPECT_GE(index, 0) << address;
  return inventory.functions.at(static_cast<std::size_t>(index));
}

std::string parent_of(const PciInventory &inventory, const char *address) {
  const int parent = at(inventory, address).parent;
  return parent < 0 ? "root"
                    : format_bdf(inventory.functions[static_cast<std::size_t>(parent)].address.bdf);
}

// Three root ports; a switch under the first (three downstream ports, a GPU under the first);
// a NIC on bus 05. Bus 04 is missing: the switch's second port would have numbered it, so the
// NIC is not below the switch but below the next root port. Bus ff holds only uncore registers
// (a root bus of its own); bus 06 a card of the same class, at device 00 (below a root port).
const std::vector<std::string> kGroups = {
    "IOMMU Group 0:",
    "\t00:00.0 Host bridge [0600]: Intel Corporation Device [8086:2f00]",
    "IOMMU Group 1 00:01.0 PCI bridge [0604]: Intel Corporation Root Port 1 [8086:2f02]",
    "IOMMU Group 2 00:02.0 PCI bridge [0604]: Intel Corporation Root Port 2 [8086:2f04]",
    "IOMMU Group 3 00:03.0 PCI bridge [0604]: Intel Corporation Root Port 3 [8086:2f08]",
    "IOMMU Group 4:",
    "   01:00.0 PCI bridge [0604]: Broadcom / LSI PEX88096 [1000:c010]",
    "   02:00.0 PCI bridge [0604]: Broadcom / LSI PEX88096 [1000:c010]",
    "   02:01.0 PCI bridge [0604]: Broadcom / LSI PEX88096 [1000:c010]",
    "   02:02.0 PCI bridge [0604]: Broadcom / LSI PEX88096 [1000:c010]",
    "IOMMU Group 5:",
    "   03:00.0 VGA compatible controller [0300]: NVIDIA Corporation AD102 [10de:2684]",
    "IOMMU Group 6:",
    "   05:00.0 Ethernet controller [0200]: Mellanox Technologies MT2910 [15b3:1021]",
    "IOMMU Group 7:",
    "   ff:0b.0 System peripheral [0880]: Intel Corporation QPI Link Monitoring [8086:2f81]",
    "IOMMU Group 8:",
    "   06:00.0 System peripheral [0880]: Xilinx Corporation Device [10ee:9038]",
};

TEST(FlatListing, BusesGoDepthFirstAndAGapLeavesTheSwitch) {
  ASSERT_TRUE(looks_like_iommu_group_listing(kGroups));
  PciInventory inventory = read_iommu_group_listing(kGroups, "groups.txt");
  infer_bus_hierarchy(inventory);
  EXPECT_EQ(inventory.format, "iommu-groups");
  EXPECT_EQ(inventory.iommu_groups, 9);
  EXPECT_EQ(inventory.functions.size(), 12u);

  EXPECT_EQ(at(inventory, "00:01.0").secondary_bus, 1);
  EXPECT_EQ(at(inventory, "00:01.0").subordinate_bus, 3);
  EXPECT_EQ(parent_of(inventory, "01:00.0"), "00:01.0");
  EXPECT_EQ(parent_of(inventory, "02:00.0"), "01:00.0");
  EXPECT_EQ(parent_of(inventory, "03:00.0"), "02:00.0");
  // Not below the switch's next port: bus 04 would have come first.
  EXPECT_EQ(parent_of(inventory, "05:00.0"), "00:02.0");
  EXPECT_EQ(at(inventory, "02:01.0").secondary_bus, -1);
  EXPECT_EQ(at(inventory, "02:02.0").secondary_bus, -1);
  EXPECT_TRUE(at(inventory, "02:02.0").is_bridge());
  EXPECT_EQ(parent_of(inventory, "06:00.0"), "00:03.0");
  // The uncore's bus is a root bus of its own, not a root port's.
  EXPECT_EQ(parent_of(inventory, "ff:0b.0"), "root");

  ASSERT_EQ(inventory.notes.size(), 1u);
  EXPECT_NE(inventory.notes[0].find(
                "00:01.0 -> 01, 01:00.0 -> 02, 02:00.0 -> 03, 00:02.0 -> 05, 00:03.0 -> 06"),
            std::string::npos)
      << inventory.notes[0];
  EXPECT_NE(inventory.notes[0].find("2 bridge(s) with nothing below them"), std::string::npos);
}

TEST(FlatListing, LspciNnGetsTheSameTreeAndAListingWithBusNumbersIsLeftAlone) {
  // The same functions as `lspci -nn` prints them (no groups).
  std::vector<std::string> flat;
  for (std::string line : kGroups) {
    if (line.rfind("IOMMU", 0) == 0) {
      const std::size_t function = line.find(" 00:");
      if (function == std::string::npos)
        continue; // a group's header alone
      line = line.substr(function + 1);
    }
    flat.push_back(line.substr(line.find_first_not_of(" \t")));
  }
  ASSERT_FALSE(looks_like_iommu_group_listing(flat));
  ASSERT_TRUE(looks_like_lspci_verbose(flat));
  PciInventory inventory;
  read_lspci_verbose(flat, "lspci-nn.txt", inventory);
  infer_bus_hierarchy(inventory);
  EXPECT_EQ(parent_of(inventory, "03:00.0"), "02:00.0");
  EXPECT_EQ(parent_of(inventory, "05:00.0"), "00:02.0");

  // A verbose listing's "Bus:" lines are the truth: nothing is guessed.
  PciInventory numbered;
  read_lspci_verbose({"00:01.0 PCI bridge [0604]: Intel Corporation Root Port [8086:2f02]",
                      "\tBus: primary=00, secondary=07, subordinate=07, sec-latency=0",
                      "07:00.0 Ethernet controller [0200]: Mellanox Technologies [15b3:1021]"},
                     "vvv.txt", numbered);
  infer_bus_hierarchy(numbered);
  EXPECT_TRUE(numbered.notes.empty());
  EXPECT_EQ(parent_of(numbered, "07:00.0"), "00:01.0");
}

// A root port's "Bus:" line (from its lspci -vvv) gives it buses 01-03: the switch below it
// takes 02 and 03 although a later root port would have taken them in a plain walk.
TEST(FlatListing, AKnownRangeKeepsItsBusesForTheBridgesBelowIt) {
  PciInventory inventory;
  read_lspci_verbose(
      {"00:00.0 Host bridge [0600]: Intel Corporation Device [8086:2f00]",
       "00:01.0 PCI bridge [0604]: Intel Corporation Root Port 1 [8086:2f02]",
       "\tBus: primary=00, secondary=01, subordinate=03, sec-latency=0",
       "00:02.0 PCI bridge [0604]: Intel Corporation Root Port 2 [8086:2f04]",
       "01:00.0 PCI bridge [0604]: Broadcom / LSI PEX88096 [1000:c010]",
       "02:00.0 PCI bridge [0604]: Broadcom / LSI PEX88096 [1000:c010]",
       "03:00.0 VGA compatible controller [0300]: NVIDIA Corporation AD102 [10de:2684]",
       "04:00.0 Ethernet controller [0200]: Mellanox Technologies MT2910 [15b3:1021]"},
      "mixed.txt", inventory);
  infer_bus_hierarchy(inventory);
  EXPECT_EQ(parent_of(inventory, "01:00.0"), "00:01.0");
  EXPECT_EQ(parent_of(inventory, "02:00.0"), "01:00.0");
  EXPECT_EQ(parent_of(inventory, "03:00.0"), "02:00.0");
  EXPECT_EQ(parent_of(inventory, "04:00.0"), "00:02.0");
}

TEST(FlatListing, ALineThatIsNoFunctionNamesItsLine) {
  std::vector<std::string> lines = kGroups;
  lines[6] = "   01:00 PCI bridge";
  try {
    read_iommu_group_listing(lines, "groups.txt");
    FAIL() << "no error";
  } catch (const InputError &e) {
    EXPECT_NE(std::string(e.what()).find("groups.txt:7: \"01:00 PCI bridge\""), std::string::npos)
        << e.what();
  }
}

} // namespace
} // namespace pciesim::test
