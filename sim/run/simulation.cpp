#include "sim/run/simulation.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <numeric>

#include <fmt/format.h>
#include <systemc>

#include "models/common/sim_context.h"
#include "models/dma/dma_engine.h"
#include "models/pcie/component.h"
#include "models/pcie/link.h"
#include "sim/config/component_catalog.h"
#include "sim/config/param_loader.h"
#include "sim/fabric/pci_view.h"
#include "sim/run/kernel_run.h"
#include "sim/run/mechanisms/bounce.h"
#include "sim/run/trace.h"
#include "sim/run/transfer_starts.h"
#include "sim/run/vcd_trace.h"

namespace pciesim {

LatencySummary summarize_latencies(std::vector<std::int64_t> samples) {
  LatencySummary s;
  if (samples.empty())
    return s;
  std::sort(samples.begin(), samples.end());
  auto rank = [&](double q) {
    // Nearest-rank percentile.
    std::size_t k = static_cast<std::size_t>(std::ceil(q * static_cast<double>(samples.size())));
    return static_cast<double>(samples[std::max<std::size_t>(k, 1) - 1]) / 1000.0;
  };
  long double sum = std::accumulate(samples.begin(), samples.end(), 0.0L);
  s.mean_ns = static_cast<double>(sum / static_cast<long double>(samples.size()) / 1000.0L);
  s.p50_ns = rank(0.50);
  s.p99_ns = rank(0.99);
  s.max_ns = static_cast<double>(samples.back()) / 1000.0;
  return s;
}

LatencySummary summarize_latencies(const LatencySamples &samples) {
  LatencySummary s;
  if (samples.empty())
    return s;
  s.mean_ns = static_cast<double>(samples.mean_ps() / 1000.0L);
  s.p50_ns = static_cast<double>(samples.percentile_ps(0.50)) / 1000.0;
  s.p99_ns = static_cast<double>(samples.percentile_ps(0.99)) / 1000.0;
  s.max_ns = static_cast<double>(samples.max_ps()) / 1000.0;
  return s;
}

namespace {

// The elaborated system. Owns every module; lives for the whole (single) run.
class System {
public:
  explicit System(const ScenarioConfig &s) : scenario_(s), topo_(s.topology->config) {
    const Hierarchy &h = s.topology->hierarchy;
    for (std::size_t i = 0; i < topo_.components.size(); ++i) {
      const ComponentConfig &c = topo_.components[i];
      components_.push_back(c.type->make(c.id.c_str(), c.params, wiring_of(i), context_));
    }
    attach_host_memories();
    for (std::size_t l = 0; l < topo_.links.size(); ++l) {
      const LinkConfig &lc = topo_.links[l];
      std::string name = fmt::format("link{}", l);
      auto link =
          std::make_unique<Link>(name.c_str(), h.trained[l], port_caps(lc.a.component).credits,
                                 port_caps(lc.b.component).credits, context_);
      link->connect(port(lc.a.component, lc.a.port), port(lc.b.component, lc.b.port));
      links_.push_back(std::move(link));
    }
    // Transfers become streams of their initiators.
    for (std::size_t t = 0; t < s.transfers.size(); ++t) {
      const TransferConfig &tc = s.transfers[t];
      DmaEngine &engine = this->engine(tc.initiator);
      if (!tc.unsupported.empty()) {
        // Linux refuses the mapping (or the model cannot carry it): nothing runs.
        DmaStreamResult refused;
        refused.finished = true;
        refused.error = "unsupported: " + tc.unsupported;
        refused_.emplace(static_cast<int>(t), refused);
        stream_of_.push_back(-1);
        continue;
      }
      if (tc.mechanism == "bounce") {
        BounceConfig b;
        b.message_bytes = tc.size.count;
        b.count = tc.count;
        b.chunk_bytes = tc.chunk.count;
        b.chunks_in_flight = tc.chunks_in_flight;
        b.staging_address = tc.staging_address;
        b.nic_writes = tc.is_write;
        b.concurrency = static_cast<std::uint64_t>(tc.concurrency);
        bounces_.emplace(static_cast<int>(t), std::make_unique<BouncePipeline>(
                                                  b, engine, this->engine(tc.target), tc.id));
        stream_of_.push_back(-1);
        continue;
      }
      DmaStreamSpec spec;
      spec.id = tc.id;
      spec.is_write = tc.is_write;
      spec.target_address = tc.target_address;
      spec.region_bytes = tc.region_bytes;
      spec.transfer_bytes = tc.size.count;
      spec.stride_bytes = tc.stride.count;
      spec.random_slots = tc.pattern == AccessPattern::Random;
      spec.slot_seed = tc.seed.value_or(0);
      spec.count = tc.count;
      spec.concurrency = tc.concurrency;
      spec.local = tc.local;
      spec.rate = tc.rate;
      spec.group = tc.copy_engine;
      stream_of_.push_back(engine.add_stream(spec));
    }
    if (s.workload) {
      kernel_ = std::make_unique<OsKernel>("os", s.workload->costs, context_);
      std::vector<DmaEngine *> engines; // by component index, null for those not initiating DMA
      for (auto &component : components_)
        engines.push_back(component->dma_engine());
      runner_ = std::make_unique<WorkloadRunner>(*s.workload, s.mechanism, engines, *kernel_);
    }
  }

