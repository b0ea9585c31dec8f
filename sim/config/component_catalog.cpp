#include "sim/config/component_catalog.h"

#include "models/dma/dma_engine.h"
#include "models/gpu/gpu.h"
#include "models/memory/host_memory.h"
#include "models/nic/rdma_nic.h"
#include "models/pcie/pcie_switch.h"
#include "models/pcie/root_complex.h"

namespace pciesim {
namespace {
std::vector<Bytes> no_bars(const ParamSet &) { return {}; }
std::vector<Bytes> dma_engine_bars(const ParamSet &p) { return {p.bytes("bar_size")}; }
} // namespace

const std::vector<ComponentType> &component_types() {
  static const std::vector<ComponentType> types = {
      {"root_complex", ComponentRole::RootComplex,
       "root complex: root ports rp0..rpN-1 and a host bridge to its socket's host_memory",
       &RootComplexParams::specs, &no_bars, -1},
      {"switch", ComponentRole::Switch,
       "PCIe switch: upstream port `up` and downstream ports dp0..dpN-1", &SwitchParams::specs,
       &no_bars, -1},
      {"dma_engine", ComponentRole::Endpoint,
       "DMA engine endpoint with one port `up`, a BAR, tags, MRRS", &DmaEngineParams::specs,
       &dma_engine_bars, 0},
      {"gpu", ComponentRole::Endpoint,
       "GPU with one port `up`: device memory behind a BAR1 aperture, copy engines, kernels",
       &GpuParams::specs, &GpuParams::bar_sizes, Gpu::kApertureBar},
      {"rdma_nic", ComponentRole::Endpoint,
       "RDMA NIC with one port `up`: queue pairs, line rate, MTT cache, optional ATS",
       &RdmaNicParams::specs, &RdmaNicParams::bar_sizes, -1},
      {"host_memory", ComponentRole::Memory,
       "host DRAM of one socket, attached to a root complex by its `root_complex` key",
       &HostMemoryParams::specs, &no_bars, -1},
  };
  return types;
}

std::vector<StatGroup> component_stats(const std::string &type) {
  const StatGroup dma{"DmaEngineStats", &DmaEngineStats::table().specs(), ""};
  if (type == "root_complex")
    return {{"RootComplexStats", &RootComplexStats::table().specs(), ""},
            {"IommuStats", &IommuStats::table().specs(), "with `iommu` not `off`"}};
  if (type == "switch")
    return {{"SwitchStats", &SwitchStats::table().specs(), ""}};
  if (type == "dma_engine")
    return {dma};
  if (type == "gpu")
    return {dma, {"GpuStats", &GpuStats::table().specs(), ""}};
  if (type == "rdma_nic")
    return {dma, {"RdmaNicStats", &RdmaNicStats::table().specs(), ""}};
  if (type == "host_memory")
    return {{"HostMemoryStats", &HostMemoryStats::table().specs(), ""}};
  return {};
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
  }
  return "?";
}

} // namespace pciesim
