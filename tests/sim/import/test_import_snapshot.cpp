// scripts/snapshot-machine.sh on a made-up two-socket machine laid out as sysfs lays it out
// (functions under /sys/devices/pci0000:BB/..., linked from /sys/bus/pci/devices), with lspci
// failing: the snapshot's sysfs attributes alone give `pciesim import` the tree (from the
// paths), the sockets (NUMA nodes), the links, the BARs, the NIC's port rate and the IOMMU's
// default domain.
#include <filesystem>
#include <fstream>
#include <tuple>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {
namespace fs = std::filesystem;

void put_sysfs_file(const std::string &path, const std::string &text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text << "\n";
}

// A PCI function at devices/<path>, with its attributes, linked from bus/pci/devices.
void add_function(const std::string &sys, const std::string &path,
                  const std::vector<std::pair<std::string, std::string>> &attributes) {
  const std::string dir = sys + "/devices/" + path;
  fs::create_directories(dir);
  for (const auto &[name, value] : attributes)
    put_sysfs_file(dir + "/" + name, value);
  fs::create_directories(sys + "/bus/pci/devices");
  fs::create_symlink("../../../devices/" + path,
                     sys + "/bus/pci/devices/" + fs::path(path).filename().string());
}

TEST(ImportSnapshot, SysfsAloneGivesTheTreeSocketsLinksAndIommu) {
  const std::string dir = make_temp_dir("import-snapshot");
  const std::string sys = dir + "/sys", proc = dir + "/proc", bin = dir + "/bin";
  const std::vector<std::pair<std::string, std::string>> root_port = {
      {"class", "0x060400"},
      {"vendor", "0x1022"},
      {"device", "0x1483"},
      {"max_link_speed", "16.0 GT/s PCIe"},
      {"max_link_width", "16"}};
  add_function(sys, "pci0000:00/0000:00:01.1", root_port);
  add_function(sys, "pci0000:80/0000:80:01.1", root_port);
  add_function(sys, "pci0000:00/0000:00:01.1/0000:01:00.0",
               {{"class", "0x030200"},
                {"vendor", "0x10de"},
                {"device", "0x20b0"},
                {"numa_node", "0"},
                {"current_link_speed", "16.0 GT/s PCIe"},
                {"current_link_width", "16"},
                {"max_link_speed", "16.0 GT/s PCIe"},
                {"max_link_width", "16"},
                {"resource", "0x00000000f0000000 0x00000000f0ffffff 0x0000000000040200\n"
                             "0x0000038000000000 0x0000038fffffffff 0x000000000014220c"}});
  add_function(sys, "pci0000:80/0000:80:01.1/0000:81:00.0",
               {{"class", "0x020700"},
                {"vendor", "0x15b3"},
                {"device", "0x101b"},
                {"numa_node", "1"},
                {"current_link_speed", "16.0 GT/s PCIe"},
                {"current_link_width", "16"},
                {"max_link_speed", "16.0 GT/s PCIe"},
                {"max_link_width", "16"}});
  put_sysfs_file(sys +
                     "/devices/pci0000:80/0000:80:01.1/0000:81:00.0/infiniband/mlx5_0/ports/1/rate",
                 "200 Gb/sec (4X HDR)");
  put_sysfs_file(
      sys + "/devices/pci0000:80/0000:80:01.1/0000:81:00.0/infiniband/mlx5_0/ports/1/link_layer",
      "InfiniBand");
  put_sysfs_file(sys + "/kernel/iommu_groups/3/type", "identity");
  put_sysfs_file(proc + "/cpuinfo", "processor\t: 0\nmodel name\t: AMD EPYC 7763 64-Core "
                                    "Processor\nphysical id\t: 0\n\nprocessor\t: 1\nmodel "
                                    "name\t: AMD EPYC 7763 64-Core Processor\nphysical id\t: 1");
  put_sysfs_file(proc + "/cmdline", "BOOT_IMAGE=/vmlinuz iommu=pt");
  // lspci, lscpu and nvidia-smi fail here: only sysfs speaks.
  for (const char *tool : {"lspci", "lscpu", "nvidia-smi"}) {
    put_sysfs_file(bin + "/" + tool, "#!/bin/sh\nexit 1");
    fs::permissions(bin + "/" + tool, fs::perms::owner_all);
  }
  CommandResult snapshot = run_command("PATH=" + bin + ":$PATH PCIESIM_SNAPSHOT_SYSFS=" + sys +
                                       " PCIESIM_SNAPSHOT_PROC=" + proc + " " + PCIESIM_SOURCE_DIR +
                                       "/scripts/snapshot-machine.sh " + dir + "/snap.json");
  ASSERT_EQ(snapshot.exit_code, 0) << snapshot.err;
  const nlohmann::json snap = nlohmann::json::parse(read_file(dir + "/snap.json"));
  EXPECT_EQ(snap["pci_functions"]["0000:81:00.0"]["infiniband_rate"], "200 Gb/sec (4X HDR)");
  EXPECT_EQ(snap["pci_functions"]["0000:81:00.0"]["sysfs_path"],
            "devices/pci0000:80/0000:80:01.1/0000:81:00.0");
  EXPECT_EQ(snap["iommu"]["default_domain"], "identity");

  CommandResult imported = run_pciesim("import " + dir + "/snap.json --out " + dir + "/box.json");
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  const nlohmann::json box = nlohmann::json::parse(read_file(dir + "/box.json"));
  std::map<std::string, nlohmann::json> by_id;
  for (const auto &c : box["components"])
    by_id[c["id"]] = c;
  ASSERT_TRUE(by_id.count("rc0") && by_id.count("rc1") && by_id.count("xsock")) << box.dump(2);
  for (const char *rc : {"rc0", "rc1"}) {
    EXPECT_EQ(by_id[rc]["platform"], "amd-zen3");
    EXPECT_EQ(by_id[rc]["params"]["iommu"], "passthrough");
  }
  EXPECT_EQ(by_id["gpu0"]["pci_address"], "0000:01:00.0");
  EXPECT_EQ(by_id["gpu0"]["params"]["memory_size"], "40 GiB");
  EXPECT_EQ(by_id["gpu0"]["params"]["resizable_bar"], true); // BAR1 (64 GiB) covers it
  EXPECT_EQ(by_id["nic0"]["params"]["line_rate"], "200 Gb/s");
  EXPECT_EQ(by_id["nic0"]["params"]["packet_overhead"], "26 B"); // InfiniBand's framing
  bool gpu_on_rc0 = false, nic_on_rc1 = false;
  for (const auto &l : box["links"]) {
    gpu_on_rc0 |= l["between"] == nlohmann::json({"rc0.rp0", "gpu0"});
    nic_on_rc1 |= l["between"] == nlohmann::json({"rc1.rp0", "nic0"});
    EXPECT_EQ(l["params"]["gen"], 4);
    EXPECT_EQ(l["params"]["width"], 16);
  }
  EXPECT_TRUE(gpu_on_rc0 && nic_on_rc1) << box["links"].dump();
}

