#include "sim/advise/advise.h"
#include "sim/advise/advise_pairs.h"
#include "sim/advise/advise_simulation.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "models/iommu/iommu.h"
#include "models/pcie/root_complex.h"
#include "sim/batch/comparison.h"
#include "sim/config/overrides.h"
#include "sim/config/schema_check.h"
#include "sim/fabric/enumeration.h"
#include "sim/fabric/pci_view.h"
#include "sim/plan/scenario.h"
#include "sim/report/report.h"
#include "sim/run/simulation.h"
#include "sim/util/file_io.h"
#include "sim/util/input_error.h"

namespace pciesim {

namespace {

// A topology as the analysis needs it: its JSON (to make variants of) and what loading gives.
// ---- input ---------------------------------------------------------------------------------

// The topology of `file`: the file itself, or a scenario's first topology.
std::shared_ptr<const JsonDocument> topology_document(const std::string &file) {
  auto doc = load_json_file(file);
  Node root = Node::root(doc);
  std::string kind = classify_document(root);
  if (kind == "topology")
    return doc;
  if (kind != "scenario")
    root.fail("not a topology or a scenario",
              "a topology (with \"components\" and \"links\") or a scenario (with \"topology\")");
  ScenarioConfig s = load_scenario_file(file); // checks the scenario and its topology
  Node topology = root.at("topology");
  if (topology.json().is_array())
    topology = topology.at(0);
  if (topology.json().is_string())
    return load_json_file(path_in_directory(directory_of(file), topology.as_string()));
  auto inline_doc = std::make_shared<JsonDocument>();
  inline_doc->file = file + " (its /topology)";
  inline_doc->root = topology.json();
  return inline_doc;
}

std::vector<AdvisePair> pairs_of_interest(const AdviseTopology &t, const AdviseOptions &o) {
  std::vector<AdvisePair> pairs;
  const TopologyConfig &c = t.config;
  if (!o.pairs.empty()) {
    for (const std::string &text : o.pairs) {
      auto comma = text.find(',');
      std::string a = comma == std::string::npos ? text : text.substr(0, comma);
      std::string b = comma == std::string::npos ? "" : text.substr(comma + 1);
      int i = c.find(a), g = c.find(b);
      if (i < 0 || g < 0 || i == g || !pair_kind_of(c, i, g))
        throw InputError("--pair", "",
                         fmt::format("\"{}\" is not an initiator and a target of {}", text, o.file),
                         "INITIATOR,TARGET: a rdma_nic, nvme_ssd or gpu id, then another "
                         "gpu's id");
      pairs.push_back({pair_kind_of(c, i, g), i, g});
    }
    return pairs;
  }
  for (const std::string &name : o.pair_kinds) {
    const AdvisePairKind *kind = pair_kind_named(name);
    if (!kind)
      throw InputError("--pairs", "", fmt::format("\"{}\" is not a kind of pair", name),
                       "gpu-nic, nvme-gpu or gpu-gpu, comma-separated");
    for (std::size_t i = 0; i < c.components.size(); ++i) {
      if (c.components[i].type->name != kind->initiator_type || t.view.node_of_endpoint[i] < 0)
        continue;
      for (std::size_t g = 0; g < c.components.size(); ++g)
        if (g != i && c.components[g].type->name == kind->target_type &&
            t.view.node_of_endpoint[g] >= 0)
          pairs.push_back({kind, static_cast<int>(i), static_cast<int>(g)});
    }
  }
  return pairs;
}

std::string relation_name(PairRelation r) {
  switch (r) {
  case PairRelation::SameSwitch:
    return "same switch";
  case PairRelation::SameRootComplex:
    return "same root complex";
  case PairRelation::OtherSocket:
    return "other socket";
  case PairRelation::Unreachable:
    return "sockets not joined";
  }
  return "?";
}

OJson time_json(const AdviseSimJob *job) {
  if (!job)
    return nullptr;
  return job->result.contains("time_ns") ? job->result["time_ns"] : OJson(nullptr);
}

double rounded_to(double v, double unit) { return std::round(v / unit) * unit; }

} // namespace

OJson advise(const AdviseOptions &o) {
  auto doc = topology_document(o.file);
  AdviseTopology base = load_advise_topology(doc);
  if (!o.out.empty()) // again, now that the inputs are read: it must not be one of them
    check_output_file(o.out, "--out");
  if (!o.iommu.empty()) {
    std::vector<AdviseOverride> set;
    for (int r : root_complexes(base.config))
      set.push_back(
          {fmt::format("/components[id={}]/params/iommu", component_of(base.config, r).id),
           Json(o.iommu)});
    base = topology_variant(base, doc->file + " (with --iommu " + o.iommu + ")", set);
  }
  AdviseWorkload workload = default_workload(o.size);
  std::vector<AdvisePair> pairs = pairs_of_interest(base, o);

  // Group the pairs: the same kind, verdict, blockers, changes and path shape.
  std::vector<AdviseGroup> groups;
  std::vector<std::vector<std::vector<AdvisePort>>> group_ports;
  std::map<std::string, std::size_t> group_of_key;
  for (const AdvisePair &p : pairs) {
    AdviseGroup g;
    g.pairs.push_back(p);
    g.verdict = p2p_verdict(base.view, base.config, p.target, p.initiator);
    g.relation = relation_of(base, p.initiator, p.target);
    g.path = tree_path(base, p.initiator, p.target);
    g.links = endpoint_link(base, p.initiator) + " / " + endpoint_link(base, p.target);
    g.blockers = blockers_of(base, p, g.verdict, g.relation);
    std::vector<std::vector<AdvisePort>> own{redirecting_ports(base, g.verdict)};
    std::vector<AdviseChange> changes = changes_for(base, g, own);
    g.key =
        fmt::format("{}|{}|{}|{}|{}{}", p.kind->name, map_type_name(g.verdict.type),
                    relation_name(g.relation), g.verdict.distance,
                    g.verdict.redirecting_nodes.size(), path_links(base, p.initiator, p.target));
    for (const AdviseBlocker &b : g.blockers)
      g.key += "|" + b.kind;
    for (const AdviseChange &c : changes)
      g.key += "|" + c.kind;
    auto [it, added] = group_of_key.emplace(g.key, groups.size());
    if (added) {
      groups.push_back(g);
      group_ports.push_back(own);
    } else {
      groups[it->second].pairs.push_back(p);
      group_ports[it->second].push_back(own.front());
    }
  }
  for (std::size_t k = 0; k < groups.size(); ++k)
    groups[k].changes = changes_for(base, groups[k], group_ports[k]);

  // The variants, their verdicts, and the simulations to run.
  std::vector<AdviseSimJob> jobs;
  std::map<std::string, std::size_t> job_of_scenario;
  auto add_job = [&](const AdviseTopology &t, const AdvisePair &p, const P2pVerdict &v,
                     const std::string &label, const std::string &mechanism) -> std::size_t {
    if (!o.simulate || relation_of(t, p.initiator, p.target) == PairRelation::Unreachable)
      return SIZE_MAX;
    Json s = pair_scenario(workload, t.json, t, p, v, mechanism);
    std::string text = s.dump();
    auto found = job_of_scenario.find(text);
    if (found != job_of_scenario.end())
      return found->second;
    AdviseSimJob job;
    job.workload = s.contains("workload");
    auto sdoc = std::make_shared<JsonDocument>();
    sdoc->file = o.file + " (" + label + ")";
    sdoc->root = s;
    job.loaded =
        std::make_shared<ScenarioConfig>(load_scenario(Node::root(sdoc), directory_of(o.file)));
    if (job.loaded->workload) // the one mechanism this scenario lists
      job.loaded->mechanism = job.loaded->workload->mechanisms.front();
    job_of_scenario.emplace(text, jobs.size());
    jobs.push_back(std::move(job));
    return jobs.size() - 1;
  };
  for (AdviseGroup &g : groups) {
    const AdvisePair &p = g.pairs.front();
    std::string pair_name =
        component_of(base.config, p.initiator).id + ">" + component_of(base.config, p.target).id;
    g.sim_job_now = add_job(base, p, g.verdict, pair_name + " as written", "");
    for (AdviseChange &c : g.changes) {
      AdviseTopology variant;
      try {
        variant = topology_variant(base, doc->file + " (variant " + c.kind + ")", c.overrides);
      } catch (const InputError &e) {
        // A move can overfill a root complex's MMIO aperture, say: the change is shown with
        // why it cannot be simulated as written.
        c.unavailable = "the variant does not load: " + e.problem();
        continue;
      }
      P2pVerdict after = p2p_verdict(variant.view, variant.config, p.target, p.initiator);
      if (c.kind == "move" && after.acs_redirect) {
        // Under the new switch the redirect still sends the traffic up: lift it too.
        std::vector<AdvisePort> ports = redirecting_ports(variant, after);
        Json listed = Json::array();
        for (const PortRef &r : variant.config.kernel.disable_acs_redir)
          listed.push_back(variant.config.port_name(r.component, r.port));
        for (const AdvisePort &port : ports)
          listed.push_back(port.name);
        c.overrides.push_back({"/kernel/disable_acs_redir", listed});
        c.kernel_parameter = "pci=disable_acs_redir=" + ports_list(ports, true);
        c.change += " and boot with " + c.kernel_parameter + " (the addresses after the move)";
        c.label += " + disable_acs_redir";
        variant = topology_variant(base, doc->file + " (variant move)", c.overrides);
        after = p2p_verdict(variant.view, variant.config, p.target, p.initiator);
      }
      c.map_type_after = map_type_name(after.type);
      // The GPU driver's mapping leaves p2pdma's verdict as it was and sends the traffic through
      // the root complex all the same.
      c.data_path_after =
          c.mechanism == "vendor_peer" ? "root complex" : verdict_data_path(variant, p, after);
      c.sim_job = add_job(variant, p, after, pair_name + " variant " + c.kind, c.mechanism);
    }
  }
  if (!jobs.empty())
    run_sim_jobs(jobs, o.pool);

  OJson out;
  out["pciesim_version"] = PCIESIM_VERSION;
  out["file"] = o.file;
  out["topology"] = base.config.name;
  OJson iommu = OJson::object();
  for (int r : root_complexes(base.config))
    iommu[component_of(base.config, r).id] = iommu_mode_name(iommu_of(base.config, r));
  out["iommu"] = iommu;
  out["acs_enabled"] = base.view.acs_requested;
  out["workload"] = {
      {"source", "scenarios/default.json"},
      {"buffer_bytes", workload.buffer_bytes},
      {"iterations", workload.iterations},
      {"gpu-nic", "the default comparison's workload, gpu0 and nic0 replaced by the pair; "
                  "mechanism p2p_dma_api (bounce where p2pdma refuses the pair)"},
      {"other pairs",
       fmt::format("one transfer of the buffer's bytes per iteration in {} accesses, {} in "
                   "flight (an NVMe drive writes, a GPU reads); p2p_dma_api, falling back to "
                   "bounce where p2pdma refuses the pair",
                   workload.access_size, workload.concurrency)}};
  out["simulated"] = o.simulate;
  out["groups"] = OJson::array();
  for (const AdviseGroup &g : groups) {
    const AdvisePair &p = g.pairs.front();
    auto id = [&](int c) { return component_of(base.config, c).id; };
    OJson gj;
    gj["kind"] = p.kind->name;
    gj["what"] = p.kind->what;
    gj["pairs"] = OJson::array();
    for (const AdvisePair &m : g.pairs)
      gj["pairs"].push_back({{"initiator", id(m.initiator)}, {"target", id(m.target)}});
    gj["simulated_pair"] = {{"initiator", id(p.initiator)}, {"target", id(p.target)}};
    gj["relation"] = relation_name(g.relation);
    gj["path"] = g.path;
    gj["links"] = g.links;
    gj["map_type"] = map_type_name(g.verdict.type);
    gj["distance"] = g.verdict.distance;
    gj["reason"] = g.verdict.reason;
    gj["data_path"] = verdict_data_path(base, p, g.verdict);
    gj["blockers"] = OJson::array();
    for (const AdviseBlocker &b : g.blockers)
      gj["blockers"].push_back({{"kind", b.kind}, {"label", b.label}, {"detail", b.detail}});
    const AdviseSimJob *now = g.sim_job_now < jobs.size() ? &jobs[g.sim_job_now] : nullptr;
    gj["time_now_ns"] = time_json(now);
    gj["mechanism_now"] = now ? now->result.value("mechanism", "") : "";
    const char *kApart = "the two sit on sockets that no inter_socket_link joins";
    if (now && !now->result.contains("time_ns"))
      gj["not_simulated"] = now->result.value("reason", "");
    else if (!now && o.simulate)
      gj["not_simulated"] = kApart;
    gj["changes"] = OJson::array();
    for (const AdviseChange &c : g.changes) {
      OJson cj;
      cj["kind"] = c.kind;
      cj["label"] = c.label;
      cj["change"] = c.change;
      cj["kernel_parameter"] =
          c.kernel_parameter.empty() ? OJson(nullptr) : OJson(c.kernel_parameter);
      cj["note"] = c.note;
      cj["overrides"] = OJson::array();
      for (const AdviseOverride &ov : c.overrides)
        cj["overrides"].push_back("topology:" + overrides_text(ov));
      cj["map_type_after"] = c.map_type_after.empty() ? OJson(nullptr) : OJson(c.map_type_after);
      cj["data_path_after"] = c.data_path_after;
      const AdviseSimJob *after = c.sim_job < jobs.size() ? &jobs[c.sim_job] : nullptr;
      cj["time_after_ns"] = time_json(after);
      cj["mechanism_after"] = after ? after->result.value("mechanism", "") : "";
      OJson before_ns = time_json(now), after_ns = time_json(after);
      if (before_ns.is_number() && after_ns.is_number()) {
        double b = before_ns.get<double>(), a = after_ns.get<double>();
        cj["saved_ns"] = rounded_to(b - a, 0.001);
        cj["saved_percent"] = b > 0 ? rounded_to((b - a) / b * 100.0, 0.01) : 0.0;
      } else {
        cj["saved_ns"] = nullptr;
        cj["saved_percent"] = nullptr;
        if (!c.unavailable.empty())
          cj["not_simulated"] = c.unavailable;
        else if (after && !after->result.contains("time_ns"))
          cj["not_simulated"] = after->result.value("reason", "");
        else if (!after && o.simulate)
          cj["not_simulated"] = kApart;
      }
      gj["changes"].push_back(cj);
    }
    out["groups"].push_back(gj);
  }
  return out;
}

namespace {

std::string advise_time_text(const OJson &ns) {
  if (!ns.is_number())
    return "-";
  double v = ns.get<double>();
  return std::fabs(v) >= 1e6 ? fmt::format("{:.3f} ms", v / 1e6)
                             : fmt::format("{:.1f} us", v / 1e3);
}

} // namespace

std::string format_advice(const OJson &a) {
  std::string out =
      fmt::format("advice for {} ({}): IOMMU", a.value("topology", ""), a.value("file", ""));
  for (const auto &[rc, mode] : a["iommu"].items())
    out += fmt::format(" {} {}", rc, mode.get<std::string>());
  out += fmt::format("; ACS {} by the kernel\n",
                     a.value("acs_enabled", false) ? "enabled" : "not enabled");
  if (a.value("simulated", false))
    out += fmt::format("simulated: the default workload with a {} buffer, {} iterations; the first "
                       "pair of each group stands for the group\n\n",
                       format_bytes(Bytes{a["workload"].value("buffer_bytes", std::uint64_t{0})}),
                       a["workload"].value("iterations", 0));
  else
    out += "not simulated (--no-simulate)\n\n";
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"pair", "map type now", "blocked by", "change", "map type after", "time now",
                  "time after", "saved"});
  std::vector<std::string> notes, why, members;
  for (const auto &g : a["groups"]) {
    std::string pair =
        g["simulated_pair"].value("initiator", "") + ">" + g["simulated_pair"].value("target", "");
    std::size_t count = g["pairs"].size();
    std::string pair_cell = count > 1 ? fmt::format("{} +{}", pair, count - 1) : pair;
    if (count > 1) {
      std::string list;
      for (const auto &m : g["pairs"])
        list += (list.empty() ? "" : " ") + m.value("initiator", "") + ">" + m.value("target", "");
      members.push_back(fmt::format("{} stands for {} pairs ({}, {}): {}", pair, count,
                                    g.value("relation", ""), g.value("links", ""), list));
    }
    std::string blocked;
    for (const auto &b : g["blockers"])
      blocked += (blocked.empty() ? "" : ", ") + b.value("label", "");
    if (blocked.empty())
      blocked = "nothing";
    for (const auto &b : g["blockers"])
      why.push_back(fmt::format("{}: {}", pair, b.value("detail", "")));
    std::string time_now = advise_time_text(g["time_now_ns"]);
    if (g.value("mechanism_now", "") == "bounce")
      time_now += " (bounce)";
    if (g["changes"].empty())
      rows.push_back({pair_cell, g.value("map_type", ""), blocked, "-", "-", time_now, "-", "-"});
    for (const auto &c : g["changes"]) {
      std::string unsimulated =
          c.contains("not_simulated")
              ? " (not simulated: " + c["not_simulated"].get<std::string>() + ")"
              : "";
      notes.push_back(fmt::format("[{}] {}: {}; {}{}", notes.size() + 1, pair,
                                  c.value("change", ""), c.value("note", ""), unsimulated));
      std::string saved = "-";
      if (c["saved_ns"].is_number())
        saved = fmt::format("{} ({:.1f}%)", advise_time_text(c["saved_ns"]),
                            c["saved_percent"].get<double>());
      std::string after = advise_time_text(c["time_after_ns"]);
      if (c.value("mechanism_after", "") == "bounce")
        after += " (bounce)";
      std::string map_after =
          c["map_type_after"].is_string() ? c["map_type_after"].get<std::string>() : "-";
      if (c.value("data_path_after", "").rfind("switch (", 0) == 0)
        map_after += " (ATS direct)";
      rows.push_back({pair_cell, g.value("map_type", ""), blocked,
                      fmt::format("{} [{}]", c.value("label", ""), notes.size()), map_after,
                      time_now, after, saved});
    }
  }
  std::vector<std::size_t> width(rows.front().size(), 0);
  for (const auto &r : rows)
    for (std::size_t k = 0; k < r.size(); ++k)
      width[k] = std::max(width[k], r[k].size());
  for (const auto &r : rows) {
    std::string line;
    for (std::size_t k = 0; k < r.size(); ++k)
      line += fmt::format(k >= 5 ? "{:>{}}" : "{:<{}}", r[k], width[k]) +
              (k + 1 < r.size() ? "  " : "");
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  if (!members.empty()) {
    out += "\ngroups:\n";
    for (const std::string &m : members)
      out += m + "\n";
  }
  if (!why.empty()) {
    out += "\nwhy:\n";
    for (const std::string &w : why)
      out += w + "\n";
  }
  if (!notes.empty()) {
    out += "\nchanges:\n";
    for (const std::string &n : notes)
      out += n + "\n";
  }
  return out;
}

int command_advise(const AdviseOptions &o) {
  if (!o.out.empty())
    check_output_file(o.out, "--out");
  OJson advice;
  try {
    advice = advise(o);
  } catch (const AdviseTimedOut &e) {
    std::cerr << "pciesim: " << e.what() << "\n";
    return kExitSimulationError;
  }
  if (!o.out.empty())
    write_file_atomically(o.out, advice.dump(2) + "\n");
  std::cout << (o.json ? advice.dump(2) + "\n" : format_advice(advice));
  return kExitOk;
}

} // namespace pciesim
