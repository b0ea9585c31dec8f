// pciesim's own speed: TLP hops per second through a root complex and a switch, and how
// wall time and memory grow with the simulated bytes of a NIC reading GPU memory.
#pragma once

#include <cstdint>
#include <string>

#include "bench/bench_harness.h"

namespace pciesim_bench {

// Runs a scenario given as JSON text (paths relative to the source tree) in a child; work =
// TLPs delivered by every link (each TLP arriving at a component is one hop).
Measurement scenario_tlp_hops(const std::string &scenario_json);

// A DMA engine behind a switch (rc0 - sw0 - dma0) streaming `bytes` to or from host memory.
std::string streaming_dma_scenario(bool is_write, std::uint64_t bytes);
// The NIC RDMA-reading `bytes` of a GPU buffer behind the same switch, 256-byte TLPs.
std::string nic_reads_gpu_scenario(std::uint64_t bytes);
// On topologies/hgx-zen4.json (two sockets, four switches, 8 GPUs and 8 NICs): NICs 0..pairs-1
// each RDMA-read `bytes_per_pair` of the GPU beside them under its switch, all at once.
std::string big_machine_scenario(int pairs, std::uint64_t bytes_per_pair);
// gpu0 of the 8-GPU box writing `bytes` into `target`'s memory (gpu2: same socket; gpu4:
// the other one).
std::string peer_write_scenario(const std::string &target, std::uint64_t bytes);

} // namespace pciesim_bench
