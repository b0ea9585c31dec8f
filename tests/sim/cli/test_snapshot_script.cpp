// scripts/snapshot-machine.sh (issue 19's machine snapshot) on a made-up sysfs and proc: every
// PCI function with its attributes, its IOMMU group and driver, the sockets counted from
// cpuinfo, the command line, the tools it lacks listed, JSON that pciesim's own strict reader
// takes (no control characters in strings), and outputs that are not regular files refused.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/config/json_input.h"
#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {
namespace fs = std::filesystem;

const std::string kSnapshotScript =
    std::string(PCIESIM_SOURCE_DIR) + "/scripts/snapshot-machine.sh";

void write_fake_file(const std::string &path, const std::string &text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

// A machine of two sockets: a root port and a GPU behind it, in IOMMU group 7.
std::string fake_machine(const std::string &dir) {
  std::string sys = dir + "/sys", proc = dir + "/proc";
  std::string port = sys + "/bus/pci/devices/0000:00:01.0";
  std::string gpu = sys + "/bus/pci/devices/0000:01:00.0";
  for (auto [attribute, value] : {std::pair{"class", "0x060400"},
                                  {"vendor", "0x1022"},
                                  {"device", "0x1483"},
                                  {"current_link_speed", "16.0 GT/s PCIe"},
                                  {"current_link_width", "16"}})
    write_fake_file(port + "/" + attribute, std::string(value) + "\n");
  for (auto [attribute, value] :
       {std::pair{"class", "0x030200"},
        {"vendor", "0x10de"},
        {"device", "0x20b0"},
        {"numa_node", "1"},
        {"max_link_speed", "16.0 GT/s PCIe"},
        {"max_link_width", "16"},
        {"current_link_speed", "8.0 GT/s PCIe"},
        {"current_link_width", "16"},
        {"resource", "0x00000000f0000000 0x00000000f0ffffff 0x0000000000040200\n"
                     "0x0000038000000000 0x00000387ffffffff 0x000000000014220c"}})
    write_fake_file(gpu + "/" + attribute, std::string(value) + "\n");
  fs::create_directories(sys + "/kernel/iommu_groups/7");
  fs::create_directories(sys + "/bus/pci/drivers/nvidia");
  fs::create_symlink(sys + "/kernel/iommu_groups/7", gpu + "/iommu_group");
  fs::create_symlink(sys + "/bus/pci/drivers/nvidia", gpu + "/driver");
  write_fake_file(proc + "/cpuinfo",
                  "processor\t: 0\nmodel name\t: AMD EPYC 7763 64-Core Processor\n"
                  "physical id\t: 0\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7763 "
                  "64-Core Processor\nphysical id\t: 1\n");
  write_fake_file(proc + "/cmdline", "BOOT_IMAGE=/vmlinuz iommu=pt \"quoted\"\n");
  return "PCIESIM_SNAPSHOT_SYSFS=" + sys + " PCIESIM_SNAPSHOT_PROC=" + proc + " " + kSnapshotScript;
}

TEST(SnapshotScript, RecordsEveryFunctionAndWhatItLacks) {
  std::string dir = make_temp_dir("snapshot");
  CommandResult r = run_command(fake_machine(dir) + " " + dir + "/snap.json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("wrote " + dir + "/snap.json (2 PCI functions)"), std::string::npos)
      << r.err;
  std::string text = read_file(dir + "/snap.json");
  // pciesim's reader refuses control characters in strings: the script must not write any.
  ASSERT_NO_THROW(parse_json_text(text, "snap.json"));
  nlohmann::json s = nlohmann::json::parse(text);
  EXPECT_EQ(s["format"], "pciesim-snapshot");
  EXPECT_EQ(s["sockets"], 2);
  EXPECT_EQ(s["cpu_model"], "AMD EPYC 7763 64-Core Processor");
  EXPECT_EQ(s["cmdline"], "BOOT_IMAGE=/vmlinuz iommu=pt \"quoted\"");
  ASSERT_EQ(s["pci_functions"].size(), 2u);
  const nlohmann::json &gpu = s["pci_functions"]["0000:01:00.0"];
  EXPECT_EQ(gpu["class"], "0x030200");
  EXPECT_EQ(gpu["numa_node"], "1");
  EXPECT_EQ(gpu["current_link_speed"], "8.0 GT/s PCIe");
  EXPECT_EQ(gpu["resource"].size(), 2u); // a line per BAR
  EXPECT_EQ(gpu["iommu_group"], "7");
  EXPECT_EQ(gpu["driver"], "nvidia");
  EXPECT_FALSE(s["pci_functions"]["0000:00:01.0"].contains("iommu_group"));
  // Each tool is either run (its output as lines) or listed as missing, never both.
  for (const char *tool : {"lspci", "lscpu", "nvidia-smi"}) {
    bool present = run_command(std::string("command -v ") + tool).exit_code == 0;
    bool listed = false;
    for (const auto &m : s["missing"])
      listed = listed || m == tool;
    EXPECT_NE(present, listed) << tool;
  }
  if (s["commands"].contains("lscpu")) {
    EXPECT_TRUE(s["commands"]["lscpu"]["output"].is_array());
  }
}

TEST(SnapshotScript, RefusesAnOutputThatIsNotARegularFile) {
  std::string dir = make_temp_dir("snapshot");
  std::string run = fake_machine(dir);
  fs::create_directory(dir + "/a-directory");
  CommandResult r = run_command(run + " " + dir + "/a-directory");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("is not a regular file; nothing written"), std::string::npos) << r.err;
  // A symbolic link is refused, and what it points at is left alone.
  write_fake_file(dir + "/target", "keep me\n");
  fs::create_symlink(dir + "/target", dir + "/link.json");
  EXPECT_EQ(run_command(run + " " + dir + "/link.json").exit_code, 2);
  EXPECT_EQ(read_file(dir + "/target"), "keep me\n");
  // No temporary file is left behind.
  for (const auto &entry : fs::directory_iterator(dir))
    EXPECT_EQ(entry.path().filename().string().rfind(".snapshot.", 0), std::string::npos)
        << entry.path();
}

} // namespace
} // namespace pciesim::test
