// A PCIe link: two independent directions, each a serializer at the trained rate with
// per-TLP wire overhead (link_timing.h), flight latency, a transmit queue per flow-control
// class, and credit-based flow control against the receiver's advertised buffers.
//
// Timing is computed, not stepped: each direction keeps "busy until" in femtoseconds and
// commits every eligible TLP back to back. Each direction is its own process on the event
// calendar, woken only for deliveries and the moments a blocked queue can move again (the
// serializer frees, a credit returns or a delayed TLP becomes ready).
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <systemc>

#include "models/common/arrival_ordered_queue.h"
#include "models/common/params.h"
#include "models/common/sim_context.h"
#include "models/common/stats.h"
#include "models/pcie/link_timing.h"
#include "models/pcie/pcie_port.h"

namespace pciesim {

struct LinkParams {
  int generation = 5; // requested; the trained value is min(this, both ends)
  int width = 16;     // requested; the trained value is min(this, both ends)
  Duration flight_latency{20000};
  LinkOverheads overheads;

  static const ParamTable<LinkParams> &table();
  static const std::vector<ParamSpec> &specs() { return table().specs(); }
  static LinkParams from(const ParamSet &params) { return table().from(params); }
};

// What the link trained to, decided at elaboration from LinkParams and both ends.
struct TrainedLink {
  LinkShape shape;
  Duration flight_latency;
  LinkOverheads overheads;
};

struct LinkDirectionStats {
  std::uint64_t tlps[4] = {0, 0, 0, 0}; // indexed by TlpType
  std::uint64_t payload_bytes = 0;
  std::uint64_t wire_bytes = 0;
  std::int64_t busy_fs = 0;
  std::uint64_t credit_stalls = 0; // times the head of a queue waited for credits
  std::uint64_t max_queue_depth = 0;
  std::uint64_t total_tlps() const { return tlps[0] + tlps[1] + tlps[2] + tlps[3]; }

  // Named as under links[] in results.json (sim/run copies them into LinkDirectionResult;
  // busy_fs is reported there as `utilization`, busy time over the run).
  static const StatTable<LinkDirectionStats> &table();
  template <class F> void for_each(F &&f) const { table().for_each(*this, f); }
};

class Link;
class LinkDirection;

// Watches one link direction for traces (sim/run/trace.h). Called from the link's process at the
// current simulated time; it must not touch the link, so results are the same with or without.
class LinkObserver {
public:
  virtual ~LinkObserver() = default;
  // A TLP occupies the wire from start_fs (now) to end_fs (the serializer frees up).
  virtual void tlp_on_wire(const LinkDirection &direction, const TlpExtension &tlp,
                           std::int64_t start_fs, std::int64_t end_fs) = 0;
  // The transmit queues (all flow-control classes) hold `depth` TLPs from `at_fs` (now, or
  // for a TLP a switch took ahead of its arrival, its arrival). Calls for one direction come
  // in time order.
  virtual void queue_depth_changed(const LinkDirection &direction, std::uint64_t depth,
                                   std::int64_t at_fs) = 0;
};

// One direction of a link. Receives TLPs from the sender's egress socket and delivers them
// to the receiver's ingress socket.
// Aligned to a cache line, so that its hot fields (the first 504 bytes) take exactly eight.
class alignas(64) LinkDirection : public PcieNonBlockingOnly, private CalendarProcess {
public:
  LinkDirection(Link &link, SimContext &context, const std::string &name,
                const TrainedLink &trained, const ReceiveCredits &receiver_buffers);

  // The sockets `in` (bound to the sender's egress) and `out` (bound to the receiver's
  // ingress) are declared last, below.

