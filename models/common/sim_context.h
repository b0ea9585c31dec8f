// What every model is built with besides its parameters and wiring: the event calendar that
// wakes its processes and the pool its TLPs come from. One of each per run (like SystemC's own
// simulation context); passed explicitly so that a model's dependencies show in its
// constructor and a test builds them in any order.
#pragma once

namespace pciesim {

class EventCalendar;
class TlpPool;

struct SimContext {
  EventCalendar &calendar;
  TlpPool &pool;
};

} // namespace pciesim
