// What a comparison reports: each mechanism run as JSON, the verdict per topology, the
// table and the CSV (the runs themselves: sim/batch/comparison.cpp).
#include "sim/batch/comparison.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "sim/config/component_catalog.h"
#include "sim/report/report.h"

namespace pciesim {
namespace {

double ns(std::int64_t ps) { return std::round(static_cast<double>(ps)) / 1000.0; }
double rounded(double v, int digits) {
  double scale = std::pow(10.0, digits);
  return std::round(v * scale) / scale;
}

// 21 nearest-rank quantiles, p0 to p100 by 5.
nlohmann::ordered_json latency_cdf(const LatencySamples &samples) {
  nlohmann::ordered_json cdf = nlohmann::ordered_json::array();
  if (samples.empty())
    return cdf;
  // The rank in integers (ceil(q n / 100), at least 1), asked for as the middle of its
  // step, so that no rounding of q x n picks the next sample.
  const std::uint64_t n = samples.size();
  for (std::uint64_t q = 0; q <= 100; q += 5) {
    std::uint64_t rank = std::max<std::uint64_t>(1, (q * n + 99) / 100);
    cdf.push_back(ns(samples.percentile_ps((static_cast<double>(rank) - 0.5) / n)));
  }
  return cdf;
}

} // namespace

nlohmann::ordered_json mechanism_json(const RunResult &run, const std::string &topology) {
  const MechanismResult &m = *run.mechanism;
  nlohmann::ordered_json j;
  j["id"] = m.mechanism + "@" + topology;
  j["name"] = m.mechanism;
  j["topology"] = topology;
  std::string status = m.status, reason = m.reason;
  if (!run.completed()) {
    status = "failed";
    reason =
        run.stall_reason + (run.stall_diagnosis.empty() ? "" : ": " + run.stall_diagnosis.front());
  }
  j["status"] = status;
  j["reason"] = reason;
  // A mechanism that could not run, or did not finish, has no measurements: its figures are
  // absent (empty in the CSV), not 0, so that they drag no average down.
  if (status != "ok")
    return j;
  std::uint64_t bytes = m.nic_bytes > 0 ? m.nic_bytes : m.bytes_accessed;
  j["total_time_ns"] = ns(m.end_ps);
  j["throughput_GBps"] =
      m.end_ps > 0 ? rounded(static_cast<double>(bytes) / static_cast<double>(m.end_ps) * 1e3, 3)
                   : 0.0;
  LatencySummary l = summarize_latencies(m.latencies_ps);
  j["latency"] = {{"mean_ns", rounded(l.mean_ns, 3)},
                  {"p50_ns", rounded(l.p50_ns, 3)},
                  {"p99_ns", rounded(l.p99_ns, 3)},
                  {"max_ns", rounded(l.max_ns, 3)}};
  j["latency_cdf_ns"] = latency_cdf(m.latencies_ps);
  j["bytes_accessed"] = m.bytes_accessed;
  j["nic_bytes"] = m.nic_bytes;
  j["pages_migrated"] = m.pages_migrated;
  j["pages_to_ram"] = m.os.pages_to_ram;
  j["pages_to_device"] = m.os.pages_to_device;
  j["bytes_migrated"] = m.bytes_migrated;
  // Faults by who took them (they add up); batches and retries are in "os".
  j["faults"] = {{"cpu", m.os.cpu_faults}, {"gpu", m.os.gpu_faults}, {"odp", m.os.odp_faults}};
  j["invalidations"] = m.os.invalidations;
  nlohmann::ordered_json breakdown;
  for (std::size_t k = 0; k < m.breakdown_ps.size(); ++k)
    breakdown[time_kind_name(static_cast<TimeKind>(k))] = ns(m.breakdown_ps[k]);
  j["breakdown_ns"] = breakdown;
  nlohmann::ordered_json os;
  m.os.for_each([&os](const char *name, std::uint64_t v) { os[name] = v; });
  j["os"] = os;
  j["phases"] = nlohmann::ordered_json::array();
  for (const PhaseRunResult &p : m.phase_runs)
    j["phases"].push_back({{"phase", p.phase},
                           {"iteration", p.iteration},
                           {"start_ns", ns(p.start_ps)},
                           {"end_ns", ns(p.end_ps)},
                           {"bytes", p.bytes},
                           {"pages_to_ram", p.pages_to_ram},
                           {"pages_to_device", p.pages_to_device},
                           {"faults", p.faults}});
  nlohmann::ordered_json run_json = result_json(run);
  if (!run.transfers.empty()) // the scenario's transfers, run alongside the workload
    j["transfers"] = run_json["transfers"];
  // The link directions that carried TLPs, as in a run's results.json.
  j["links"] = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < run.links.size(); ++i)
    if (run.links[i].tlps > 0)
      j["links"].push_back(run_json["links"][i]);
  return j;
}

