// `pciesim import` on real machines' public dumps (tests/data/import, sources in its README):
// each becomes a topology that validates, puts every GPU, NIC and DMA engine at the PCI address
// the dump gives it (written down below from the dumps by hand), finds the sockets and the CPU's
// platform, and runs the default comparison where the machine has a GPU and an RDMA NIC.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

const std::string kImportData = std::string(PCIESIM_SOURCE_DIR) + "/tests/data/import/";

struct RealMachine {
  const char *dump;
  const char *what;
  int sockets;
  const char *platform;                             // "" when no platform file matches
  std::vector<std::string> gpus, nics, dma_engines; // addresses as the dump writes them
};

const std::vector<RealMachine> &real_machines() {
  static const std::vector<RealMachine> machines = {
      {"hgx-a100-80gb-2s-icelake-nccl-topo.xml",
       "DGX-class HGX A100 8-GPU, two Ice Lake sockets (NCCL topology)",
       2,
       "intel-icelake-sp",
       {"13:00.0", "19:00.0", "48:00.0", "4d:00.0", "89:00.0", "8e:00.0", "ad:00.0", "b3:00.0"},
       {"06:00.0", "1a:00.0", "4f:00.0", "90:00.0", "b4:00.0"},
       {}},
      {"ibm-cloud-gx3d-8xh100-vsi-nccl-topo.xml",
       "8x H100 virtual server, Sapphire Rapids (NCCL topology)",
       2,
       "intel-sapphire-rapids",
       {"a4:00.0", "ae:00.0", "b8:00.0", "c2:00.0", "cc:00.0", "d6:00.0", "e0:00.0", "ea:00.0"},
       {"a3:00.0", "ad:00.0", "b7:00.0", "c1:00.0", "cb:00.0", "d5:00.0", "df:00.0", "e9:00.0"},
       {}},
      {"intel-2s-icelake-2xa100-pcie-cx6dx-host-a-nccl-topo.xml",
       "dual Ice Lake-SP server, an A100 PCIe per socket, ConnectX-6 Dx (NCCL topology)",
       2,
       "intel-icelake-sp",
       {"69:00.0", "b1:00.0"},
       {"16:00.0"},
       {}},
      {"intel-2s-icelake-2xa100-pcie-cx6dx-host-b-nccl-topo.xml",
       "the second host of the same test: its NIC trained at x16, not x8 (NCCL topology)",
       2,
       "intel-icelake-sp",
       {"69:00.0", "b1:00.0"},
       {"16:00.0"},
       {}},
      {"intel-xeon-sp-t600-cx5ex-container-nccl-topo.xml",
       "Xeon Scalable host with a T600 and a ConnectX-5 Ex, seen from a container (NCCL)",
       1,
       "intel-skylake-sp",
       {"d8:00.0"},
       {"af:00.0"},
       {}},
      {"asus-esc8000a-e12-2s-epyc-9374f-lspci-tree.txt",
       "dual-socket AMD EPYC 9374F server (lspci -tv)",
       2,
       "amd-zen4",
       {"01:00.0", "41:00.0", "c1:00.0", "e1:00.0"},
       {"21:00.0", "81:00.0"},
       {}},
      {"puget-wrx90-threadripper-pro-lspci-tree.txt",
       "Threadripper PRO workstation (lspci -tv)",
       1,
       "amd-zen4",
       {"c1:00.0", "c2:00.0"},
       {"21:00.0"},
       {}},
      {"msi-x99s-sli-plus-i7-5960x-2gpu-lspci-tree.txt",
       "Intel Core i7-5960X workstation with two GPUs (lspci -tvv)",
       1,
       "intel-haswell-ep",
       {"02:00.0", "03:00.0"},
       {},
       {}},
      {"asus-x99-i7-5930k-gtx980-gtx1050ti-cx3-iommu-groups.txt",
       "Intel Core i7-5930K workstation, two GeForce and a ConnectX-3 (IOMMU-group listing)",
       1,
       "intel-haswell-ep",
       {"01:00.0", "03:00.0"},
       {"02:00.0"},
       {}},
      {"asus-h67-ivybridge-gt635-lspci-tree.txt",
       "Intel H67 desktop with a GPU (lspci -tv)",
       1,
       "",
       {"01:00.0"},
       {},
       {}},
      {"dell-t430-2s-e5-2630v4-iommu-on-lspci-vvv.txt",
       "pcie-bench's dual Broadwell Dell T430, IOMMU on (lspci -vvv)",
       2,
       "intel-broadwell-ep",
       {},
       {},
       {"03:00.0"}},
      {"dell-t620-2s-e5-2620v2-iommu-off-lspci-vvv.txt",
       "pcie-bench's dual Ivy Bridge Dell T620, IOMMU off (lspci -vvv)",
       2,
       "intel-ivybridge-ep",
       {},
       {},
       {"03:00.0", "41:00.0"}},
      {"fujitsu-tx1310-e3-1226v3-lspci-vvv.txt",
       "Xeon E3 tower (lspci -vvv)",
       1,
       "",
       {},
       {},
       {"01:00.0"}},
  };
  return machines;
}

