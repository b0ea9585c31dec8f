#include "sim/plan/workload.h"

#include <algorithm>
#include <cstdint>
#include <random>

#include <fmt/format.h>

#include "models/iommu/iommu.h"
#include "models/os/page_table.h"
#include "sim/config/component_catalog.h"
#include "sim/config/driver_profile.h"
#include "sim/config/param_loader.h"

namespace pciesim {

const std::vector<std::string> &mechanism_names() {
#define PCIESIM_MECHANISM_NAME(id, name, factory, by_default) name,
  static const std::vector<std::string> names = {PCIESIM_MECHANISMS(PCIESIM_MECHANISM_NAME)};
#undef PCIESIM_MECHANISM_NAME
  return names;
}

std::optional<Mechanism> mechanism_named(const std::string &name) {
  for (std::size_t k = 0; k < mechanism_names().size(); ++k)
    if (mechanism_names()[k] == name)
      return static_cast<Mechanism>(k);
  return std::nullopt;
}

bool mechanism_runs_by_default(Mechanism m) {
#define PCIESIM_MECHANISM_DEFAULT(id, name, factory, by_default) by_default,
  static const bool by_default[] = {PCIESIM_MECHANISMS(PCIESIM_MECHANISM_DEFAULT)};
#undef PCIESIM_MECHANISM_DEFAULT
  return by_default[static_cast<std::size_t>(m)];
}

const char *mechanism_name(Mechanism m) {
  return mechanism_names()[static_cast<std::size_t>(m)].c_str();
}

const P2pVerdict &WorkloadConfig::verdict(int nic, int gpu) const {
  for (const PeerVerdict &v : verdicts)
    if (v.nic == nic && v.gpu == gpu)
      return v.verdict;
  static const P2pVerdict none;
  return none;
}

std::vector<std::uint64_t> PhaseConfig::access_offsets() const {
  std::vector<std::uint64_t> out;
  switch (pattern) {
  case AccessPattern::Sequential:
    for (std::uint64_t at = 0; at < bytes; at += access_bytes)
      out.push_back(offset + at);
    break;
  case AccessPattern::Strided:
    for (std::uint64_t at = 0; at + access_bytes <= bytes; at += stride_bytes)
      out.push_back(offset + at);
    break;
  case AccessPattern::Random: {
    // As many accesses as a sequential pass, each at a uniformly drawn access-aligned slot.
    // The raw mt19937_64 output (not a std:: distribution) keeps the sequence identical
    // across standard libraries.
    std::mt19937_64 rng(seed);
    std::uint64_t slots = bytes / access_bytes;
    for (std::uint64_t i = 0; i < slots; ++i)
      out.push_back(offset + (rng() % slots) * access_bytes);
    break;
  }
  }
  return out;
}

namespace {

// Without `access_size`, accesses of up to 64 KiB: the largest size that divides the range, in
// whole 4 KiB pages where the range is, so that every access is whole and the last ends where
// the range does (509 pages are accessed a page at a time, not in 64 KiB accesses whose last
// would run past the buffer).
std::uint64_t default_access_bytes(std::uint64_t range_bytes) {
  const std::uint64_t unit = range_bytes % 4096 == 0 ? 4096 : 1;
  std::uint64_t access = std::min<std::uint64_t>(range_bytes, 64 << 10) / unit * unit;
  while (range_bytes % access != 0)
    access -= unit;
  return access;
}

// The types that may play `actor` in a workload, e.g. "gpu" or "gpu or rdma_nic".
std::string actor_types(bool peer_initiators) {
  return peer_initiators ? component_types_that([](const ComponentType &type) {
    return type.workload_actor != WorkloadActor::None;
  })
                         : component_types_that([](const ComponentType &type) {
                             return type.workload_actor == WorkloadActor::BufferOwner;
                           });
}

BufferConfig load_buffer(const Node &n, const TopologyConfig &t) {
  n.require_object();
  n.allow_only(
      {"id", "gpu", "size", "page_size", "placement", "managed", "populated", "description"});
  BufferConfig b;
  b.id = n.at("id").as_id("buffer");
  Node gpu = n.at("gpu");
  b.gpu = t.find(gpu.as_string());
  if (b.gpu < 0 || t.components[static_cast<std::size_t>(b.gpu)].type->workload_actor !=
                       WorkloadActor::BufferOwner)
    gpu.fail(fmt::format("\"{}\" is not a {} of the topology", gpu.as_string(), actor_types(false)),
             fmt::format("the id of the {} whose memory holds the buffer", actor_types(false)));
  Node size = n.at("size");
  b.bytes = size.as_bytes().count;
  if (auto p = n.get("page_size")) {
    b.page_bytes = p->as_bytes().count;
    if (b.page_bytes != 4096 && b.page_bytes != (2u << 20))
      p->fail(fmt::format("a page size of {}", format_bytes(Bytes{b.page_bytes})),
              "4 KiB or 2 MiB (the base page and the huge page HMM migrates)");
  }
  if (b.bytes == 0 || b.bytes % b.page_bytes != 0)
    size.fail(fmt::format("{} is not a positive multiple of the {} page size",
                          format_bytes(Bytes{b.bytes}), format_bytes(Bytes{b.page_bytes})),
              "whole pages");
  // Frames are numbered in 32 bits (page state stays small).
  if (b.pages() > UINT32_MAX)
    size.fail(fmt::format("{} pages of {}", b.pages(), format_bytes(Bytes{b.page_bytes})),
              "at most 4294967295 pages (2 MiB pages for a buffer this large)");
  if (auto p = n.get("placement"))
    b.on_device = p->as_choice({"device", "system"}) == "device";
  if (auto m = n.get("managed"))
    b.managed = m->as_bool();
  if (auto p = n.get("populated")) {
    b.populated = p->as_bool();
    // Only memory the process allocated itself (malloc, mmap) can be untouched: device memory
    // is allocated by the driver, and pinned host memory (cudaMallocHost) is populated when it
    // is allocated.
    if (!b.populated && (b.on_device || !b.managed))
      p->fail("false for a buffer that is not managed memory in system RAM",
              "\"placement\": \"system\" and \"managed\": true with \"populated\": false "
              "(memory the program allocated and never touched)");
  }
  const ComponentConfig &owner = t.components[static_cast<std::size_t>(b.gpu)];
  b.gpu_memory_bytes = owner.type->device_memory_bytes(owner.params).count;
  return b;
}

// The rest of a revocation phase: its actor is the owner, the GPU driver that revokes.
PhaseConfig load_revocation(const Node &n, const Node &actor, const BufferConfig &b,
                            PhaseConfig p) {
  if (p.actor != b.gpu)
    actor.fail(fmt::format("\"{}\" revoking buffer \"{}\"", actor.as_string(), b.id),
               "the buffer's own gpu (its driver revokes the peers' mappings)");
  if (auto a = n.get("at"))
    p.revoke_at_ps = a->as_duration().ps;
  if (auto e = n.get("evict"))
    p.evict = e->as_bool();
  p.is_write = false;
  p.concurrency = 0;
  if (auto o = n.get("once"))
    p.once = o->as_bool();
  if (auto w = n.get("with_previous"))
    p.with_previous = w->as_bool();
  return p;
}

PhaseConfig load_phase(const Node &n, const TopologyConfig &t,
                       const std::vector<BufferConfig> &buffers, std::uint64_t seed) {
  n.require_object();
  PhaseConfig p;
  p.revoke = n.at("op").as_choice({"read", "write", "revoke"}) == "revoke";
  if (p.revoke)
    n.allow_only(
        {"id", "actor", "op", "buffer", "at", "evict", "once", "with_previous", "description"});
  else
    n.allow_only({"id", "actor", "op", "buffer", "offset", "size", "access_size", "pattern",
                  "stride", "seed", "concurrency", "once", "with_previous", "description"});
  p.pointer = n.pointer();
  p.id = n.at("id").as_id("phase");
  Node actor = n.at("actor");
  std::string actor_id = actor.as_string();
  if (actor_id != "cpu") {
    p.actor = t.find(actor_id);
    WorkloadActor role = p.actor < 0
                             ? WorkloadActor::None
                             : t.components[static_cast<size_t>(p.actor)].type->workload_actor;
    if (role == WorkloadActor::None)
      actor.fail(fmt::format("\"{}\" is not a {} of the topology", actor_id, actor_types(true)),
                 fmt::format("\"cpu\", or the id of a {}", actor_types(true)));
    p.actor_is_peer = role == WorkloadActor::PeerInitiator;
  }
  p.is_write = n.at("op").as_string() == "write";
  Node buffer = n.at("buffer");
  p.buffer = -1;
  for (std::size_t b = 0; b < buffers.size(); ++b)
    if (buffers[b].id == buffer.as_string())
      p.buffer = static_cast<int>(b);
  if (p.buffer < 0)
    buffer.fail(fmt::format("\"{}\" names no buffer", buffer.as_string()),
                "the id of a buffer of the workload");
  const BufferConfig &b = buffers[static_cast<std::size_t>(p.buffer)];
  if (p.revoke)
    return load_revocation(n, actor, b, std::move(p));
  if (p.actor >= 0 && !p.actor_is_peer && p.actor != b.gpu)
    actor.fail(fmt::format("gpu \"{}\" does not own buffer \"{}\"", actor_id, b.id),
               "the buffer's own gpu (another GPU reaching it is a transfer, not a phase)");
  if (auto o = n.get("offset")) {
    p.offset = o->as_bytes().count;
    if (p.offset % b.page_bytes != 0 || p.offset >= b.bytes)
      o->fail(
          fmt::format("offset {}", format_bytes(Bytes{p.offset})),
          fmt::format("a page-aligned offset inside the {} buffer", format_bytes(Bytes{b.bytes})));
  }
  p.bytes = b.bytes - p.offset;
  if (auto s = n.get("size")) {
    p.bytes = s->as_bytes().count;
    if (p.bytes == 0 || p.offset + p.bytes > b.bytes)
      s->fail(fmt::format("a range of {} at offset {}", format_bytes(Bytes{p.bytes}),
                          format_bytes(Bytes{p.offset})),
              fmt::format("a non-empty range inside the {} buffer", format_bytes(Bytes{b.bytes})));
  }
  p.access_bytes = default_access_bytes(p.bytes);
  if (auto a = n.get("access_size")) {
    p.access_bytes = a->as_bytes().count;
    if (p.access_bytes == 0 || p.access_bytes > p.bytes || p.bytes % p.access_bytes != 0)
      a->fail(fmt::format("an access size of {} for a range of {}",
                          format_bytes(Bytes{p.access_bytes}), format_bytes(Bytes{p.bytes})),
              "a non-zero size that divides the range");
  }
  p.seed = seed;
  if (auto s = n.get("seed"))
    p.seed = static_cast<std::uint64_t>(s->as_int(0, INT64_MAX));
  p.pattern = load_access_pattern(n, false);
  if (auto s = n.get("stride")) {
    p.stride_bytes = s->as_bytes().count;
    if (p.stride_bytes < p.access_bytes)
      s->fail(fmt::format("a stride of {} below the access size {}",
                          format_bytes(Bytes{p.stride_bytes}), format_bytes(Bytes{p.access_bytes})),
              "a stride of at least the access size");
  }
  // A GPU kernel has many warps touching memory at once: enough accesses in flight to fill a
  // fault batch of 4 KiB pages.
  p.concurrency = p.actor < 0 ? 1 : p.actor_is_peer ? 4 : 32;
  if (auto c = n.get("concurrency"))
    p.concurrency = static_cast<int>(c->as_int(1, p.actor < 0 ? 1 : 256));
  if (auto o = n.get("once"))
    p.once = o->as_bool();
  if (auto w = n.get("with_previous"))
    p.with_previous = w->as_bool();
  return p;
}

// Where the buffers live: device frames in the owner's BAR1 aperture (peers reach them
// there), system frames in the host memory of the owner's socket above the NIC's tables.
void place_buffers(const Node &n, WorkloadConfig &w, const TopologyConfig &t, const Hierarchy &h,
                   const Enumeration &e) {
  std::vector<std::uint64_t> device_used(t.components.size(), 0);
  std::vector<std::uint64_t> ram_used(t.components.size(), 0);
  std::vector<std::uint64_t> resident(t.components.size(), 0);
  for (std::size_t i = 0; i < w.buffers.size(); ++i) {
    BufferConfig &b = w.buffers[i];
    std::size_t g = static_cast<std::size_t>(b.gpu);
    // Data a GPU produced is in its memory: it cannot start with more than the memory holds
    // (an allocation beyond it fails; managed memory beyond it starts in system RAM).
    resident[g] += b.on_device ? b.bytes : 0;
    if (resident[g] > b.gpu_memory_bytes)
      n.at("buffers").at(i).at("size").fail(
          fmt::format("buffers placed in the device memory of {} need {} but its memory_size "
                      "is {}",
                      t.components[g].id, format_bytes(Bytes{resident[g]}),
                      format_bytes(Bytes{b.gpu_memory_bytes})),
          "device-placed buffers that fit the GPU's memory (\"placement\": \"system\" for "
          "managed memory that oversubscribes it)");
    const Bar &aperture =
        e.components[g].bars[static_cast<std::size_t>(t.components[g].type->data_bar)];
    std::uint64_t start = (device_used[g] + b.page_bytes - 1) / b.page_bytes * b.page_bytes;
    if (start + b.bytes > aperture.size)
      n.at("buffers").at(i).at("size").fail(
          fmt::format("buffers of {} need {} of device memory but its BAR1 aperture is {}",
                      t.components[g].id, format_bytes(Bytes{start + b.bytes}),
                      format_bytes(Bytes{aperture.size})),
          "buffers that fit the aperture (set \"resizable_bar\": true on the gpu for more)");
    b.device_address = aperture.base + start;
    device_used[g] = start + b.bytes;
    std::size_t root = static_cast<std::size_t>(h.root_of[g]);
    const ComponentAddressing &rc = e.components[root];
    // System frames from the middle of the socket's memory: the NIC's MTT tables sit at its
    // base and the staging buffer at its top.
    std::uint64_t ram_start = rc.memory_size / 2 + ram_used[root];
    ram_start = (ram_start + b.page_bytes - 1) / b.page_bytes * b.page_bytes;
    if (ram_start + b.bytes > rc.memory_size - w.staging_bytes)
      n.at("buffers").at(i).at("size").fail(
          fmt::format("the buffers do not fit in half of the {} of host memory of {}",
                      format_bytes(Bytes{rc.memory_size}), t.components[root].id),
          "smaller buffers, or more host memory");
    b.ram_address = rc.memory_base + ram_start;
    ram_used[root] = ram_start + b.bytes - rc.memory_size / 2;
  }
}

} // namespace

WorkloadConfig load_workload(const Node &n, const TopologyConfig &t, const Hierarchy &h,
                             const Enumeration &e, const PciView &view,
                             std::uint64_t scenario_seed) {
  n.require_object();
  n.allow_only({"mechanisms", "buffers", "phases", "iterations", "costs", "nic_mr",
                "dmabuf_importer", "chunk", "chunks_in_flight", "staging_near", "driver",
                "description"});
  WorkloadConfig w;
  std::string j_staging_near;
  if (auto m = n.get("mechanisms")) {
    w.mechanisms_listed = true;
    m->require_array();
    if (m->size() == 0)
      m->fail("no mechanisms", "at least one of " + join(mechanism_names(), ", "));
    for (const Node &item : m->items()) {
      std::string name = item.as_choice(mechanism_names());
      const Mechanism mech = *mechanism_named(name); // as_choice took a listed name
      for (Mechanism other : w.mechanisms)
        if (other == mech)
          item.fail(fmt::format("\"{}\" twice", name), "each mechanism once");
      w.mechanisms.push_back(mech);
    }
  } else {
    for (std::size_t k = 0; k < mechanism_names().size(); ++k)
      if (mechanism_runs_by_default(static_cast<Mechanism>(k)))
        w.mechanisms.push_back(static_cast<Mechanism>(k));
  }
  Node buffers = n.at("buffers");
  buffers.require_array();
  if (buffers.size() == 0)
    buffers.fail("no buffers", "at least one buffer");
  for (const Node &b : buffers.items()) {
    BufferConfig bc = load_buffer(b, t);
    for (const BufferConfig &other : w.buffers)
      if (other.id == bc.id)
        b.at("id").fail(fmt::format("duplicate buffer id \"{}\"", bc.id), "unique ids");
    w.buffers.push_back(bc);
  }
  Node phases = n.at("phases");
  phases.require_array();
  if (phases.size() == 0)
    phases.fail("no phases", "at least one phase");
  for (const Node &p : phases.items()) {
    PhaseConfig pc = load_phase(p, t, w.buffers, scenario_seed);
    for (const PhaseConfig &other : w.phases)
      if (other.id == pc.id)
        p.at("id").fail(fmt::format("duplicate phase id \"{}\"", pc.id), "unique ids");
    w.phases.push_back(pc);
  }
  w.peers.resize(w.buffers.size());
  for (std::size_t i = 0; i < w.phases.size(); ++i) {
    const PhaseConfig &pc = w.phases[i];
    if (!pc.actor_is_peer)
      continue;
    std::vector<int> &peers = w.peers[static_cast<std::size_t>(pc.buffer)];
    if (std::find(peers.begin(), peers.end(), pc.actor) != peers.end())
      continue;
    if (peers.size() == static_cast<std::size_t>(kMaxNicsPerBuffer))
      phases.at(i).at("actor").fail(fmt::format("\"{}\", NIC number {} on buffer \"{}\"",
                                                t.components[static_cast<std::size_t>(pc.actor)].id,
                                                peers.size() + 1,
                                                w.buffers[static_cast<std::size_t>(pc.buffer)].id),
                                    fmt::format("at most {} NICs a buffer", kMaxNicsPerBuffer));
    peers.push_back(pc.actor);
  }
  if (w.phases.front().with_previous)
    phases.at(0)
        .at("with_previous")
        .fail("the first phase starting with a previous one",
              "with_previous only on a later phase");
  if (auto i = n.get("iterations"))
    w.iterations = static_cast<int>(i->as_int(1, 1000000));
  // A driver profile's values stand in for the cost table's defaults; `costs` overrides both.
  std::map<std::string, Node> driver_costs;
  if (auto d = n.get("driver")) {
    w.driver = d->as_string();
    driver_costs = load_driver(w.driver, *d)->costs;
  }
  ParamSet costs = resolve_params(OsCosts::specs(), n.get("costs"), driver_costs);
  w.costs = OsCosts::from(costs);
  if (auto m = n.get("nic_mr")) {
    const std::string mr = m->as_choice({"odp", "odp_prefetch", "pinned"});
    w.nic_mr_pinned = mr == "pinned";
    w.nic_odp_prefetch = mr == "odp_prefetch";
  }
  if (auto d = n.get("dmabuf_importer"))
    w.dmabuf_dynamic = d->as_choice({"pinned", "dynamic"}) == "dynamic";
  if (auto c = n.get("chunk")) {
    w.chunk_bytes = c->as_bytes().count;
    if (w.chunk_bytes < 4096 || w.chunk_bytes % 4096 != 0)
      c->fail(fmt::format("a chunk of {}", format_bytes(Bytes{w.chunk_bytes})),
              "a whole number of 4 KiB pages");
  }
  if (auto c = n.get("chunks_in_flight"))
    w.chunks_in_flight = static_cast<int>(c->as_int(1, 64));
  // Staging (bounce chunks and CPU copies of device data) at the top of one socket's memory:
  // by default the first peer actor's (the NIC's), as the kernel allocates a device's DMA
  // buffers on its own NUMA node (dev_to_node); else the first buffer's GPU's; or the socket
  // of the component `staging_near` names.
  int near = w.buffers[0].gpu;
  for (const PhaseConfig &p : w.phases)
    if (p.actor_is_peer) {
      near = p.actor;
      break;
    }
  if (auto s = n.get("staging_near")) {
    near = t.find(s->as_string());
    if (near < 0 || h.root_of[static_cast<std::size_t>(near)] < 0 ||
        t.components[static_cast<std::size_t>(near)].type->role == ComponentRole::SocketLink)
      s->fail(fmt::format("\"{}\" is not a component of the topology", s->as_string()),
              "the id of a component whose socket's memory holds the staging buffer");
  }
  std::size_t root = static_cast<std::size_t>(h.root_of[static_cast<std::size_t>(near)]);
  std::uint64_t largest_access = 0;
  for (const PhaseConfig &p : w.phases)
    largest_access = std::max(largest_access, p.access_bytes);
  w.staging_bytes =
      std::max(w.chunk_bytes * static_cast<std::uint64_t>(w.chunks_in_flight), largest_access);
  w.staging_address =
      e.components[root].memory_base + e.components[root].memory_size - w.staging_bytes;
  j_staging_near = t.components[static_cast<std::size_t>(near)].id;
  // Every mechanism moves data between the actors' and the buffers' sockets.
  for (const PhaseConfig &p : w.phases) {
    if (p.revoke)
      continue; // the owner acting on its own buffer
    int actor = p.actor >= 0 ? p.actor : near;
    for (int other : {w.buffers[static_cast<std::size_t>(p.buffer)].gpu, near}) {
      int ra = h.root_of[static_cast<std::size_t>(actor)];
      int rb = h.root_of[static_cast<std::size_t>(other)];
      if (ra != rb && !t.sockets_joined(ra, rb) && w.sockets_apart.empty())
        w.sockets_apart = fmt::format(
            "\"{}\" (under {}) and \"{}\" (under {}) are on sockets that no inter_socket_link "
            "joins: the traffic between them has no path",
            t.components[static_cast<std::size_t>(actor)].id,
            t.components[static_cast<std::size_t>(ra)].id,
            t.components[static_cast<std::size_t>(other)].id,
            t.components[static_cast<std::size_t>(rb)].id);
    }
  }
  place_buffers(n, w, t, h, e);
  for (std::size_t c = 0; c < t.components.size(); ++c) {
    int root = h.root_of[c];
    w.iommu_translated.push_back(
        root >= 0 && IommuParams::from(t.components[static_cast<std::size_t>(root)].params).mode ==
                         IommuMode::Translated);
  }
  for (const PhaseConfig &p : w.phases)
    if (p.actor_is_peer)
      for (const BufferConfig &b : w.buffers) {
        bool known = false;
        for (const WorkloadConfig::PeerVerdict &v : w.verdicts)
          known = known || (v.nic == p.actor && v.gpu == b.gpu);
        if (!known)
          w.verdicts.push_back({p.actor, b.gpu, p2p_verdict(view, t, b.gpu, p.actor)});
      }

  nlohmann::ordered_json &j = w.resolved;
  for (Mechanism m : w.mechanisms)
    j["mechanisms"].push_back(mechanism_name(m));
  for (const BufferConfig &b : w.buffers)
    j["buffers"].push_back({{"id", b.id},
                            {"gpu", t.components[static_cast<std::size_t>(b.gpu)].id},
                            {"size", format_bytes(Bytes{b.bytes})},
                            {"page_size", format_bytes(Bytes{b.page_bytes})},
                            {"placement", b.on_device ? "device" : "system"},
                            {"managed", b.managed},
                            {"populated", b.populated}});
  for (const PhaseConfig &p : w.phases) {
    nlohmann::ordered_json pj;
    pj["id"] = p.id;
    pj["actor"] = p.actor < 0 ? "cpu" : t.components[static_cast<std::size_t>(p.actor)].id;
    pj["actor_type"] =
        p.actor < 0 ? "cpu" : t.components[static_cast<std::size_t>(p.actor)].type->name;
    pj["op"] = p.revoke ? "revoke" : p.is_write ? "write" : "read";
    pj["buffer"] = w.buffers[static_cast<std::size_t>(p.buffer)].id;
    if (p.revoke) {
      pj["at"] = format_duration(Duration{p.revoke_at_ps});
      pj["evict"] = p.evict;
      pj["once"] = p.once;
      pj["with_previous"] = p.with_previous;
      j["phases"].push_back(pj);
      continue;
    }
    pj["offset"] = format_bytes(Bytes{p.offset});
    pj["size"] = format_bytes(Bytes{p.bytes});
    pj["access_size"] = format_bytes(Bytes{p.access_bytes});
    pj["pattern"] = access_pattern_name(p.pattern);
    if (p.pattern == AccessPattern::Strided)
      pj["stride"] = format_bytes(Bytes{p.stride_bytes});
    if (p.pattern == AccessPattern::Random)
      pj["seed"] = p.seed;
    pj["concurrency"] = p.concurrency;
    pj["once"] = p.once;
    pj["with_previous"] = p.with_previous;
    j["phases"].push_back(pj);
  }
  j["iterations"] = w.iterations;
  j["nic_mr"] = w.nic_mr_pinned ? "pinned" : w.nic_odp_prefetch ? "odp_prefetch" : "odp";
  j["dmabuf_importer"] = w.dmabuf_dynamic ? "dynamic" : "pinned";
  j["chunk"] = format_bytes(Bytes{w.chunk_bytes});
  j["chunks_in_flight"] = w.chunks_in_flight;
  j["staging_near"] = j_staging_near;
  if (!w.driver.empty())
    j["driver"] = w.driver;
  j["costs"] = costs.to_json();
  return w;
}

} // namespace pciesim
