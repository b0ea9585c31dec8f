// Simulation speed against the floor: the bare SystemC event rate (an SC_METHOD re-notifying
// itself, as ../shared/bench/systemc_floor.cpp measures) and pciesim streaming small and large
// DMA writes and reads. Each measurement runs in its own forked process (one SystemC kernel
// per process); results are printed as absolute rates and as ratios to the floor, and the
// peak resident memory of each child.
#include <chrono>
#include <cstdio>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <systemc>

#include "sim/json_input.h"
#include "sim/scenario.h"
#include "sim/simulation.h"

extern "C" int sc_main(int, char **) { return 0; }

namespace {

struct Measurement {
  double seconds = 0;
  double work = 0; // events, or TLP hops
  long max_rss_kib = 0;
};

template <class F> Measurement in_child(F body) {
  int fds[2];
  if (pipe(fds) != 0)
    return {};
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    Measurement m = body();
    struct rusage usage {};
    getrusage(RUSAGE_SELF, &usage);
    m.max_rss_kib = usage.ru_maxrss;
    if (write(fds[1], &m, sizeof m) != static_cast<ssize_t>(sizeof m))
      _exit(1);
    _exit(0);
  }
  close(fds[1]);
  Measurement m;
  if (read(fds[0], &m, sizeof m) != static_cast<ssize_t>(sizeof m))
    m = {};
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  return m;
}

struct PingPong : sc_core::sc_module {
  SC_HAS_PROCESS(PingPong);
  PingPong(sc_core::sc_module_name n, long limit) : sc_module(n), limit_(limit) {
    SC_METHOD(fire);
    sensitive << ev_;
  }
  void fire() {
    if (++count < limit_)
      ev_.notify(sc_core::sc_time(1, sc_core::SC_NS));
  }
  long count = 0;

private:
  sc_core::sc_event ev_;
  long limit_;
};

Measurement floor_rate(long events) {
  return in_child([events] {
    PingPong p("p", events);
    auto t0 = std::chrono::steady_clock::now();
    sc_core::sc_start();
    Measurement m;
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    m.work = static_cast<double>(p.count);
    return m;
  });
}

Measurement scenario_rate(const std::string &json) {
  return in_child([&json] {
    pciesim::ScenarioConfig s = pciesim::load_scenario(
        pciesim::Node::root(pciesim::parse_json_text(json, "bench")), PCIESIM_SOURCE_DIR_BENCH);
    auto t0 = std::chrono::steady_clock::now();
    pciesim::RunResult r = pciesim::simulate(s);
    Measurement m;
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (const auto &l : r.links)
      m.work += static_cast<double>(l.tlps);
    return m;
  });
}

std::string stream(const char *topology, const char *direction, const char *size, long count) {
  return fmt::format(R"({{"topology": "{}", "transfers": [{{"id": "t", "initiator": "dma0",
    "target": "mem0", "direction": "{}", "size": "{}", "count": {}, "concurrency": 256}}]}})",
                     topology, direction, size, count);
}

} // namespace

int main() {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  Measurement floor = floor_rate(20000000);
  double floor_rate_per_s = floor.work / floor.seconds;
  std::printf("%-44s %12s %14s %10s %10s\n", "benchmark", "wall s", "rate /s", "x floor",
              "RSS MiB");
  std::printf("%-44s %12.3f %14.3e %10.3f %10.1f\n", "systemc floor: timed SC_METHOD events",
              floor.seconds, floor_rate_per_s, 1.0, floor.max_rss_kib / 1024.0);
  struct Case {
    const char *name;
    std::string json;
  } cases[] = {
      {"Gen5 x16 64 B writes: TLP hops",
       stream("topologies/host-dma-gen5x16.json", "write", "64 B", 2000000)},
      {"Gen5 x16 64 KiB writes: TLP hops",
       stream("topologies/host-dma-gen5x16.json", "write", "64 KiB", 4000)},
      {"Gen5 x16 64 KiB reads: TLP hops",
       stream("topologies/host-dma-gen5x16.json", "read", "64 KiB", 4000)},
      {"switch, 2 engines, 4 KiB writes: TLP hops",
       R"({"topology": "topologies/switch-two-dma.json", "transfers": [
         {"id": "a", "initiator": "dma0", "target": "mem0", "direction": "write", "size": "4 KiB", "count": 20000, "concurrency": 16},
         {"id": "b", "initiator": "dma1", "target": "mem0", "direction": "write", "size": "4 KiB", "count": 20000, "concurrency": 16, "offset": "1 GiB"}]})"},
  };
  for (const Case &c : cases) {
    Measurement m = scenario_rate(c.json);
    double rate = m.work / m.seconds;
    std::printf("%-44s %12.3f %14.3e %10.3f %10.1f\n", c.name, m.seconds, rate,
                rate / floor_rate_per_s, m.max_rss_kib / 1024.0);
  }
  return 0;
}
