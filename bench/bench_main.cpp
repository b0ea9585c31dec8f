// pciesim_bench: simulation speed, memory and sweep throughput, each measurement in its own
// forked process, rates also given as ratios to bare SystemC rates measured in the same run
// (so figures compare across machines). Figures and targets: docs/performance.md.
//
//   pciesim_bench                 everything (about a minute on 2 cores)
//   pciesim_bench --smoke         every row with tiny sizes (a few seconds; CI runs it)
//   pciesim_bench --only hops,scaling   a subset: floor, hops, scaling, machine, sweep, hmm,
//                                       validate
//   pciesim_bench --repeat 3      every measurement three times, the rows compared taking
//                                 turns; each row gives the fastest run (BestOf says why)
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/bench_fabric.h"
#include "bench/bench_floor.h"
#include "bench/bench_harness.h"
#include "sim/config/json_input.h"
#include "sim/config/schema_check.h"
#include "sim/fabric/topology.h"
#include "sim/report/report.h"
#include "sim/util/input_error.h"

extern "C" int sc_main(int, char **) { return 0; }

namespace pciesim_bench {
namespace {

constexpr std::uint64_t kMiB = 1 << 20;

int repeats = 1; // --repeat

// Runs each of `measures` `repeats` times, taking turns (a slow minute then slows every row
// alike), and returns the fastest run of each.
std::vector<Measurement> best_of(const std::vector<std::function<Measurement()>> &measures) {
  std::vector<BestOf> best(measures.size());
  for (int run = 0; run < repeats; ++run)
    for (std::size_t i = 0; i < measures.size(); ++i)
      best[i].add(measures[i]());
  std::vector<Measurement> out;
  for (const BestOf &b : best)
    out.push_back(b.best());
  return out;
}

struct Sizes {
  long floor_events;
  long floor_hops;
  std::uint64_t write_bytes, read_bytes; // streaming DMA through the switch
  std::uint64_t scaling_bytes[3];        // NIC reads of GPU memory
  std::uint64_t machine_pair_bytes;      // per GPU-NIC pair of the 8-GPU box
  const char *sweep_file;                // under bench/
  const char *hmm_file;                  // under bench/
  long validate_components[2];           // topology sizes loaded and checked
};

constexpr Sizes kFull{20'000'000,
                      24'000'000,
                      512 * kMiB,
                      256 * kMiB,
                      {64 * kMiB, 256 * kMiB, 1024 * kMiB},
                      1024 * kMiB,
                      "sweep-nic-read-64x64MiB.json",
                      "hmm-pingpong.json",
                      {25'000, 100'000}};
constexpr Sizes kSmoke{1'000'000,
                       1'200'000,
                       16 * kMiB,
                       8 * kMiB,
                       {4 * kMiB, 8 * kMiB, 16 * kMiB},
                       4 * kMiB,
                       "sweep-smoke.json",
                       "hmm-pingpong-smoke.json",
                       {2'500, 10'000}};

std::string size_name(std::uint64_t bytes) {
  return bytes >= 1024 * kMiB ? fmt::format("{} GiB", bytes / (1024 * kMiB))
                              : fmt::format("{} MiB", bytes / kMiB);
}

// Scenarios measured taking turns, each a row of TLP hops.
struct HopRow {
  std::string id;
  std::string description;
  std::string scenario;
};
std::vector<Measurement> hop_rows(Table &table, const std::vector<HopRow> &rows) {
  std::vector<std::function<Measurement()>> measures;
  for (const HopRow &row : rows)
    measures.push_back([&row] { return scenario_tlp_hops(row.scenario); });
  const std::vector<Measurement> m = best_of(measures);
  for (std::size_t i = 0; i < rows.size(); ++i)
    table.row(rows[i].id, rows[i].description, m[i]);
  return m;
}

void run_hops(Table &table, const Sizes &sizes) {
  hop_rows(
      table,
      {{"hops.dma_write",
        fmt::format("DMA write {} host<-rc<-switch<-ep: TLP hops", size_name(sizes.write_bytes)),
        streaming_dma_scenario(true, sizes.write_bytes)},
       {"hops.dma_read",
        fmt::format("DMA read {} host->rc->switch->ep: TLP hops", size_name(sizes.read_bytes)),
        streaming_dma_scenario(false, sizes.read_bytes)}});
}

void run_scaling(Table &table, const Sizes &sizes) {
  std::vector<HopRow> rows;
  for (int i = 0; i < 3; ++i)
    rows.push_back(
        {fmt::format("scaling.{}", i),
         fmt::format("NIC reads {} of GPU memory: TLP hops", size_name(sizes.scaling_bytes[i])),
         nic_reads_gpu_scenario(sizes.scaling_bytes[i])});
  const std::vector<Measurement> m = hop_rows(table, rows);
  if (!m[0].ok || !m[2].ok || m[0].wall_seconds <= 0)
    return;
  double bytes_ratio =
      static_cast<double>(sizes.scaling_bytes[2]) / static_cast<double>(sizes.scaling_bytes[0]);
  table.ratio("scaling.time_ratio",
              fmt::format("wall {} / wall {}", size_name(sizes.scaling_bytes[2]),
                          size_name(sizes.scaling_bytes[0])),
              m[2].wall_seconds / m[0].wall_seconds, fmt::format("~{:.0f}", bytes_ratio));
  table.ratio("scaling.rss_ratio",
              fmt::format("peak RSS {} / peak RSS {}", size_name(sizes.scaling_bytes[2]),
                          size_name(sizes.scaling_bytes[0])),
              static_cast<double>(m[2].peak_rss_kib) / static_cast<double>(m[0].peak_rss_kib),
              "<= 1.10");
}

void run_sweep(Table &table, const Sizes &sizes) {
  std::filesystem::path out =
      std::filesystem::temp_directory_path() / fmt::format("pciesim-bench-sweep-{}", getpid());
  std::filesystem::remove_all(out);
  std::string file = std::string(PCIESIM_SOURCE_DIR_BENCH) + "/bench/" + sizes.sweep_file;
  std::size_t points = 0;
  const Measurement m = best_of({[&] {
    std::filesystem::remove_all(out);
    Measurement run = run_program(
        {PCIESIM_BINARY_BENCH, "sweep", file, "--out", out.string(), "-j", "2", "--quiet"});
    std::error_code ec;
    points = 0;
    for (const auto &entry : std::filesystem::directory_iterator(out / "points", ec))
      points += entry.is_directory() ? 1 : 0;
    run.work = static_cast<double>(points);
    std::filesystem::remove_all(out, ec);
    return run;
  }})[0];
  table.row("sweep.points", fmt::format("pciesim sweep -j 2 {}: points", sizes.sweep_file), m,
            false);
  if (m.ok && m.wall_seconds > 0)
    table.ratio("sweep.points_per_min", "sweep points per minute", 60.0 * points / m.wall_seconds,
                sizes.sweep_file == kFull.sweep_file ? ">= 64 (64 points < 60 s)" : "-");
}

// Runs an HMM ping-pong scenario file; work = page migrations as the run reports them, each
// with its copy-engine traffic on the fabric.
Measurement run_hmm_file(const std::string &file, const std::filesystem::path &out) {
  std::filesystem::remove_all(out);
  Measurement m = run_program({PCIESIM_BINARY_BENCH, "run", file, "--mechanism", "hmm_migrate",
                               "--out", out.string(), "--quiet"});
  std::string text = pciesim::read_text_file((out / "results.csv").string());
  // results.csv: header, then one row; the cell under pages_migrated (found by name, as
  // columns may be added before it).
  std::stringstream rows(text);
  std::string header, row, name, field;
  std::getline(rows, header);
  std::getline(rows, row);
  std::stringstream names(header), fields(row);
  while (std::getline(names, name, ',') && std::getline(fields, field, ',') &&
         name != "pages_migrated")
    ;
  m.work = name != "pages_migrated" || field.empty() ? 0 : std::strtod(field.c_str(), nullptr);
  m.ok = m.ok && m.work > 0;
  std::error_code ec;
  std::filesystem::remove_all(out, ec);
  return m;
}

// HMM ping-pong: a NIC pass migrates every page of a GPU-resident buffer to RAM (one
// migrate_to_ram per page), a GPU pass faults them all back in batches. Then the same passes
// over the same pages of a 32 GiB buffer: memory must follow the pages a workload touches, not
// the size of its buffers.
void run_hmm(Table &table, const Sizes &sizes) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / fmt::format("pciesim-bench-hmm-{}", getpid());
  std::filesystem::create_directories(dir);
  const std::string file = std::string(PCIESIM_SOURCE_DIR_BENCH) + "/bench/" + sizes.hmm_file;
  nlohmann::json sparse = nlohmann::json::parse(pciesim::read_text_file(file));
  nlohmann::json &buffer = sparse["workload"]["buffers"][0];
  for (nlohmann::json &phase : sparse["workload"]["phases"])
    phase["size"] = buffer["size"]; // the passes touch what they touched before
  buffer["size"] = "32 GiB";
  sparse["topology"]["description"] = "as in the dense run, with room for a 32 GiB buffer";
  for (nlohmann::json &component : sparse["topology"]["components"]) {
    if (component["type"] == "gpu")
      component["params"]["memory_size"] = "48 GiB";
    if (component["type"] == "host_memory")
      component["params"]["size"] = "128 GiB";
  }
  const std::string sparse_file = (dir / "sparse.json").string();
  std::ofstream(sparse_file) << sparse.dump(2);
  const std::vector<Measurement> m =
      best_of({[&] { return run_hmm_file(file, dir / "dense"); },
               [&] { return run_hmm_file(sparse_file, dir / "sparse"); }});
  const Measurement &dense = m[0], &wide = m[1];
  table.row("hmm.migrations", fmt::format("HMM ping-pong {}: page migrations", sizes.hmm_file),
            dense, false);
  if (dense.ok && dense.wall_seconds > 0)
    table.ratio("hmm.us_per_migration", "wall-clock us per simulated page migration",
                1e6 * dense.wall_seconds / dense.work, "<= 5");
  table.row("hmm.sparse", "the same passes over the same pages of a 32 GiB buffer: migrations",
            wide, false);
  if (dense.ok && wide.ok && dense.peak_rss_kib > 0)
    table.ratio("hmm.sparse_rss_ratio", "peak RSS 32 GiB buffer / peak RSS dense buffer",
                static_cast<double>(wide.peak_rss_kib) / static_cast<double>(dense.peak_rss_kib),
                "<= 1.10");
  if (dense.ok && wide.ok && wide.work != dense.work)
    table.ratio("hmm.sparse_migrations_differ", "the sparse run migrated another page count",
                wide.work / dense.work, "1");
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// The dual-socket 8-GPU, 8-NIC box with one pair moving data, then all eight at once: the
// wall time per simulated byte should not grow with the devices and flows in flight. Then
// one GPU writing into a peer on its socket and on the other: a crossing should cost no more
// a hop (the inter-socket link's bookings once made every crossing scan hundreds of them).
void run_machine(Table &table, const Sizes &sizes) {
  const std::uint64_t bytes = sizes.machine_pair_bytes;
  const std::vector<Measurement> m = hop_rows(
      table, {{"machine.1pair",
               fmt::format("8-GPU box, 1 NIC reads {} of its GPU: TLP hops", size_name(bytes)),
               big_machine_scenario(1, bytes)},
              {"machine.8pairs",
               fmt::format("8-GPU box, 8 NICs read {} each at once: TLP hops", size_name(bytes)),
               big_machine_scenario(8, bytes)}});
  const Measurement &one = m[0], &eight = m[1];
  if (one.ok && eight.ok && one.wall_seconds > 0) {
    table.ratio("machine.time_per_byte_ratio", "wall per simulated byte, 8 pairs / 1 pair",
                eight.wall_seconds / 8 / one.wall_seconds, "<= 1.3");
    table.ratio("machine.rss_ratio", "peak RSS 8 pairs / peak RSS 1 pair",
                static_cast<double>(eight.peak_rss_kib) / static_cast<double>(one.peak_rss_kib),
                "-");
  }
  const std::vector<Measurement> p = hop_rows(
      table, {{"machine.peer_same_socket",
               fmt::format("8-GPU box, a GPU writes {} into a GPU of its socket: TLP hops",
                           size_name(bytes)),
               peer_write_scenario("gpu2", bytes)},
              {"machine.peer_other_socket",
               fmt::format("8-GPU box, a GPU writes {} into a GPU of the other socket: TLP hops",
                           size_name(bytes)),
               peer_write_scenario("gpu4", bytes)}});
  const Measurement &near = p[0], &far = p[1];
  if (near.ok && far.ok && near.wall_seconds > 0 && far.work > 0)
    table.ratio("machine.peer_socket_ratio", "wall per TLP hop, other socket / same socket",
                (far.wall_seconds / far.work) / (near.wall_seconds / near.work), "<= 1.5");
}

// A topology of `components` components: root complexes, each with its host memory and one
// DMA engine on its root port. Far more than 256 buses, so enumeration refuses it, as it must;
// what is measured is everything before that verdict (parse, load with its id and port checks,
// schema, hierarchy), which once took time quadratic in the component count.
std::string wide_topology_json(long components) {
  std::string text = R"({"name": "wide", "components": [)";
  std::string links;
  for (long i = 0; i < components / 3; ++i) {
    text +=
        fmt::format(R"({}{{"id": "rc{}", "type": "root_complex", "params": {{"root_ports": 1}}}},)"
                    R"({{"id": "mem{}", "type": "host_memory", "root_complex": "rc{}"}},)"
                    R"({{"id": "dma{}", "type": "dma_engine"}})",
                    i ? "," : "", i, i, i, i);
    links += fmt::format(R"({}{{"between": ["rc{}.rp0", "dma{}"]}})", i ? "," : "", i, i);
  }
  return text + R"(], "links": [)" + links + "]}";
}

void run_validate(Table &table, const Sizes &sizes) {
  long components[2];
  std::string texts[2];
  std::vector<std::function<Measurement()>> measures;
  for (int i = 0; i < 2; ++i) {
    components[i] = sizes.validate_components[i] / 3 * 3;
    texts[i] = wide_topology_json(components[i]);
    measures.push_back([&, i] {
      return in_child([&] {
        const std::string &text = texts[i];
        Measurement r;
        double start = now_seconds();
        pciesim::Node root = pciesim::Node::root(pciesim::parse_json_text(text, "wide.json"));
        pciesim::TopologyConfig topology = pciesim::load_topology(root);
        pciesim::validate_against_schema(root, "topology");
        pciesim::Hierarchy hierarchy = pciesim::build_hierarchy(topology);
        r.ok = hierarchy.parent.size() == static_cast<std::size_t>(components[i]);
        r.wall_seconds = now_seconds() - start;
        r.work = static_cast<double>(components[i]);
        return r;
      });
    });
  }
  const std::vector<Measurement> m = best_of(measures);
  for (int i = 0; i < 2; ++i)
    table.row(fmt::format("validate.{}", i),
              fmt::format("load and check a {}-component topology: components", components[i]),
              m[i], false);
  if (m[0].ok && m[1].ok && m[0].wall_seconds > 0)
    table.ratio("validate.time_ratio",
                fmt::format("wall {} components / wall {} components", sizes.validate_components[1],
                            sizes.validate_components[0]),
                m[1].wall_seconds / m[0].wall_seconds,
                fmt::format("~{:.0f} (linear)", static_cast<double>(sizes.validate_components[1]) /
                                                    sizes.validate_components[0]));
}

} // namespace
} // namespace pciesim_bench