// A RoCE port: its link layer says Ethernet, and its net device's MTU sets the path MTU, the
// largest InfiniBand MTU under it less the 96 bytes Linux keeps for headers (iboe_get_mtu):
// 1500-byte frames carry 1024-byte packets, 9000-byte ones 4096. A link layer sysfs would not
// write is refused, naming the snapshot's field.
TEST(ImportSnapshot, RocePortsTakeTheirPathMtuFromTheNetDevice) {
  for (const auto &[net_mtu, link_layer, expected] :
       {std::tuple{"1500", "Ethernet", "1 KiB"}, std::tuple{"9000", "Ethernet", "4 KiB"},
        std::tuple{"1500", "Infiniband", ""}}) {
    SCOPED_TRACE(std::string(net_mtu) + " " + link_layer);
    const std::string dir = make_temp_dir("import-snapshot-roce");
    const std::string sys = dir + "/sys", proc = dir + "/proc", bin = dir + "/bin";
    add_function(sys, "pci0000:00/0000:00:01.1",
                 {{"class", "0x060400"},
                  {"vendor", "0x1022"},
                  {"device", "0x1483"},
                  {"max_link_speed", "16.0 GT/s PCIe"},
                  {"max_link_width", "16"}});
    const std::string nic = "pci0000:00/0000:00:01.1/0000:01:00.0";
    add_function(sys, nic,
                 {{"class", "0x020000"},
                  {"vendor", "0x15b3"},
                  {"device", "0x1017"},
                  {"current_link_speed", "16.0 GT/s PCIe"},
                  {"current_link_width", "16"},
                  {"max_link_speed", "16.0 GT/s PCIe"},
                  {"max_link_width", "16"}});
    put_sysfs_file(sys + "/devices/" + nic + "/infiniband/mlx5_0/ports/1/rate",
                   "100 Gb/sec (4X EDR)");
    put_sysfs_file(sys + "/devices/" + nic + "/infiniband/mlx5_0/ports/1/link_layer", link_layer);
    put_sysfs_file(sys + "/devices/" + nic + "/net/eth0/mtu", net_mtu);
    put_sysfs_file(proc + "/cpuinfo", "processor\t: 0\nmodel name\t: AMD EPYC 7763 64-Core "
                                      "Processor\nphysical id\t: 0");
    put_sysfs_file(proc + "/cmdline", "BOOT_IMAGE=/vmlinuz");
    for (const char *tool : {"lspci", "lscpu", "nvidia-smi"}) {
      put_sysfs_file(bin + "/" + tool, "#!/bin/sh\nexit 1");
      fs::permissions(bin + "/" + tool, fs::perms::owner_all);
    }
    CommandResult snapshot = run_command(
        "PATH=" + bin + ":$PATH PCIESIM_SNAPSHOT_SYSFS=" + sys + " PCIESIM_SNAPSHOT_PROC=" + proc +
        " " + PCIESIM_SOURCE_DIR + "/scripts/snapshot-machine.sh " + dir + "/snap.json");
    ASSERT_EQ(snapshot.exit_code, 0) << snapshot.err;
    CommandResult imported = run_pciesim("import " + dir + "/snap.json --out " + dir + "/box.json");
    if (std::string(expected).empty()) {
      EXPECT_EQ(imported.exit_code, 2);
      EXPECT_NE(imported.err.find("infiniband_link_layer"), std::string::npos) << imported.err;
      EXPECT_NE(imported.err.find("not an RDMA link layer"), std::string::npos) << imported.err;
      EXPECT_FALSE(fs::exists(dir + "/box.json"));
      continue;
    }
    ASSERT_EQ(imported.exit_code, 0) << imported.err;
    const nlohmann::json box = nlohmann::json::parse(read_file(dir + "/box.json"));
    bool found = false;
    for (const auto &c : box["components"])
      if (c["type"] == "rdma_nic") {
        found = true;
        EXPECT_EQ(c["params"]["network_mtu"], expected);
        EXPECT_FALSE(c["params"].contains("packet_overhead")); // RoCEv2's, the default
      }
    EXPECT_TRUE(found) << box.dump(2);
  }
}

} // namespace
} // namespace pciesim::test
