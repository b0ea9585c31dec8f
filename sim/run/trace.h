// Chrome/Perfetto trace-event JSON of a run (`pciesim run --trace FILE`), opened by
// ui.perfetto.dev. docs/reports.md describes the tracks; the format rules this obeys are the
// Trace Event Format document (Google, as linked from the Perfetto docs) and Perfetto's JSON
// importer (docs "Visualizing external trace formats").
//
// The recorder watches models through their observer pointers (LinkObserver, DmaObserver,
// the OS kernel's StepObserver), which stay null when no trace is asked for, so an untraced
// run pays one pointer test per TLP or kernel step. It never touches the models, so a traced
// run has the same results.
//
// Layout: one process (pid) per component and per link, and one for the host kernel; a
// thread (tid) per link direction, per scenario transfer, and per mechanism actor (the
// kernel's CPU, a GPU's driver, a NIC's driver). TLPs on the wire and mechanism steps (a
// fault, a migration's collect/copy/finalize, a TLB shootdown, a notifier invalidation, a
// registration) are complete events ("X", never overlapping on one thread: an actor whose
// steps overlap gets a second lane); each DMA transfer is an async slice ("b"/"e"); link
// utilisation and queue depth are counters ("C") per time bucket; errors are instants ("i").
// The number of TLP, per-transfer and step events is capped, and a time window may keep only
// the events that overlap it, so that a long run still gives a file a browser can open.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/common/units.h"
#include "models/dma/dma_engine.h"
#include "models/os/os_kernel.h"
#include "models/pcie/link.h"

namespace pciesim {

// The span of simulated time a trace keeps, [from_ps, to_ps): an event is kept when it
// overlaps it (an instant when it falls in it). The default keeps everything.
struct TraceWindow {
  std::int64_t from_ps = 0;
  std::int64_t to_ps = std::numeric_limits<std::int64_t>::max();
  bool whole() const { return from_ps == 0 && to_ps == std::numeric_limits<std::int64_t>::max(); }
  bool overlaps(std::int64_t start_ps, std::int64_t end_ps) const {
    return start_ps == end_ps ? start_ps >= from_ps && start_ps < to_ps
                              : start_ps < to_ps && end_ps > from_ps;
  }
};
// "FROM..TO" with times in units ("10us..2ms", "10 us..", "..2 ms"); either side may be
// empty (from the start, to the end). The error says what was expected.
Parsed<TraceWindow> parse_trace_window(const std::string &text);

struct TraceOptions {
  // TLP ("X") events plus per-transfer slices ("b"/"e" pairs) written at most, and as many
  // mechanism steps apart; later ones are dropped and an instant "trace capped" says from
  // when. Counters are never capped.
  std::uint64_t max_detail_events = 200000;
  TraceWindow window;
  // Counter bucket; doubled (buckets merged) whenever a run needs more than max_buckets.
  std::int64_t bucket_ps = 1000000;
  std::size_t max_buckets = 4096;
};

class TraceRecorder : public LinkObserver, public DmaObserver, public StepObserver {
public:
  explicit TraceRecorder(const std::string &run_name, TraceOptions options = {});

  // Registration, during elaboration. Ids are handed out in call order, so the same
  // elaboration gives the same ids (and the same bytes).
  int add_process(const std::string &name);
  int add_thread(int pid, const std::string &name);
  void watch_link(LinkDirection &direction, int pid, int tid, const std::string &label);
  void watch_stream(DmaEngine &engine, int stream, int pid, int tid,
                    const std::string &transfer_id);
  // The kernel's mechanism steps; `component_pids` by component index (a GPU's or NIC's
  // steps go on its process). The kernel's own get a process "host kernel".
  void watch_kernel(OsKernel &kernel, std::vector<int> component_pids);

  // A notable moment on a component's track: an error, later a fault or a migration.
  // `component` is a name given to add_process; tid 0 is the process track.
  void instant(const std::string &component, const std::string &name, std::int64_t at_ps,
               const nlohmann::ordered_json &args = nlohmann::ordered_json::object());
  void instant(int pid, int tid, const std::string &name, std::int64_t at_ps,
               const nlohmann::ordered_json &args = nlohmann::ordered_json::object());

  // LinkObserver
  void tlp_on_wire(const LinkDirection &direction, const TlpExtension &tlp, std::int64_t start_fs,
                   std::int64_t end_fs) override;
  void queue_depth_changed(const LinkDirection &direction, std::uint64_t depth,
                           std::int64_t at_fs) override;
  // DmaObserver
  void transfer_started(const DmaEngine &engine, int stream, std::uint64_t index,
                        std::int64_t at_ps) override;
  void transfer_finished(const DmaEngine &engine, int stream, std::uint64_t index,
                         std::int64_t at_ps, bool failed) override;
  void transfer_failed(const DmaEngine &engine, int stream, std::uint64_t index,
                       const std::string &error, std::int64_t at_ps) override;
  void stream_finished(const DmaEngine &engine, int stream, std::int64_t at_ps) override;
  // StepObserver
  void kernel_step(StepActor actor, const char *name, TimeKind kind, std::int64_t start_ps,
                   std::int64_t end_ps, StepArgs args) override;