int main(int argc, char **argv) {
  using namespace pciesim_bench;
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  const std::set<std::string> all = {"floor", "hops", "scaling", "machine",
                                     "sweep", "hmm",  "validate"};
  std::set<std::string> groups = all;
  bool smoke = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--smoke") {
      smoke = true;
    } else if (arg == "--repeat" && i + 1 < argc) {
      char *end = nullptr;
      const long n = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || n < 1 || n > 100) {
        std::fprintf(stderr, "--repeat wants a count from 1 to 100, not \"%s\"\n", argv[i]);
        return 2;
      }
      repeats = static_cast<int>(n);
    } else if (arg == "--only" && i + 1 < argc) {
      groups.clear();
      std::stringstream list(argv[++i]);
      for (std::string g; std::getline(list, g, ',');) {
        if (!all.count(g)) {
          std::fprintf(
              stderr,
              "unknown group \"%s\" (floor, hops, scaling, machine, sweep, hmm, validate)\n",
              g.c_str());
          return 2;
        }
        groups.insert(g);
      }
    } else {
      std::fprintf(stderr,
                   "usage: %s [--smoke] [--repeat N] [--only "
                   "floor,hops,scaling,machine,sweep,hmm,validate]\n",
                   argv[0]);
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }
  const Sizes &sizes = smoke ? kSmoke : kFull;
  Table table;
  table.header();
  if (repeats > 1)
    table.note("bench.repeat", "every measurement run this many times, taking turns",
               fmt::format("{} (each row: the fastest run)", repeats));
  // The floors come first: every rate's "x floor" is against the peq-hop rate of this run.
  if (groups.count("floor") || groups.count("hops") || groups.count("scaling")) {
    const std::vector<Measurement> floors =
        best_of({[&] { return timed_event_floor(sizes.floor_events); },
                 [&] { return peq_hop_floor(sizes.floor_hops); }});
    const Measurement &events = floors[0], &hops = floors[1];
    if (hops.ok && hops.wall_seconds > 0)
      table.set_floor(hops.work / hops.wall_seconds);
    table.row("floor.timed_events", "SystemC floor: timed-event SC_METHOD chain", events);
    table.row("floor.peq_hops", "SystemC floor: peq_with_get hop chain (hops)", hops);
  }
  if (groups.count("hops"))
    run_hops(table, sizes);
  if (groups.count("scaling"))
    run_scaling(table, sizes);
  if (groups.count("machine"))
    run_machine(table, sizes);
  if (groups.count("sweep"))
    run_sweep(table, sizes);
  if (groups.count("hmm"))
    run_hmm(table, sizes);
  if (groups.count("validate"))
    run_validate(table, sizes);
  return table.all_ok() ? 0 : 1;
}
