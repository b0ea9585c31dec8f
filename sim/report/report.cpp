#include "sim/report/report.h"

#include <cmath>

#include <fmt/format.h>

#include "sim/report/run_output_dir.h"

namespace pciesim {

namespace {
double ns(std::int64_t ps) { return static_cast<double>(ps) / 1000.0; }

// Fixed decimals so that JSON numbers are byte-identical across runs and machines.
double rounded(double v, int decimals) {
  double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

// One line per translation cache that saw traffic: IOMMU IOTLBs, NIC MTT caches and ATCs.
std::string translation_lines(const RunResult &r) {
  std::string out;
  auto count = [](const nlohmann::ordered_json &j, const char *key) -> std::uint64_t {
    return j.contains(key) ? j[key].get<std::uint64_t>() : 0;
  };
  auto rate = [](std::uint64_t hits, std::uint64_t misses) {
    return hits + misses ? 100.0 * static_cast<double>(hits) / static_cast<double>(hits + misses)
                         : 0.0;
  };
  for (auto it = r.component_stats.begin(); it != r.component_stats.end(); ++it) {
    const nlohmann::ordered_json &j = it.value();
    std::uint64_t hits = count(j, "iotlb_hits"), misses = count(j, "iotlb_misses");
    if (hits + misses)
      out += fmt::format("  {} IOMMU: {} translations, IOTLB hit rate {:.1f}% ({} misses), {} "
                         "walks, {} page-table reads, {} ATS requests\n",
                         it.key(), count(j, "translations"), rate(hits, misses), misses,
                         count(j, "walks"), count(j, "walk_memory_reads"),
                         count(j, "ats_translation_requests"));
    hits = count(j, "mtt_hits"), misses = count(j, "mtt_misses");
    if (hits + misses)
      out += fmt::format("  {} MTT cache: hit rate {:.1f}% ({} misses)\n", it.key(),
                         rate(hits, misses), misses);
    hits = count(j, "atc_hits"), misses = count(j, "atc_misses");
    if (hits + misses)
      out += fmt::format("  {} ATC: hit rate {:.1f}% ({} translation requests)\n", it.key(),
                         rate(hits, misses), misses);
  }
  return out.empty() ? out : "\ntranslation caches\n" + out;
}
} // namespace

std::string format_table(const RunResult &r) {
  std::string out;
  out += fmt::format("scenario {}: simulated {:.3f} us\n\n",
                     r.scenario.empty() ? "(unnamed)" : r.scenario, ns(r.sim_time_ps) / 1000.0);
  out += fmt::format("{:<18} {:<10} {:<10} {:<5} {:>9} {:>7} {:>11} {:>8} {:>10} {:>10} {:>10}\n",
                     "transfer", "initiator", "target", "dir", "size", "done", "time (us)", "GB/s",
                     "mean (ns)", "p50 (ns)", "p99 (ns)");
  for (const TransferResult &t : r.transfers) {
    out += fmt::format(
        "{:<18} {:<10} {:<10} {:<5} {:>9} {:>7} {:>11.3f} {:>8.3f} {:>10.1f} {:>10.1f} {:>10.1f}\n",
        t.id, t.initiator, t.target, t.direction, format_bytes(Bytes{t.transfer_bytes}),
        t.transfers_done, ns(t.end_ps - t.start_ps) / 1000.0, t.bandwidth_gbps, t.latency.mean_ns,
        t.latency.p50_ns, t.latency.p99_ns);
    if (!t.map_type.empty())
      out +=
          fmt::format("  {} {} (distance {}): {}\n", t.mechanism, t.map_type, t.distance, t.route);
    else if (!t.route.empty())
      out += fmt::format("  route: {}\n", t.route);
    if (!t.error.empty())
      out += fmt::format("  {}\n",
                         t.error.rfind("unsupported", 0) == 0 ? t.error : "error: " + t.error);
  }
  out += translation_lines(r);
  out += fmt::format("\n{:<34} {:>8} {:>10} {:>12} {:>12} {:>7} {:>8}\n", "link direction", "Gen/x",
                     "TLPs", "payload B", "wire B", "util %", "stalls");
  for (const LinkDirectionResult &l : r.links) {
    if (l.tlps == 0)
      continue;
    out += fmt::format("{:<34} {:>8} {:>10} {:>12} {:>12} {:>7.1f} {:>8}\n", l.from + " -> " + l.to,
                       fmt::format("{}/x{}", l.generation, l.width), l.tlps, l.payload_bytes,
                       l.wire_bytes, 100.0 * l.utilization, l.credit_stalls);
  }
  if (!r.completed()) {
    out += "\nstalled: " + r.stall_reason + "\n";
    for (const std::string &line : r.stall_diagnosis)
      out += "  " + line + "\n";
  }
  return out;
}

std::string transfer_status(const TransferResult &t) {
  if (t.error.rfind("unsupported", 0) == 0)
    return "unsupported";
  if (!t.error.empty())
    return "failed";
  return t.transfers_done < t.count ? "incomplete" : "completed";
}

nlohmann::ordered_json result_json(const RunResult &r) {
  nlohmann::ordered_json j;
  j["pciesim_version"] = PCIESIM_VERSION;
  j["scenario"] = r.scenario;
  j["seed"] = r.config.value("seed", 0);
  j["status"] = r.completed() ? "completed" : "stalled";
  if (!r.completed()) {
    j["stall"]["reason"] = r.stall_reason;
    j["stall"]["diagnosis"] = r.stall_diagnosis;
  }
  j["sim_time_ns"] = rounded(ns(r.sim_time_ps), 3);
  for (const TransferResult &t : r.transfers) {
    nlohmann::ordered_json tj;
    tj["id"] = t.id;
    tj["initiator"] = t.initiator;
    tj["target"] = t.target;
    tj["direction"] = t.direction;
    tj["transfer_bytes"] = t.transfer_bytes;
    tj["count"] = t.count;
    tj["transfers_done"] = t.transfers_done;
    tj["status"] = transfer_status(t);
    tj["bytes"] = t.bytes;
    // Timings are of finished transfers: with none finished there are none (null, not 0).
    bool measured = t.transfers_done > 0;
    auto timing = [measured](double v, int decimals) {
      return measured ? nlohmann::ordered_json(rounded(v, decimals)) : nlohmann::ordered_json();
    };
    tj["start_ns"] = timing(ns(t.start_ps), 3);
    tj["end_ns"] = timing(ns(t.end_ps), 3);
    tj["bandwidth_GBps"] = timing(t.bandwidth_gbps, 6);
    tj["latency_ns"] = {{"mean", timing(t.latency.mean_ns, 3)},
                        {"p50", timing(t.latency.p50_ns, 3)},
                        {"p99", timing(t.latency.p99_ns, 3)},
                        {"max", timing(t.latency.max_ns, 3)}};
    if (!t.route.empty())
      tj["route"] = t.route;
    if (!t.map_type.empty()) {
      tj["mechanism"] = t.mechanism;
      tj["map_type"] = t.map_type;
      tj["distance"] = t.distance;
    }
    if (!t.error.empty())
      tj["error"] = t.error;
    j["transfers"].push_back(tj);
  }
  for (const LinkDirectionResult &l : r.links) {
    nlohmann::ordered_json lj;
    lj["link"] = l.link;
    lj["from"] = l.from;
    lj["to"] = l.to;
    lj["gen"] = l.generation;
    lj["width"] = l.width;
    lj["usable_GBps"] = rounded(l.usable_gbps, 6);
    lj["tlps"] = {{"MRd", l.mrd}, {"MWr", l.mwr}, {"CplD", l.cpld}, {"Cpl", l.cpl}};
    lj["payload_bytes"] = l.payload_bytes;
    lj["wire_bytes"] = l.wire_bytes;
    lj["utilization"] = rounded(l.utilization, 6);
    lj["credit_stalls"] = l.credit_stalls;
    lj["max_queue_depth"] = l.max_queue_depth;
    j["links"].push_back(lj);
  }
  j["components"] = r.component_stats;
  j["config"] = r.config;
  return j;
}

std::string transfers_csv(const RunResult &r) {
  return csv_table(transfer_csv_columns(),
                   result_json(r).value("transfers", nlohmann::ordered_json::array()));
}

std::string links_csv(const RunResult &r) {
  return csv_table(link_csv_columns(),
                   result_json(r).value("links", nlohmann::ordered_json::array()));
}

void write_results(const RunResult &r, const std::string &dir) {
  write_results(r, dir, result_json(r));
}

void write_results(const RunResult &r, const std::string &dir,
                   const nlohmann::ordered_json &results) {
  nlohmann::ordered_json info;
  info["wall_seconds"] = r.wall_seconds;
  OutputSet files;
  files.add(dir + "/results.json", results.dump(2) + "\n");
  files.add(dir + "/results.csv",
            csv_table(transfer_csv_columns(),
                      results.value("transfers", nlohmann::ordered_json::array())));
  files.add(dir + "/links.csv",
            csv_table(link_csv_columns(), results.value("links", nlohmann::ordered_json::array())));
  files.add(dir + "/run-info.json", info.dump(2) + "\n");
  write_run_output(dir, files);
}

} // namespace pciesim
