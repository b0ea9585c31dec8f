// The table rows of the device-side DMA costs (device_dma_costs.h), shared by every device class
// built on the endpoint core; each class passes its own defaults and their source.
#include "models/dma/device_dma_costs.h"

#include <string>

namespace pciesim {

namespace {
std::string with_source(const char *doc, const DeviceDmaCostDefaults &d) {
  std::string out = doc;
  if (*d.source)
    out += std::string(" (") + d.source + ")";
  return out;
}
} // namespace

std::vector<ParamField<DeviceDmaCosts>> device_dma_cost_fields(const DeviceDmaCostDefaults &d) {
  using P = DeviceDmaCosts;
  return {
      field(&P::post_interval,
            {"post_interval", ParamKind::time, d.post_interval,
             with_source("per stream: the host posts its transfers one at a time, each at least "
                         "this long after the one before (one thread posting work requests; "
                         "transfers in flight overlap, their posting does not); 0 = posting "
                         "costs nothing",
                         d),
             0, 1e12}),
      field(&P::doorbell_latency,
            {"doorbell_latency", ParamKind::time, d.doorbell_latency,
             with_source("per transfer: from the host's doorbell (a posted MMIO write to the "
                         "device's BAR) to the engine starting the DMA; 0 = the device starts "
                         "it on its own",
                         d),
             0, 1e12}),
      field(&P::descriptor_bytes,
            {"descriptor_bytes", ParamKind::size, d.descriptor_bytes,
             with_source("per transfer: the descriptor the engine reads from host memory (a "
                         "PCIe read, holding a tag) before the data moves; 0 = none",
                         d),
             0, 4096}),
      field(&P::setup_latency,
            {"setup_latency", ParamKind::time, d.setup_latency,
             with_source("per transfer: the engine's processing before its first TLP", d), 0,
             1e12}),
      field(&P::finish_latency,
            {"finish_latency", ParamKind::time, d.finish_latency,
             with_source("per transfer: the engine's processing after its last byte arrived or "
                         "was written, before the write-back and the interrupt",
                         d),
             0, 1e12}),
      field(&P::read_pipeline_latency,
            {"read_pipeline_latency", ParamKind::time, d.read_pipeline_latency,
             with_source("per read request: time inside the device (DMA engine and PCIe core, "
                         "request out and completion in) on top of the fabric's round trip; "
                         "the read holds its tag for it, so it bounds tags x latency",
                         d),
             0, 1e9}),
      field(&P::max_issue_rate,
            {"max_issue_rate", ParamKind::integer, d.max_issue_rate,
             with_source("TLPs per second the engine can issue in each direction (read "
                         "requests, and writes, have a command queue each); 0 = unlimited",
                         d),
             0, 1e12, false, true}),
      field(&P::read_issue_percent,
            {"read_issue_percent", ParamKind::integer, d.read_issue_percent,
             with_source("a read request's issue slot as a percentage of a write's "
                         "(1 / max_issue_rate): a read has no payload to fetch",
                         d),
             1, 100}),
      field(&P::datapath_bandwidth,
            {"datapath_bandwidth", ParamKind::rate, d.datapath_bandwidth,
             with_source("the device's internal data path: payload of writes before they "
                         "leave, of read completions after they arrive; 0 = unlimited",
                         d),
             0, 0, false, true}),
      field(&P::read_channel_bandwidth,
            {"read_channel_bandwidth", ParamKind::rate, d.read_channel_bandwidth,
             with_source("one read transfer's DMA channel: its completion data cross it in "
                         "order after their tag freed, so one DMA alone reads no faster "
                         "(latency grows with size at this rate); transfers in parallel use "
                         "channels of their own; 0 = unlimited",
                         d),
             0, 0, false, true}),
      field(&P::completion_writeback_bytes,
            {"completion_writeback_bytes", ParamKind::size, d.completion_writeback_bytes,
             with_source("per transfer: a completion record the engine writes to host memory "
                         "(a posted write) once the data moved; 0 = none",
                         d),
             0, 4096}),
      field(&P::msix, {"msix", ParamKind::boolean, d.msix,
                       with_source("per transfer: an MSI-X message (a 4 B posted write) after the "
                                   "write-back; the transfer ends when it lands",
                                   d)}),
  };
}

DeviceDmaCosts device_dma_costs_with(const DeviceDmaCostDefaults &d) {
  DeviceDmaCosts c;
  c.post_interval = *parse_duration(d.post_interval).value;
  c.doorbell_latency = *parse_duration(d.doorbell_latency).value;
  c.descriptor_bytes = *parse_bytes(d.descriptor_bytes).value;
  c.setup_latency = *parse_duration(d.setup_latency).value;
  c.finish_latency = *parse_duration(d.finish_latency).value;
  c.read_pipeline_latency = *parse_duration(d.read_pipeline_latency).value;
  c.max_issue_rate = d.max_issue_rate;
  c.read_issue_percent = d.read_issue_percent;
  c.datapath_bandwidth = *parse_bandwidth(d.datapath_bandwidth).value;
  c.read_channel_bandwidth = *parse_bandwidth(d.read_channel_bandwidth).value;
  c.completion_writeback_bytes = *parse_bytes(d.completion_writeback_bytes).value;
  c.msix = d.msix;
  return c;
}

} // namespace pciesim
