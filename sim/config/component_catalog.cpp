#include "sim/config/component_catalog.h"

#include "models/common/sim_context.h"
#include "models/dma/dma_engine.h"
#include "models/gpu/gpu.h"
#include "models/memory/host_memory.h"
#include "models/nic/rdma_nic.h"
#include "models/nvme/nvme_ssd.h"
#include "models/pcie/pcie_switch.h"
#include "models/pcie/root_complex.h"
#include "models/socket/inter_socket_link.h"

namespace pciesim {
namespace {

std::vector<Bytes> no_bars(const ParamSet &) { return {}; }
std::vector<Bytes> dma_engine_bars(const ParamSet &p) { return {p.bytes("bar_size")}; }

std::unique_ptr<Component> make_root_complex(const char *name, const ParamSet &params,
                                             const ComponentWiring &w, SimContext &context) {
  RootComplexWiring wiring;
  wiring.root_ports = w.routes;
  wiring.memory_base = w.memory_base;
  wiring.memory_size = w.memory_size;
  if (w.local_memory_size != 0) {
    wiring.local_memory_base = w.local_memory_base;
    wiring.local_memory_size = w.local_memory_size;
  }
  wiring.host_bridge_id = w.bdf.packed();
  wiring.mps_bytes = w.mps_bytes;
  return std::make_unique<RootComplex>(name, RootComplexParams::from(params), wiring, context);
}

std::unique_ptr<Component> make_switch(const char *name, const ParamSet &params,
                                       const ComponentWiring &w, SimContext &context) {
  auto sw = std::make_unique<PcieSwitch>(name, SwitchParams::from(params), w.routes, context);
  sw->completer_id = w.bdf.packed();
  return sw;
}

// Endpoints are built on the DMA engine core and share its wiring.
template <class Model, class Params>
std::unique_ptr<Component> make_endpoint(const char *name, const ParamSet &params,
                                         const ComponentWiring &w, SimContext &context) {
  DmaEngineWiring wiring;
  wiring.bdf = w.bdf;
  wiring.bar_bases = w.bar_bases;
  wiring.bar_sizes = w.bar_sizes;
  wiring.mps_bytes = w.mps_bytes;
  wiring.host_memory_base = w.host_memory_base;
  return std::make_unique<Model>(name, Params::from(params), wiring, context);
}

std::unique_ptr<Component> make_host_memory(const char *name, const ParamSet &params,
                                            const ComponentWiring &, SimContext &) {
  return std::make_unique<HostMemory>(name, HostMemoryParams::from(params));
}

std::unique_ptr<Component> make_inter_socket_link(const char *name, const ParamSet &params,
                                                  const ComponentWiring &w, SimContext &) {
  std::array<SocketReach, 2> sides;
  for (std::size_t side = 0; side < sides.size() && side < w.sockets.size(); ++side)
    sides[side] = w.sockets[side];
  return std::make_unique<InterSocketLink>(name, InterSocketLinkParams::from(params), sides);
}

template <class Params> const AnyParamTable &table_of() { return Params::table(); }

// What every row has; the endpoint rows then add their capabilities by name.
ComponentType row(std::string name, ComponentRole role, std::string doc,
                  const AnyParamTable &(*params_table)(),
                  std::vector<Bytes> (*bars)(const ParamSet &),
                  std::unique_ptr<Component> (*make)(const char *, const ParamSet &,
                                                     const ComponentWiring &, SimContext &)) {
  ComponentType type;
  type.name = std::move(name);
  type.role = role;
  type.doc = std::move(doc);
  type.params_table = params_table;
  type.bars = bars;
  type.make = make;
  return type;
}

// What every endpoint built on the DMA engine core reports first.
StatGroup dma_engine_stats() { return {"DmaEngineStats", &DmaEngineStats::table().specs(), ""}; }

ComponentType root_complex_type() {
  ComponentType rc =
      row("root_complex", ComponentRole::RootComplex,
          "root complex: root ports rp0..rpN-1 and a host bridge to its socket's host_memory",
          &table_of<RootComplexParams>, &no_bars, &make_root_complex);
  rc.stats = {{"RootComplexStats", &RootComplexStats::table().specs(), ""},
              {"IommuStats", &IommuStats::table().specs(), "with `iommu` not `off`"}};
  return rc;
}

ComponentType switch_type() {
  ComponentType sw = row("switch", ComponentRole::Switch,
                         "PCIe switch: upstream port `up` and downstream ports dp0..dpN-1",
                         &table_of<SwitchParams>, &no_bars, &make_switch);
  sw.stats = {{"SwitchStats", &SwitchStats::table().specs(), ""}};
  return sw;
}

ComponentType host_memory_type() {
  ComponentType memory =
      row("host_memory", ComponentRole::Memory,
          "host DRAM of one socket, attached to a root complex by its `root_complex` key",
          &table_of<HostMemoryParams>, &no_bars, &make_host_memory);
  memory.stats = {{"HostMemoryStats", &HostMemoryStats::table().specs(), ""}};
  return memory;
}

ComponentType inter_socket_link_type() {
  ComponentType link = row("inter_socket_link", ComponentRole::SocketLink,
                           "inter-socket link (UPI, Infinity Fabric) between the two root "
                           "complexes named by its `root_complexes` key: remote memory, "
                           "cross-socket peer traffic",
                           &table_of<InterSocketLinkParams>, &no_bars, &make_inter_socket_link);
  link.article = "an";
  link.stats = {{"InterSocketLinkStats", &InterSocketLinkStats::table().specs(), ""}};
  return link;
}

ComponentType dma_engine_type() {
  ComponentType dma =
      row("dma_engine", ComponentRole::Endpoint,
          "DMA engine endpoint with one port `up`, a BAR, tags, MRRS", &table_of<DmaEngineParams>,
          &dma_engine_bars, &make_endpoint<DmaEngine, DmaEngineParams>);
  dma.initiates_dma = true;
  dma.data_bar = 0;
  dma.stats = {dma_engine_stats()};
  return dma;
}

ComponentType gpu_type() {
  ComponentType gpu =
      row("gpu", ComponentRole::Endpoint,
          "GPU with one port `up`: device memory behind a BAR1 aperture, copy engines, kernels",
          &table_of<GpuParams>, &GpuParams::bar_sizes, &make_endpoint<Gpu, GpuParams>);
  gpu.initiates_dma = true;
  gpu.data_bar = Gpu::kApertureBar;
  gpu.data_bar_label = "the BAR aperture";
  gpu.data_bar_fix = "a buffer within the aperture (or resizable_bar: true on the gpu)";
  gpu.device_memory_bytes = [](const ParamSet &p) { return GpuParams::from(p).memory_size; };
  gpu.copy_engines = [](const ParamSet &p) { return GpuParams::from(p).copy_engines; };
  gpu.workload_actor = WorkloadActor::BufferOwner;
  gpu.stats = {dma_engine_stats(), {"GpuStats", &GpuStats::table().specs(), ""}};
  return gpu;
}

ComponentType rdma_nic_type() {
  ComponentType nic = row(
      "rdma_nic", ComponentRole::Endpoint,
      "RDMA NIC with one port `up`: queue pairs, line rate, MTT cache, optional ATS",
      &table_of<RdmaNicParams>, &RdmaNicParams::bar_sizes, &make_endpoint<RdmaNic, RdmaNicParams>);
  nic.article = "an";
  nic.initiates_dma = true;
  nic.reads_per_queue_pair = [](const ParamSet &p) {
    return RdmaNicParams::from(p).rdma_reads_per_qp;
  };
  nic.ats_enabled = [](const ParamSet &p) { return RdmaNicParams::from(p).ats; };
  nic.workload_actor = WorkloadActor::PeerInitiator;
  nic.stats = {dma_engine_stats(), {"RdmaNicStats", &RdmaNicStats::table().specs(), ""}};
  return nic;
}

ComponentType nvme_ssd_type() {
  ComponentType ssd = row("nvme_ssd", ComponentRole::Endpoint,
                          "NVMe SSD with one port `up`: queues in host memory, flash, MDTS, "
                          "optional Controller Memory Buffer (BAR1, p2pdma memory)",
                          &table_of<NvmeSsdParams>, &NvmeSsdParams::bar_sizes,
                          &make_endpoint<NvmeSsd, NvmeSsdParams>);
  ssd.initiates_dma = true;
  ssd.data_bar = NvmeSsd::kCmbBar; // present only with `cmb`
  ssd.data_bar_label = "the Controller Memory Buffer";
  ssd.data_bar_fix = "a transfer within the CMB (or a larger cmb_size on the nvme_ssd)";
  ssd.stats = {dma_engine_stats(), {"NvmeSsdStats", &NvmeSsdStats::table().specs(), ""}};
  return ssd;
}

} // namespace

const std::vector<ComponentType> &component_types() {
  static const std::vector<ComponentType> types = {
      root_complex_type(), switch_type(),   dma_engine_type(),  gpu_type(),
      rdma_nic_type(),     nvme_ssd_type(), host_memory_type(), inter_socket_link_type(),
  };
  return types;
}

const ComponentType *find_component_type(const std::string &name) {
  for (const ComponentType &t : component_types())
    if (t.name == name)
      return &t;
  return nullptr;
}

std::vector<std::string> component_type_names() {
  std::vector<std::string> names;
  for (const ComponentType &t : component_types())
    names.push_back(t.name);
  return names;
}

std::string component_types_that(bool (*has)(const ComponentType &type)) {
  std::vector<std::string> names;
  for (const ComponentType &t : component_types())
    if (has(t))
      names.push_back(t.name);
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i)
    out += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return out;
}

std::string a_component_type_that(bool (*has)(const ComponentType &type)) {
  for (const ComponentType &t : component_types())
    if (has(t))
      return t.article + " " + component_types_that(has);
  return "no type";
}

std::string role_name(ComponentRole role) {
  switch (role) {
  case ComponentRole::RootComplex:
    return "root complex";
  case ComponentRole::Switch:
    return "switch";
  case ComponentRole::Endpoint:
    return "endpoint";
  case ComponentRole::Memory:
    return "memory";
  case ComponentRole::SocketLink:
    return "inter-socket link";
  }
  return "?";
}

} // namespace pciesim