  // Starts the workload and transfers after attach(): a trace sees a mechanism's setup at 0.
  void launch() {
    if (runner_)
      runner_->start();
    for (std::size_t i = 0; i < components_.size(); ++i) {
      if (DmaEngine *engine = components_[i]->dma_engine())
        engine->on_stream_done = [this, i](int stream, std::int64_t at_ps) {
          stream_done(static_cast<int>(i), stream, at_ps);
        };
    }
    due_ps_.assign(scenario_.transfers.size(), -1);
    for (std::size_t t = 0; t < scenario_.transfers.size(); ++t)
      if (scenario_.transfers[t].start_after.empty())
        start(static_cast<int>(t), 0);
  }

  // Points the models' observers at the trace recorders (either may be null).
  void attach(TraceRecorder *trace, VcdTrace *vcd) {
    std::vector<int> pid(topo_.components.size(), 0);
    std::vector<int> initiator_tid(scenario_.transfers.size(), 0);
    if (trace) {
      for (std::size_t i = 0; i < topo_.components.size(); ++i)
        pid[i] = trace->add_process(topo_.components[i].id);
      for (std::size_t t = 0; t < scenario_.transfers.size(); ++t) {
        const TransferConfig &tc = scenario_.transfers[t];
        std::size_t e = static_cast<std::size_t>(tc.initiator);
        initiator_tid[t] = trace->add_thread(pid[e], "transfer " + tc.id);
        if (stream_of_[t] >= 0)
          trace->watch_stream(engine(tc.initiator), stream_of_[t], pid[e], initiator_tid[t], tc.id);
        else
          trace->instant(pid[e], initiator_tid[t], "not supported", 0,
                         {{"transfer", tc.id}, {"reason", tc.unsupported}});
      }
      for (auto &component : components_)
        if (DmaEngine *engine = component->dma_engine())
          engine->set_observer(trace);
      if (kernel_)
        trace->watch_kernel(*kernel_, pid);
    }
    for (std::size_t l = 0; l < links_.size(); ++l) {
      const LinkConfig &lc = topo_.links[l];
      std::string a = topo_.port_name(lc.a.component, lc.a.port);
      std::string b = topo_.port_name(lc.b.component, lc.b.port);
      int link_pid = trace ? trace->add_process(fmt::format("link{} {} - {}", l, a, b)) : 0;
      for (int dir = 0; dir < 2; ++dir) {
        LinkDirection &d = dir == 0 ? links_[l]->a_to_b() : links_[l]->b_to_a();
        std::string from = dir == 0 ? a : b, to = dir == 0 ? b : a;
        if (trace)
          trace->watch_link(d, link_pid, trace->add_thread(link_pid, from + " -> " + to),
                            from + " -> " + to);
        if (vcd)
          vcd->watch_link(d, from); // named by the port that sends on it
        if (trace && vcd) {
          link_fanout_.push_back(std::make_unique<LinkObserverPair>(trace, vcd));
          d.set_observer(link_fanout_.back().get());
        } else {
          d.set_observer(trace ? static_cast<LinkObserver *>(trace) : vcd);
        }
      }
    }
  }