  const std::string &name() const { return name_; }
  const LinkDirectionStats &stats() const;
  double usable_bytes_per_second() const { return usable_bps_; }
  // Serialization time of a TLP of this shape on this direction, in femtoseconds.
  std::int64_t serialization_fs(TlpType type, bool address_64bit, std::uint32_t payload) const;
  // Time for a credit to come back to the sender after the receiver frees a buffer.
  std::int64_t credit_return_fs() const { return credit_return_fs_; }
  bool idle() const;
  std::string describe_outstanding() const;
  // True when every credit is back (or on its way back): no buffer is leaked.
  bool credits_restored() const;
  // Tracing only; nullptr (the default) costs one pointer test per TLP.
  void set_observer(LinkObserver *observer);
  // From the sending port (egress BEGIN_REQ): the TLP joins its class's queue, ready
  // `delay_ps` (>= 0) from now.
  void queue_tlp(tlm::tlm_generic_payload &gp, std::int64_t delay_ps);
  // From the sending port (PciePort::send_completions): the completions of the read `request`
  // join the completion queue `delay_ps` (>= 0) from now as one train, made one at a time as
  // each reaches the head; the link returns the request to the pool after the last. Returns
  // the number of completions.
  std::uint32_t queue_completions(tlm::tlm_generic_payload &request, std::uint16_t completer_id,
                                  std::uint32_t max_payload_bytes, std::uint32_t rcb_bytes,
                                  std::int64_t delay_ps);
  // From the receiving port (ingress END_REQ): the buffer the TLP held frees `delay_ps` (>= 0)
  // from now, and its credits travel back.
  void buffer_freed(tlm::tlm_generic_payload &gp, std::int64_t delay_ps);

  // The same two calls through the sockets (TLM-2.0 base phases, pcie_port.h).
  tlm::tlm_sync_enum nb_transport_fw(tlm::tlm_generic_payload &gp, tlm::tlm_phase &phase,
                                     sc_core::sc_time &delay) override;
  tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload &gp, tlm::tlm_phase &phase,
                                     sc_core::sc_time &delay) override;

private:
  // 32 bytes, two to a cache line: the queues' rings are written at every TLP.
  struct Queued {
    std::int64_t ready_fs;
    std::uint64_t seq : 48; // 2.8e14 TLPs and credit returns per direction
    // Kept here: arbitration looks at it without touching the TLP. A TLP carries at most
    // 4 KiB (the largest MPS): 256 credits.
    std::uint64_t data_credits : 16;
    tlm::tlm_generic_payload *gp;
    // When it reached this link: now, or for a TLP a switch took ahead, its arrival there.
    // Ties in ready time go to the one that came first, as they did before switches took
    // TLPs ahead (the sequence number alone would order them by when they were taken).
    std::int64_t joined_fs;
    bool operator>(const Queued &o) const {
      if (ready_fs != o.ready_fs)
        return ready_fs > o.ready_fs;
      return joined_fs != o.joined_fs ? joined_fs > o.joined_fs : seq > o.seq;
    }
  };
  // A TLP on the wire, or with gp null a stand-in for one its receiver took when it started
  // (PortOwner::tlp_arriving): kept while a TLP to deliver follows it, so that the link wakes
  // at its arrival as it would have to deliver it, and asks for the next delivery then. The
  // order of wake-ups due at the same picosecond follows the order they were asked for, so
  // this keeps a receiver that takes some TLPs early from changing any result.
  struct InFlight {
    std::int64_t arrival_fs;
    tlm::tlm_generic_payload *gp;
  };
  // A TLP that joined a queue before its arrival (a switch took it early): from `at_fs` on it
  // counts in the queue depth.
  struct Ahead {
    std::int64_t at_fs;
    bool operator>(const Ahead &o) const { return at_fs > o.at_fs; }
  };
  // Reports the queue depth to the observer on time at the arrivals of TLPs taken ahead and
  // at the starts decided ahead; a process of its own so that observing changes none of the
  // link's wake-ups.
  class DepthProbe : public CalendarProcess {
  public:
    explicit DepthProbe(LinkDirection &direction) : direction_(direction) {}
    void run() override;
    void arrival_expected(std::int64_t at_fs);
    void start_decided(const tlm::tlm_generic_payload &gp, std::int64_t start_fs,
                       std::int64_t end_fs);

