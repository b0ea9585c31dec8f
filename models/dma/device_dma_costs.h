// What a DMA costs inside the device, besides the fabric: the endpoint core (DmaEngine) charges
// these to every transfer its streams run, so the generic dma_engine, the RDMA NIC, the GPU's copy
// engines and the NVMe drive all inherit them. A transfer runs: its posting (the host posts a
// stream's transfers one after another, at most one per post_interval), the host's doorbell (an
// MMIO write reaching the engine), the descriptor fetch (a PCIe read from host memory), a fixed
// setup time, then its TLPs, each paying the engine's issue time and, for payload, the internal
// data path; each read's tag is held for the engine's read pipeline on top of the fabric's round
// trip, and a read transfer's data cross its own DMA channel at the channel's rate; after the last
// byte a fixed finish time, then the completion write-back and the MSI-X message (posted writes to
// host memory). Every cost is zero (or off) in an ideal device, which is what the analytic link
// validation uses.
//
// Each device class has its own defaults (DeviceDmaCostDefaults) in its Params table; the rows
// are the same for every class, as the port rows are.
#pragma once

#include <cstdint>
#include <vector>

#include "models/common/params.h"
#include "models/common/units.h"

namespace pciesim {

struct DeviceDmaCosts {
  Duration post_interval{0};           // a stream's transfers are posted at least this far apart
  Duration doorbell_latency{0};        // host's MMIO doorbell write to the engine starting
  Bytes descriptor_bytes{0};           // descriptor read from host memory per transfer, 0 = none
  Duration setup_latency{0};           // per transfer, before its first TLP
  Duration finish_latency{0};          // per transfer, after its last byte
  Duration read_pipeline_latency{0};   // per read TLP, inside the device, holding its tag
  std::int64_t max_issue_rate = 0;     // TLPs per second the engine issues, 0 = unlimited
  int read_issue_percent = 100;        // a read request's issue slot, % of 1 / max_issue_rate
  Bandwidth datapath_bandwidth{0};     // payload through the device's internal bus, 0 = unlimited
  Bandwidth read_channel_bandwidth{0}; // one read transfer's own DMA channel, 0 = unlimited
  Bytes completion_writeback_bytes{0}; // posted write to host memory per transfer, 0 = none
  bool msix = false;                   // an MSI-X message (4 B posted write) per transfer

  bool any_before_data() const {
    return post_interval.ps > 0 || doorbell_latency.ps > 0 || descriptor_bytes.count > 0 ||
           setup_latency.ps > 0;
  }
  bool any_after_data() const {
    return finish_latency.ps > 0 || completion_writeback_bytes.count > 0 || msix;
  }
};

// One device class's defaults, as the user writes them ("600 ns"), with where each comes from.
struct DeviceDmaCostDefaults {
  const char *post_interval = "0 ns";
  const char *doorbell_latency = "0 ns";
  const char *descriptor_bytes = "0 B";
  const char *setup_latency = "0 ns";
  const char *finish_latency = "0 ns";
  const char *read_pipeline_latency = "0 ns";
  std::int64_t max_issue_rate = 0;
  int read_issue_percent = 100;
  const char *datapath_bandwidth = "0 GB/s";
  const char *read_channel_bandwidth = "0 GB/s";
  const char *completion_writeback_bytes = "0 B";
  bool msix = false;
  // Appended to every row's doc: the source of this class's numbers (docs/references.md).
  const char *source = "";
};

// Every cost zero or off (an ideal device), with the source that says why.
constexpr DeviceDmaCostDefaults no_device_costs(const char *source) {
  DeviceDmaCostDefaults d{};
  d.source = source;
  return d;
}

// The rows of the device-side DMA costs in a device's table, with that class's defaults.
std::vector<ParamField<DeviceDmaCosts>> device_dma_cost_fields(const DeviceDmaCostDefaults &d);

// The struct the same defaults parse to (for the Params structs' initializers).
DeviceDmaCosts device_dma_costs_with(const DeviceDmaCostDefaults &d);

} // namespace pciesim
