#include "sim/run/trace.h"

#include <algorithm>

#include <fmt/format.h>

#include "models/common/sim_time.h"

namespace pciesim {
namespace {

// Perfetto keeps nanoseconds; rounding is monotone, so slices that touch or follow each
// other in femtoseconds never overlap once rounded.
std::int64_t ns_of_ps(std::int64_t ps) { return (std::max<std::int64_t>(0, ps) + 500) / 1000; }
std::int64_t ns_of_fs(std::int64_t fs) {
  return (std::max<std::int64_t>(0, fs) + 500000) / 1000000;
}

// Microseconds as fixed decimals of integer nanoseconds: exact, and the same bytes every run
// (older Perfetto builds truncate a parsed double: no %g, no double round trip).
std::string us(std::int64_t ns) { return fmt::format("{}.{:03}", ns / 1000, ns % 1000); }

std::string json_string(const std::string &s) { return nlohmann::json(s).dump(); }

const char *actor_track_name(StepActor::Kind kind) {
  switch (kind) {
  case StepActor::Kind::GpuDriver:
    return "gpu driver";
  case StepActor::Kind::Nic:
    return "nic driver";
  case StepActor::Kind::Kernel:
    break;
  }
  return "cpu";
}

} // namespace

Parsed<TraceWindow> parse_trace_window(const std::string &text) {
  const std::string expected = "FROM..TO, times with units, either side empty for the start or "
                               "the end of the run: \"10us..2ms\", \"1 ms..\", \"..500 us\"";
  const std::size_t dots = text.find("..");
  if (dots == std::string::npos || text.find("..", dots + 2) != std::string::npos)
    return {std::nullopt, expected};
  TraceWindow window;
  for (bool from : {true, false}) {
    std::string side = from ? text.substr(0, dots) : text.substr(dots + 2);
    if (side.empty())
      continue;
    Parsed<Duration> time = parse_duration(side);
    if (!time.value)
      return {std::nullopt, fmt::format("{} \"{}\": {}", from ? "FROM" : "TO", side, time.error)};
    (from ? window.from_ps : window.to_ps) = time.value->ps;
  }
  if (window.to_ps <= window.from_ps)
    return {std::nullopt, "TO later than FROM"};
  return {window, ""};
}

TraceRecorder::TraceRecorder(const std::string &run_name, TraceOptions options)
    : options_(options), run_name_(run_name), bucket_ps_(options.bucket_ps) {
  // pid 0 holds notes about the trace itself (the cap), so every event has a named process.
  event(R"("ph":"M","name":"process_name","pid":0,"tid":0,"ts":0.000,"args":{"name":)" +
        json_string("pciesim " + run_name) + "}");
}

void TraceRecorder::event(const std::string &body) {
  events_ += '{';
  events_ += body;
  events_ += "},\n";
}

int TraceRecorder::add_process(const std::string &name) {
  int pid = next_pid_++;
  pid_of_.emplace(name, pid);
  event(fmt::format(R"("ph":"M","name":"process_name","pid":{},"tid":0,"ts":0.000,)"
                    R"("args":{{"name":{}}})",
                    pid, json_string(name)));
  return pid;
}

int TraceRecorder::add_thread(int pid, const std::string &name) {
  int tid = next_tid_++;
  event(fmt::format(R"("ph":"M","name":"thread_name","pid":{},"tid":{},"ts":0.000,)"
                    R"("args":{{"name":{}}})",
                    pid, tid, json_string(name)));
  return tid;
}

void TraceRecorder::watch_link(LinkDirection &direction, int pid, int tid,
                               const std::string &label) {
  Direction d;
  d.pid = pid;
  d.tid = tid;
  d.label = label;
  direction_of_.emplace(&direction, directions_.size());
  directions_.push_back(std::move(d));
}

void TraceRecorder::watch_stream(DmaEngine &engine, int stream, int pid, int tid,
                                 const std::string &transfer_id) {
  Stream s;
  s.pid = pid;
  s.tid = tid;
  s.transfer_id = transfer_id;
  s.slice_id = static_cast<int>(streams_.size()) + 1;
  stream_index_.emplace(StreamKey{&engine, stream}, streams_.size());
  streams_.push_back(std::move(s));
}

void TraceRecorder::watch_kernel(OsKernel &kernel, std::vector<int> component_pids) {
  component_pids_ = std::move(component_pids);
  host_pid_ = add_process("host kernel");
  kernel.set_step_observer(this);
}

TraceRecorder::StepTrack &TraceRecorder::step_track(StepActor actor) {
  const bool on_component = actor.kind != StepActor::Kind::Kernel && actor.component >= 0 &&
                            static_cast<std::size_t>(actor.component) < component_pids_.size();
  // An actor the recorder was not told about (no component) goes on the kernel's process.
  auto key = std::make_pair(actor.kind, on_component ? actor.component : -1);
  auto it = step_tracks_.find(key);
  if (it != step_tracks_.end())
    return it->second;
  StepTrack track;
  track.pid = on_component ? component_pids_[static_cast<std::size_t>(actor.component)] : host_pid_;
  track.name = actor_track_name(actor.kind);
  return step_tracks_.emplace(key, std::move(track)).first->second;
}

// The first lane whose slices all ended by `start_ns`; a new one when every lane is busy
// (an actor doing two things at once: two migrations in flight, an invalidation during a
// fault), so that slices on one thread never overlap.
int TraceRecorder::lane_for(StepTrack &track, std::int64_t start_ns, std::int64_t end_ns) {
  for (auto &[tid, busy_until_ns] : track.lanes)
    if (start_ns >= busy_until_ns) {
      busy_until_ns = end_ns;
      return tid;
    }
  std::string name =
      track.lanes.empty() ? track.name : fmt::format("{} {}", track.name, track.lanes.size() + 1);
  int tid = add_thread(track.pid, name);
  track.lanes.emplace_back(tid, end_ns);
  return tid;
}

void TraceRecorder::kernel_step(StepActor actor, const char *name, TimeKind kind,
                                std::int64_t start_ps, std::int64_t end_ps, StepArgs args) {
  end_ps = std::max(start_ps, end_ps);
  const std::int64_t start_ns = ns_of_ps(start_ps), end_ns = ns_of_ps(end_ps);
  if (!in_window(start_ns, end_ns) || !take_budget(step_budget_, start_ps))
    return;
  StepTrack &track = step_track(actor);
  std::string arg_text;
  for (const auto &[key, value] : args)
    arg_text += fmt::format("{}{}:{}", arg_text.empty() ? "" : ",", json_string(key), value);
  // The category is what the breakdown charged the step to, so slices of one category add
  // up to that part of the breakdown where the steps do not overlap.
  const char *category = kind == TimeKind::Count ? "mechanism" : time_kind_name(kind);
  if (end_ps == start_ps) { // a moment, not a span: an instant on the actor's first lane
    const int tid = track.lanes.empty() ? lane_for(track, start_ns, end_ns) : track.lanes[0].first;
    event(fmt::format(R"("ph":"i","s":"t","cat":"{}","name":{},"pid":{},"tid":{},"ts":{},)"
                      R"("args":{{{}}})",
                      category, json_string(name), track.pid, tid, us(start_ns), arg_text));
    return;
  }
  const int tid = lane_for(track, start_ns, end_ns);
  event(fmt::format(R"("ph":"X","cat":"{}","name":{},"pid":{},"tid":{},"ts":{},"dur":{},)"
                    R"("args":{{{}}})",
                    category, json_string(name), track.pid, tid, us(start_ns),
                    us(end_ns - start_ns), arg_text));
}

void TraceRecorder::instant(const std::string &component, const std::string &name,
                            std::int64_t at_ps, const nlohmann::ordered_json &args) {
  auto it = pid_of_.find(component);
  instant(it == pid_of_.end() ? 0 : it->second, 0, name, at_ps, args);
}

void TraceRecorder::instant(int pid, int tid, const std::string &name, std::int64_t at_ps,
                            const nlohmann::ordered_json &args) {
  if (!in_window(ns_of_ps(at_ps), ns_of_ps(at_ps)))
    return;
  // Scope "p" draws on the process track when no thread is named, "t" on the thread's.
  event(fmt::format(R"("ph":"i","s":"{}","cat":"event","name":{},"pid":{},"tid":{},"ts":{},)"
                    R"("args":{})",
                    tid == 0 ? "p" : "t", json_string(name), pid, tid, us(ns_of_ps(at_ps)),
                    args.dump()));
}

bool TraceRecorder::take_budget(Budget &budget, std::int64_t at_ps) {
  if (budget.used < options_.max_detail_events) {
    ++budget.used;
    return true;
  }
  if (!budget.capped) {
    budget.capped = capped_ = true;
    nlohmann::ordered_json args;
    args["limit"] = options_.max_detail_events;
    args["note"] = &budget == &step_budget_
                       ? "later mechanism steps are not recorded"
                       : "later TLP and per-transfer events are not recorded; counters, "
                         "whole-transfer slices and mechanism steps continue";
    event(fmt::format(R"("ph":"i","s":"g","cat":"trace","name":"trace capped","pid":0,)"
                      R"("tid":0,"ts":{},"args":{})",
                      us(ns_of_ps(at_ps)), args.dump()));
  }
  return false;
}

// Buckets are shared by every direction: when the run outgrows them, all double at once so
// the counter tracks keep one resolution.
void TraceRecorder::ensure_bucket(std::size_t bucket) {
  while (bucket >= options_.max_buckets) {
    bucket_ps_ *= 2;
    bucket /= 2;
    for (Direction &d : directions_) {
      for (std::size_t i = 0; i < d.busy_fs.size(); i += 2)
        d.busy_fs[i / 2] = d.busy_fs[i] + (i + 1 < d.busy_fs.size() ? d.busy_fs[i + 1] : 0);
      d.busy_fs.resize((d.busy_fs.size() + 1) / 2);
      for (std::size_t i = 0; i < d.depth_max.size(); i += 2)
        d.depth_max[i / 2] =
            std::max(d.depth_max[i], i + 1 < d.depth_max.size() ? d.depth_max[i + 1] : 0);
      d.depth_max.resize((d.depth_max.size() + 1) / 2);
    }
  }
}

void TraceRecorder::tlp_on_wire(const LinkDirection &direction, const TlpExtension &tlp,
                                std::int64_t start_fs, std::int64_t end_fs) {
  auto found = direction_of_.find(&direction);
  if (found == direction_of_.end())
    return;
  ensure_bucket(
      static_cast<std::size_t>(std::max<std::int64_t>(0, end_fs - 1) / (bucket_ps_ * kFsPerPs)));
  Direction &d = directions_[found->second];
  const std::int64_t bucket_fs = bucket_ps_ * kFsPerPs;
  for (std::int64_t from = start_fs; from < end_fs;) {
    std::size_t b = static_cast<std::size_t>(from / bucket_fs);
    std::int64_t to = std::min(end_fs, static_cast<std::int64_t>(b + 1) * bucket_fs);
    if (d.busy_fs.size() <= b)
      d.busy_fs.resize(b + 1, 0);
    d.busy_fs[b] += to - from;
    from = to;
  }
  const std::int64_t start_ns = ns_of_fs(start_fs), end_ns = ns_of_fs(end_fs);
  if (!in_window(start_ns, end_ns) || !take_budget(detail_budget_, start_fs / kFsPerPs))
    return;
  event(fmt::format(R"("ph":"X","cat":"tlp","name":"{}","pid":{},"tid":{},"ts":{},"dur":{},)"
                    R"("args":{{"payload_bytes":{},"tag":{},"address":"{:#x}","wire_fs":{}}})",
                    tlp_type_name(tlp.type), d.pid, d.tid, us(start_ns), us(end_ns - start_ns),
                    tlp.payload_bytes, tlp.tag, tlp.address, end_fs - start_fs));
}

void TraceRecorder::queue_depth_changed(const LinkDirection &direction, std::uint64_t depth,
                                        std::int64_t at_fs) {
  auto found = direction_of_.find(&direction);
  if (found == direction_of_.end())
    return;
  ensure_bucket(static_cast<std::size_t>(at_fs / (bucket_ps_ * kFsPerPs)));
  Direction &d = directions_[found->second];
  std::size_t b = static_cast<std::size_t>(at_fs / (bucket_ps_ * kFsPerPs));
  // Buckets since the last change held the depth of then, at least.
  while (d.depth_max.size() <= b)
    d.depth_max.push_back(d.depth);
  d.depth_max[b] = std::max(d.depth_max[b], depth);
  d.depth = depth;
}

std::size_t TraceRecorder::stream_of(const DmaEngine &engine, int stream) {
  auto it = stream_index_.find(StreamKey{&engine, stream});
  if (it != stream_index_.end())
    return it->second;
  // A stream nobody registered: it goes on the trace's own process.
  Stream s;
  s.transfer_id = std::string(engine.name()) + " stream " + std::to_string(stream);
  s.slice_id = static_cast<int>(streams_.size()) + 1;
  stream_index_.emplace(StreamKey{&engine, stream}, streams_.size());
  streams_.push_back(std::move(s));
  return streams_.size() - 1;
}

void TraceRecorder::transfer_started(const DmaEngine &engine, int stream, std::uint64_t index,
                                     std::int64_t at_ps) {
  std::size_t si = stream_of(engine, stream);
  Stream &s = streams_[si];
  if (!s.begun) {
    s.begun = true;
    s.begin_ps = at_ps;
  }
  open_transfers_.emplace(std::make_pair(si, index), at_ps);
}

bool TraceRecorder::async_slice(const char *category, const std::string &name, std::uint64_t id,
                                int pid, int tid, std::int64_t begin_ps, std::int64_t end_ps,
                                const std::string &begin_args, const std::string &end_args,
                                bool capped) {
  if (!in_window(ns_of_ps(begin_ps), ns_of_ps(end_ps)) ||
      (capped && !take_budget(detail_budget_, begin_ps)))
    return false;
  for (bool begin : {true, false})
    event(fmt::format(R"("ph":"{}","cat":"{}","name":{},"id":{},"pid":{},"tid":{},"ts":{},)"
                      R"("args":{})",
                      begin ? "b" : "e", category, json_string(name), id, pid, tid,
                      us(ns_of_ps(begin ? begin_ps : end_ps)), begin ? begin_args : end_args));
  return true;
}

void TraceRecorder::transfer_finished(const DmaEngine &engine, int stream, std::uint64_t index,
                                      std::int64_t at_ps, bool failed) {
  std::size_t si = stream_of(engine, stream);
  auto it = open_transfers_.find(std::make_pair(si, index));
  if (it == open_transfers_.end())
    return;
  const std::int64_t begin_ps = it->second;
  open_transfers_.erase(it);
  const Stream &s = streams_[si];
  if (async_slice("transfer", s.transfer_id, next_async_id_, s.pid, s.tid, begin_ps, at_ps,
                  fmt::format(R"({{"index":{}}})", index),
                  fmt::format(R"({{"failed":{}}})", failed ? "true" : "false"), true))
    ++next_async_id_;
}

void TraceRecorder::transfer_failed(const DmaEngine &engine, int stream, std::uint64_t index,
                                    const std::string &error, std::int64_t at_ps) {
  const Stream &s = streams_[stream_of(engine, stream)];
  nlohmann::ordered_json args;
  args["transfer"] = s.transfer_id;
  args["index"] = index;
  args["error"] = error;
  instant(s.pid, s.tid, "transfer failed", at_ps, args);
}

void TraceRecorder::stream_finished(const DmaEngine &engine, int stream, std::int64_t at_ps) {
  Stream &s = streams_[stream_of(engine, stream)];
  if (!s.begun || s.ended)
    return;
  s.ended = true;
  async_slice("stream", s.transfer_id + " (all)", static_cast<std::uint64_t>(s.slice_id), s.pid,
              s.tid, s.begin_ps, at_ps,
              fmt::format(R"({{"transfer":{}}})", json_string(s.transfer_id)), "{}", false);
}

// One counter track of a link direction: the value of each of `buckets` buckets, written only
// where it changes, then `zero` after the last.
void TraceRecorder::write_counter_track(const Direction &d, const char *track, const char *arg,
                                        std::size_t buckets, const std::string &zero,
                                        const std::function<std::string(std::size_t)> &value_at) {
  std::string last;
  // Buckets before the window are skipped; the first in it says the value it starts with.
  const std::size_t first = static_cast<std::size_t>(options_.window.from_ps / bucket_ps_);
  for (std::size_t b = first; b <= buckets; ++b) {
    if (static_cast<std::int64_t>(b) * bucket_ps_ >= options_.window.to_ps)
      break;
    std::string value = b < buckets ? value_at(b) : zero;
    if (value == last)
      continue;
    last = value;
    event(fmt::format(R"("ph":"C","cat":"link","name":{},"pid":{},"tid":{},"ts":{},)"
                      R"("args":{{"{}":{}}})",
                      json_string(d.label + track), d.pid, d.tid,
                      us(ns_of_ps(static_cast<std::int64_t>(b) * bucket_ps_)), arg, value));
  }
}

// Counters are step functions: a value is written only where it changes, and each track
// returns to 0 after the last bucket.
void TraceRecorder::write_counters(std::int64_t end_ps) {
  const std::int64_t bucket_fs = bucket_ps_ * kFsPerPs;
  std::size_t end_bucket = static_cast<std::size_t>(std::max<std::int64_t>(0, end_ps) / bucket_ps_);
  for (Direction &d : directions_) {
    bool busy_ever =
        std::any_of(d.busy_fs.begin(), d.busy_fs.end(), [](std::int64_t v) { return v > 0; });
    if (busy_ever)
      write_counter_track(d, " busy", "fraction", d.busy_fs.size(), "0.0000", [&](std::size_t b) {
        return fmt::format("{:.4f}", static_cast<double>(d.busy_fs[b]) / bucket_fs);
      });
    if (d.depth_max.empty())
      continue;
    while (d.depth_max.size() <= end_bucket)
      d.depth_max.push_back(d.depth);
    write_counter_track(d, " queue", "tlps", d.depth_max.size(), "0",
                        [&](std::size_t b) { return std::to_string(d.depth_max[b]); });
  }
}

std::string TraceRecorder::finish(std::int64_t end_ps) {
  // A stalled run leaves slices open; they end where the run stopped.
  for (const auto &[key, begin_ps] : open_transfers_) {
    const Stream &s = streams_[key.first];
    if (async_slice("transfer", s.transfer_id, next_async_id_, s.pid, s.tid, begin_ps, end_ps,
                    fmt::format(R"({{"index":{}}})", key.second), R"({"unfinished":true})", true))
      ++next_async_id_;
  }
  open_transfers_.clear();
  for (Stream &s : streams_) {
    if (s.begun && !s.ended) {
      s.ended = true;
      async_slice("stream", s.transfer_id + " (all)", static_cast<std::uint64_t>(s.slice_id), s.pid,
                  s.tid, s.begin_ps, end_ps,
                  fmt::format(R"({{"transfer":{}}})", json_string(s.transfer_id)),
                  R"({"unfinished":true})", false);
    }
  }
  write_counters(end_ps);
  std::string body = events_;
  if (body.size() >= 2)
    body.resize(body.size() - 2); // the last ",\n"
  nlohmann::ordered_json other;
  other["generator"] = std::string("pciesim ") + PCIESIM_VERSION;
  other["run"] = run_name_;
  other["counter_bucket_ns"] = bucket_ps_ / 1000;
  other["detail_event_cap"] = options_.max_detail_events;
  other["capped"] = capped_;
  if (!options_.window.whole()) {
    other["window_from_ns"] = ns_of_ps(options_.window.from_ps);
    if (options_.window.to_ps != TraceWindow().to_ps)
      other["window_to_ns"] = ns_of_ps(options_.window.to_ps);
  }
  return "{\"traceEvents\":[\n" + body +
         "\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":" + other.dump() + "}\n";
}

} // namespace pciesim