namespace {

// A phase actor that reaches another device's buffer by peer DMA (an RDMA NIC), by the type
// the resolved workload names ("cpu" is none).
bool is_peer_initiator(const std::string &actor_type) {
  const ComponentType *type = find_component_type(actor_type);
  return type && type->workload_actor == WorkloadActor::PeerInitiator;
}

const nlohmann::ordered_json *find_mechanism(const nlohmann::ordered_json &mechanisms,
                                             const std::string &name, const std::string &topology) {
  for (const auto &m : mechanisms)
    if (m["name"] == name && m["topology"] == topology && m["status"] == "ok")
      return &m;
  return nullptr;
}

// An iteration's span: the first start to the last end of its phases.
std::pair<double, double> iteration_span(const nlohmann::ordered_json &m, int iteration) {
  double start = -1, end = -1;
  for (const auto &p : m["phases"])
    if (p["iteration"] == iteration) {
      double s = p["start_ns"], e = p["end_ns"];
      start = start < 0 ? s : std::min(start, s);
      end = std::max(end, e);
    }
  return {start, end};
}

} // namespace

nlohmann::ordered_json crossovers(const nlohmann::ordered_json &mechanisms,
                                  const nlohmann::ordered_json &workload) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  // Only a NIC re-reading or re-writing the same data: every repeated phase is the NIC's.
  int iterations = workload["iterations"];
  bool nic_only = iterations >= 2;
  for (const auto &p : workload["phases"])
    if (!p["once"].get<bool>() && !is_peer_initiator(p["actor_type"]))
      nic_only = false;
  std::vector<std::string> topologies;
  for (const auto &m : mechanisms)
    if (std::find(topologies.begin(), topologies.end(), m["topology"]) == topologies.end())
      topologies.push_back(m["topology"]);
  for (const std::string &topology : topologies) {
    const auto *hmm = find_mechanism(mechanisms, "hmm_migrate", topology);
    const auto *peer = find_mechanism(mechanisms, "p2p_dma_api", topology);
    if (!nic_only || !hmm || !peer)
      continue;
    bool repeated_phases_are_nic = true;
    for (const auto &p : (*hmm)["phases"])
      if (p["iteration"] == iterations - 1 && p["pages_to_device"].get<std::uint64_t>() > 0)
        repeated_phases_are_nic = false; // something migrated the data back: not NIC-only
    if (!repeated_phases_are_nic)
      continue;
    double hmm_first = iteration_span(*hmm, 0).second;
    double peer_first = iteration_span(*peer, 0).second;
    auto [hs, he] = iteration_span(*hmm, iterations - 1);
    auto [ps, pe] = iteration_span(*peer, iterations - 1);
    double hmm_steady = he - hs, peer_steady = pe - ps;
    nlohmann::ordered_json c;
    c["id"] = topology; // expectations reach it as /crossover/<topology>/reuses
    c["topology"] = topology;
    c["mechanism"] = "hmm_migrate";
    c["versus"] = "p2p_dma_api";
    c["first_pass_ns"] = {{"hmm_migrate", hmm_first}, {"p2p_dma_api", peer_first}};
    c["steady_pass_ns"] = {{"hmm_migrate", hmm_steady}, {"p2p_dma_api", peer_steady}};
    // Uses n of the buffer cost first + (n - 1) x steady; the crossover is the least n at
    // which migration's total is no larger.
    if (hmm_first <= peer_first) {
      c["reuses"] = 1;
      c["explanation"] = "migration is already no slower on the first pass";
    } else if (hmm_steady < peer_steady) {
      double n = 1 + std::ceil((hmm_first - peer_first) / (peer_steady - hmm_steady));
      c["reuses"] = static_cast<std::int64_t>(n);
      c["explanation"] = fmt::format(
          "migration costs {:.1f} us more on the first pass and saves {:.1f} us on each later "
          "pass (NIC reads system RAM faster than the peer path)",
          (hmm_first - peer_first) / 1e3, (peer_steady - hmm_steady) / 1e3);
    } else {
      c["reuses"] = nullptr;
      c["explanation"] = "after migration the NIC reads system RAM no faster than it reads the GPU "
                         "BAR peer-to-peer, so the migration's cost is never recovered";
    }
    out.push_back(c);
  }
  return out;
}