// `pciesim topo`'s tree: "└─ gpu3 (gpu) 41:00.0 [Gen4 x16]" -> type and address per line.
std::multimap<std::string, std::string> enumerated_devices(const std::string &tree) {
  std::multimap<std::string, std::string> devices;
  static const std::regex device(
      "└─ \\S+ \\((gpu|rdma_nic|dma_engine)\\) ([0-9a-f]{2}:[0-9a-f]{2}\\.[0-7])");
  for (auto it = std::sregex_iterator(tree.begin(), tree.end(), device);
       it != std::sregex_iterator(); ++it)
    devices.emplace((*it)[1].str(), (*it)[2].str());
  return devices;
}

std::vector<std::string> of_type(const std::multimap<std::string, std::string> &devices,
                                 const std::string &type) {
  std::vector<std::string> addresses;
  for (auto [it, end] = devices.equal_range(type); it != end; ++it)
    addresses.push_back(it->second);
  std::sort(addresses.begin(), addresses.end());
  return addresses;
}

class ImportRealMachine : public ::testing::TestWithParam<RealMachine> {};

TEST_P(ImportRealMachine, ValidatesEnumeratesAsTheDumpAndRunsTheDefaultComparison) {
  const RealMachine &machine = GetParam();
  SCOPED_TRACE(machine.what);
  const std::string dir = make_temp_dir("import-real");
  const std::string topology = dir + "/topology.json";
  CommandResult imported =
      run_pciesim("import " + kImportData + machine.dump + " --out " + topology);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  // Every guess is printed; none is silent.
  EXPECT_NE(imported.out.find("guess: "), std::string::npos);
  EXPECT_NE(imported.out.find("wrote " + topology), std::string::npos);

  CommandResult validated = run_pciesim("validate " + topology);
  EXPECT_EQ(validated.exit_code, 0) << validated.out << validated.err;

  const nlohmann::json doc = nlohmann::json::parse(read_file(topology));
  int root_complexes = 0;
  for (const auto &c : doc.at("components"))
    if (c.at("type") == "root_complex") {
      ++root_complexes;
      EXPECT_EQ(c.value("platform", ""), machine.platform);
    }
  EXPECT_EQ(root_complexes, machine.sockets);
  EXPECT_FALSE(doc.at("import").at("guesses").empty());

  // The enumeration (what `pciesim topo` shows) puts each device where the dump has it.
  CommandResult tree = run_pciesim("topo " + topology);
  ASSERT_EQ(tree.exit_code, 0) << tree.err;
  auto devices = enumerated_devices(tree.out);
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(of_type(devices, "gpu"), sorted(machine.gpus)) << tree.out;
  EXPECT_EQ(of_type(devices, "rdma_nic"), sorted(machine.nics)) << tree.out;
  EXPECT_EQ(of_type(devices, "dma_engine"), sorted(machine.dma_engines)) << tree.out;

  if (machine.gpus.empty() || machine.nics.empty())
    return; // the default comparison moves a GPU's buffer out through an RDMA NIC
  nlohmann::json scenario = nlohmann::json::parse(read_repo_file("scenarios/default.json"));
  scenario.erase("expect"); // they name the shipped topologies
  scenario["topology"] = nlohmann::json::array({topology});
  std::ofstream(dir + "/scenario.json") << scenario.dump(2);
  CommandResult run = run_pciesim("run " + dir + "/scenario.json --out " + dir + "/out --quiet");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const nlohmann::json results = nlohmann::json::parse(read_file(dir + "/out/results.json"));
  int ok = 0;
  for (const auto &m : results.at("mechanisms")) {
    EXPECT_TRUE(m.at("status") == "ok" || m.at("status") == "not_supported") << m.dump();
    if (m.at("status") == "ok") {
      ++ok;
      EXPECT_GT(m.at("total_time_ns").get<double>(), 0);
      // 3 passes of the 16 MiB buffer reach the NIC whatever the mechanism.
      EXPECT_GE(m.at("nic_bytes").get<double>(), 3.0 * 16 * 1024 * 1024);
    }
  }
  EXPECT_GE(ok, 3) << results.dump();
}

