#include "models/pcie/link.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "models/common/sim_time.h"
#include "models/pcie/completion.h"

namespace pciesim {

LinkDirection::LinkDirection(Link &link, SimContext &context, const std::string &name,
                             const TrainedLink &trained, const ReceiveCredits &receiver_buffers)
    : calendar_(context.calendar), pool_(context.pool), limits_(receiver_buffers),
      name_(std::string(link.basename()) + "." + name), trained_(trained),
      in((name + "_in").c_str()), out((name + "_out").c_str()) {
  in.bind(*this);
  out.bind(*this);
  usable_bps_ = pciesim::usable_bytes_per_second(trained.shape, trained.overheads);
  // In FLIT mode the usable rate already excludes FLIT overhead, and wire bytes are TLP bytes.
  fs_per_wire_byte_ = 1e15 / usable_bps_;
  flight_fs_ = trained.flight_latency.ps * kFsPerPs;
  // An UpdateFC DLLP crosses back: its serialization plus the flight latency.
  credit_return_fs_ =
      flight_fs_ +
      static_cast<std::int64_t>(std::llround(trained.overheads.dllp_bytes * fs_per_wire_byte_));
  // Each TLP is answered by an ACK and an UpdateFC DLLP, unless the link already charges its
  // DLLPs in its rate (an end counting the intervals in bytes) or carries them in its FLITs.
  if (trained.overheads.ack_each_tlp &&
      trained.overheads.dllp_interval_unit == DllpIntervalUnit::symbol_time &&
      trained.shape.generation < 6)
    answer_fs_ = static_cast<std::int64_t>(
        std::llround(2.0 * trained.overheads.dllp_bytes * fs_per_wire_byte_));
  for (int c = 0; c < kFcClasses; ++c) {
    header_limited_[c] = limits_.header[c] != 0;
    data_limited_[c] = limits_.data[c] != 0;
    header_available_[c] = full_header_credits(c);
    data_available_[c] = full_data_credits(c);
  }
}

std::int64_t LinkDirection::serialization_fs(TlpType type, bool address_64bit,
                                             std::uint32_t payload) const {
  std::uint32_t bytes = tlp_wire_bytes(trained_.shape.generation, type, address_64bit, payload,
                                       trained_.overheads.ecrc);
  return static_cast<std::int64_t>(std::llround(bytes * fs_per_wire_byte_));
}

std::uint32_t LinkDirection::data_credits_of(const TlpExtension &tlp) {
  return data_credits_for(tlp.payload_bytes);
}

bool LinkDirection::has_credits(int fc, std::uint32_t data_credits) const {
  // An unlimited class holds kUnlimitedCredits, which no TLP's needs reach.
  return header_available_[fc] != 0 && data_available_[fc] >= data_credits;
}

void LinkDirection::absorb_credits(std::int64_t now_fs) {
  while (!credit_returns_.empty() && credit_returns_.top().at_fs <= now_fs) {
    const CreditReturn &r = credit_returns_.top();
    header_available_[r.fc_class] += r.header;
    data_available_[r.fc_class] += r.data;
    credit_returns_.pop();
  }
}

void LinkDirection::serialize(const TlpExtension &tlp, std::uint32_t &wire_bytes,
                              std::int64_t &ser_fs) {
  SerializedShape &last = last_shape_;
  if (last.type != static_cast<int>(tlp.type) || last.address_64bit != tlp.address_64bit ||
      last.payload != tlp.payload_bytes) {
    last.type = static_cast<int>(tlp.type);
    last.address_64bit = tlp.address_64bit;
    last.payload = tlp.payload_bytes;
    last.wire_bytes = tlp_wire_bytes(trained_.shape.generation, tlp.type, tlp.address_64bit,
                                     tlp.payload_bytes, trained_.overheads.ecrc);
    last.ser_fs = static_cast<std::int64_t>(std::llround(last.wire_bytes * fs_per_wire_byte_));
  }
  wire_bytes = last.wire_bytes;
  ser_fs = last.ser_fs;
}

tlm::tlm_generic_payload &LinkDirection::take_from_train() {
  Queued &head = queues_[kCompletionClass].top_for_update();
  tlm::tlm_generic_payload &train_gp = *head.gp;
  TlpExtension &train = tlp_of(train_gp);
  tlm::tlm_generic_payload &completion = train_take_next(pool_, train);
  if (train.request_bytes == 0) {
    queues_[kCompletionClass].pop();
    pool_.release(train_gp);
  } else {
    // The next completion had the next sequence number: the train's were taken together.
    head.seq += 1;
    head.data_credits = data_credits_for(train_next_bytes(train));
    --train_completions_;
  }
  return completion;
}

void LinkDirection::commit(int fc, std::int64_t now_fs, std::int64_t start_fs) {
  if (fc != kPostedClass)
    last_turn_ = fc;
  Queued q = queues_[fc].top();
  if (fc == kCompletionClass && is_completion_train(tlp_of(*q.gp)))
    q.gp = &take_from_train();
  else
    queues_[fc].pop();
  TlpExtension &tlp = tlp_of(*q.gp);
  if (header_limited_[fc])
    header_available_[fc] -= 1;
  if (data_limited_[fc])
    data_available_[fc] -= q.data_credits;
  std::uint32_t wire_bytes;
  std::int64_t ser;
  serialize(tlp, wire_bytes, ser);
  const std::int64_t end_fs = start_fs + ser;
  // DLLPs owed to the other direction went out while this one was idle; the rest follow
  // this TLP.
  std::int64_t answers_fs = 0;
  if (answers_owed_fs_ != 0) {
    answers_fs = std::max<std::int64_t>(0, answers_owed_fs_ - (start_fs - busy_until_fs_));
    answers_owed_fs_ = 0;
  }
  answered_by_->answers_owed_fs_ += answer_fs_;
  busy_until_fs_ = end_fs + answers_fs;
  tlp.last_hop_ser_fs = ser;
  stats_.tlps[static_cast<int>(tlp.type)] += 1;
  stats_.payload_bytes += tlp.payload_bytes;
  stats_.wire_bytes += wire_bytes;
  stats_.busy_fs += ser + answers_fs;
  if (observer_ && start_fs == now_fs) {
    observer_->tlp_on_wire(*this, tlp, start_fs, end_fs);
    observer_->queue_depth_changed(*this, depth_at(now_fs + 1), now_fs);
  } else if (observer_) {
    depth_probe_->start_decided(*q.gp, start_fs, end_fs); // reported when it happens
  }
  const std::int64_t arrival_fs = end_fs + flight_fs_;
  const bool offered = early_types_ >> static_cast<unsigned>(tlp.type) & 1u;
  if (!offered)
    put_on_wire(arrival_fs, q.gp);
  // The sender's buffer frees then.
  sender_.owner->tlp_departing(sender_.port, *q.gp, (start_fs - now_fs) / kFsPerPs);
  // Offered after the sender is done with it: the receiver rewrites the TLP's bookkeeping.
  // The arrival is the picosecond a delivery wake-up would have run at.
  if (!offered)
    return;
  if (!receiver_.owner->tlp_arriving(receiver_.port, *q.gp,
                                     ps_ceil_of_fs(arrival_fs) - now_fs / kFsPerPs))
    put_on_wire(arrival_fs, q.gp);
  else if (stand_ins_)
    put_on_wire(arrival_fs, nullptr);
}

int LinkDirection::next_class(std::int64_t at_fs, bool &lacking) const {
  lacking = false;
  // The head of queue `fc` if it may go at `at_fs`: ready, and holding its credits.
  auto eligible = [&](int fc) -> const Queued * {
    if (queues_[fc].empty())
      return nullptr;
    const Queued &head = queues_[fc].top();
    if (head.ready_fs > at_fs)
      return nullptr;
    if (!has_credits(fc, head.data_credits)) {
      lacking = true;
      return nullptr;
    }
    return &head;
  };
  const Queued *posted = eligible(kPostedClass);
  // Ordering (PCIe Base Spec Table 2-40, relaxed ordering off): nothing passes a posted
  // request, so one that is ready but lacks credits holds the other two classes.
  if (lacking)
    return -1;
  const Queued *request = eligible(kNonPostedClass);
  const Queued *completion = eligible(kCompletionClass);
  // A non-posted request and a completion may pass each other (Table 2-40), so the port's
  // arbiter serves the two queues in turn rather than by age: a read request waits behind at
  // most one completion, not behind a backlog of them (which a faster completer would only
  // have made longer). Against a posted head the older goes first, so that neither passes an
  // earlier posted request, and posted requests pass younger ones.
  int turn;
  const Queued *head;
  if (request && (!completion || last_turn_ == kCompletionClass)) {
    turn = kNonPostedClass;
    head = request;
  } else if (completion) {
    turn = kCompletionClass;
    head = completion;
  } else {
    return posted ? kPostedClass : -1;
  }
  return posted && *head > *posted ? kPostedClass : turn;
}

void LinkDirection::transmit_eligible(std::int64_t now_fs) {
  if (transmitting_)
    return; // the outer loop will see whatever was just queued
  transmitting_ = true;
  count_arrived(now_fs);
  absorb_credits(now_fs);
  // One TLP at a time: the next starts when the serializer is free, so a sender always
  // learns exactly when its buffer empties and arbitration sees every competitor.
  while (busy_until_fs_ <= now_fs) {
    bool lacking;
    int best = next_class(now_fs, lacking);
    if (best < 0)
      break;
    commit(best, now_fs, now_fs);
  }
  // Count a stall once per blocked head, when the serializer is idle and waits for credits.
  if (busy_until_fs_ <= now_fs) {
    for (int c = 0; c < kFcClasses; ++c) {
      if (queues_[c].empty())
        continue;
      const Queued &head = queues_[c].top();
      if (head.ready_fs <= now_fs && head.seq != stalled_seq_[c] &&
          !has_credits(c, head.data_credits)) {
        stalled_seq_[c] = head.seq;
        ++stats_.credit_stalls;
      }
    }
  }
  transmitting_ = false;
}

// Per TLP: flattened (docs/models.md, "Hot paths").
[[gnu::flatten]] void LinkDirection::run() {
  running_ = true;
  std::int64_t now_fs = now_ps() * kFsPerPs;
  while (!in_flight_.empty() && in_flight_.front().arrival_fs <= now_fs) {
    tlm::tlm_generic_payload *gp = in_flight_.front().gp;
    in_flight_.pop_front();
    if (gp) {
      --to_deliver_;
      receiver_.owner->tlp_arrived(receiver_.port, *gp);
    }
  }
  // While the serializer is busy nothing can start, and what transmit_eligible settles on
  // the way (arrivals counted into the depth, returned credits) every later change to the
  // queues settles first: a wake-up for deliveries alone skips it.
  if (busy_until_fs_ <= now_fs)
    transmit_eligible(now_fs);
  if (lookahead_fs_ > 0)
    start_ahead(now_fs);
  running_ = false;
  reschedule(now_fs);
}

void LinkDirection::start_ahead(std::int64_t now_fs) {
  // Starts that passed before now and before every arrival still to count matter no more.
  const std::int64_t counted_fs = ahead_.empty() ? now_fs : std::min(now_fs, ahead_.top().at_fs);
  while (!started_ahead_.empty() && started_ahead_.top().at_fs < counted_fs)
    started_ahead_.pop();
  // Every TLP queued from now on is ready at the horizon or later, so none can compete for a
  // start before it. Nothing starts after the time limit, where the run stops.
  const std::int64_t horizon_fs = now_fs + lookahead_fs_;
  const std::int64_t limit_ps = calendar_.time_limit_ps();
  transmitting_ = true;
  for (;;) {
    // The next start: the first whole picosecond (the link's wake-ups are on picoseconds) at
    // which the serializer is free and a queue head ready.
    std::int64_t earliest_ready_fs = std::numeric_limits<std::int64_t>::max();
    for (int c = 0; c < kFcClasses; ++c)
      if (!queues_[c].empty())
        earliest_ready_fs = std::min(earliest_ready_fs, queues_[c].top().ready_fs);
    if (earliest_ready_fs == std::numeric_limits<std::int64_t>::max())
      break;
    const std::int64_t start_ps = ps_ceil_of_fs(std::max(busy_until_fs_, earliest_ready_fs));
    const std::int64_t start_fs = start_ps * kFsPerPs;
    // At or before now a head was left waiting (for credits): that is decided when it happens.
    if (start_fs <= now_fs || start_fs >= horizon_fs || start_ps > limit_ps)
      break;
    // transmit_eligible at start_fs, given every credit known to return by then. A ready head
    // that lacks credits ends it: a credit returned later could still arrive in time, and its
    // stall is counted when it happens.
    absorb_credits(start_fs);
    bool lacking;
    const int best = next_class(start_fs, lacking);
    if (lacking)
      break;
    commit(best, now_fs, start_fs);
    started_ahead_.push(StartedAhead{start_fs});
    last_ahead_start_fs_ = start_fs;
  }
  transmitting_ = false;
}

std::uint64_t LinkDirection::started_at_or_after_slow(std::int64_t at_fs) const {
  // The starts are sorted and the first is before at_fs: a binary search for the first that
  // is not (a link that decides many starts ahead holds dozens). Without branches: which half
  // it goes on in follows no pattern, and a mispredicted branch at each step cost more than
  // the selects.
  if (started_ahead_.size() == 1)
    return 0;
  std::size_t first = 1, length = started_ahead_.size() - 1;
  while (length > 1) {
    const std::size_t half = length / 2;
    const std::size_t mask = 0 - std::size_t{started_ahead_[first + half].at_fs < at_fs};
    first += half & mask;
    length -= half;
  }
  first += started_ahead_[first].at_fs < at_fs;
  return started_ahead_.size() - first;
}

void LinkDirection::reschedule(std::int64_t now_fs) {
  if (running_)
    return;               // run() computes the next wake-up once, at its end
  absorb_credits(now_fs); // so that a credit return the wake-up considers is a future one
  std::int64_t next = next_wake_fs(now_fs);
  // A wake-up already asked for at or before now (a delivery, or the serializer freeing)
  // still holds: the calendar keeps the earliest request.
  if (next >= 0)
    calendar_.wake_at(*this, ps_ceil_of_fs(next));
}

std::int64_t LinkDirection::next_wake_fs(std::int64_t now_fs) {
  // Everything due at or before now has been handled or is blocked, so only later moments
  // can change anything.
  constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::max();
  auto later = [now_fs](std::int64_t t) { return t > now_fs ? t : kNone; };
  // Stand-ins matter only with a TLP to deliver behind them; those that arrived are done.
  if (stand_ins_)
    while (!in_flight_.empty() && !in_flight_.front().gp && in_flight_.front().arrival_fs <= now_fs)
      in_flight_.pop_front();
  std::int64_t wake = to_deliver_ == 0 ? kNone : later(in_flight_.front().arrival_fs);
  bool queued = false;
  bool credit_blocked = false;
  for (int c = 0; c < kFcClasses; ++c) {
    if (queues_[c].empty())
      continue;
    queued = true;
    const Queued &head = queues_[c].top();
    wake = std::min(wake, later(head.ready_fs));
    credit_blocked |= !has_credits(c, head.data_credits);
  }
  credit_blocked_ = credit_blocked;
  if (queued)
    wake = std::min(wake, later(busy_until_fs_));
  // A returning credit matters only to a head that lacks credits now: while every head has
  // its credits, waking for a return would change nothing (and costs a kernel event per TLP).
  if (credit_blocked && !credit_returns_.empty())
    wake = std::min(wake, later(credit_returns_.top().at_fs));
  return wake == kNone ? -1 : wake;
}

tlm::tlm_sync_enum LinkDirection::nb_transport_fw(tlm::tlm_generic_payload &gp,
                                                  tlm::tlm_phase &phase, sc_core::sc_time &delay) {
  (void)phase;
  queue_tlp(gp, time_to_ps(delay));
  return tlm::TLM_ACCEPTED;
}

tlm::tlm_sync_enum LinkDirection::nb_transport_bw(tlm::tlm_generic_payload &gp,
                                                  tlm::tlm_phase &phase, sc_core::sc_time &delay) {
  (void)phase;
  buffer_freed(gp, time_to_ps(delay));
  return tlm::TLM_ACCEPTED;
}

// Per TLP: flattened (docs/models.md, "Hot paths").
[[gnu::flatten]] void LinkDirection::queue_tlp(tlm::tlm_generic_payload &gp,
                                               std::int64_t delay_ps) {
  std::int64_t now_fs = now_ps() * kFsPerPs;
  std::int64_t ready = now_fs + delay_ps * kFsPerPs;
  TlpExtension &tlp = tlp_of(gp);
  if (ready <= last_ahead_start_fs_)
    sent_inside_lookahead(ready);
  count_arrived(now_fs);
  const std::uint64_t seq = seq_++;
  const std::int64_t joined_fs = now_fs + tlp.arrives_after_ps * kFsPerPs;
  const int fc = static_cast<int>(fc_class(tlp.type));
  const std::uint32_t data_credits = data_credits_of(tlp);
  ArrivalOrderedQueue<Queued> &queue = queues_[fc];
  queue.push(Queued{ready, seq, data_credits, &gp, joined_fs});
  const bool new_head = queue.top().seq == seq;
  if (tlp.arrives_after_ps > 0) {
    // Taken ahead by a switch: it counts in the depth from its arrival at the switch on.
    tlp.arrives_after_ps = 0;
    ahead_.push(Ahead{joined_fs});
    if (depth_probe_)
      depth_probe_->arrival_expected(joined_fs);
  } else {
    joined_now(now_fs, 1);
  }
  if (ready <= now_fs) {
    transmit_eligible(now_fs);
    reschedule(now_fs);
  } else if (new_head) {
    new_head_queued(now_fs, ready, fc, data_credits, 1);
  }
  // Otherwise a TLP behind another of its class changes no queue head, so the wake-up asked
  // for after the last change still holds (and the flag of a credit-blocked head too).
}

inline void LinkDirection::joined_now(std::int64_t now_fs, std::uint32_t joined) {
  // TLPs started ahead at a later time are still queued now.
  const std::uint64_t depth = depth_at(now_fs + 1);
  stats_.max_queue_depth = std::max(stats_.max_queue_depth, depth);
  if (observer_)
    for (std::uint32_t i = joined; i-- > 0;)
      observer_->queue_depth_changed(*this, depth - i, now_fs);
}

inline void LinkDirection::new_head_queued(std::int64_t now_fs, std::int64_t ready_fs, int fc,
                                           std::uint32_t data_credits, std::uint64_t joined) {
  // reschedule() would ask for the earliest of what the last request covered (nothing that
  // changed since went without a new request) and what this TLP adds: its ready time, the
  // serializer's freeing if the queues were empty (next_wake_fs counts it only then), and
  // returning credits if it lacks credits while no head did. When the calendar already
  // holds a request no later, it would ignore the new one; asking would cost a wake-up
  // computation per TLP on a link whose sender queues each TLP before the one ahead of it
  // has arrived (a switch's egress, which already waits for that delivery).
  const std::int64_t asked_ps = calendar_.requested_ps(*this); // -1: none
  // The first femtosecond that rounds up to the time asked for, or later.
  const std::int64_t covered_from_fs =
      asked_ps < 0 ? std::numeric_limits<std::int64_t>::max() : asked_ps * kFsPerPs - kFsPerPs + 1;
  const bool covered =
      ready_fs >= covered_from_fs && !credit_blocked_ &&
      (all_queued() > joined || busy_until_fs_ <= now_fs || busy_until_fs_ >= covered_from_fs) &&
      has_credits(fc, data_credits);
  if (!covered)
    reschedule(now_fs);
}

std::uint32_t LinkDirection::queue_completions(tlm::tlm_generic_payload &request,
                                               std::uint16_t completer_id,
                                               std::uint32_t max_payload_bytes,
                                               std::uint32_t rcb_bytes, std::int64_t delay_ps) {
  TlpExtension &train = tlp_of(request);
  start_completion_train(train, completer_id, max_payload_bytes, rcb_bytes);
  const std::uint32_t completions = train_completions_left(train);
  const std::int64_t now_fs = now_ps() * kFsPerPs;
  const std::int64_t ready = now_fs + delay_ps * kFsPerPs;
  if (ready <= now_fs || completions == 0) {
    // Ready at once: the first may start at once, and its departure can queue more TLPs here
    // before the second joins; each is sent as it would be alone.
    while (train.request_bytes > 0)
      queue_tlp(train_take_next(pool_, train), delay_ps);
    pool_.release(request);
    return completions;
  }
  // As queue_tlp would do for each in turn, ready later: none starts while they join, so they
  // join together, with consecutive sequence numbers, the depth rising by one at each.
  if (ready <= last_ahead_start_fs_)
    sent_inside_lookahead(ready);
  count_arrived(now_fs);
  const std::uint64_t first_seq = seq_;
  seq_ += completions;
  const std::uint32_t data_credits = data_credits_for(train_next_bytes(train));
  ArrivalOrderedQueue<Queued> &queue = queues_[kCompletionClass];
  queue.push(Queued{ready, first_seq, data_credits, &request, now_fs});
  train_completions_ += completions - 1;
  joined_now(now_fs, completions);
  if (queue.top().seq == first_seq)
    new_head_queued(now_fs, ready, kCompletionClass, data_credits, completions);
  return completions;
}

void LinkDirection::sent_inside_lookahead(std::int64_t ready_fs) const {
  throw std::logic_error(fmt::format(
      "{}: a TLP ready at {} fs, before a start decided ahead at {} fs: its sender sent it "
      "sooner than the lookahead it promised",
      name_, ready_fs, last_ahead_start_fs_));
}

// Per TLP: flattened (docs/models.md, "Hot paths").
[[gnu::flatten]] void LinkDirection::buffer_freed(tlm::tlm_generic_payload &gp,
                                                  std::int64_t delay_ps) {
  // The receiver frees the buffer the TLP occupied: credits travel back in an UpdateFC.
  const TlpExtension &tlp = tlp_of(gp);
  int fc = static_cast<int>(fc_class(tlp.type));
  std::int64_t now_fs = now_ps() * kFsPerPs;
  std::int64_t at = now_fs + delay_ps * kFsPerPs + credit_return_fs_;
  std::uint32_t header = header_limited_[fc] ? 1 : 0;
  std::uint32_t data = data_limited_[fc] ? data_credits_of(tlp) : 0;
  if (header || data) {
    credit_returns_.push(CreditReturn{at, seq_++, fc, header, data});
    // While no queue head waits for credits, a returning one cannot change the wake-up.
    if (credit_blocked_)
      reschedule(now_fs);
  }
}

const LinkDirectionStats &LinkDirection::stats() const {
  count_arrived(now_ps() * kFsPerPs); // TLPs taken ahead whose arrival has passed
  return stats_;
}

void LinkDirection::count_arrived_slow(std::int64_t now_fs) const {
  while (!ahead_.empty() && ahead_.top().at_fs <= now_fs) {
    const std::int64_t at_fs = ahead_.top().at_fs;
    ahead_.pop();
    // Nothing was sent since this arrival but what was started ahead (every change to the
    // queues runs this first), and what was started ahead at or after it was still queued.
    // Counting every start ahead bounds that depth: below the maximum, nothing to find out.
    if (all_queued() + started_ahead_.size() - ahead_.size() > stats_.max_queue_depth)
      stats_.max_queue_depth = std::max(stats_.max_queue_depth, depth_at(at_fs));
  }
}

bool LinkDirection::idle() const {
  return to_deliver_ == 0 && queues_[0].empty() && queues_[1].empty() && queues_[2].empty();
}

bool LinkDirection::credits_restored() const {
  // Credits still travelling back in UpdateFC DLLPs count as returned.
  std::uint32_t header[kFcClasses], data[kFcClasses];
  for (int c = 0; c < kFcClasses; ++c) {
    header[c] = header_available_[c];
    data[c] = data_available_[c];
  }
  for (std::size_t i = 0; i < credit_returns_.size(); ++i) {
    header[credit_returns_[i].fc_class] += credit_returns_[i].header;
    data[credit_returns_[i].fc_class] += credit_returns_[i].data;
  }
  for (int c = 0; c < kFcClasses; ++c)
    if (header[c] != full_header_credits(c) || data[c] != full_data_credits(c))
      return false;
  return true;
}

std::string LinkDirection::describe_outstanding() const {
  std::string out;
  static const char *names[] = {"posted", "non-posted", "completion"};
  static const char *hdr[] = {"PH", "NPH", "CplH"};
  static const char *dat[] = {"PD", "NPD", "CplD"};
  for (int c = 0; c < kFcClasses; ++c) {
    if (queues_[c].empty())
      continue;
    const TlpExtension &head = tlp_of(*queues_[c].top().gp);
    const bool train = c == kCompletionClass && is_completion_train(head);
    const TlpType head_type = train ? TlpType::CplD : head.type;
    const std::uint32_t head_bytes = train ? train_next_bytes(head) : head.payload_bytes;
    const std::uint32_t need = data_credits_for(head_bytes);
    out += fmt::format("{} {} TLP(s) queued", queued_tlps(c), names[c]);
    if (!has_credits(c, need)) {
      out += fmt::format(", head {} of {} B waits for credits ({} {}/{}, {} {}/{} available, "
                         "needs 1 and {})",
                         tlp_type_name(head_type), head_bytes, hdr[c], header_available_[c],
                         limits_.header[c], dat[c], data_available_[c], limits_.data[c], need);
      if (limits_.data[c] && need > limits_.data[c])
        out += fmt::format(": the receiver advertises only {} data credits, fewer than one "
                           "TLP needs, so it can never be sent",
                           limits_.data[c]);
    }
    out += "; ";
  }
  if (to_deliver_)
    out += fmt::format("{} TLP(s) on the wire; ", to_deliver_);
  if (out.size() >= 2)
    out.resize(out.size() - 2);
  return out;
}

Link::Link(sc_core::sc_module_name name, const TrainedLink &trained,
           const ReceiveCredits &a_buffers, const ReceiveCredits &b_buffers, SimContext &context)
    : sc_module(name), trained_(trained), a_to_b_(*this, context, "a_to_b", trained, b_buffers),
      b_to_a_(*this, context, "b_to_a", trained, a_buffers) {
  a_to_b_.answered_by_ = &b_to_a_;
  b_to_a_.answered_by_ = &a_to_b_;
}

void Link::connect(PciePort &a, PciePort &b) {
  a.egress.bind(a_to_b_.in);
  a_to_b_.out.bind(b.ingress);
  b.egress.bind(b_to_a_.in);
  b_to_a_.out.bind(a.ingress);
  a_to_b_.sender_ = b_to_a_.receiver_ = LinkDirection::End{&a.owner_, a.index_};
  a_to_b_.lookahead_fs_ = a.send_lookahead_ps() * kFsPerPs;
  b_to_a_.lookahead_fs_ = b.send_lookahead_ps() * kFsPerPs;
  a_to_b_.receiver_ = b_to_a_.sender_ = LinkDirection::End{&b.owner_, b.index_};
  a.egress_link_ = b.ingress_link_ = &a_to_b_;
  b.egress_link_ = a.ingress_link_ = &b_to_a_;
  // Stand-ins keep the wake-ups of a receiver that takes some TLPs early and has others
  // delivered: one that may refuse what it is offered, or takes only some types.
  for (auto [direction, receiver] : {std::pair{&a_to_b_, &b}, std::pair{&b_to_a_, &a}}) {
    direction->early_types_ = receiver->early_arrival_types();
    direction->stand_ins_ =
        direction->early_types_ != 0 &&
        (direction->early_types_ != kEveryTlpType || receiver->may_refuse_early_arrivals());
  }
}

} // namespace pciesim