  // Where the run is, for a progress line: the workload's bytes, or the transfers'.
  RunProgress progress() const {
    if (runner_)
      return {now_ps(), runner_->accessed_bytes(), runner_->planned_bytes()};
    RunProgress p{now_ps(), 0, 0};
    for (std::size_t t = 0; t < scenario_.transfers.size(); ++t) {
      p.bytes_total += scenario_.transfers[t].size.count * scenario_.transfers[t].count;
      p.bytes_done += result_of(static_cast<int>(t)).bytes;
    }
    return p;
  }

  bool all_finished() const {
    if (runner_ && !runner_->finished())
      return false;
    for (std::size_t t = 0; t < scenario_.transfers.size(); ++t)
      if (!result_of(static_cast<int>(t)).finished)
        return false;
    return true;
  }

  // What holds the run up, at the end of a run that did not finish: first each unfinished
  // transfer and what it waits on, then each component and link still holding work.
  std::vector<std::string> diagnose() const {
    std::vector<std::string> lines;
    const std::int64_t now = now_ps();
    for (std::size_t t = 0; t < scenario_.transfers.size(); ++t) {
      const TransferConfig &tc = scenario_.transfers[t];
      const DmaStreamResult &sr = result_of(static_cast<int>(t));
      if (sr.finished)
        continue;
      std::int64_t due = due_ps_[t];
      if (due < 0 && !tc.start_after.empty())
        lines.push_back(
            fmt::format("transfer {}: not started: waits for {} to finish (start_after)", tc.id,
                        starts_.waiting_for(static_cast<int>(t))));
      else if (due > now)
        lines.push_back(fmt::format(
            "transfer {}: not started: due to start at {} (start_at {}), beyond the time limit "
            "of {}",
            tc.id, format_duration(Duration{due}), format_duration(tc.start_at),
            format_duration(scenario_.max_sim_time)));
      else
        lines.push_back(fmt::format("transfer {}: {} of {} transfers done, {} of {} bytes", tc.id,
                                    sr.transfers_done, tc.count, sr.bytes,
                                    tc.size.count * tc.count));
    }
    for (std::size_t i = 0; i < topo_.components.size(); ++i)
      if (!components_[i]->quiescent())
        lines.push_back(
            fmt::format("{}: {}", topo_.components[i].id, components_[i]->describe_outstanding()));
    for (std::size_t l = 0; l < links_.size(); ++l) {
      const LinkConfig &lc = topo_.links[l];
      std::string a = topo_.port_name(lc.a.component, lc.a.port);
      std::string b = topo_.port_name(lc.b.component, lc.b.port);
      if (!links_[l]->a_to_b().idle())
        lines.push_back(
            fmt::format("link {} -> {}: {}", a, b, links_[l]->a_to_b().describe_outstanding()));
      if (!links_[l]->b_to_a().idle())
        lines.push_back(
            fmt::format("link {} -> {}: {}", b, a, links_[l]->b_to_a().describe_outstanding()));
    }
    return lines;
  }