  // The whole trace as JSON text. Slices still open (a stalled run) end at `end_ps`.
  std::string finish(std::int64_t end_ps);

  bool capped() const { return capped_; }

private:
  struct Direction {
    int pid = 0, tid = 0;
    std::string label;
    std::vector<std::int64_t> busy_fs;    // per bucket
    std::vector<std::uint64_t> depth_max; // per bucket, filled up to the last change
    std::uint64_t depth = 0;              // now
  };
  struct Stream {
    int pid = 0, tid = 0;
    std::string transfer_id;
    int slice_id = 0; // of the whole-stream slice
    bool begun = false, ended = false;
    std::int64_t begin_ps = 0; // of the whole-stream slice, written when it ends
  };
  using StreamKey = std::pair<const DmaEngine *, int>;
  // An actor's steps: lanes (threads) of non-overlapping slices, each with where it ends.
  struct StepTrack {
    int pid = 0;
    std::string name;
    std::vector<std::pair<int, std::int64_t>> lanes; // (tid, end ns)
  };

  // Events of one kind written so far, against max_detail_events.
  struct Budget {
    std::uint64_t used = 0;
    bool capped = false;
  };
  bool take_budget(Budget &budget, std::int64_t at_ps);
  // Whether an event of these (rounded) times is kept: the window is applied to the times
  // the file shows, so that what it keeps is exactly what overlaps it there.
  bool in_window(std::int64_t start_ns, std::int64_t end_ns) const {
    return options_.window.overlaps(start_ns * 1000, end_ns * 1000);
  }
  void ensure_bucket(std::size_t bucket);
  void event(const std::string &body); // one event object, without braces
  void write_counter_track(const Direction &d, const char *track, const char *arg,
                           std::size_t buckets, const std::string &zero,
                           const std::function<std::string(std::size_t)> &value_at);
  std::size_t stream_of(const DmaEngine &engine, int stream);
  void write_counters(std::int64_t end_ps);
  // The async slice [begin_ps, end_ps) as its b and e, if it overlaps the window and (when
  // `capped`) the detail budget allows it; true when written.
  bool async_slice(const char *category, const std::string &name, std::uint64_t id, int pid,
                   int tid, std::int64_t begin_ps, std::int64_t end_ps,
                   const std::string &begin_args, const std::string &end_args, bool capped);
  StepTrack &step_track(StepActor actor);
  int lane_for(StepTrack &track, std::int64_t start_ns, std::int64_t end_ns);

  TraceOptions options_;
  std::string run_name_;
  std::string events_;
  std::map<std::string, int> pid_of_;
  int next_pid_ = 1;
  int next_tid_ = 1;
  std::vector<Direction> directions_;
  std::unordered_map<const LinkDirection *, std::size_t> direction_of_;
  // In registration order, so that walking them is the same every run (not pointer order).
  std::vector<Stream> streams_;
  std::map<StreamKey, std::size_t> stream_index_;
  // Open per-transfer slices: (stream, transfer index) -> start; written when they end, so
  // that the window and the cap see the whole slice.
  std::map<std::pair<std::size_t, std::uint64_t>, std::int64_t> open_transfers_;
  std::vector<int> component_pids_;
  std::map<std::pair<StepActor::Kind, int>, StepTrack> step_tracks_;
  int host_pid_ = 0; // the host kernel's process (the trace's own until watch_kernel)
  std::uint64_t next_async_id_ = 1;
  // TLPs and per-transfer slices share one budget; mechanism steps, far fewer and what a
  // workload's trace is read for, have their own, so that they outlive the TLPs' cap.
  Budget detail_budget_, step_budget_;
  bool capped_ = false;
  std::int64_t bucket_ps_;
};

// Forwards link events to two observers (the JSON trace and the VCD); either may be null.
class LinkObserverPair : public LinkObserver {
public:
  LinkObserverPair(LinkObserver *first, LinkObserver *second) : first_(first), second_(second) {}
  void tlp_on_wire(const LinkDirection &d, const TlpExtension &tlp, std::int64_t start_fs,
                   std::int64_t end_fs) override {
    if (first_)
      first_->tlp_on_wire(d, tlp, start_fs, end_fs);
    if (second_)
      second_->tlp_on_wire(d, tlp, start_fs, end_fs);
  }
  void queue_depth_changed(const LinkDirection &d, std::uint64_t depth,
                           std::int64_t at_fs) override {
    if (first_)
      first_->queue_depth_changed(d, depth, at_fs);
    if (second_)
      second_->queue_depth_changed(d, depth, at_fs);
  }

private:
  LinkObserver *first_, *second_;
};

} // namespace pciesim
