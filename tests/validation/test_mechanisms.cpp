// The memory mechanisms compared on workloads (docs/mechanisms.md): page conservation, the
// HMM ping-pong, the peer-mapping extension against the DMA-API peer mapping, bounce
// pipelining, DMA-BUF placement, pinned MRs, CPU faults, cost overrides, and the one-shot
// ordering and reuse crossover of migration against peer access. Every run goes through
// `pciesim run` (each mechanism in its own process) and reads its results.json.
#include <cmath>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "models/os/page_table.h"
#include "tests/support/workload_compare.h"

namespace pciesim::test {
namespace {

TEST(PageTable, EveryPageInExactlyOneFrameOfOneMemory) {
  PageTable table(64, 4096, PageHome::Device, 64, 64);
  EXPECT_TRUE(table.check().empty());
  EXPECT_EQ(table.pages_in(PageHome::Device), 64u);
  for (std::uint64_t p = 0; p < 64; p += 2)
    ASSERT_TRUE(table.move(p, PageHome::SystemRam));
  EXPECT_TRUE(table.check().empty());
  EXPECT_EQ(table.pages_in(PageHome::SystemRam), 32u);
  EXPECT_EQ(table.pages_in(PageHome::Device), 32u);
  // Frames come lowest first: the 32 moved pages took system frames 0..31.
  EXPECT_EQ(table.page(62).frame, 31u);
  // A corrupted table (two pages on one frame) is reported.
  table.page(1).frame = table.page(3).frame;
  EXPECT_FALSE(table.check().empty());
}

TEST(PageTable, NotifierSequenceTellsAReaderToRetry) {
  PageTable table(4, 4096, PageHome::Device, 4, 4);
  int nic = table.subscribe("nic0");
  std::uint64_t seq = table.read_begin(nic);
  EXPECT_FALSE(table.read_retry(nic, seq));
  table.invalidated(nic);
  EXPECT_TRUE(table.read_retry(nic, seq));
}

// E on an N-page GPU-resident buffer: the first NIC pass migrates all N pages (fault
// handling shows), a second pass migrates none, a GPU phase brings them all back, and the
// NIC pass after it migrates them again.
TEST(HmmMigrate, PingPongMovesEveryPageOncePerForeignTouch) {
  const std::uint64_t pages = 256; // 1 MiB of 4 KiB pages
  nlohmann::json r =
      compare("gpu-nic-shared-switch",
              {{"mechanisms", {"hmm_migrate"}},
               {"buffers", {buffer("1 MiB")}},
               {"phases",
                {phase_spec("send1", "nic0", "read"), phase_spec("send2", "nic0", "read"),
                 phase_spec("produce", "gpu0", "write"), phase_spec("send3", "nic0", "read")}}});
  const nlohmann::json &e = mechanism(r, "hmm_migrate");
  ASSERT_EQ(e["status"], "ok") << e["reason"];
  EXPECT_EQ(phase(e, "send1")["pages_to_ram"], pages);
  EXPECT_GT(phase(e, "send1")["faults"].get<int>(), 0);
  EXPECT_EQ(phase(e, "send2")["pages_to_ram"], 0u);
  EXPECT_EQ(phase(e, "send2")["faults"], 0);
  EXPECT_EQ(phase(e, "produce")["pages_to_device"], pages);
  EXPECT_EQ(phase(e, "send3")["pages_to_ram"], pages);
  EXPECT_GT(e["breakdown_ns"]["fault_handling"].get<double>(), 0);
  // The GPU's migration back zapped the NIC's MTT entries through its notifier.
  EXPECT_GE(e["invalidations"].get<int>(), 1);
  // Conservation: bytes the copy engine moved are exactly the pages migrated, whole.
  EXPECT_EQ(e["pages_migrated"], 3 * pages);
  EXPECT_EQ(e["bytes_migrated"], 3 * pages * 4096);
  // The second pass reads system RAM at the NIC's pace: far faster than the faulting one.
  EXPECT_LT(duration_ns(phase(e, "send2")) * 5, duration_ns(phase(e, "send1")));
}

TEST(HmmMigrate, HugePagesRandomAccessAndTheCpuConserveBytes) {
  nlohmann::json r =
      compare("gpu-nic-shared-switch",
              {{"mechanisms", {"hmm_migrate", "p2p_dma_api"}},
               {"buffers", {buffer("8 MiB", "2 MiB")}},
               {"phases",
                {phase_spec("scatter", "nic0", "read",
                            {{"pattern", "random"}, {"seed", 7}, {"access_size", "64 KiB"}}),
                 phase_spec("gpu", "gpu0", "write"),
                 phase_spec("cpu", "cpu", "read", {{"access_size", "1 MiB"}})}}});
  const nlohmann::json &e = mechanism(r, "hmm_migrate");
  ASSERT_EQ(e["status"], "ok") << e["reason"];
  EXPECT_EQ(e["bytes_migrated"].get<std::uint64_t>(),
            e["pages_migrated"].get<std::uint64_t>() * (2u << 20));
  // The CPU pulled every huge page back to RAM, one fault each (migrate_to_ram_pages 1).
  EXPECT_EQ(phase(e, "cpu")["pages_to_ram"], 4u);
  EXPECT_EQ(e["faults"]["cpu"], 4);
  // Under the peer mapping the data never moves: the CPU reads through a staging copy.
  const nlohmann::json &a = mechanism(r, "p2p_dma_api");
  EXPECT_EQ(a["pages_migrated"], 0);
  EXPECT_GT(a["breakdown_ns"]["copy"].get<double>(), 0);
}

// F maps the BAR pages at the NIC's first fault: afterwards its data path is A's (within
// 2%); where p2pdma refuses the pair it falls back to E and migrates.
TEST(HmmP2p, PeerDataPathEqualsTheDmaApiAndFallsBackToMigration) {
  nlohmann::json workload = {{"mechanisms", {"p2p_dma_api", "hmm_p2p", "hmm_migrate"}},
                             {"buffers", {buffer("4 MiB")}},
                             {"iterations", 3},
                             {"phases",
                              {phase_spec("produce", "gpu0", "write", {{"once", true}}),
                               phase_spec("send", "nic0", "read")}}};
  nlohmann::json r = compare(
      nlohmann::json::array({"gpu-nic-shared-switch", "gpu-nic-root-ports-other"}), workload);
  const nlohmann::json &a = mechanism(r, "p2p_dma_api", "gpu-nic-shared-switch");
  const nlohmann::json &f = mechanism(r, "hmm_p2p", "gpu-nic-shared-switch");
  ASSERT_EQ(a["status"], "ok");
  ASSERT_EQ(f["status"], "ok");
  double steady_a = duration_ns(phase(a, "send", 2)), steady_f = duration_ns(phase(f, "send", 2));
  EXPECT_NEAR(steady_f / steady_a, 1.0, 0.02);
  EXPECT_EQ(f["pages_migrated"], 0);
  EXPECT_EQ(f["os"]["p2p_page_mappings"], 1024);
  // Same link bytes toward the NIC as A: the BAR pages, peer-to-peer through the switch.
  // Without P2P (a host bridge Linux does not list) A cannot run and F behaves as E.
  const nlohmann::json &a2 = mechanism(r, "p2p_dma_api", "gpu-nic-root-ports-other");
  const nlohmann::json &f2 = mechanism(r, "hmm_p2p", "gpu-nic-root-ports-other");
  const nlohmann::json &e2 = mechanism(r, "hmm_migrate", "gpu-nic-root-ports-other");
  EXPECT_EQ(a2["status"], "not_supported");
  ASSERT_EQ(f2["status"], "ok");
  EXPECT_NE(f2["reason"].get<std::string>().find("fell back"), std::string::npos);
  EXPECT_EQ(f2["pages_to_ram"], 1024);
  EXPECT_EQ(f2["total_time_ns"], e2["total_time_ns"]);
}

TEST(Bounce, ChunkPipeliningOverlapsCopyAndSend) {
  auto run = [](int chunks) {
    nlohmann::json r =
        compare("gpu-nic-shared-switch",
                {{"mechanisms", {"bounce"}},
                 {"buffers", {buffer("8 MiB")}},
                 {"chunk", "256 KiB"},
                 {"chunks_in_flight", chunks},
                 {"phases", {phase_spec("send", "nic0", "read", {{"access_size", "1 MiB"}})}}});
    return duration_ns(phase(mechanism(r, "bounce"), "send"));
  };
  double serial = run(1), pipelined = run(4);
  // One chunk at a time: copy then send, never both; four in flight overlap them.
  EXPECT_LT(pipelined * 1.3, serial);
  // Never faster than the NIC's 25 GB/s line rate allows for 8 MiB.
  EXPECT_GT(pipelined, 8.0 * (1 << 20) / 25e9 * 1e9);
}

TEST(DmabufP2p, WithoutPeerSupportTheBufferLivesInSystemMemory) {
  nlohmann::json r = compare(
      "gpu-nic-root-ports-other",
      {{"mechanisms", {"dmabuf_p2p"}},
       {"buffers", {buffer("2 MiB")}},
       {"phases", {phase_spec("produce", "gpu0", "write"), phase_spec("send", "nic0", "read")}}});
  const nlohmann::json &c = mechanism(r, "dmabuf_p2p");
  ASSERT_EQ(c["status"], "ok");
  EXPECT_NE(c["reason"].get<std::string>().find("system memory"), std::string::npos);
  EXPECT_EQ(c["pages_to_ram"], 512); // moved once, at attach
  EXPECT_EQ(c["bytes_migrated"], 2u << 20);
  // The GPU now writes its buffer over PCIe: its link carries the 2 MiB of the produce phase
  // besides the move.
  std::uint64_t gpu_up = 0;
  for (const auto &l : c["links"])
    if (l["from"] == "gpu0.up")
      gpu_up += l["payload_bytes"].get<std::uint64_t>();
  EXPECT_GE(gpu_up, 2u * (2u << 20));
}

TEST(HmmMigrate, PinnedRegistrationRefusesLaterGpuMigrations) {
  nlohmann::json r = compare(
      "gpu-nic-shared-switch",
      {{"mechanisms", {"hmm_migrate"}},
       {"nic_mr", "pinned"},
       {"buffers", {buffer("1 MiB")}},
       {"phases", {phase_spec("send", "nic0", "read"), phase_spec("produce", "gpu0", "write")}}});
  const nlohmann::json &e = mechanism(r, "hmm_migrate");
  ASSERT_EQ(e["status"], "ok");
  EXPECT_EQ(e["os"]["pages_pinned"], 256);
  EXPECT_EQ(e["pages_to_ram"], 256);  // pulled to RAM by the registration
  EXPECT_EQ(e["pages_to_device"], 0); // the GPU may not take them back
  EXPECT_EQ(e["os"]["remote_mappings"], 256);
  EXPECT_EQ(e["faults"]["odp"], 0); // a pinned MR never faults
}

TEST(Costs, EveryOdpFaultPaysTheOverriddenFixedCost) {
  auto run = [](const std::string &odp_fault, int workers) {
    nlohmann::json r =
        compare("gpu-nic-shared-switch",
                {{"mechanisms", {"hmm_p2p"}},
                 {"costs", {{"odp_fault", odp_fault}, {"odp_fault_workers", workers}}},
                 {"buffers", {buffer("1 MiB")}},
                 {"phases", {phase_spec("send", "nic0", "read", {{"concurrency", 4}})}}});
    return mechanism(r, "hmm_p2p");
  };
  auto added_ns = [](const nlohmann::json &base, const nlohmann::json &slow) {
    EXPECT_EQ(base["faults"]["odp"], slow["faults"]["odp"]);
    return slow["breakdown_ns"]["fault_handling"].get<double>() -
           base["breakdown_ns"]["fault_handling"].get<double>();
  };
  const nlohmann::json serial_base = run("10 us", 1), serial_slow = run("50 us", 1);
  const int faults = serial_base["faults"]["odp"];
  ASSERT_EQ(faults % 4, 0);
  ASSERT_GT(faults, 0);
  // Served one at a time, each fault's extra 40 us is on the critical path.
  EXPECT_NEAR(added_ns(serial_base, serial_slow), faults * 40000.0, faults * 400.0);
  // Served by the driver's work items (mlx5: 32 at once), the four accesses in flight fault
  // together and their fixed parts overlap: a quarter of it.
  EXPECT_NEAR(added_ns(run("10 us", 32), run("50 us", 32)), faults / 4 * 40000.0, faults * 100.0);
}

// Faults served together still do their page work one after the other, in the order they
// reached it: the pages they migrate land in RAM in the order of the buffer, as one fault at a
// time leaves them, so the NIC's later sends read the same runs of contiguous pages.
TEST(Costs, OdpFaultsServedTogetherMigrateInArrivalOrder) {
  auto run = [](int workers) {
    nlohmann::json r = compare(
        "gpu-nic-shared-switch",
        {{"mechanisms", {"hmm_migrate"}},
         {"costs", {{"odp_fault_workers", workers}}},
         {"buffers", {buffer("4 MiB")}},
         {"iterations", 2},
         {"phases",
          {phase_spec("produce", "gpu0", "write", {{"once", true}}),
           phase_spec("send", "nic0", "read", {{"concurrency", 4}, {"access_size", "64 KiB"}})}}});
    return mechanism(r, "hmm_migrate");
  };
  const nlohmann::json serial = run(1), together = run(32);
  ASSERT_EQ(together["status"], "ok") << together["reason"];
  // The first send: the four accesses' fixed parts overlap.
  EXPECT_LT(duration_ns(phase(together, "send")), duration_ns(phase(serial, "send")));
  EXPECT_EQ(together["pages_to_ram"], serial["pages_to_ram"]);
  // The second send faults no more and reads the same layout of RAM.
  EXPECT_EQ(phase(together, "send", 1)["faults"], 0);
  // Equal to the picosecond: the durations are differences of times in ns that start apart, so
  // their doubles may differ in the last bits.
  EXPECT_NEAR(duration_ns(phase(together, "send", 1)), duration_ns(phase(serial, "send", 1)),
              0.0005);
}

// One-shot: A beats E on the shared switch. Reuse: where the NIC reads system RAM faster
// than the GPU BAR (the AMD root-port box caps peer traffic at 10 GB/s), E's migration pays
// for itself after a number of reuses the simulation computes; where it does not, there is
// no crossover. Orderings and existence, not numbers.
TEST(Comparison, OneShotOrderingAndReuseCrossover) {
  nlohmann::json r =
      compare(nlohmann::json::array({"gpu-nic-shared-switch", "gpu-nic-root-ports-amd"}),
              {{"mechanisms", {"p2p_dma_api", "hmm_migrate"}},
               {"buffers", {buffer("4 MiB")}},
               {"iterations", 3},
               {"phases",
                {phase_spec("produce", "gpu0", "write", {{"once", true}}),
                 phase_spec("send", "nic0", "read")}}});
  const nlohmann::json &a = mechanism(r, "p2p_dma_api", "gpu-nic-shared-switch");
  const nlohmann::json &e = mechanism(r, "hmm_migrate", "gpu-nic-shared-switch");
  EXPECT_LT(phase(a, "send", 0)["end_ns"].get<double>(),
            phase(e, "send", 0)["end_ns"].get<double>());
  ASSERT_EQ(r["crossover"].size(), 2u);
  for (const auto &c : r["crossover"]) {
    std::string topo = c["topology"];
    const nlohmann::json &ca = mechanism(r, "p2p_dma_api", topo);
    const nlohmann::json &ce = mechanism(r, "hmm_migrate", topo);
    double a_first = phase(ca, "send", 0)["end_ns"], e_first = phase(ce, "send", 0)["end_ns"];
    double a_steady = duration_ns(phase(ca, "send", 2)),
           e_steady = duration_ns(phase(ce, "send", 2));
    if (topo == "gpu-nic-root-ports-amd") {
      ASSERT_FALSE(c["reuses"].is_null()) << c.dump();
      EXPECT_LT(e_steady, a_steady);
    }
    if (c["reuses"].is_null()) {
      EXPECT_GE(e_steady, a_steady);
      continue;
    }
    // n uses cost first + (n - 1) x steady: at n migration is no dearer, at n - 1 it was.
    double n = c["reuses"];
    EXPECT_GT(n, 1);
    EXPECT_LE(e_first + (n - 1) * e_steady, a_first + (n - 1) * a_steady);
    EXPECT_GT(e_first + (n - 2) * e_steady, a_first + (n - 2) * a_steady);
  }
  EXPECT_NE(r["verdict"].get<std::string>().find("fastest p2p_dma_api"), std::string::npos);
}

// Background traffic: a phase started with the previous one, and a scenario transfer, run
// at once with the workload in every mechanism's run.
TEST(Workload, ConcurrentPhasesAndTransfersRunTogether) {
  std::string dir = make_temp_dir("mech");
  nlohmann::json scenario = {
      {"topology", topology("gpu-nic-shared-switch")},
      {"transfers",
       {{{"id", "bg"},
         {"initiator", "gpu0"},
         {"target", "mem0"},
         {"direction", "write"},
         {"size", "64 KiB"},
         {"count", 32}}}},
      {"workload",
       {{"mechanisms", {"hmm_migrate", "bounce"}},
        {"buffers",
         {buffer("1 MiB"),
          {{"id", "rx"}, {"gpu", "gpu0"}, {"size", "1 MiB"}, {"placement", "system"}}}},
        {"phases",
         {phase_spec("compute", "gpu0", "write"),
          {{"id", "receive"},
           {"actor", "nic0"},
           {"op", "write"},
           {"buffer", "rx"},
           {"with_previous", true}}}}}}};
  std::ofstream(dir + "/s.json") << scenario.dump(2);
  CommandResult r = run_pciesim("run " + dir + "/s.json --json --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json results = nlohmann::json::parse(r.out);
  for (const auto &m : results["mechanisms"]) {
    ASSERT_EQ(m["status"], "ok") << m["name"] << ": " << m["reason"];
    EXPECT_EQ(phase(m, "compute")["start_ns"], phase(m, "receive")["start_ns"]);
    EXPECT_EQ(m["transfers"][0]["bytes"], 32 * 65536) << m["name"];
  }
  // The NIC writes a system buffer under HMM: ODP faults map it, nothing migrates.
  const nlohmann::json &e = mechanism(results, "hmm_migrate");
  EXPECT_GT(e["faults"]["odp"].get<int>(), 0);
  EXPECT_EQ(e["pages_migrated"], 0);
}

// A sweep over a workload's costs: every point runs the comparison, and mechanisms.csv has a
// row per point and mechanism.
TEST(Comparison, SweepOverCostsWritesOneRowPerMechanism) {
  std::string dir = make_temp_dir("mech-sweep");
  nlohmann::json base = {{"topology", nlohmann::json::array({topology("gpu-nic-shared-switch")})},
                         {"workload",
                          {{"mechanisms", {"p2p_dma_api", "hmm_migrate"}},
                           {"buffers", {buffer("256 KiB")}},
                           {"phases", {phase_spec("send", "nic0", "read")}}}}};
  nlohmann::json sweep = {{"name", "costs"},
                          {"base", base},
                          {"axes",
                           {{{"name", "odp"},
                             {"pointer", "/workload/costs"},
                             {"values", {{{"odp_fault", "10 us"}}, {{"odp_fault", "100 us"}}}}}}}};
  std::ofstream(dir + "/sweep.json") << sweep.dump(2);
  CommandResult r = run_pciesim("sweep " + dir + "/sweep.json -j 2 --quiet --out " + dir + "/out");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string csv = read_file(dir + "/out/mechanisms.csv");
  std::size_t rows = 0;
  for (char c : csv)
    rows += c == '\n';
  EXPECT_EQ(rows, 1u + 2u * 2u); // header, 2 points x 2 mechanisms
  nlohmann::json merged = nlohmann::json::parse(read_file(dir + "/out/results.json"));
  double fast = merged["points"][0]["mechanisms"][1]["total_time_ns"];
  double slow = merged["points"][1]["mechanisms"][1]["total_time_ns"];
  EXPECT_GT(slow, fast); // the dearer ODP fault shows in hmm_migrate's total
}

} // namespace
} // namespace pciesim::test