  // Conservation at quiescence: credits back, tags free, bytes completed, payloads returned.
  std::vector<std::string> invariant_violations() const {
    std::vector<std::string> out;
    for (std::size_t l = 0; l < links_.size(); ++l) {
      const LinkConfig &lc = topo_.links[l];
      std::string a = topo_.port_name(lc.a.component, lc.a.port);
      std::string b = topo_.port_name(lc.b.component, lc.b.port);
      if (!links_[l]->a_to_b().credits_restored())
        out.push_back(fmt::format("link {} -> {}: flow-control credits not restored", a, b));
      if (!links_[l]->b_to_a().credits_restored())
        out.push_back(fmt::format("link {} -> {}: flow-control credits not restored", b, a));
    }
    for (std::size_t i = 0; i < topo_.components.size(); ++i)
      if (!components_[i]->quiescent())
        out.push_back(fmt::format("{}: not quiescent: {}", topo_.components[i].id,
                                  components_[i]->describe_outstanding()));
    for (std::size_t t = 0; t < scenario_.transfers.size(); ++t) {
      const DmaStreamResult &sr = result_of(static_cast<int>(t));
      const TransferConfig &tc = scenario_.transfers[t];
      if (sr.error.empty() && sr.bytes != tc.size.count * tc.count)
        out.push_back(fmt::format("transfer {}: {} bytes completed of {} requested", tc.id,
                                  sr.bytes, tc.size.count * tc.count));
    }
    if (pool_.in_use() != 0)
      out.push_back(fmt::format("{} TLPs never returned to the pool", pool_.in_use()));
    if (runner_) {
      if (!runner_->quiescent())
        out.push_back("the workload's kernel work or DMA is still outstanding");
      for (const std::string &line : runner_->violations())
        out.push_back(line);
    }
    return out;
  }

  void collect(RunResult &r) const {
    if (runner_)
      r.mechanism = runner_->result();
    const std::int64_t end_ps = std::max<std::int64_t>(1, r.sim_time_ps);
    for (std::size_t t = 0; t < scenario_.transfers.size(); ++t) {
      const TransferConfig &tc = scenario_.transfers[t];
      const DmaStreamResult &sr = result_of(static_cast<int>(t));
      TransferResult tr;
      tr.id = tc.id;
      tr.initiator = topo_.components[static_cast<std::size_t>(tc.initiator)].id;
      tr.target = topo_.components[static_cast<std::size_t>(tc.target)].id;
      tr.direction = tc.is_write ? "write" : "read";
      tr.transfer_bytes = tc.size.count;
      tr.count = tc.count;
      tr.transfers_done = sr.transfers_done;
      tr.bytes = sr.bytes;
      tr.start_ps = std::max<std::int64_t>(0, sr.first_start_ps);
      tr.end_ps = std::max(tr.start_ps, sr.last_done_ps);
      std::int64_t span = tr.end_ps - tr.start_ps;
      tr.bandwidth_gbps =
          span > 0 ? static_cast<double>(sr.bytes) / (static_cast<double>(span) * 1e-12) / 1e9 : 0;
      tr.latency = summarize_latencies(sr.latencies_ps);
      tr.error = sr.error;
      tr.route = tc.route;
      if (tc.peer) {
        tr.mechanism = tc.fell_back ? "bounce (fallback)" : tc.mechanism;
        tr.map_type = map_type_name(tc.verdict.type);
        tr.distance = tc.verdict.distance;
      }
      r.transfers.push_back(tr);
    }
    for (std::size_t l = 0; l < links_.size(); ++l) {
      const LinkConfig &lc = topo_.links[l];
      std::string a = topo_.port_name(lc.a.component, lc.a.port);
      std::string b = topo_.port_name(lc.b.component, lc.b.port);
      for (int dir = 0; dir < 2; ++dir) {
        const LinkDirection &d = dir == 0 ? links_[l]->a_to_b() : links_[l]->b_to_a();
        const LinkDirectionStats &st = d.stats();
        LinkDirectionResult lr;
        lr.link = a + " - " + b;
        lr.from = dir == 0 ? a : b;
        lr.to = dir == 0 ? b : a;
        lr.generation = links_[l]->trained().shape.generation;
        lr.width = links_[l]->trained().shape.width;
        lr.usable_gbps = d.usable_bytes_per_second() / 1e9;
        lr.mrd = st.tlps[static_cast<int>(TlpType::MRd)];
        lr.mwr = st.tlps[static_cast<int>(TlpType::MWr)];
        lr.cpld = st.tlps[static_cast<int>(TlpType::CplD)];
        lr.cpl = st.tlps[static_cast<int>(TlpType::Cpl)];
        lr.tlps = st.total_tlps();
        lr.payload_bytes = st.payload_bytes;
        lr.wire_bytes = st.wire_bytes;
        lr.utilization = static_cast<double>(st.busy_fs) / (static_cast<double>(end_ps) * 1000.0);
        lr.credit_stalls = st.credit_stalls;
        lr.max_queue_depth = st.max_queue_depth;
        r.links.push_back(lr);
      }
    }
    r.component_stats = nlohmann::ordered_json::object();
    for (std::size_t i = 0; i < topo_.components.size(); ++i)
      r.component_stats[topo_.components[i].id] = components_[i]->stats_json();
  }

private:
  const DmaStreamResult &result_of(int t) const {
    if (auto it = refused_.find(t); it != refused_.end())
      return it->second;
    if (auto it = bounces_.find(t); it != bounces_.end())
      return it->second->result();
    const TransferConfig &tc = scenario_.transfers[static_cast<std::size_t>(t)];
    return engine(tc.initiator).stream_result(stream_of_[static_cast<std::size_t>(t)]);
  }