std::string verdict_line(const nlohmann::ordered_json &mechanisms, const std::string &topology) {
  const nlohmann::ordered_json *best = nullptr;
  for (const auto &m : mechanisms)
    if (m["topology"] == topology && m["status"] == "ok" &&
        (!best || m["total_time_ns"].get<double>() < (*best)["total_time_ns"].get<double>()))
      best = &m;
  if (!best)
    return fmt::format("{}: no mechanism completed", topology);
  std::vector<std::string> others;
  double best_ns = (*best)["total_time_ns"];
  for (const auto &m : mechanisms) {
    if (m["topology"] != topology || &m == best)
      continue;
    std::string name = m["name"];
    if (m["status"] != "ok") {
      others.push_back(fmt::format("{} {}", name, m["status"].get<std::string>()));
      continue;
    }
    // The largest share of its time, and where it differs most from the winner.
    std::string worst;
    double worst_ns = -1;
    for (const auto &[kind, value] : m["breakdown_ns"].items()) {
      double extra = value.get<double>() - (*best)["breakdown_ns"].value(kind, 0.0);
      if (extra > worst_ns) {
        worst_ns = extra;
        worst = kind;
      }
    }
    double total = m["total_time_ns"];
    others.push_back(fmt::format("{} {:.2f}x slower (+{:.1f} us of {})", name,
                                 best_ns > 0 ? total / best_ns : 0.0, worst_ns / 1e3, worst));
  }
  return fmt::format("{}: fastest {} ({:.1f} us){}{}", topology, (*best)["name"].get<std::string>(),
                     best_ns / 1e3, others.empty() ? "" : "; ", join(others, "; "));
}

namespace {

// A number of a mechanism entry, 0 where a failed run left it out.
double number(const nlohmann::ordered_json &m, const char *pointer) {
  nlohmann::ordered_json::json_pointer p(pointer);
  return m.contains(p) && m.at(p).is_number() ? m.at(p).get<double>() : 0.0;
}

// Payload megabytes per link direction that carried traffic under some mechanism of the
// topology: where each mechanism's bytes went.
std::string link_table(const nlohmann::ordered_json &mechanisms, const std::string &topology) {
  std::vector<std::string> directions;
  for (const auto &m : mechanisms)
    if (m["topology"] == topology && m.contains("links"))
      for (const auto &l : m["links"]) {
        std::string d = l["from"].get<std::string>() + ">" + l["to"].get<std::string>();
        if (std::find(directions.begin(), directions.end(), d) == directions.end())
          directions.push_back(d);
      }
  if (directions.empty())
    return "";
  std::string out = fmt::format("{:<12}", "MB on link");
  for (const std::string &d : directions)
    out += fmt::format(" {:>{}}", d, std::max<std::size_t>(9, d.size()));
  out += "\n";
  for (const auto &m : mechanisms) {
    if (m["topology"] != topology || m["status"] != "ok") // moved nothing that was measured
      continue;
    out += fmt::format("{:<12}", m["name"].get<std::string>());
    for (const std::string &d : directions) {
      double bytes = 0;
      for (const auto &l : m.value("links", nlohmann::ordered_json::array()))
        if (l["from"].get<std::string>() + ">" + l["to"].get<std::string>() == d)
          bytes = l["payload_bytes"].get<double>();
      out += fmt::format(" {:>{}.1f}", bytes / 1e6, std::max<std::size_t>(9, d.size()));
    }
    out += "\n";
  }
  return out;
}

} // namespace

