#include "sim/run/trace.h"

#include <algorithm>

#include <fmt/format.h>

namespace pciesim {
namespace {

constexpr std::int64_t kFsPerPs = 1000;

// Perfetto keeps nanoseconds; rounding is monotone, so slices that touch or follow each
// other in femtoseconds never overlap once rounded.
std::int64_t ns_of_ps(std::int64_t ps) { return (std::max<std::int64_t>(0, ps) + 500) / 1000; }
std::int64_t ns_of_fs(std::int64_t fs) {
  return (std::max<std::int64_t>(0, fs) + 500000) / 1000000;
}

// Microseconds as fixed decimals of integer nanoseconds: exact, and the same bytes every run
// (ecosystem.md §3: no %g, no double round trip).
std::string us(std::int64_t ns) { return fmt::format("{}.{:03}", ns / 1000, ns % 1000); }

std::string json_string(const std::string &s) { return nlohmann::json(s).dump(); }

} // namespace

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

void TraceRecorder::instant(const std::string &component, const std::string &name,
                            std::int64_t at_ps, const nlohmann::ordered_json &args) {
  auto it = pid_of_.find(component);
  instant(it == pid_of_.end() ? 0 : it->second, 0, name, at_ps, args);
}

void TraceRecorder::instant(int pid, int tid, const std::string &name, std::int64_t at_ps,
                            const nlohmann::ordered_json &args) {
  // Scope "p" draws on the process track when no thread is named, "t" on the thread's.
  event(fmt::format(R"("ph":"i","s":"{}","cat":"event","name":{},"pid":{},"tid":{},"ts":{},)"
                    R"("args":{})",
                    tid == 0 ? "p" : "t", json_string(name), pid, tid, us(ns_of_ps(at_ps)),
                    args.dump()));
}

bool TraceRecorder::take_detail_budget(std::int64_t at_ps) {
  if (detail_events_ < options_.max_detail_events) {
    ++detail_events_;
    return true;
  }
  if (!capped_) {
    capped_ = true;
    nlohmann::ordered_json args;
    args["limit"] = options_.max_detail_events;
    args["note"] = "later TLP and per-transfer events are not recorded; counters and "
                   "whole-transfer slices continue";
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
  if (!take_detail_budget(start_fs / kFsPerPs))
    return;
  std::int64_t start_ns = ns_of_fs(start_fs);
  std::int64_t end_ns = ns_of_fs(end_fs);
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
    event(fmt::format(R"("ph":"b","cat":"stream","name":{},"id":{},"pid":{},"tid":{},"ts":{},)"
                      R"("args":{{"transfer":{}}})",
                      json_string(s.transfer_id + " (all)"), s.slice_id, s.pid, s.tid,
                      us(ns_of_ps(at_ps)), json_string(s.transfer_id)));
  }
  if (!take_detail_budget(at_ps))
    return;
  std::uint64_t id = next_async_id_++;
  open_transfers_.emplace(std::make_pair(si, index), id);
  event(fmt::format(R"("ph":"b","cat":"transfer","name":{},"id":{},"pid":{},"tid":{},"ts":{},)"
                    R"("args":{{"index":{}}})",
                    json_string(s.transfer_id), id, s.pid, s.tid, us(ns_of_ps(at_ps)), index));
}

void TraceRecorder::transfer_finished(const DmaEngine &engine, int stream, std::uint64_t index,
                                      std::int64_t at_ps, bool failed) {
  std::size_t si = stream_of(engine, stream);
  auto it = open_transfers_.find(std::make_pair(si, index));
  if (it == open_transfers_.end())
    return; // its begin fell beyond the cap
  const Stream &s = streams_[si];
  event(fmt::format(R"("ph":"e","cat":"transfer","name":{},"id":{},"pid":{},"tid":{},"ts":{},)"
                    R"("args":{{"failed":{}}})",
                    json_string(s.transfer_id), it->second, s.pid, s.tid, us(ns_of_ps(at_ps)),
                    failed ? "true" : "false"));
  open_transfers_.erase(it);
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
  event(fmt::format(R"("ph":"e","cat":"stream","name":{},"id":{},"pid":{},"tid":{},"ts":{},)"
                    R"("args":{{}})",
                    json_string(s.transfer_id + " (all)"), s.slice_id, s.pid, s.tid,
                    us(ns_of_ps(at_ps))));
}

// One counter track of a link direction: the value of each of `buckets` buckets, written only
// where it changes, then `zero` after the last.
void TraceRecorder::write_counter_track(const Direction &d, const char *track, const char *arg,
                                        std::size_t buckets, const std::string &zero,
                                        const std::function<std::string(std::size_t)> &value_at) {
  std::string last;
  for (std::size_t b = 0; b <= buckets; ++b) {
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
  // A stalled run leaves slices open; close them where the run stopped so every b has its e.
  for (const auto &[key, id] : open_transfers_) {
    const Stream &s = streams_[key.first];
    event(fmt::format(R"("ph":"e","cat":"transfer","name":{},"id":{},"pid":{},"tid":{},"ts":{},)"
                      R"("args":{{"unfinished":true}})",
                      json_string(s.transfer_id), id, s.pid, s.tid, us(ns_of_ps(end_ps))));
  }
  open_transfers_.clear();
  for (Stream &s : streams_) {
    if (s.begun && !s.ended) {
      s.ended = true;
      event(fmt::format(R"("ph":"e","cat":"stream","name":{},"id":{},"pid":{},"tid":{},"ts":{},)"
                        R"("args":{{"unfinished":true}})",
                        json_string(s.transfer_id + " (all)"), s.slice_id, s.pid, s.tid,
                        us(ns_of_ps(end_ps))));
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
  return "{\"traceEvents\":[\n" + body +
         "\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":" + other.dump() + "}\n";
}

} // namespace pciesim
