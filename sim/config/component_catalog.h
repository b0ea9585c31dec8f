// The component types a topology may use: one row per type, holding everything the rest of
// the program asks of a type. Its role in the PCIe hierarchy, its parameter table and BARs
// (from the model), the factory that builds the model, and what it can do (capabilities), so
// that the core asks "does it initiate DMA, have copy engines, queue pairs?" and never
// compares type names. Adding a model means a folder under models/ and a row here
// (docs/architecture.md, "Adding a component type").
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "models/common/params.h"
#include "models/common/stats.h"

namespace pciesim {

class Component;
struct ComponentWiring;
struct SimContext;

enum class ComponentRole { RootComplex, Switch, Endpoint, Memory, SocketLink };

// What a type can be in a scenario's workload (docs/mechanisms.md): the device whose memory
// holds a buffer and whose kernels and copy engines touch it (a GPU), or a device that reaches
// another's buffer by peer DMA and takes faults through the OS (an RDMA NIC).
enum class WorkloadActor { None, BufferOwner, PeerInitiator };

// One stats struct of a component type: its table, and when its counters appear.
struct StatGroup {
  std::string struct_name; // e.g. "SwitchStats"
  const std::vector<StatSpec> *specs;
  std::string when; // "" = always; else when the counters appear
};

struct ComponentType {
  std::string name;
  ComponentRole role = ComponentRole::Endpoint;
  std::string doc;
  std::string article = "a"; // before its name in messages: "an" for an rdma_nic
  // Its Params struct's table (P::table()): the specs the loader, docs and schema read, and
  // what the drift test checks against the struct.
  const AnyParamTable &(*params_table)() = nullptr;
  const std::vector<ParamSpec> &specs() const { return params_table().specs(); }
  // BAR sizes of an endpoint function, from its parameters (empty for other roles).
  std::vector<Bytes> (*bars)(const ParamSet &params) = nullptr;
  // Builds the model from its parameters, where enumeration placed it, and the run's context.
  std::unique_ptr<Component> (*make)(const char *name, const ParamSet &params,
                                     const ComponentWiring &wiring, SimContext &context) = nullptr;

  // Capabilities. A null hook means "cannot".
  bool initiates_dma = false; // may be a transfer's initiator
  // The BAR that exposes the endpoint's memory to peers (a transfer's target region), or -1;
  // how messages name it (empty: by the component's id) and what to do when it is too small.
  int data_bar = -1;
  std::string data_bar_label;
  std::string data_bar_fix;
  // Memory its own kernels access without PCIe (a transfer from the device to itself).
  Bytes (*device_memory_bytes)(const ParamSet &params) = nullptr;
  // Copy engines a transfer may choose (`copy_engine`), which also move bounce chunks.
  int (*copy_engines)(const ParamSet &params) = nullptr;
  // Queue pairs (`queue_pairs` on a transfer): RDMA READs each keeps in flight at most.
  int (*reads_per_queue_pair)(const ParamSet &params) = nullptr;
  // Whether its requests may carry translated addresses (ATS enabled).
  bool (*ats_enabled)(const ParamSet &params) = nullptr;
  WorkloadActor workload_actor = WorkloadActor::None;
  // The stats a component of the type reports, in results.json's order (its stats_json()).
  std::vector<StatGroup> stats;
};

// A stats table whose counters a component reports under components.<id> in results.json.

const std::vector<ComponentType> &component_types();
const ComponentType *find_component_type(const std::string &name);
std::vector<std::string> component_type_names();
// The names of the types that have a capability, for messages: "gpu or rdma_nic"; the second
// after the first one's article: "a dma_engine, gpu or rdma_nic", "an rdma_nic".
std::string component_types_that(bool (*has)(const ComponentType &type));
std::string a_component_type_that(bool (*has)(const ComponentType &type));
std::string role_name(ComponentRole role);
// Whether components of the role sit in the PCIe hierarchy (host memory and the inter-socket
// link attach to root complexes by keys instead).
inline bool has_pcie_ports(ComponentRole role) {
  return role != ComponentRole::Memory && role != ComponentRole::SocketLink;
}

} // namespace pciesim
