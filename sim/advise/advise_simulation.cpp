#include "sim/advise/advise_simulation.h"

#include <cstring>
#include <iostream>

#include <fmt/format.h>

#include "sim/advise/advise.h"
#include "sim/batch/comparison.h"
#include "sim/report/report.h"
#include "sim/run/simulation.h"
#include "sim/util/input_error.h"

namespace pciesim {
namespace {

// Replaces the default's gpu0 and nic0 with the pair's ids.
Json remapped_workload(const AdviseWorkload &w, const std::string &gpu, const std::string &nic,
                       const std::string &mechanism) {
  Json j = w.workload;
  j["mechanisms"] = Json::array({mechanism});
  for (Json &b : j["buffers"])
    if (b.value("gpu", "") == "gpu0")
      b["gpu"] = gpu;
  for (Json &p : j["phases"]) {
    if (p.value("actor", "") == "gpu0")
      p["actor"] = gpu;
    else if (p.value("actor", "") == "nic0")
      p["actor"] = nic;
  }
  if (j.contains("staging_near"))
    j["staging_near"] = j["staging_near"] == "gpu0" ? gpu : nic;
  return j;
}

// Runs one simulation in this (child) process and returns its result line.
OJson simulate_job(const AdviseSimJob &job) {
  RunResult r = simulate(*job.loaded);
  OJson out;
  if (job.workload) {
    OJson m = mechanism_json(r, job.loaded->topology->config.name);
    out["status"] = m.value("status", "failed");
    out["mechanism"] = m.value("name", "");
    if (m.contains("total_time_ns"))
      out["time_ns"] = m["total_time_ns"];
    out["reason"] = m.value("reason", "");
    return out;
  }
  OJson j = result_json(r);
  const OJson &t = j["transfers"][0];
  bool ok =
      j["status"] == "completed" && t.value("status", "") == "completed" && !t["end_ns"].is_null();
  out["status"] = ok ? "ok" : "failed";
  out["mechanism"] = t.value("mechanism", "");
  if (ok)
    out["time_ns"] = t["end_ns"];
  out["reason"] = t.value("error", ok ? "" : j.value("status", std::string()));
  return out;
}

} // namespace

AdviseWorkload default_workload(const std::string &size) {
  AdviseWorkload w;
  w.workload = bundled_default_scenario()->root.at("workload");
  if (!size.empty())
    w.workload["buffers"][0]["size"] = size;
  Parsed<Bytes> bytes = parse_bytes(w.workload["buffers"][0].at("size").get<std::string>());
  if (!bytes.value || bytes.value->count == 0)
    throw InputError("--size", "", fmt::format("\"{}\" is not a size", size),
                     "a size with a unit, e.g. \"4 MiB\"");
  w.buffer_bytes = bytes.value->count;
  w.iterations = w.workload.value("iterations", 1);
  for (const Json &phase : w.workload.at("phases")) {
    if (phase.value("actor", "") == "nic0") {
      w.access_size = phase.value("access_size", w.access_size);
      w.concurrency = phase.value("concurrency", w.concurrency);
    }
    // Every phase covers the buffer in accesses of its size (checked here, so that the error
    // names the option rather than the scenario made from it).
    Parsed<Bytes> access = parse_bytes(phase.value("access_size", "4 KiB"));
    if (access.value && access.value->count > 0 && w.buffer_bytes % access.value->count != 0)
      throw InputError("--size", "",
                       fmt::format("\"{}\" is not a multiple of the workload's access size {}",
                                   size, phase.value("access_size", "")),
                       "a multiple of " + phase.value("access_size", std::string()));
  }
  return w;
}

Json pair_scenario(const AdviseWorkload &w, const Json &topology, const AdviseTopology &t,
                   const AdvisePair &p, const P2pVerdict &v, const std::string &mechanism) {
  Json s;
  s["name"] = "advise";
  s["topology"] = topology;
  const std::string &initiator = component_of(t.config, p.initiator).id;
  const std::string &target = component_of(t.config, p.target).id;
  bool refused = v.type == P2pMapType::NotSupported;
  if (std::string(p.kind->name) == "gpu-nic") {
    s["workload"] = remapped_workload(w, target, initiator,
                                      !mechanism.empty() ? mechanism
                                      : refused          ? "bounce"
                                                         : "p2p_dma_api");
    return s;
  }
  // No workload actor reaches a peer GPU but a NIC: the send phase's traffic as a transfer,
  // the buffer's bytes once per iteration.
  Parsed<Bytes> access = parse_bytes(w.access_size);
  std::uint64_t access_bytes = access.value ? access.value->count : 65536;
  Json transfer;
  transfer["id"] = "advise";
  transfer["initiator"] = initiator;
  transfer["target"] = target;
  transfer["direction"] = std::string(p.kind->name) == "nvme-gpu" ? "write" : "read";
  transfer["size"] = w.access_size;
  transfer["count"] = w.buffer_bytes * static_cast<std::uint64_t>(w.iterations) / access_bytes;
  transfer["concurrency"] = w.concurrency;
  if (mechanism.empty())
    transfer["fallback"] = "bounce";
  else
    transfer["mechanism"] = mechanism;
  s["transfers"] = Json::array({transfer});
  return s;
}

void run_sim_jobs(std::vector<AdviseSimJob> &jobs, const PoolOptions &pool_options) {
  std::vector<CapturedOutput> outputs(jobs.size());
  ChildPool pool(pool_options);
  auto start = [&](std::size_t i) {
    int fd = outputs[i].open();
    return pool.start_function(
        [&jobs, i, fd] {
          std::string text;
          int code = 0;
          try {
            text = simulate_job(jobs[i]).dump();
          } catch (const std::exception &e) {
            text = OJson{{"status", "failed"}, {"reason", e.what()}}.dump();
            code = kExitInternalError;
          }
          write_all(fd, text.data(), text.size());
          return code;
        },
        {});
  };
  auto finished = [&](std::size_t i, const ChildExit &how) {
    OJson j = OJson::parse(outputs[i].text(), nullptr, false);
    outputs[i].close();
    if (how.stopped)
      return;
    if (j.is_discarded() || !how.exited())
      j = OJson{{"status", "failed"}, {"reason", "the simulation was " + how.describe()}};
    jobs[i].result = j;
  };
  ChildPool::End end = pool.run(jobs.size(), start, finished);
  if (end == ChildPool::End::Stopped) {
    int sig = pool.stop_signal();
    std::cerr << fmt::format("pciesim: stopped by signal {} ({}); nothing was written\n", sig,
                             ::strsignal(sig));
    ChildPool::die_of(sig);
  }
  if (end == ChildPool::End::TimedOut)
    throw AdviseTimedOut("the simulations exceeded their --timeout of wall-clock time and "
                         "were stopped; nothing was written");
}

} // namespace pciesim