INSTANTIATE_TEST_SUITE_P(PublicDumps, ImportRealMachine, ::testing::ValuesIn(real_machines()),
                         [](const ::testing::TestParamInfo<RealMachine> &info) {
                           std::string name = info.param.dump;
                           name = name.substr(0, name.find('.'));
                           for (char &c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c)))
                               c = '_';
                           return name;
                         });

// The same host's dump with the IOMMU off and on: the kernel's ACS Request Redirect on the root
// ports (ReqRedir+) is how the import tells.
TEST(ImportIommu, TheKernelsAcsRedirectSaysTheIommuIsOn) {
  const std::string dir = make_temp_dir("import-iommu");
  for (const char *state : {"off", "on"}) {
    const std::string out = dir + "/" + state + ".json";
    CommandResult r =
        run_pciesim(std::string("import ") + kImportData + "dell-t430-2s-e5-2630v4-iommu-" + state +
                    "-lspci-vvv.txt --out " + out + " --quiet");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json doc = nlohmann::json::parse(read_file(out));
    for (const auto &c : doc.at("components"))
      if (c.at("type") == "root_complex") {
        EXPECT_EQ(c.at("params").value("iommu", std::string("off")),
                  std::string(state) == "on" ? "translated" : "off");
        EXPECT_EQ(c.at("params").at("acs"), true); // Broadwell-EP root ports implement ACS
      }
  }
}