  void start(int t, std::int64_t after_ps) {
    const TransferConfig &tc = scenario_.transfers[static_cast<std::size_t>(t)];
    // No overflow: after_ps never passes max_sim_time, and the scenario loader refuses a
    // start_at that would take the sum beyond the 64-bit range.
    due_ps_[static_cast<std::size_t>(t)] = after_ps + tc.start_at.ps;
    if (auto it = bounces_.find(t); it != bounces_.end()) {
      it->second->start(after_ps + tc.start_at.ps);
      return;
    }
    if (refused_.count(t)) {
      // Nothing to run: its dependents start as if it had finished at once.
      start_dependents(t, after_ps + tc.start_at.ps);
      return;
    }
    // The host touches the buffer as the transfer is started (a chained transfer: when the one
    // before it finished), not at its start_at; its lines stay in the cache of the socket whose
    // CPU touched them, in no other (host memory counts addresses from its base: the offset).
    if (tc.host_cache != HostCacheState::AsLeft) {
      bool warm = tc.host_cache == HostCacheState::Warm;
      for (std::size_t m = 0; m < components_.size(); ++m)
        if (static_cast<int>(m) == tc.target)
          components_[m]->host_cache_touched(tc.offset, tc.region_bytes,
                                             warm && tc.host_cache_memory < 0);
        else if (topo_.components[m].type->role == ComponentRole::Memory)
          components_[m]->foreign_cache_touched(
              tc.offset, tc.region_bytes, warm && static_cast<int>(m) == tc.host_cache_memory);
    }
    engine(tc.initiator)
        .start_stream(stream_of_[static_cast<std::size_t>(t)], after_ps + tc.start_at.ps);
  }

  void stream_done(int engine, int stream, std::int64_t at_ps) {
    if (runner_ && runner_->stream_done(engine, stream, at_ps))
      return;
    for (auto &[t, pipeline] : bounces_) {
      if (!pipeline->stage_done(this->engine(engine), stream, at_ps))
        continue;
      if (pipeline->result().finished)
        start_dependents(t, at_ps);
      return;
    }
    for (std::size_t t = 0; t < scenario_.transfers.size(); ++t) {
      const TransferConfig &tc = scenario_.transfers[t];
      if (tc.initiator == engine && stream_of_[t] == stream)
        start_dependents(static_cast<int>(t), at_ps);
    }
  }

  // Starts the transfers waiting for transfer `t`, which finished at `at_ps`, once every other
  // transfer they wait for has finished too: from the last to finish.
  void start_dependents(int t, std::int64_t at_ps) {
    for (const auto &[d, last_ps] : starts_.finished(t, at_ps))
      start(d, last_ps);
  }

  const PortCapabilities port_caps(int component) const {
    const ComponentConfig &c = topo_.components[static_cast<std::size_t>(component)];
    return port_capabilities_from(c.params);
  }

