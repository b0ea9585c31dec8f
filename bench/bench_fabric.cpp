#include "bench/bench_fabric.h"

#include <fmt/format.h>

#include "sim/config/json_input.h"
#include "sim/plan/scenario.h"
#include "sim/run/simulation.h"

namespace pciesim_bench {

Measurement scenario_tlp_hops(const std::string &scenario_json) {
  return in_child([&scenario_json] {
    pciesim::ScenarioConfig s = pciesim::load_scenario(
        pciesim::Node::root(pciesim::parse_json_text(scenario_json, "bench")),
        PCIESIM_SOURCE_DIR_BENCH);
    double start = now_seconds();
    pciesim::RunResult r = pciesim::simulate(s);
    Measurement m;
    m.wall_seconds = now_seconds() - start;
    for (const auto &link : r.links)
      m.work += static_cast<double>(link.tlps);
    m.ok = r.completed();
    for (const auto &t : r.transfers)
      m.ok = m.ok && t.error.empty() && t.transfers_done == t.count;
    return m;
  });
}

std::string streaming_dma_scenario(bool is_write, std::uint64_t bytes) {
  // 64 KiB transfers, 16 at a time: the engine keeps its tags and posted window full, so
  // the fabric streams back to back. switch-two-dma's second engine stays idle.
  constexpr std::uint64_t kTransferBytes = 64 << 10;
  return fmt::format(R"({{"topology": "topologies/switch-two-dma.json", "transfers": [
      {{"id": "stream", "initiator": "dma0", "target": "mem0", "direction": "{}",
        "size": "64 KiB", "count": {}, "concurrency": 16}}]}})",
                     is_write ? "write" : "read", bytes / kTransferBytes);
}

std::string nic_reads_gpu_scenario(std::uint64_t bytes) {
  // As scenarios/nic-gpu-rdma.json's read: 1 MiB RDMA READs over 4 queue pairs, the buffer
  // as large as the data so that the MTT keeps missing as it would on a real buffer.
  constexpr std::uint64_t kMessageBytes = 1 << 20;
  return fmt::format(R"({{"topology": "topologies/gpu-nic-shared-switch.json", "transfers": [
      {{"id": "rdma-read", "initiator": "nic0", "target": "gpu0", "direction": "read",
        "size": "1 MiB", "count": {}, "queue_pairs": 4, "buffer": "{} MiB"}}]}})",
                     bytes / kMessageBytes, bytes >> 20);
}

std::string big_machine_scenario(int pairs, std::uint64_t bytes_per_pair) {
  // The same messages as nic_reads_gpu_scenario, one transfer per GPU-NIC pair; each pair
  // shares its switch with another pair, and its root port with nothing else.
  constexpr std::uint64_t kMessageBytes = 1 << 20;
  std::string transfers;
  for (int pair = 0; pair < pairs; ++pair)
    transfers += fmt::format(
        R"({}{{"id": "pair{}", "initiator": "nic{}", "target": "gpu{}", "direction": "read",
            "size": "1 MiB", "count": {}, "queue_pairs": 4, "buffer": "{} MiB"}})",
        pair ? "," : "", pair, pair, pair, bytes_per_pair / kMessageBytes, bytes_per_pair >> 20);
  return fmt::format(R"({{"topology": "topologies/hgx-zen4.json", "transfers": [{}]}})", transfers);
}

std::string peer_write_scenario(const std::string &target, std::uint64_t bytes) {
  // gpu0's copy engine writes into a peer's BAR1 through the root complexes: gpu2 is under
  // the other switch of its socket, gpu4 on the other socket (across the inter-socket link,
  // which books its crossings ahead of time).
  return fmt::format(R"({{"topology": "topologies/hgx-zen4.json", "transfers": [
      {{"id": "peer", "initiator": "gpu0", "target": "{}", "direction": "write",
        "size": "1 MiB", "count": {}, "concurrency": 4}}]}})",
                     target, bytes >> 20);
}

} // namespace pciesim_bench
