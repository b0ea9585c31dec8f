// Driver profiles (drivers/<name>.json, docs/mechanisms.md "Driver profiles") in whole workload
// runs: every profile loads with a source per value and `costs` overrides it; nouveau maps a
// GPU fault's system pages remotely instead of migrating them; amdgpu SVM migrates the 2 MiB
// granule around a faulted page, and back on a CPU fault; NVIDIA UVM evicts a root chunk with
// one GPU unmap and one copy, without migrate_vma's per-page work, and throttles then pins a
// page that ping-pongs between the CPU and the GPU.
#include <algorithm>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/config/driver_profile.h"
#include "tests/support/workload_compare.h"

namespace pciesim::test {
namespace {

constexpr std::uint64_t kProfilePage = 4096;

TEST(DriverProfiles, TheThreeDriversAreThereAndEveryValueHasASource) {
  std::vector<std::string> names = driver_names();
  for (const char *required : {"nvidia-uvm", "nouveau", "amdgpu-svm"})
    EXPECT_NE(std::find(names.begin(), names.end(), required), names.end()) << required;
  Node nowhere = Node::root(parse_json_text("\"test\"", "<test>"));
  for (const std::string &name : names) {
    auto d = load_driver(name, nowhere);
    EXPECT_FALSE(d->description.empty()) << name;
    EXPECT_FALSE(d->costs.empty()) << name;
    for (const auto &[key, value] : d->costs)
      EXPECT_GE(d->sources.at(key).size(), 20u) << name << "/" << key;
  }
}

TEST(DriverProfiles, BadProfilesNameTheFileAndPointer) {
  auto error = [](const std::string &text) -> std::string {
    try {
      load_driver_document(Node::root(parse_json_text(text, "drivers/bad.json")), "bad");
    } catch (const InputError &e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error(R"({"description": "x", "costs": {"gpu_fault_batch": {"value": "1 us"}}})")
                .find("drivers/bad.json:/costs/gpu_fault_batch: the value of \"gpu_fault_batch\" "
                      "has no source"),
            std::string::npos);
  EXPECT_NE(error(R"({"description": "x", "costs": {"gpu_faults": {"value": 1, "source": "s"}}})")
                .find("drivers/bad.json:/costs/gpu_faults"),
            std::string::npos);
  EXPECT_NE(
      error(R"({"name": "other", "description": "x", "costs": {}})").find("drivers/bad.json:/name"),
      std::string::npos);
}

// A `size` buffer in system RAM (managed memory) that the phases touch, under hmm_migrate.
nlohmann::json managed_workload(const std::string &driver, const std::string &size,
                                nlohmann::json phases, const nlohmann::json &costs = {}) {
  nlohmann::json w = {{"mechanisms", {"hmm_migrate"}},
                      {"driver", driver},
                      {"buffers",
                       {{{"id", "buf"},
                         {"gpu", "gpu0"},
                         {"size", size},
                         {"placement", "system"},
                         {"managed", true}}}},
                      {"phases", std::move(phases)}};
  if (!costs.is_null())
    w["costs"] = costs;
  return w;
}

nlohmann::json touch(const std::string &id, const std::string &actor, const std::string &op,
                     const std::string &size) {
  return {{"id", id},        {"actor", actor}, {"op", op},
          {"buffer", "buf"}, {"size", size},   {"access_size", "4 KiB"}};
}

// nouveau's fault handler maps system pages for the GPU where they are: nothing migrates,
// every page touched is a remote mapping, and the GPU's reads cross the fabric.
TEST(DriverProfiles, NouveauMapsAGpuFaultsSystemPagesRemotely) {
  const nlohmann::json m = mechanism(
      compare("gpu-nic-shared-switch",
              managed_workload("nouveau", "1 MiB",
                               nlohmann::json::array({touch("read", "gpu0", "read", "1 MiB")}))),
      "hmm_migrate");
  ASSERT_EQ(m["status"], "ok") << m["reason"];
  EXPECT_EQ(m["pages_to_device"], 0);
  EXPECT_EQ(m["bytes_migrated"], 0);
  EXPECT_EQ(m["os"]["remote_mappings"], 256);
  EXPECT_EQ(m["os"]["gpu_faults"], 256);
}

// amdgpu SVM: one 4 KiB GPU fault brings its whole 2 MiB granule (512 pages, one fault), and
// one CPU fault takes the granule back in one migrate_to_ram.
TEST(DriverProfiles, AmdgpuMigratesTheGranuleAroundAFault) {
  const nlohmann::json m = mechanism(
      compare("gpu-nic-shared-switch",
              managed_workload("amdgpu-svm", "4 MiB",
                               nlohmann::json::array({touch("gpu", "gpu0", "read", "4 KiB"),
                                                      touch("cpu", "cpu", "read", "4 KiB")}))),
      "hmm_migrate");
  ASSERT_EQ(m["status"], "ok") << m["reason"];
  EXPECT_EQ(m["os"]["gpu_faults"], 1);
  EXPECT_EQ(m["os"]["gpu_prefetched_pages"], 511);
  EXPECT_EQ(m["pages_to_device"], 512);
  EXPECT_EQ(m["os"]["cpu_faults"], 1);
  EXPECT_EQ(m["os"]["migrate_to_ram_calls"], 1);
  EXPECT_EQ(m["pages_to_ram"], 512);
}

// UVM evicts a root chunk of managed memory with one GPU unmap (notifier_invalidate, 2 us),
// the copy engine's setup and the copy, where migrate_vma adds collect and finalize (0.5 us a
// page); neither flushes the CPU's TLB (the CPU maps no page of the chunk: migrate_vma
// unmaps device-private entries, not present PTEs). The GPU reads 12 MiB through an
// 8 MiB memory: 2 chunks evicted either way, the same copies, and the two paths differ by
// exactly that work. The prefetcher and the big-page widening are turned off through `costs`,
// which wins over the profile.
TEST(DriverProfiles, UvmEvictsARootChunkWithoutPerPageMigrationWork) {
  auto run = [](const std::string &eviction_path) {
    nlohmann::json t =
        nlohmann::json::parse(read_repo_file("topologies/gpu-nic-shared-switch.json"));
    for (auto &c : t["components"])
      if (c["id"] == "gpu0") {
        c["params"]["memory_size"] = "8 MiB";
        c["params"]["resizable_bar"] = false;
      }
    std::string dir = make_temp_dir("uvm-evict");
    nlohmann::json s = {
        {"name", "uvm-evict"},
        {"topology", t},
        {"workload",
         managed_workload("nvidia-uvm", "12 MiB",
                          nlohmann::json::array({touch("read", "gpu0", "read", "12 MiB")}),
                          {{"gpu_prefetch_threshold", 0},
                           {"gpu_fault_granularity", "4 KiB"},
                           {"eviction_path", eviction_path}})}};
    std::ofstream(dir + "/s.json") << s.dump(2);
    CommandResult r = run_pciesim("run " + dir + "/s.json --quiet --out " + dir + "/out");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return mechanism(nlohmann::json::parse(read_file(dir + "/out/results.json")), "hmm_migrate");
  };
  const nlohmann::json uvm = run("driver"), vma = run("migrate_vma");
  ASSERT_EQ(uvm["status"], "ok") << uvm["reason"];
  EXPECT_EQ(uvm["os"]["evictions"], 2);
  EXPECT_EQ(vma["os"]["evictions"], 2);
  EXPECT_EQ(uvm["os"]["gpu_prefetched_pages"], 0);
  EXPECT_EQ(uvm["breakdown_ns"]["copy"], vma["breakdown_ns"]["copy"]);
  EXPECT_EQ(uvm["breakdown_ns"]["shootdown"], vma["breakdown_ns"]["shootdown"]);
  const double saved_ns = duration_ns(phase(vma, "read")) - duration_ns(phase(uvm, "read"));
  EXPECT_NEAR(saved_ns, 2 * 512 * (300 + 200), 1.0);
}

// UVM takes the same density hint for a CPU fault as for a GPU fault batch (uvm_va_block.c,
// uvm_va_block_service_locked). The CPU reading a 2 MiB VA block that the GPU holds, 4 KiB at
// a time, faults on its first big page (64 KiB: 16 of 512 pages, not more than 51 % of any
// larger region), then on the second (32 of 64), after which each fault's region doubles:
// 128 KiB (48 of 64 pages counted), 256 KiB, 512 KiB, then the last 1 MiB. Six faults and six
// migrations, 416 of the 512 pages prefetched; without the prefetcher, one fault a big page.
TEST(DriverProfiles, UvmPrefetchesOnCpuFaultsAsOnGpuFaults) {
  const nlohmann::json phases = nlohmann::json::array(
      {touch("gpu", "gpu0", "read", "2 MiB"), touch("cpu", "cpu", "read", "2 MiB")});
  nlohmann::json w = managed_workload("nvidia-uvm", "2 MiB", phases);
  const nlohmann::json m = mechanism(compare("gpu-nic-shared-switch", w), "hmm_migrate");
  ASSERT_EQ(m["status"], "ok") << m["reason"];
  EXPECT_EQ(m["pages_to_device"], 512);
  EXPECT_EQ(m["os"]["cpu_faults"], 6);
  EXPECT_EQ(m["os"]["migrate_to_ram_calls"], 6);
  EXPECT_EQ(m["os"]["cpu_prefetched_pages"], 512 - 6 * 16);
  EXPECT_EQ(m["pages_to_ram"], 512);
  w["costs"] = {{"gpu_prefetch_threshold", 0}};
  const nlohmann::json off = mechanism(compare("gpu-nic-shared-switch", w), "hmm_migrate");
  ASSERT_EQ(off["status"], "ok") << off["reason"];
  EXPECT_EQ(off["os"]["cpu_faults"], 32);
  EXPECT_EQ(off["os"]["migrate_to_ram_calls"], 32);
  EXPECT_EQ(off["os"]["cpu_prefetched_pages"], 0);
  EXPECT_EQ(off["pages_to_ram"], 512);
}

// One page ping-pongs: the GPU reads it, the CPU writes it, 20 times. Under UVM's thrashing
// policy (threshold 3, pin threshold 10) its first two round trips migrate freely; from the
// third on (three moves, each within 500 us of the one before) each GPU fault is throttled for
// a 500 us nap and then migrates; after ten throttles the page is pinned in RAM and the GPU
// maps it remotely, so nothing moves again.
TEST(DriverProfiles, UvmThrottlesThenPinsAPingPongingPage) {
  const nlohmann::json phases = nlohmann::json::array(
      {touch("gpu", "gpu0", "read", "4 KiB"), touch("cpu", "cpu", "write", "4 KiB")});
  nlohmann::json w = managed_workload("nvidia-uvm", "4 KiB", phases); // one page, no neighbours
  w["iterations"] = 20;
  const nlohmann::json m = mechanism(compare("gpu-nic-shared-switch", w), "hmm_migrate");
  ASSERT_EQ(m["status"], "ok") << m["reason"];
  EXPECT_EQ(m["os"]["thrashing_throttles"], 10);
  EXPECT_EQ(m["os"]["thrashing_pins"], 1);
  EXPECT_EQ(m["pages_to_device"], 12);
  EXPECT_EQ(m["pages_to_ram"], 12);
  EXPECT_EQ(m["os"]["remote_mappings"], 1);
  // A throttled iteration waits its nap; the pinned ones neither fault nor migrate.
  EXPECT_GE(duration_ns(phase(m, "gpu", 5)), 500000);
  EXPECT_LT(duration_ns(phase(m, "gpu", 15)), 10000);
  // Without thrashing detection every round trip migrates both ways.
  w["costs"] = {{"thrashing_threshold", 0}};
  const nlohmann::json free = mechanism(compare("gpu-nic-shared-switch", w), "hmm_migrate");
  EXPECT_EQ(free["pages_to_device"], 20);
  EXPECT_EQ(free["os"]["thrashing_throttles"], 0);
}

} // namespace
} // namespace pciesim::test
