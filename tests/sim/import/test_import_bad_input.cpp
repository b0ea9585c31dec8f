// Bad machine dumps: truncated ones, ones with no device pciesim models, missing or malformed
// fields, files of another kind, and outputs that are not regular files. Each gets one line
// naming the file (and the place in it), exit code 2, and no topology written.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/sim_harness.h"

namespace pciesim::test {
namespace {

const std::string kDumps = std::string(PCIESIM_SOURCE_DIR) + "/tests/data/import/";

struct BadDump {
  const char *name;
  std::string text;
  const char *says; // part of the one line
};

std::string head_of(const std::string &text, std::size_t bytes) { return text.substr(0, bytes); }

// A snapshot of a real shipped topology, then broken in one way each.
nlohmann::json good_snapshot(const std::string &dir) {
  CommandResult r =
      run_pciesim("topo " + std::string(PCIESIM_SOURCE_DIR) +
                  "/topologies/gpu-nic-shared-switch.json --snapshot " + dir + "/good.json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(read_file(dir + "/good.json"));
}

TEST(ImportBadInput, EachBadDumpGetsOneLineAndExitTwo) {
  const std::string dir = make_temp_dir("import-bad");
  const nlohmann::json good = good_snapshot(dir);
  ASSERT_EQ(
      run_pciesim("import " + dir + "/good.json --out " + dir + "/good-topology.json").exit_code,
      0);

  std::vector<BadDump> cases;
  cases.push_back(
      {"truncated-snapshot.json", head_of(good.dump(2), good.dump(2).size() / 2), "good"});
  cases.back().says = "truncated-snapshot.json";
  const std::string tree = read_file(kDumps + "asus-esc8000a-e12-2s-epyc-9374f-lspci-tree.txt");
  const std::size_t cut = tree.find("-[61-");
  ASSERT_NE(cut, std::string::npos);
  cases.push_back({"truncated-tree.txt", tree.substr(0, cut + 3), "no whole bus range"});
  const std::string xml = read_file(kDumps + "hgx-a100-80gb-2s-icelake-nccl-topo.xml");
  cases.push_back({"truncated-nccl.xml", head_of(xml, xml.size() / 2), "not well-formed XML"});

  nlohmann::json unknown = good;
  for (auto &[address, function] : unknown["pci_functions"].items())
    function["class"] = "0x0c0330"; // every function a USB controller
  unknown["commands"].erase("lspci_tree");
  unknown["commands"].erase("lspci_verbose");
  cases.push_back({"unknown-devices.json", unknown.dump(), "no device pciesim models"});

  nlohmann::json no_functions = good;
  no_functions.erase("pci_functions");
  cases.push_back({"no-functions.json", no_functions.dump(), "missing key \"pci_functions\""});

  nlohmann::json bad_class = good;
  bad_class["pci_functions"].begin().value()["class"] = "GPU";
  cases.push_back({"bad-class.json", bad_class.dump(), "not a hexadecimal number"});

  nlohmann::json bad_address = good;
  bad_address["pci_functions"]["0000:zz:00.0"] = nlohmann::json::object();
  cases.push_back({"bad-address.json", bad_address.dump(), "is not a PCI address"});

  nlohmann::json bad_parent = good;
  for (auto &[address, function] : bad_parent["pci_functions"].items())
    if (function.contains("sysfs_path"))
      function["sysfs_path"] = "devices/pci0000:00/0000:00:1f.7/" + address;
  bad_parent["commands"].erase("lspci_tree");
  bad_parent["commands"].erase("lspci_verbose");
  cases.push_back({"missing-bridge.json", bad_parent.dump(), "is not among pci_functions"});

  nlohmann::json not_snapshot = good;
  not_snapshot["format"] = "something-else";
  cases.push_back({"other-format.json", not_snapshot.dump(), "not a pciesim snapshot"});

  const std::string groups =
      read_file(kDumps + "asus-x99-i7-5930k-gtx980-gtx1050ti-cx3-iommu-groups.txt");
  const std::size_t nic_line = groups.find("02:00.0 Ethernet");
  ASSERT_NE(nic_line, std::string::npos);
  cases.push_back({"groups-cut-mid-line.txt", groups.substr(0, nic_line + 4),
                   "\"02:0\" is not a PCI function"});
  cases.push_back(
      {"groups-only-headers.txt", "IOMMU Group 0:\nIOMMU Group 1:\n", "without any PCI function"});
  const std::string verbose = read_file(kDumps + "fujitsu-tx1310-e3-1226v3-lspci-vvv.txt");
  std::string huge = verbose;
  huge.replace(huge.find("Width x"), 7, "Width x99999999999999999999");
  cases.push_back({"huge-number.txt", huge, "a number out of range"});
  cases.push_back({"notes.txt", "just some notes\nabout a machine\n", "not a machine dump"});
  cases.push_back({"empty.txt", "", "empty"});

  for (const BadDump &bad : cases) {
    SCOPED_TRACE(bad.name);
    const std::string input = dir + "/" + bad.name;
    std::ofstream(input) << bad.text;
    const std::string out = dir + "/out-" + bad.name + ".json";
    CommandResult r = run_pciesim("import " + input + " --out " + out);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(bad.name), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(bad.says), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(out));
  }
}

// Names are copied from the dump: bytes that are not UTF-8 (a damaged or Latin-1 listing)
// become U+FFFD in the topology, which stays valid JSON.
TEST(ImportBadInput, NamesThatAreNotUtf8AreReplacedNotFatal) {
  const std::string dir = make_temp_dir("import-utf8");
  std::string text = read_file(kDumps + "msi-x99s-sli-plus-i7-5960x-2gpu-lspci-tree.txt");
  const std::size_t at = text.find("Fiji");
  ASSERT_NE(at, std::string::npos);
  text[at + 1] = '\xe9'; // Latin-1 e-acute, alone: not UTF-8
  std::ofstream(dir + "/latin1.txt") << text;
  CommandResult r =
      run_pciesim("import " + dir + "/latin1.txt --out " + dir + "/topology.json --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json doc = nlohmann::json::parse(read_file(dir + "/topology.json"));
  EXPECT_NE(doc.dump().find("F\xef\xbf\xbdji"), std::string::npos); // U+FFFD in UTF-8
  EXPECT_EQ(run_pciesim("validate " + dir + "/topology.json").exit_code, 0);
}

TEST(ImportBadInput, OutputsThatAreDirectoriesAreRefused) {
  const std::string dir = make_temp_dir("import-out");
  const std::string dump = kDumps + "puget-wrx90-threadripper-pro-lspci-tree.txt";
  std::filesystem::create_directory(dir + "/a-directory");
  CommandResult r = run_pciesim("import " + dump + " --out " + dir + "/a-directory");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(std::filesystem::is_directory(dir + "/a-directory"));
  // A symbolic link to a file is written through, as every pciesim output is: the link stays.
  std::ofstream(dir + "/target") << "old";
  std::filesystem::create_symlink(dir + "/target", dir + "/link");
  r = run_pciesim("import " + dump + " --out " + dir + "/link --quiet");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::is_symlink(dir + "/link"));
  EXPECT_NE(read_file(dir + "/target").find("\"components\""), std::string::npos);
  r = run_pciesim("import " + dump + " --sockets 3");
  EXPECT_EQ(r.exit_code, 2);
}

} // namespace
} // namespace pciesim::test