  private:
    // What the TLP was when its start was decided: by its start a receiver that took it
    // early may have returned it to the pool, and the pool handed it out again.
    struct Start {
      std::int64_t start_fs = 0, end_fs = 0;
      TlpExtension tlp;
    };
    LinkDirection &direction_;
    // Not yet reported: arrivals of TLPs taken ahead, and starts decided ahead.
    ArrivalOrderedQueue<Ahead> arrivals_;
    FifoRing<Start> starts_;
  };
  struct CreditReturn {
    std::int64_t at_fs;
    std::uint64_t seq;
    int fc_class;
    std::uint32_t header, data;
    bool operator>(const CreditReturn &o) const {
      return at_fs != o.at_fs ? at_fs > o.at_fs : seq > o.seq;
    }
  };

  // Delivers what has arrived, sends what can go, and asks to be woken when that changes.
  void run() override;
  std::int64_t next_wake_fs(std::int64_t now_fs); // -1 when nothing is pending

  void transmit_eligible(std::int64_t now_fs);
  // The class whose queue head goes next at `at_fs` (-1: none), of the ready heads that hold
  // their credits: under PCIe ordering, the non-posted and completion queues in turn, a posted
  // head against them by age. `lacking`: a ready head waits for credits.
  int next_class(std::int64_t at_fs, bool &lacking) const;
  // Sends the head of queue `fc`, starting at `start_fs` (now, or ahead: start_ahead).
  void commit(int fc, std::int64_t now_fs, std::int64_t start_fs);
  // With a sender that promises a lookahead (PortOwner::send_lookahead_ps): decides now what
  // transmit_eligible would decide at each later start before now + the lookahead, for as long
  // as no TLP that could still be queued, and no credit that could still be returned, can
  // change the decision.
  void start_ahead(std::int64_t now_fs);
  // TLPs started ahead whose start is at or after `at_fs`: they were still queued then.
  std::uint64_t started_at_or_after(std::int64_t at_fs) const {
    if (started_ahead_.empty() || started_ahead_.top().at_fs >= at_fs)
      return started_ahead_.size();
    return started_at_or_after_slow(at_fs);
  }
  std::uint64_t started_at_or_after_slow(std::int64_t at_fs) const;
  // The queue depth at `at_fs` (not before the last change to the queues): what is queued, and
  // what was started ahead at or after it, less what was taken ahead of an arrival still to
  // come (at_fs or later: the caller has counted the earlier arrivals).
  std::uint64_t depth_at(std::int64_t at_fs) const {
    return all_queued() + started_at_or_after(at_fs) - ahead_.size();
  }
  // After a change from outside run(): the next wake-up, asked of the calendar.
  void reschedule(std::int64_t now_fs);
  // Throws: the sender broke its lookahead promise. Out of line: queue_tlp runs per TLP.
  [[noreturn, gnu::cold, gnu::noinline]] void sent_inside_lookahead(std::int64_t ready_fs) const;
  void absorb_credits(std::int64_t now_fs);
  bool has_credits(int fc, std::uint32_t data_credits) const;
  // What a class holds with every buffer free: the receiver's advertised credits, or for a
  // class it does not limit kUnlimitedCredits, which the link never takes from (so that the
  // per-TLP credit test needs no test of whether the class is limited).
  static constexpr std::uint32_t kUnlimitedCredits = std::numeric_limits<std::uint32_t>::max();
  std::uint32_t full_header_credits(int fc) const {
    return header_limited_[fc] ? limits_.header[fc] : kUnlimitedCredits;
  }
  std::uint32_t full_data_credits(int fc) const {
    return data_limited_[fc] ? limits_.data[fc] : kUnlimitedCredits;
  }
  static std::uint32_t data_credits_of(const TlpExtension &tlp);
  // Flow-control data credits (16 bytes each) a payload of `bytes` takes.
  static std::uint32_t data_credits_for(std::uint32_t bytes) { return (bytes + 15) / 16; }
  // The TLPs queued: a completion train counts each completion it has still to make.
  std::uint64_t all_queued() const {
    return queues_[0].size() + queues_[1].size() + queues_[2].size() + train_completions_;
  }
  std::uint64_t queued_tlps(int fc) const {
    return queues_[fc].size() + (fc == kCompletionClass ? train_completions_ : 0);
  }
  static constexpr int kCompletionClass = static_cast<int>(FcClass::Completion);
  static constexpr int kPostedClass = static_cast<int>(FcClass::Posted);
  static constexpr int kNonPostedClass = static_cast<int>(FcClass::NonPosted);
  // The head of the completion queue, a train: makes its next completion, which the caller
  // sends, and moves the train on (or, with that one its last, takes it off the queue).
  tlm::tlm_generic_payload &take_from_train();
  // After `joined` TLPs (a train's completions, or one TLP) joined the queues at `now_fs`: the
  // depth rises by one at each, into the stats and to the observer.
  void joined_now(std::int64_t now_fs, std::uint32_t joined);
  // After a TLP (or train) became the head of its class's queue at `now_fs`, ready later: asks
  // for the wake-up it may need. `joined`: the TLPs that just joined (a train's completions).
  void new_head_queued(std::int64_t now_fs, std::int64_t ready_fs, int fc,
                       std::uint32_t data_credits, std::uint64_t joined);
  // Counts the TLPs taken ahead whose arrival is at or before `now_fs` into the depth, one
  // arrival at a time (the maximum depth is the one a queue that took them at their arrival
  // would have reached). Const because reading the stats settles it.
  void count_arrived(std::int64_t now_fs) const {
    if (!ahead_.empty() && ahead_.top().at_fs <= now_fs)
      count_arrived_slow(now_fs);
  }
  void count_arrived_slow(std::int64_t now_fs) const;
  // The components at the two ends and their port numbers (Link::connect): the link calls them
  // directly, without reading the ports, which a TLP's passage would otherwise touch once more
  // at each call.
  struct End {
    PortOwner *owner = nullptr;
    int port = -1;
  };
  void put_on_wire(std::int64_t arrival_fs, tlm::tlm_generic_payload *gp) { // null: a stand-in
    in_flight_.push_back(InFlight{arrival_fs, gp});
    to_deliver_ += gp != nullptr;
  }
  friend class Link;
  // Wire bytes and serialization of a TLP, remembered for the last shape seen (a stream
  // repeats one shape, and the rounding is the costly part).
  void serialize(const TlpExtension &tlp, std::uint32_t &wire_bytes, std::int64_t &ser_fs);
  struct StartedAhead {
    std::int64_t at_fs;
    bool operator>(const StartedAhead &o) const { return at_fs > o.at_fs; }
  };

