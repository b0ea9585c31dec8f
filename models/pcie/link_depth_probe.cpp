// A link direction's depth probe: with an observer (traces), it reports the queue depth on
// time at the arrivals of TLPs a switch took ahead and at the starts decided ahead, as a
// process of its own so that observing changes none of the link's wake-ups.
#include "models/common/sim_time.h"
#include "models/pcie/link.h"

namespace pciesim {

void LinkDirection::set_observer(LinkObserver *observer) {
  observer_ = observer;
  if (observer_ && !depth_probe_)
    depth_probe_ = std::make_unique<DepthProbe>(*this);
}

void LinkDirection::DepthProbe::arrival_expected(std::int64_t at_fs) {
  arrivals_.push(Ahead{at_fs});
  direction_.calendar_.wake_at(*this, at_fs / kFsPerPs);
}

void LinkDirection::DepthProbe::start_decided(const tlm::tlm_generic_payload &gp,
                                              std::int64_t start_fs, std::int64_t end_fs) {
  Start start;
  start.start_fs = start_fs;
  start.end_fs = end_fs;
  static_cast<TlpFields &>(start.tlp) = tlp_of(gp);
  starts_.push_back(start);
  direction_.calendar_.wake_at(*this, start_fs / kFsPerPs);
}

void LinkDirection::DepthProbe::run() {
  const LinkDirection &d = direction_;
  const std::int64_t now_fs = now_ps() * kFsPerPs;
  std::size_t arrived = 0;
  while (arrived < d.ahead_.size() && d.ahead_[arrived].at_fs <= now_fs)
    ++arrived;
  std::size_t started = 0;
  while (started < starts_.size() && starts_[started].start_fs <= now_fs)
    ++started;
  bool arrival_now = false; // woken (also) for an arrival: this picosecond's, or earlier
  while (!arrivals_.empty() && arrivals_.top().at_fs / kFsPerPs <= now_fs / kFsPerPs) {
    arrivals_.pop();
    arrival_now = true;
  }
  // Queued now: what the queues hold, less what was taken ahead and has not arrived yet, plus
  // what was started ahead and has not started yet. An arrival at a start's own picosecond
  // counts before the start, as the link counts it.
  const std::uint64_t held = d.all_queued() - (d.ahead_.size() - arrived);
  const std::uint64_t later = starts_.size() - started;
  LinkObserver *observer = d.observer_;
  if (!observer) { // taken away: nothing more to report
    starts_.clear();
    return;
  }
  if (arrival_now)
    observer->queue_depth_changed(d, held + later + started, now_fs);
  for (std::size_t i = 0; i < started; ++i) {
    observer->tlp_on_wire(d, starts_.front().tlp, now_fs, starts_.front().end_fs);
    starts_.pop_front();
    observer->queue_depth_changed(d, held + later + started - 1 - i, now_fs);
  }
  if (!starts_.empty())
    d.calendar_.wake_at(*this, starts_.front().start_fs / kFsPerPs);
  if (!arrivals_.empty())
    d.calendar_.wake_at(*this, arrivals_.top().at_fs / kFsPerPs);
}

} // namespace pciesim
