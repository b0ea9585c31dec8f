#include "sim/plan/transfer.h"

#include <algorithm>

#include <fmt/format.h>

#include "sim/config/component_catalog.h"
#include "sim/fabric/route_trace.h"

namespace pciesim {

namespace {

std::string join_route(const TopologyConfig &t, const std::vector<int> &path) {
  std::string out;
  for (int c : path)
    out += (out.empty() ? "" : " > ") + t.components[static_cast<std::size_t>(c)].id;
  return out;
}

std::vector<int> chain_up(const Hierarchy &h, int component) {
  std::vector<int> chain;
  for (int c = component; c >= 0; c = h.parent[static_cast<std::size_t>(c)])
    chain.push_back(c);
  return chain;
}

// The components a peer transfer's requests cross: straight through the lowest common
// switch when the map type is BUS_ADDR, else up to the root complex (ACS redirect or no
// common switch) and down again.
// Why traffic between the root complexes of `a` and `b` cannot flow, or "" when it can (one
// root complex, or two joined by an inter_socket_link).
std::string sockets_apart(const TopologyConfig &t, const Hierarchy &h, int a, int b) {
  int root_a = h.root_of[static_cast<std::size_t>(a)],
      root_b = h.root_of[static_cast<std::size_t>(b)];
  if (root_a == root_b || t.sockets_joined(root_a, root_b))
    return "";
  return fmt::format("\"{}\" (under {}) and \"{}\" (under {}) are on sockets that no "
                     "inter_socket_link joins",
                     t.components[static_cast<std::size_t>(a)].id,
                     t.components[static_cast<std::size_t>(root_a)].id,
                     t.components[static_cast<std::size_t>(b)].id,
                     t.components[static_cast<std::size_t>(root_b)].id);
}

std::string peer_route(const TopologyConfig &t, const Hierarchy &h, int from, int to,
                       P2pMapType type) {
  std::vector<int> up = chain_up(h, from), down = chain_up(h, to);
  std::vector<int> path;
  if (type == P2pMapType::BusAddr) {
    for (int c : up) {
      path.push_back(c);
      auto it = std::find(down.begin(), down.end(), c);
      if (it != down.end()) {
        path.insert(path.end(), std::make_reverse_iterator(it), down.rend());
        return join_route(t, path);
      }
    }
  }
  path = up;
  if (down.back() != up.back()) {
    if (int link = t.socket_link_of(up.back()); link >= 0)
      path.push_back(link); // to the other socket's root complex
    path.push_back(down.back());
  }
  path.insert(path.end(), down.rbegin() + 1, down.rend());
  return join_route(t, path);
}

// Bounce buffers: `chunk` bytes at a time through staging at the top of the host memory of
// the initiator's socket, `chunks_in_flight` slots.
void load_bounce(const Node &n, const TopologyConfig &t, const Hierarchy &h, const Enumeration &e,
                 TransferConfig &tc) {
  const ComponentConfig &target = t.components[static_cast<std::size_t>(tc.target)];
  Node where = n.has("mechanism") ? n.at("mechanism") : n.at("fallback");
  if (!target.type->copy_engines) {
    std::string targets = a_component_type_that([](const ComponentType &type) {
      return type.copy_engines != nullptr && type.data_bar >= 0;
    });
    where.fail(fmt::format("bounce buffers need {} target whose copy engine moves the chunks; "
                           "\"{}\" is {} {}",
                           targets, target.id, target.type->article, target.type->name),
               targets + " target, or mechanism p2p_dma_api");
  }
  tc.chunk = Bytes{std::min<std::uint64_t>(tc.size.count, 1ull << 20)};
  if (auto c = n.get("chunk")) {
    tc.chunk = c->as_bytes();
    if (tc.chunk.count == 0 || tc.size.count % tc.chunk.count != 0)
      c->fail(fmt::format("a chunk of {} does not divide the transfer size {}",
                          format_bytes(tc.chunk), format_bytes(tc.size)),
              "a chunk size that divides size");
  }
  if (auto c = n.get("chunks_in_flight"))
    tc.chunks_in_flight = static_cast<int>(c->as_int(1, 64));
  // The staging buffer is NUMA-local to the initiator, as the kernel allocates it; chunks to
  // or from a target on the other socket cross the inter-socket link.
  int root = h.root_of[static_cast<std::size_t>(tc.initiator)];
  if (std::string apart = sockets_apart(t, h, tc.initiator, tc.target); !apart.empty()) {
    tc.unsupported = "bounce buffers: " + apart;
    return;
  }
  const ComponentAddressing &rc = e.components[static_cast<std::size_t>(root)];
  std::uint64_t staging = tc.chunk.count * static_cast<std::uint64_t>(tc.chunks_in_flight);
  if (rc.memory_size < staging)
    where.fail(fmt::format("no host memory of {} for the staging buffer under \"{}\"",
                           format_bytes(Bytes{staging}),
                           t.components[static_cast<std::size_t>(root)].id),
               "a host_memory on the initiator's root complex");
  tc.staging_address = rc.memory_base + rc.memory_size - staging;
  // Chunks go from the data's holder up to host memory and from there to the consumer.
  int from = tc.is_write ? tc.initiator : tc.target, to = tc.is_write ? tc.target : tc.initiator;
  std::vector<int> path = chain_up(h, from), down = chain_up(h, to);
  int link = h.root_of[static_cast<std::size_t>(from)] != root ? t.socket_link_of(root) : -1;
  if (link >= 0)
    path.push_back(link);
  if (int memory = t.memory_of(root); memory >= 0)
    path.push_back(memory);
  if (h.root_of[static_cast<std::size_t>(to)] != root)
    path.push_back(t.socket_link_of(root));
  path.insert(path.end(), down.rbegin(), down.rend());
  tc.route = join_route(t, path);
}

} // namespace

// A key that only initiators of some types take (queue pairs, copy engines): refused on
// another initiator, naming the types that take it.
static void refuse_without(const Node &key, const char *name, bool initiator_has_it,
                           bool (*type_has_it)(const ComponentType &type)) {
  if (!initiator_has_it)
    key.fail(fmt::format("{} on a transfer not initiated by {}", name,
                         a_component_type_that(type_has_it)),
             fmt::format("no {} key", name));
}

namespace {

// The socket whose CPU touched a warm buffer, named by its root complex: returns that
// socket's host memory (whose cache then holds the lines), or -1 for the buffer's own socket.
int load_host_cache_socket(const Node &socket, const TransferConfig &tc, const TopologyConfig &t) {
  if (tc.host_cache != HostCacheState::Warm)
    socket.fail("host_cache_socket without \"host_cache\": \"warm\"",
                "\"host_cache\": \"warm\" beside it (a cold buffer is in no socket's cache)");
  int root = t.find(socket.as_string());
  if (root < 0 ||
      t.components[static_cast<std::size_t>(root)].type->role != ComponentRole::RootComplex)
    socket.fail(fmt::format("\"{}\" names no root complex of the topology", socket.as_string()),
                "the id of the root complex of the socket whose CPU touched the buffer");
  if (t.components[static_cast<std::size_t>(tc.target)].memory_of_root == root)
    return -1;
  if (int memory = t.memory_of(root); memory >= 0)
    return memory;
  socket.fail(fmt::format("\"{}\" has no host memory, so no cache of its own", socket.as_string()),
              "a root complex with a host_memory component");
}

} // namespace

TransferConfig load_transfer(const Node &n, const TopologyConfig &t, const Hierarchy &h,
                             const Enumeration &e, const PciView &view) {
  n.require_object();
  n.allow_only({"id",        "initiator",   "target",      "offset",
                "direction", "size",        "count",       "concurrency",
                "stride",    "start_after", "start_at",    "description",
                "rate",      "buffer",      "queue_pairs", "copy_engine",
                "mechanism", "fallback",    "chunk",       "chunks_in_flight",
                "pattern",   "seed",        "host_cache",  "host_cache_socket"});
  TransferConfig tc;
  tc.pointer = n.pointer();
  tc.id = n.at("id").as_id("transfer");
  Node initiator = n.at("initiator");
  tc.initiator = t.find(initiator.as_string());
  if (tc.initiator < 0)
    initiator.fail(fmt::format("\"{}\" names no component of the topology", initiator.as_string()),
                   "the id of a DMA-capable endpoint");
  const ComponentConfig &icfg = t.components[static_cast<std::size_t>(tc.initiator)];
  if (!icfg.type->initiates_dma)
    initiator.fail(
        fmt::format("\"{}\" is a {}, which cannot initiate DMA", initiator.as_string(),
                    icfg.type->name),
        a_component_type_that([](const ComponentType &type) { return type.initiates_dma; }));
  Node target = n.at("target");
  tc.target = t.find(target.as_string());
  if (tc.target < 0)
    target.fail(fmt::format("\"{}\" names no component of the topology", target.as_string()),
                "a host_memory or an endpoint with a BAR");
  const ComponentConfig &tcfg = t.components[static_cast<std::size_t>(tc.target)];
  tc.local = tc.target == tc.initiator;
  if (tc.local && !icfg.type->device_memory_bytes)
    target.fail("a transfer from a device to itself",
                fmt::format("another component (only {}'s kernels access the device's own "
                            "memory)",
                            a_component_type_that([](const ComponentType &type) {
                              return type.device_memory_bytes != nullptr;
                            })));
  std::uint64_t region_base = 0, region_size = 0;
  if (tc.local) {
    region_size = tcfg.type->device_memory_bytes(tcfg.params).count;
  } else if (tcfg.type->role == ComponentRole::Memory) {
    const ComponentAddressing &rc = e.components[static_cast<std::size_t>(tcfg.memory_of_root)];
    region_base = rc.memory_base;
    region_size = rc.memory_size;
  } else if (tcfg.type->data_bar >= 0 &&
             static_cast<std::size_t>(tcfg.type->data_bar) <
                 e.components[static_cast<std::size_t>(tc.target)].bars.size()) {
    // (A data BAR its parameters leave out, such as an optional memory buffer, is not there.)
    const Bar &bar = e.components[static_cast<std::size_t>(tc.target)]
                         .bars[static_cast<std::size_t>(tcfg.type->data_bar)];
    region_base = bar.base;
    region_size = bar.size;
    tc.peer = true;
  } else {
    target.fail(fmt::format("\"{}\" is a {}, which has no memory to transfer to or from",
                            target.as_string(), tcfg.type->name),
                "a host_memory or an endpoint with a BAR");
  }
  // A data BAR the type names (a GPU's aperture) is what the transfer must fit.
  bool labelled_bar = tc.peer && !tcfg.type->data_bar_label.empty();
  std::string what = labelled_bar ? fmt::format("{} of \"{}\"", tcfg.type->data_bar_label, tcfg.id)
                                  : fmt::format("\"{}\"", tcfg.id);
  std::string fix =
      labelled_bar ? tcfg.type->data_bar_fix : "a transfer that fits its target region";
  tc.is_write = n.at("direction").as_choice({"read", "write"}) == "write";
  Node size = n.at("size");
  tc.size = size.as_bytes();
  if (tc.size.count == 0)
    size.fail("a transfer of 0 bytes", "at least 1 B");
  if (tc.size.count > (1ull << 32))
    size.fail("a single transfer over 4 GiB", "at most 4 GiB per transfer");
  if (auto o = n.get("offset"))
    tc.offset = o->as_bytes().count;
  if (tc.offset >= region_size || region_size - tc.offset < tc.size.count)
    size.fail(fmt::format("{} at offset {} does not fit in {} ({})", format_bytes(tc.size),
                          format_bytes(Bytes{tc.offset}), what, format_bytes(Bytes{region_size})),
              fix);
  tc.target_address = region_base + tc.offset;
  tc.region_bytes = region_size - tc.offset;
  if (auto b = n.get("buffer")) {
    Bytes buffer = b->as_bytes();
    if (buffer.count < tc.size.count)
      b->fail(fmt::format("a buffer of {} smaller than one transfer ({})", format_bytes(buffer),
                          format_bytes(tc.size)),
              "a buffer at least as large as size");
    if (buffer.count > tc.region_bytes)
      b->fail(fmt::format("a buffer of {} at offset {} does not fit in {} ({})",
                          format_bytes(buffer), format_bytes(Bytes{tc.offset}), what,
                          format_bytes(Bytes{region_size})),
              fix);
    tc.region_bytes = buffer.count;
  }
  if (auto c = n.get("count"))
    tc.count = static_cast<std::uint64_t>(c->as_int(1, 1ll << 40));
  if (auto c = n.get("concurrency"))
    tc.concurrency = static_cast<int>(c->as_int(1, 1 << 20));
  if (auto q = n.get("queue_pairs")) {
    refuse_without(*q, "queue_pairs", icfg.type->reads_per_queue_pair != nullptr,
                   [](const ComponentType &type) { return type.reads_per_queue_pair != nullptr; });
    tc.queue_pairs = static_cast<int>(q->as_int(1, 1 << 16));
  }
  if (icfg.type->reads_per_queue_pair) {
    // Each queue pair keeps `concurrency` messages in flight, RDMA READs at most the device's
    // per-QP limit.
    int depth = tc.concurrency;
    if (!tc.is_write)
      depth = std::min<int>(depth, icfg.type->reads_per_queue_pair(icfg.params));
    tc.concurrency = depth * tc.queue_pairs;
  }
  if (auto ce = n.get("copy_engine")) {
    refuse_without(*ce, "copy_engine", icfg.type->copy_engines != nullptr,
                   [](const ComponentType &type) { return type.copy_engines != nullptr; });
    tc.copy_engine = static_cast<int>(
        ce->as_int(0, static_cast<std::int64_t>(icfg.type->copy_engines(icfg.params)) - 1));
  }
  tc.pattern = load_access_pattern(n, true);
  tc.stride = tc.size;
  if (auto st = n.get("stride")) {
    tc.stride = st->as_bytes();
    if (tc.stride.count == 0)
      st->fail("a stride of 0 B", "a positive stride (or omit it)");
  }
  if (auto hc = n.get("host_cache")) {
    if (tcfg.type->role != ComponentRole::Memory)
      hc->fail("host_cache on a transfer whose target is not host memory",
               "no host_cache key (it says whether the host's last-level cache holds the buffer)");
    tc.host_cache =
        hc->as_choice({"warm", "cold"}) == "warm" ? HostCacheState::Warm : HostCacheState::Cold;
  }
  if (auto socket = n.get("host_cache_socket"))
    tc.host_cache_memory = load_host_cache_socket(*socket, tc, t);
  if (auto sd = n.get("seed")) {
    if (tc.pattern != AccessPattern::Random)
      sd->fail("a seed for a pattern that is not \"random\"",
               "no seed, or \"pattern\": \"random\"");
    tc.seed = static_cast<std::uint64_t>(sd->as_int(0, INT64_MAX));
  }
  if (auto r = n.get("rate"))
    tc.rate = r->as_bandwidth();
  if (auto sa = n.get("start_at"))
    tc.start_at = sa->as_duration();
  // An empty start_after would otherwise read as "no dependency" and be silently ignored.
  if (auto sa = n.get("start_after")) {
    const char *wanted = "the id of another transfer, an array of such ids, or no start_after key";
    if (sa->json().is_array()) {
      if (sa->size() == 0)
        sa->fail("an empty start_after", wanted);
      for (const Node &id : sa->items())
        if (id.as_string().empty())
          id.fail("an empty id in start_after", wanted);
    } else if (sa->as_string().empty()) {
      sa->fail("an empty start_after", wanted);
    }
  }

  if (auto m = n.get("mechanism")) {
    if (!tc.peer)
      m->fail("a mechanism on a transfer that does not target a peer device's BAR",
              "no mechanism key (only device-to-device transfers choose one)");
    tc.mechanism = m->as_choice({"p2p_dma_api", "vendor_peer", "bounce"});
  }
  std::string fallback = "none";
  if (auto f = n.get("fallback")) {
    if (tc.mechanism != "p2p_dma_api" && !(tc.mechanism.empty() && tc.peer))
      f->fail("a fallback on a transfer that does not use p2p_dma_api",
              "no fallback key (only the DMA-API peer mapping can be refused)");
    fallback = f->as_choice({"none", "bounce"});
  }
  for (const char *key : {"chunk", "chunks_in_flight"})
    if (auto k = n.get(key); k && tc.mechanism != "bounce" && !n.has("fallback"))
      k->fail(fmt::format("{} on a transfer that does not use bounce buffers", key),
              "mechanism bounce (or fallback bounce)");
  if (tc.peer) {
    if (tc.mechanism.empty())
      tc.mechanism = "p2p_dma_api";
    // The provider exports its BAR (pci_p2pdma_add_resource); the client maps it with the
    // DMA API, which asks calc_map_type_and_dist.
    tc.verdict = p2p_verdict(view, t, tc.target, tc.initiator);
    // With ATS, translated requests pass ports whose firmware set ACS Direct Translated
    // (PCIe Base Specification, ACS; the table above mlx5_umem_needs_ats in Linux
    // drivers/infiniband/hw/mlx5/mlx5_ib.h): the data path is the switch's even when Linux mapped
    // the buffer THRU_HOST_BRIDGE because of the redirect.
    bool direct_translated =
        tc.verdict.acs_redirect && icfg.type->ats_enabled && icfg.type->ats_enabled(icfg.params);
    for (int node : tc.verdict.redirecting_nodes)
      direct_translated = direct_translated &&
                          view.tree.nodes[static_cast<std::size_t>(node)].acs.direct_translated;
    // The route is what the bridges' routing tables and ACS controls give; a request that
    // leaves the socket has no such route here, and the tree's is shown.
    bool translated = icfg.type->ats_enabled && icfg.type->ats_enabled(icfg.params);
    std::vector<int> traced =
        trace_request_route(t, h, e, view, tc.initiator, tc.target_address, translated);
    tc.route = !traced.empty()
                   ? join_route(t, traced)
                   : peer_route(t, h, tc.initiator, tc.target,
                                direct_translated ? P2pMapType::BusAddr : tc.verdict.type);
    // vendor_peer: the initiator's own driver maps the peer's BAR (CUDA peer access with the
    // driver's own platform rules) without asking p2pdma; the TLPs take the same route.
    if (tc.mechanism == "p2p_dma_api" && tc.verdict.type == P2pMapType::NotSupported) {
      if (fallback == "bounce") {
        tc.mechanism = "bounce";
        tc.fell_back = true;
      } else {
        tc.unsupported = "p2pdma NOT_SUPPORTED: " + tc.verdict.reason;
      }
    }
    if (tc.mechanism == "bounce") {
      load_bounce(n, t, h, e, tc);
    } else if (tc.unsupported.empty()) {
      if (std::string apart = sockets_apart(t, h, tc.initiator, tc.target); !apart.empty())
        tc.unsupported = "peer traffic: " + apart;
    }
  } else if (!tc.local) {
    int root = tcfg.type->role == ComponentRole::Memory
                   ? tcfg.memory_of_root
                   : h.root_of[static_cast<std::size_t>(tc.target)];
    std::vector<int> path = chain_up(h, tc.initiator);
    if (path.back() != root) {
      if (t.sockets_joined(path.back(), root))
        path.push_back(t.socket_link_of(root)); // remote memory: across the link
      else
        tc.unsupported = "host memory: " + sockets_apart(t, h, tc.initiator, root);
    }
    path.push_back(tc.target);
    std::vector<int> traced =
        trace_request_route(t, h, e, view, tc.initiator, tc.target_address, false);
    tc.route = join_route(t, traced.empty() ? path : traced);
  } else {
    tc.route = tcfg.id;
  }
  return tc;
}

} // namespace pciesim