std::string format_comparison(const nlohmann::ordered_json &results) {
  std::string out = fmt::format("scenario {}\n", results["scenario"].get<std::string>());
  const nlohmann::ordered_json &mechanisms = results["mechanisms"];
  for (std::size_t i = 0; i < mechanisms.size(); ++i) {
    const auto &m = mechanisms[i];
    const std::string topology = m["topology"];
    if (i == 0 || mechanisms[i - 1]["topology"] != topology) {
      out += fmt::format("\ntopology {}\n", topology);
      out += fmt::format("{:<12} {:<13} {:>11} {:>7} {:>9} {:>9} {:>7} {:>7} {:>6}  {}\n",
                         "mechanism", "status", "total us", "GB/s", "p50 us", "p99 us", "faults",
                         "pages", "inval", "time: dma/copy/fault/inval/shoot/setup/wait %");
    }
    if (m["status"] != "ok") { // no figures: blank, not 0
      out +=
          fmt::format("{:<12} {}\n", m["name"].get<std::string>(), m["status"].get<std::string>());
    } else {
      double total = number(m, "/total_time_ns");
      auto share = [&](const char *pointer) {
        return total > 0 ? 100.0 * number(m, pointer) / total : 0.0;
      };
      out += fmt::format(
          "{:<12} {:<13} {:>11.1f} {:>7.2f} {:>9.2f} {:>9.2f} {:>7.0f} {:>7.0f} {:>6.0f}  "
          "{:.0f}/{:.0f}/{:.0f}/{:.0f}/{:.0f}/{:.0f}/{:.0f}\n",
          m["name"].get<std::string>(), m["status"].get<std::string>(), total / 1e3,
          number(m, "/throughput_GBps"), number(m, "/latency/p50_ns") / 1e3,
          number(m, "/latency/p99_ns") / 1e3,
          number(m, "/faults/cpu") + number(m, "/faults/gpu") + number(m, "/faults/odp"),
          number(m, "/pages_migrated"), number(m, "/invalidations"), share("/breakdown_ns/dma"),
          share("/breakdown_ns/copy"), share("/breakdown_ns/fault_handling"),
          share("/breakdown_ns/invalidation"), share("/breakdown_ns/shootdown"),
          share("/breakdown_ns/setup"), share("/breakdown_ns/waiting"));
    }
    if (!m.value("reason", "").empty())
      out += fmt::format("  {}: {}\n", m["name"].get<std::string>(), m.value("reason", ""));
    if (i + 1 == mechanisms.size() || mechanisms[i + 1]["topology"] != topology)
      out += "\n" + link_table(mechanisms, topology);
  }
  out += "\n";
  for (const auto &c : results["crossover"])
    out += fmt::format("crossover on {}: {}\n", c["topology"].get<std::string>(),
                       c["reuses"].is_null()
                           ? "hmm_migrate never catches up with p2p_dma_api: " +
                                 c["explanation"].get<std::string>()
                           : fmt::format("hmm_migrate overtakes p2p_dma_api after {} uses: {}",
                                         c["reuses"].get<std::int64_t>(),
                                         c["explanation"].get<std::string>()));
  for (const auto &v : results["verdicts"])
    out += "verdict " + v.get<std::string>() + "\n";
  return out;
}

std::string comparison_csv(const nlohmann::ordered_json &results) {
  return csv_table(mechanism_csv_columns(), results["mechanisms"]);
}

std::vector<std::string> comparison_links_columns() {
  std::vector<std::string> columns = {"topology", "mechanism"};
  for (const std::string &c : column_names(link_csv_columns()))
    columns.push_back(c);
  return columns;
}

std::string comparison_links_rows(const nlohmann::ordered_json &mechanism,
                                  const std::string &row_start) {
  std::string rows;
  const std::string prefix = row_start + csv_field(mechanism.value("topology", "")) + "," +
                             csv_field(mechanism.value("name", "")) + ",";
  for (const auto &l : mechanism.value("links", nlohmann::ordered_json::array()))
    rows += prefix + csv_cells(link_csv_columns(), l) + "\n";
  return rows;
}

std::string comparison_links_csv(const nlohmann::ordered_json &results) {
  std::string out = join(comparison_links_columns(), ",") + "\n";
  for (const auto &m : results["mechanisms"])
    out += comparison_links_rows(m, "");
  return out;
}

} // namespace pciesim
