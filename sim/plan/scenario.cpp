#include "sim/plan/scenario.h"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <limits>
#include <unordered_map>

#include <fmt/format.h>

#include "sim/config/embedded_files.h"
#include "sim/config/param_loader.h"
#include "sim/plan/expect.h"
#include "sim/util/file_io.h"

namespace pciesim {
namespace {

nlohmann::ordered_json topology_json(const TopologyConfig &t, const Hierarchy &h) {
  nlohmann::ordered_json j;
  j["name"] = t.name;
  j["mps"] = format_bytes(Bytes{h.mps_bytes});
  for (const ComponentConfig &c : t.components) {
    nlohmann::ordered_json cj;
    cj["id"] = c.id;
    cj["type"] = c.type->name;
    if (c.memory_of_root >= 0)
      cj["root_complex"] = t.components[static_cast<std::size_t>(c.memory_of_root)].id;
    if (c.platform && c.type->role == ComponentRole::RootComplex)
      cj["platform"] = c.platform->name;
    if (c.device)
      cj["device"] = c.device->name;
    for (int r : c.joined_roots)
      cj["root_complexes"].push_back(t.components[static_cast<std::size_t>(r)].id);
    cj["params"] = c.params.to_json();
    j["components"].push_back(cj);
  }
  for (std::size_t i = 0; i < t.links.size(); ++i) {
    const LinkConfig &l = t.links[i];
    nlohmann::ordered_json lj;
    lj["between"] = {t.port_name(l.a.component, l.a.port), t.port_name(l.b.component, l.b.port)};
    lj["params"] = l.params.to_json();
    lj["trained"] = {{"gen", h.trained[i].shape.generation}, {"width", h.trained[i].shape.width}};
    j["links"].push_back(lj);
  }
  return j;
}

} // namespace

std::string classify_document(const Node &root) {
  if (!root.is_object())
    return "unknown";
  if (root.has("axes"))
    return "sweep";
  if (root.has("transfers") || root.has("topology") || root.has("workload"))
    return "scenario";
  if (root.has("components") || root.has("links"))
    return "topology";
  return "unknown";
}

ScenarioConfig load_scenario_file(const std::string &path, std::size_t topology_index) {
  return load_scenario(Node::root(load_json_file(path)), directory_of(path), &load_json_file,
                       topology_index);
}

namespace {
std::string normalize(const std::string &path) {
  std::vector<std::string> parts;
  std::size_t i = 0;
  while (i <= path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string::npos)
      j = path.size();
    std::string part = path.substr(i, j - i);
    if (part == "..") {
      if (!parts.empty())
        parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    i = j + 1;
  }
  return join(parts, "/");
}

} // namespace

std::shared_ptr<const JsonDocument> read_bundled_file(const std::string &path) {
  std::string key = normalize(path);
  for (const EmbeddedFile &f : embedded_files())
    if (f.path == key)
      return parse_json_text(f.text, "<bundled>/" + f.path);
  throw InputError(path, "", "cannot open the file: it does not exist", "an existing file");
}

namespace {
// The kernel adds per-page costs times a buffer's pages to a time that never passes
// max_sim_time: were the sum of every cost over every page beyond the 64-bit range of
// picoseconds, such a sum could wrap to the past and a run would report nonsense as done.
void check_workload_time_range(const Node &workload, const WorkloadConfig &w,
                               Duration max_sim_time) {
  std::uint64_t pages = 0;
  for (const BufferConfig &b : w.buffers)
    pages += b.pages();
  const nlohmann::ordered_json &costs = w.resolved["costs"];
  unsigned __int128 worst_ps = 0;
  for (const ParamSpec &spec : OsCosts::specs())
    if (spec.kind == ParamKind::time)
      worst_ps += static_cast<unsigned __int128>(
                      parse_duration(costs[spec.name].get<std::string>()).value->ps) *
                  std::max<std::uint64_t>(pages, 1);
  const auto room =
      static_cast<unsigned __int128>(std::numeric_limits<std::int64_t>::max() - max_sim_time.ps);
  if (worst_ps > room)
    workload.get("costs").value_or(workload).fail(
        fmt::format("the costs over the buffers' {} pages add up beyond the simulator's range of "
                    "time (about 106 days, less max_sim_time {})",
                    pages, format_duration(max_sim_time)),
        "costs that stay within it");
}

} // namespace

std::shared_ptr<const JsonDocument> bundled_default_scenario() {
  const std::string path = "scenarios/default.json";
  return parse_json_text(embedded_file(path), "<bundled>/" + path);
}

ScenarioConfig load_default_scenario(std::size_t topology_index) {
  return load_scenario(Node::root(bundled_default_scenario()), "scenarios", &read_bundled_file,
                       topology_index);
}

ScenarioConfig load_scenario(const Node &root, const std::string &base_dir,
                             DocumentReader read_topology, std::size_t topology_index) {
  root.require_object();
  root.allow_only({"$schema", "name", "description", "topology", "seed", "max_sim_time",
                   "transfers", "workload", "expect"});
  ScenarioConfig s;
  s.file = root.file();
  if (auto n = root.get("name"))
    s.name = n->as_string();
  if (auto n = root.get("description"))
    s.description = n->as_string();
  if (auto n = root.get("seed"))
    s.seed = static_cast<std::uint64_t>(n->as_int(0, INT64_MAX));
  if (auto n = root.get("max_sim_time")) {
    s.max_sim_time = n->as_duration();
    if (s.max_sim_time.ps <= 0)
      n->fail("a zero simulation time limit", "a positive time");
  }

  Node topo = root.at("topology");
  if (topo.is_array()) {
    // Several topologies: the workload's comparison runs on each.
    if (!root.has("workload"))
      topo.fail("a list of topologies without a \"workload\"",
                "one topology, or a workload to compare on each listed topology");
    if (topo.size() == 0)
      topo.fail("an empty list of topologies", "at least one topology");
    s.topology_count = topo.size();
    s.topology_index = topology_index;
    topo = topo.at(topology_index);
  }
  s.topology = std::make_shared<LoadedTopology>();
  if (topo.is_string()) {
    std::string rel = topo.as_string();
    if (rel.empty())
      topo.fail("an empty path", "a topology file path");
    s.topology_source = path_in_directory(base_dir, rel);
    try {
      s.topology->config = load_topology(Node::root(read_topology(s.topology_source)));
      s.topology->hierarchy = build_hierarchy(s.topology->config);
      // Results name the file by its canonical path: the same whatever the working directory
      // and however the scenario's path was typed (a report finds the file from anywhere).
      char canonical[PATH_MAX];
      if (::realpath(s.topology_source.c_str(), canonical))
        s.topology_source = canonical;
    } catch (const InputError &e) {
      // A topology file that cannot be read at all is the scenario's error, at /topology.
      if (e.pointer().empty() && e.file() == s.topology_source &&
          (e.problem().rfind("cannot open", 0) == 0 || e.problem() == "is a directory"))
        topo.fail(
            fmt::format("topology file \"{}\" {}", s.topology_source,
                        e.problem() == "is a directory" ? "is a directory" : "does not exist"),
            "a path to a topology file, relative to the scenario file");
      throw;
    }
  } else if (topo.is_object()) {
    s.topology_source = "inline";
    // Inline topologies report errors at their place inside the scenario file.
    s.topology->config = load_topology(topo);
    s.topology->hierarchy = build_hierarchy(s.topology->config);
  } else {
    topo.fail(describe_json_type(topo.json()) + " where a topology belongs",
              "a file path or an inline topology object");
  }
  const TopologyConfig &t = s.topology->config;
  s.enumeration = enumerate(t, s.topology->hierarchy);

  s.pci_view = build_pci_view(t, s.topology->hierarchy);
  if (auto w = root.get("workload")) {
    s.workload = load_workload(*w, t, s.topology->hierarchy, s.enumeration, s.pci_view, s.seed);
    check_workload_time_range(*w, *s.workload, s.max_sim_time);
  }
  std::vector<std::vector<std::pair<std::string, Node>>> pending_after; // (id, where named)
  std::optional<Node> transfers_node = root.get("transfers");
  if (!transfers_node && !s.workload)
    root.fail("missing key \"transfers\"", "\"transfers\", a \"workload\", or both");
  Node transfers = transfers_node ? *transfers_node : root;
  if (transfers_node) {
    transfers.require_array();
    if (transfers.size() == 0)
      transfers.fail("no transfers", "at least one transfer");
  }
  std::unordered_map<std::string, int> transfer_index; // by id: no scan per transfer
  for (const Node &n : transfers_node ? transfers.items() : std::vector<Node>{}) {
    TransferConfig tc = load_transfer(n, t, s.topology->hierarchy, s.enumeration, s.pci_view);
    if (!transfer_index.emplace(tc.id, static_cast<int>(s.transfers.size())).second)
      n.at("id").fail(fmt::format("duplicate transfer id \"{}\"", tc.id), "unique ids");
    // Random transfers without their own seed draw from the scenario's, each from its own
    // sequence (SplitMix64 of the seed and the transfer's index) so that no two repeat.
    if (tc.pattern == AccessPattern::Random && !tc.seed)
      tc.seed = splitmix64(s.seed + 0x9e3779b97f4a7c15ull * (s.transfers.size() + 1));
    // The run adds start_at to a time that never passes max_sim_time (a completion, or 0): a
    // sum beyond the 64-bit range of picoseconds would wrap to the past and start it at once.
    if (tc.start_at.ps > std::numeric_limits<std::int64_t>::max() - s.max_sim_time.ps)
      n.at("start_at")
          .fail(fmt::format(
                    "start_at {} plus max_sim_time {} is beyond the simulator's range of time",
                    format_duration(tc.start_at), format_duration(s.max_sim_time)),
                "start_at + max_sim_time below 106 days");
    std::vector<std::pair<std::string, Node>> after;
    if (auto sa = n.get("start_after")) {
      if (sa->json().is_array())
        for (const Node &id : sa->items())
          after.emplace_back(id.as_string(), id);
      else
        after.emplace_back(sa->as_string(), *sa);
    }
    pending_after.push_back(std::move(after));
    s.transfers.push_back(tc);
  }
  // start_after: resolve names, then refuse cycles.
  for (std::size_t i = 0; i < s.transfers.size(); ++i)
    for (const auto &[id, node] : pending_after[i]) {
      auto found = transfer_index.find(id);
      if (found == transfer_index.end())
        node.fail(fmt::format("\"{}\" names no transfer", id), "the id of another transfer");
      std::vector<int> &after = s.transfers[i].start_after;
      if (std::find(after.begin(), after.end(), found->second) != after.end())
        node.fail(fmt::format("\"{}\" named twice", id), "each transfer once");
      after.push_back(found->second);
    }
  // A depth-first walk of the dependencies, marking what was checked, finds every cycle in
  // time linear in the transfers and their dependencies.
  enum class Chain { Unchecked, OnPath, Ends };
  std::vector<Chain> chain(s.transfers.size(), Chain::Unchecked);
  for (std::size_t root = 0; root < s.transfers.size(); ++root) {
    if (chain[root] != Chain::Unchecked)
      continue;
    std::vector<std::pair<std::size_t, std::size_t>> path{{root, 0}}; // (transfer, next dep)
    chain[root] = Chain::OnPath;
    while (!path.empty()) {
      auto &[t, next] = path.back();
      const std::vector<int> &after = s.transfers[t].start_after;
      if (next == after.size()) {
        chain[t] = Chain::Ends;
        path.pop_back();
        continue;
      }
      const auto dep = static_cast<std::size_t>(after[next++]);
      if (chain[dep] == Chain::OnPath)
        transfers.at(dep)
            .at("start_after")
            .fail("start_after dependencies form a cycle", "a chain that ends");
      if (chain[dep] == Chain::Unchecked) {
        chain[dep] = Chain::OnPath;
        path.emplace_back(dep, 0);
      }
    }
  }

  if (auto e = root.get("expect")) { // checked now, evaluated after the run (sim/plan/expect.h)
    parse_expectations(*e);
    s.expect = nlohmann::ordered_json::parse(e->json().dump());
  }

  s.resolved["name"] = s.name;
  s.resolved["seed"] = s.seed;
  s.resolved["max_sim_time"] = format_duration(s.max_sim_time);
  s.resolved["topology_source"] = s.topology_source;
  s.resolved["topology"] = topology_json(t, s.topology->hierarchy);
  for (const TransferConfig &tc : s.transfers) {
    nlohmann::ordered_json j;
    j["id"] = tc.id;
    j["initiator"] = t.components[static_cast<std::size_t>(tc.initiator)].id;
    j["target"] = t.components[static_cast<std::size_t>(tc.target)].id;
    j["direction"] = tc.is_write ? "write" : "read";
    j["size"] = format_bytes(tc.size);
    j["offset"] = format_bytes(Bytes{tc.offset});
    j["target_address"] = fmt::format("{:#x}", tc.target_address);
    j["count"] = tc.count;
    j["concurrency"] = tc.concurrency;
    j["stride"] = format_bytes(tc.stride);
    j["pattern"] = access_pattern_name(tc.pattern);
    if (tc.pattern == AccessPattern::Random)
      j["seed"] = *tc.seed;
    if (tc.host_cache != HostCacheState::AsLeft)
      j["host_cache"] = tc.host_cache == HostCacheState::Warm ? "warm" : "cold";
    if (tc.host_cache_memory >= 0)
      j["host_cache_socket"] =
          t
              .components[static_cast<std::size_t>(
                  t.components[static_cast<std::size_t>(tc.host_cache_memory)].memory_of_root)]
              .id;
    if (tc.queue_pairs > 1)
      j["queue_pairs"] = tc.queue_pairs;
    if (tc.rate.bytes_per_second > 0)
      j["rate"] = format_bandwidth(tc.rate);
    if (tc.peer) {
      j["mechanism"] = tc.mechanism;
      j["map_type"] = map_type_name(tc.verdict.type);
      j["distance"] = tc.verdict.distance;
    }
    j["route"] = tc.route;
    if (tc.start_after.size() == 1)
      j["start_after"] = s.transfers[static_cast<std::size_t>(tc.start_after[0])].id;
    else if (!tc.start_after.empty())
      for (int d : tc.start_after)
        j["start_after"].push_back(s.transfers[static_cast<std::size_t>(d)].id);
    j["start_at"] = format_duration(tc.start_at);
    s.resolved["transfers"].push_back(j);
  }
  if (s.workload)
    s.resolved["workload"] = s.workload->resolved;
  return s;
}

} // namespace pciesim