  PciePort &port(int component, int index) {
    return components_[static_cast<std::size_t>(component)]->port(index);
  }

  // The engine of a component that initiates DMA (the scenario loader checked that it does).
  DmaEngine &engine(int component) const {
    return *components_[static_cast<std::size_t>(component)]->dma_engine();
  }

  // What enumeration decided for component `i`, in the terms every model's factory takes.
  ComponentWiring wiring_of(std::size_t i) const {
    const Hierarchy &h = scenario_.topology->hierarchy;
    const Enumeration &e = scenario_.enumeration;
    const ComponentAddressing &placed = e.components[i];
    ComponentWiring w;
    w.bdf = placed.bdf;
    for (const Bar &bar : placed.bars) {
      w.bar_bases.push_back(bar.base);
      w.bar_sizes.push_back(bar.size);
    }
    ComponentRole role = topo_.components[i].type->role;
    if (role == ComponentRole::RootComplex || role == ComponentRole::Switch) {
      w.routes = routing_for(e, topo_, static_cast<int>(i));
      apply_acs(scenario_.pci_view, static_cast<int>(i), w.routes);
    }
    w.memory_base = placed.memory_base;
    w.memory_size = placed.memory_size;
    w.local_memory_base = placed.memory_base;
    w.local_memory_size = placed.memory_size;
    if (int link = topo_.socket_link_of(static_cast<int>(i)); link >= 0) {
      // Its host bridge reaches both sockets' memory, the other's through the link.
      std::uint64_t end = 0;
      w.memory_base = placed.memory_base;
      for (int r : topo_.components[static_cast<std::size_t>(link)].joined_roots) {
        const ComponentAddressing &root = e.components[static_cast<std::size_t>(r)];
        w.memory_base = std::min(w.memory_base, root.memory_base);
        end = std::max(end, root.memory_base + root.memory_size);
      }
      w.memory_size = end - w.memory_base;
    }
    for (int r : topo_.components[i].joined_roots) {
      const ComponentAddressing &root = e.components[static_cast<std::size_t>(r)];
      RoutingTable routes = routing_for(e, topo_, r);
      w.sockets.push_back({root.memory_base, root.memory_size, routes});
    }
    if (int root = h.root_of[i]; root >= 0)
      w.host_memory_base = e.components[static_cast<std::size_t>(root)].memory_base;
    w.mps_bytes = h.mps_bytes;
    return w;
  }

  // Binds every root complex's host bridge to the host memory of its socket. One without
  // host memory gets an empty one (built from the memory type's defaults), which its empty
  // memory range never reaches.
  void attach_host_memories() {
    for (std::size_t i = 0; i < components_.size(); ++i) {
      if (topo_.components[i].type->role != ComponentRole::RootComplex)
        continue;
      int memory_index = topo_.memory_of(static_cast<int>(i));
      Component *memory =
          memory_index >= 0 ? components_[static_cast<std::size_t>(memory_index)].get() : nullptr;
      if (!memory) {
        const ComponentType &type = memory_type();
        std::string name = topo_.components[i].id + "_no_memory";
        placeholder_memories_.push_back(type.make(
            name.c_str(), resolve_params(type.specs(), std::nullopt), ComponentWiring{}, context_));
        memory = placeholder_memories_.back().get();
      }
      int link = topo_.socket_link_of(static_cast<int>(i));
      if (link < 0) {
        components_[i]->attach_host_memory(*memory->host_memory_target());
        continue;
      }
      // Through the inter-socket link, which serves this socket's memory and the other's.
      const std::vector<int> &roots = topo_.components[static_cast<std::size_t>(link)].joined_roots;
      int side = roots[0] == static_cast<int>(i) ? 0 : 1;
      InterSocketJoin &join = *components_[static_cast<std::size_t>(link)]->inter_socket_join();
      components_[i]->attach_host_memory(join.memory_target(side));
      join.connect(side, *components_[i]->inter_socket_receiver(), *memory->host_memory_target());
      components_[i]->attach_other_socket(join.end(side));
    }
  }