  // The fields a TLP's passage touches come first and together, without holes (with many
  // links busy, the cache lines each direction touches per TLP are what limits the speed: 504
  // bytes with the base classes); the receive-buffer sizes, the stall bookkeeping, the names,
  // the trained parameters and the sockets, used at elaboration, on a new TLP shape or on a
  // stall, come last.
  EventCalendar &calendar_;
  TlpPool &pool_; // completion trains make their TLPs from it
  std::int64_t flight_fs_;
  std::int64_t credit_return_fs_;
  std::int64_t busy_until_fs_ = 0;
  std::uint64_t seq_ = 0;
  // The ACK and UpdateFC DLLPs answering the other direction's TLPs travel this way: the
  // serializer time they take (each TLP sent the other way adds answer_fs_), sent in this
  // direction's idle time or, when it is busy, after its next TLP.
  std::int64_t answers_owed_fs_ = 0;
  std::int64_t answer_fs_ = 0;           // what one TLP sent this way makes the other direction owe
  LinkDirection *answered_by_ = nullptr; // the other direction of the link
  // Starting ahead (start_ahead): the sender's lookahead (0: never), the latest start decided
  // ahead, and (started_ahead_) the starts decided ahead not yet passed (for the queue depth of
  // arrivals counted later), earliest first.
  std::int64_t lookahead_fs_ = 0;
  std::int64_t last_ahead_start_fs_ = -1;
  LinkObserver *observer_ = nullptr;
  End sender_, receiver_;