// A dump and `lspci -vvv` of the same machine, as users often keep them: the verbose listing's
// bus numbers, links and BARs join the first file's functions. The X99 workstation's IOMMU-group
// listing has no bus numbers; its poster's `lspci -vvvv -xxxx` of three root ports (with the
// hex register dumps, which the reader skips) pins 00:01.1 -> bus 05, the NVMe drive, x4, and
// 00:01.0 -> bus 04, so only the rest is guessed: firmware numbered 00:02.0 first.
TEST(ImportSeveralFiles, VerboseListingsAddBusNumbersLinksAndBars) {
  const std::string dir = make_temp_dir("import-several");
  CommandResult r = run_pciesim(
      "import " + kImportData + "asus-x99-i7-5930k-gtx980-gtx1050ti-cx3-iommu-groups.txt " +
      kImportData + "asus-x99-i7-5930k-rootports-lspci-vvvv-xxxx.txt --out " + dir + "/x99.json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("bridge -> bus below it: 00:02.0 -> 01, 00:03.0 -> 02, 00:03.2 -> 03,"),
            std::string::npos)
      << r.out;
  CommandResult tree = run_pciesim("topo " + dir + "/x99.json");
  ASSERT_EQ(tree.exit_code, 0) << tree.err;
  EXPECT_NE(tree.out.find("rp4 00:01.1 buses 05-05"), std::string::npos) << tree.out;
  EXPECT_NE(tree.out.find("nvme0 (nvme_ssd) 05:00.0 [Gen3 x4]"), std::string::npos) << tree.out;
  EXPECT_NE(tree.out.find("gpu0 (gpu) 01:00.0"), std::string::npos) << tree.out;
  // Alone, the listing guesses 00:01.0 for bus 01.
  r = run_pciesim("import " + kImportData +
                  "asus-x99-i7-5930k-gtx980-gtx1050ti-cx3-iommu-groups.txt --out " + dir +
                  "/alone.json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("bridge -> bus below it: 00:01.0 -> 01,"), std::string::npos) << r.out;

  // The EPYC server's tree names no BAR; its GPUs' -vvv gives BAR1 [size=64G].
  r = run_pciesim("import " + kImportData + "asus-esc8000a-e12-2s-epyc-9374f-lspci-tree.txt " +
                  kImportData + "asus-esc8000a-e12-2s-epyc-9374f-devices-lspci-vvv.txt --out " +
                  dir + "/esc.json --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  tree = run_pciesim("topo " + dir + "/esc.json");
  ASSERT_EQ(tree.exit_code, 0) << tree.err;
  EXPECT_NE(tree.out.find("(64 GiB)"), std::string::npos) << tree.out;

  // Only `lspci -vvv` text adds to a dump.
  r = run_pciesim("import " + kImportData + "asus-esc8000a-e12-2s-epyc-9374f-lspci-tree.txt " +
                  kImportData + "hgx-a100-80gb-2s-icelake-nccl-topo.xml --out " + dir + "/no.json");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("hgx-a100-80gb-2s-icelake-nccl-topo.xml:1: only `lspci -vvv` text adds"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir + "/no.json"));
}

// An NCCL dump leaves out root ports and switch downstream ports: the import numbers them and
// says so, and the switches keep the dump's cascade (HGX A100: three Broadcom levels).
TEST(ImportNccl, TheSwitchCascadeAndTheGuessAboutMissingPorts) {
  const std::string dir = make_temp_dir("import-nccl");
  CommandResult r = run_pciesim("import " + kImportData +
                                "hgx-a100-80gb-2s-icelake-nccl-topo.xml --out " + dir + "/t.json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("leaves out root ports"), std::string::npos) << r.out;
  CommandResult tree = run_pciesim("topo " + dir + "/t.json");
  // 0c -> 0e -> 11 -> GPU 13:00.0: three switches above the first GPU.
  const std::size_t gpu = tree.out.find("(gpu) 13:00.0");
  ASSERT_NE(gpu, std::string::npos) << tree.out;
  for (const char *bus : {"(switch) 0c:00.0", "(switch) 0e:00.0", "(switch) 11:00.0"}) {
    const std::size_t at = tree.out.find(bus);
    EXPECT_NE(at, std::string::npos) << bus;
    EXPECT_LT(at, gpu) << bus;
  }
  // NIC line rates from NCCL's net speed (200000 Mb/s on mlx5_bond_*).
  const nlohmann::json doc = nlohmann::json::parse(read_file(dir + "/t.json"));
  for (const auto &c : doc.at("components"))
    if (c.at("type") == "rdma_nic") {
      EXPECT_EQ(c.at("params").at("line_rate"), "200 Gb/s");
    }
}

} // namespace
} // namespace pciesim::test

namespace pciesim::test {
namespace {

// Links as trained: the two Ice Lake hosts of one NCCL issue differ only in the NIC's link,
// x8 on one and x16 on the other, as their dumps' link_width says.
TEST(ImportNccl, LinksAreModelledAsTheyTrained) {
  const std::string dir = make_temp_dir("import-links");
  for (auto [host, width] : {std::pair{"a", "x8"}, std::pair{"b", "x16"}}) {
    const std::string out = dir + "/" + host + ".json";
    ASSERT_EQ(run_pciesim(std::string("import ") + kImportData +
                          "intel-2s-icelake-2xa100-pcie-cx6dx-host-" + host +
                          "-nccl-topo.xml --quiet --out " + out)
                  .exit_code,
              0);
    CommandResult tree = run_pciesim("topo " + out);
    EXPECT_NE(tree.out.find(std::string("nic0 (rdma_nic) 16:00.0 [Gen4 ") + width + "]"),
              std::string::npos)
        << host << "\n"
        << tree.out;
  }
}

} // namespace
} // namespace pciesim::test