  static const ComponentType &memory_type() {
    for (const ComponentType &type : component_types())
      if (type.role == ComponentRole::Memory)
        return type;
    throw std::logic_error("the component catalog has no host memory type");
  }

  // First, so that it exists when the models are built with it and outlives them.
  EventCalendar calendar_{"calendar"};
  const ScenarioConfig &scenario_;
  const TopologyConfig &topo_;
  TlpPool pool_; // declared first among owners: destroyed after every module using it
  SimContext context_{calendar_, pool_};
  std::vector<std::unique_ptr<Component>> components_; // by component index
  std::vector<std::unique_ptr<Component>> placeholder_memories_;
  std::vector<std::unique_ptr<Link>> links_;
  std::vector<int> stream_of_;
  std::vector<std::int64_t> due_ps_; // per transfer: when it was set to start, -1 while it waits
  TransferStarts starts_{scenario_.transfers};             // start_after: who releases whom
  std::map<int, DmaStreamResult> refused_;                 // transfers that could not run, by index
  std::map<int, std::unique_ptr<BouncePipeline>> bounces_; // bounce-buffer transfers
  std::vector<std::unique_ptr<LinkObserverPair>> link_fanout_;
  std::unique_ptr<OsKernel> kernel_;       // workloads only
  std::unique_ptr<WorkloadRunner> runner_; // declared last: destroyed before the engines
};

} // namespace

RunResult simulate(const ScenarioConfig &scenario, const RunOptions &options) {
  auto wall_start = std::chrono::steady_clock::now();
  install_report_handler();
  sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
  System system(scenario);
  // Declared after the system: the recorders go first, while the models they watch live.
  std::unique_ptr<TraceRecorder> trace;
  std::unique_ptr<VcdTrace> vcd;
  if (!options.trace_path.empty()) {
    TraceOptions trace_options;
    trace_options.max_detail_events = options.trace_max_events;
    trace_options.window = options.trace_window;
    trace = std::make_unique<TraceRecorder>(scenario.name, trace_options);
  }
  if (!options.vcd_path.empty())
    vcd = std::make_unique<VcdTrace>(options.vcd_path);
  if (trace || vcd)
    system.attach(trace.get(), vcd.get());
  system.launch();
  // The VCD probe writes SystemC signals, which take the kernel's time: keep it with the models.
  EventCalendar::current().set_lockstep(vcd != nullptr);
  EventCalendar::current().set_time_limit_ps(scenario.max_sim_time.ps);
  if (options.progress)
    EventCalendar::current().set_progress_observer(
        [&](std::int64_t) { options.progress(system.progress()); });
  run_kernel_until(scenario.max_sim_time.ps);
  EventCalendar::current().set_progress_observer({});
  RunResult r;
  r.scenario = scenario.name;
  r.sim_time_ps = now_ps();
  r.config = scenario.resolved;
  if (!system.all_finished()) {
    // Work still pending means the run was simulated, idle or not, up to its limit.
    if (sc_core::sc_pending_activity())
      r.sim_time_ps = std::max(r.sim_time_ps, scenario.max_sim_time.ps);
    r.stall_reason = sc_core::sc_pending_activity()
                         ? fmt::format("simulated time reached the limit of {} with transfers "
                                       "unfinished",
                                       format_duration(scenario.max_sim_time))
                         : "the simulation stalled: no event is pending but transfers are "
                           "unfinished";
    r.stall_diagnosis = system.diagnose();
  } else {
    std::vector<std::string> broken = system.invariant_violations();
    if (!broken.empty()) {
      r.stall_reason = "an invariant does not hold at the end of the run";
      r.stall_diagnosis = broken;
    }
  }
  system.collect(r);
  if (trace)
    write_file_atomically(options.trace_path, trace->finish(r.sim_time_ps));
  if (vcd)
    vcd->finish();
  r.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return r;
}

} // namespace pciesim
