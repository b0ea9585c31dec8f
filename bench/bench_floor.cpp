#include "bench/bench_floor.h"

#include <memory>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/peq_with_get.h>

namespace pciesim_bench {
namespace {

using sc_core::SC_NS;
using sc_core::sc_time;

class EventRelay : public sc_core::sc_module {
public:
  SC_HAS_PROCESS(EventRelay);
  EventRelay(sc_core::sc_module_name name, long limit) : sc_module(name), limit_(limit) {
    SC_METHOD(fire);
    sensitive << trigger;
    dont_initialize();
  }
  sc_core::sc_event trigger;
  EventRelay *partner = nullptr;
  long activations = 0;

private:
  void fire() {
    if (++activations < limit_)
      partner->trigger.notify(sc_time(1, SC_NS));
  }
  long limit_;
};

// One stage of the chain: takes every payload due now and hands it to the next stage.
class PeqStage : public sc_core::sc_module {
public:
  SC_HAS_PROCESS(PeqStage);
  explicit PeqStage(sc_core::sc_module_name name) : sc_module(name), queue("queue") {
    SC_METHOD(forward);
    sensitive << queue.get_event();
    dont_initialize();
  }
  tlm_utils::peq_with_get<tlm::tlm_generic_payload> queue;
  PeqStage *next = nullptr;
  std::vector<tlm::tlm_generic_payload *> *retired = nullptr; // the last stage's sink
  long arrivals = 0;

private:
  void forward() {
    while (tlm::tlm_generic_payload *gp = queue.get_next_transaction()) {
      ++arrivals;
      if (next)
        next->queue.notify(*gp, sc_time(2, SC_NS));
      else
        retired->push_back(gp);
    }
  }
};

// Injects bursts of payloads into the first stage, reusing those the last stage retired.
class BurstSource : public sc_core::sc_module {
public:
  SC_HAS_PROCESS(BurstSource);
  BurstSource(sc_core::sc_module_name name, PeqStage &first, long payloads)
      : sc_module(name), first_(first), payloads_(payloads) {
    SC_THREAD(inject);
  }
  std::vector<tlm::tlm_generic_payload *> free_payloads;

private:
  static constexpr int kBurst = 64;
  void inject() {
    for (long sent = 0; sent < payloads_; ++sent) {
      if (free_payloads.empty()) {
        owned_.push_back(std::make_unique<tlm::tlm_generic_payload>());
        free_payloads.push_back(owned_.back().get());
      }
      tlm::tlm_generic_payload *gp = free_payloads.back();
      free_payloads.pop_back();
      first_.queue.notify(*gp, sc_time(1, SC_NS));
      if (sent % kBurst == kBurst - 1)
        wait(kBurst, SC_NS);
    }
  }
  PeqStage &first_;
  long payloads_;
  std::vector<std::unique_ptr<tlm::tlm_generic_payload>> owned_;
};

} // namespace

Measurement timed_event_floor(long events) {
  return in_child([events] {
    EventRelay a("a", events / 2), b("b", events / 2);
    a.partner = &b;
    b.partner = &a;
    a.trigger.notify(sc_core::SC_ZERO_TIME);
    double start = now_seconds();
    sc_core::sc_start();
    Measurement m;
    m.wall_seconds = now_seconds() - start;
    m.work = static_cast<double>(a.activations + b.activations);
    m.ok = true;
    return m;
  });
}

Measurement peq_hop_floor(long hops) {
  return in_child([hops] {
    constexpr int kStages = 6;
    std::vector<std::unique_ptr<PeqStage>> stages;
    for (int i = 0; i < kStages; ++i)
      stages.push_back(std::make_unique<PeqStage>(sc_core::sc_gen_unique_name("stage")));
    for (int i = 0; i + 1 < kStages; ++i)
      stages[static_cast<std::size_t>(i)]->next = stages[static_cast<std::size_t>(i + 1)].get();
    BurstSource source("source", *stages.front(), hops / kStages);
    stages.back()->retired = &source.free_payloads;
    double start = now_seconds();
    sc_core::sc_start();
    Measurement m;
    m.wall_seconds = now_seconds() - start;
    for (const auto &s : stages)
      m.work += static_cast<double>(s->arrivals);
    m.ok = true;
    return m;
  });
}

} // namespace pciesim_bench