  ArrivalOrderedQueue<Queued> queues_[kFcClasses];
  FifoRing<InFlight> in_flight_;
  ArrivalOrderedQueue<CreditReturn> credit_returns_;
  mutable ArrivalOrderedQueue<Ahead> ahead_; // arrivals still to come, of TLPs already queued
  ArrivalOrderedQueue<StartedAhead> started_ahead_;
  std::uint32_t header_available_[kFcClasses];
  std::uint32_t data_available_[kFcClasses];
  std::uint32_t to_deliver_ = 0; // TLPs in in_flight_ that are not stand-ins
  // The completions the trains in the completion queue have still to make, less one a train
  // (its queue entry counts that one).
  std::uint32_t train_completions_ = 0;
  // Which classes' credits the receiver limits (limits_ not 0: it advertises finite buffers).
  bool header_limited_[kFcClasses];
  bool data_limited_[kFcClasses];
  std::uint8_t early_types_ = 0; // what the receiver's owner may take ahead of its arrival
  bool stand_ins_ = false;       // the early receiver may refuse TLPs: stand-ins for those taken
  bool transmitting_ = false;    // guards re-entry from the sender's END_REQ callback
  bool running_ = false;         // inside run(), which computes the next wake-up at its end
  // A queue head lacked credits when the wake-up was last computed. Until the next
  // computation credits only come back, so while it is false a returning credit cannot
  // change the wake-up.
  bool credit_blocked_ = false;
  struct SerializedShape {
    int type = -1;
    bool address_64bit = false;
    std::uint32_t payload = 0;
    std::uint32_t wire_bytes = 0;
    std::int64_t ser_fs = 0;
  } last_shape_;
  mutable LinkDirectionStats stats_;

  ReceiveCredits limits_;
  std::uint64_t stalled_seq_[kFcClasses] = {~0ull, ~0ull, ~0ull};
  int last_turn_ = kCompletionClass; // of the non-posted and completion queues, last served
  std::string name_;
  TrainedLink trained_;
  double usable_bps_;
  double fs_per_wire_byte_;
  std::unique_ptr<DepthProbe> depth_probe_; // with an observer only

public:
  PcieTargetSocket in;     // bound to the sender's egress
  PcieInitiatorSocket out; // bound to the receiver's ingress
};

class Link : public sc_core::sc_module {
public:
  // `a_buffers` are the receive buffers of end a (they limit traffic b→a), and vice versa.
  Link(sc_core::sc_module_name name, const TrainedLink &trained, const ReceiveCredits &a_buffers,
       const ReceiveCredits &b_buffers, SimContext &context);

  // Binds the link between port `a` (its end a) and port `b` (its end b), both directions.
  void connect(PciePort &a, PciePort &b);

  LinkDirection &a_to_b() { return a_to_b_; }
  LinkDirection &b_to_a() { return b_to_a_; }
  const LinkDirection &a_to_b() const { return a_to_b_; }
  const LinkDirection &b_to_a() const { return b_to_a_; }
  const TrainedLink &trained() const { return trained_; }

private:
  TrainedLink trained_;
  LinkDirection a_to_b_;
  LinkDirection b_to_a_;
};

inline void PciePort::send(tlm::tlm_generic_payload &gp, std::int64_t delay_ps) {
  if (!egress_link_)
    unconnected("sent");
  egress_link_->queue_tlp(gp, delay_ps > 0 ? delay_ps : 0);
}

inline void PciePort::release(tlm::tlm_generic_payload &gp, std::int64_t delay_ps) {
  if (!ingress_link_)
    unconnected("released");
  ingress_link_->buffer_freed(gp, delay_ps > 0 ? delay_ps : 0);
}

} // namespace pciesim
