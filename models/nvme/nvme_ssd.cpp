#include "models/nvme/nvme_ssd.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace pciesim {

namespace {
// Sources of the defaults: docs/references.md, "NVMe SSD".
constexpr std::uint64_t kCompletionQueueOffset = 1ull << 20; // after the submission queue
constexpr std::uint64_t kMsixOffset = 2ull << 20;
} // namespace

const StatTable<NvmeSsdStats> &NvmeSsdStats::table() {
  using S = NvmeSsdStats;
  static const StatTable<S> table({
      stat(&S::commands,
           {"commands", "count", "NVMe commands executed (an I/O over MDTS is several)"}),
      stat(&S::sqe_fetches,
           {"sqe_fetches", "TLPs", "64 B submission queue entries read from host memory"}),
      stat(&S::cqe_writes,
           {"cqe_writes", "TLPs", "16 B completion queue entries written to host memory"}),
      stat(&S::interrupts, {"interrupts", "TLPs", "MSI-X interrupt writes"}),
      stat(&S::queue_full_waits,
           {"queue_full_waits", "count", "times an I/O found no room in the queue"}),
      stat(&S::flash_read_busy_ns,
           {"flash_read_busy_ns", "ns", "time the flash read bandwidth was busy"}),
      stat(&S::flash_write_busy_ns,
           {"flash_write_busy_ns", "ns", "time the flash write bandwidth was busy"}),
      stat(&S::flash_bytes_read, {"flash_bytes_read", "bytes", "bytes read from flash"}),
      stat(&S::flash_bytes_written, {"flash_bytes_written", "bytes", "bytes written to flash"}),
      stat(&S::cmb_bytes, {"cmb_bytes", "bytes", "payload peers read from or wrote to the CMB"}),
  });
  return table;
}

const ParamTable<NvmeSsdParams> &NvmeSsdParams::table() {
  using P = NvmeSsdParams;
  static const ParamTable<P> table(
      field(&P::bar_size,
            {"bar_size", ParamKind::size, "16 KiB",
             "BAR0: controller registers and queue doorbells (a power of two; NVMe base spec §3.1: "
             "registers, doorbells from 0x1000)",
             4096, 0, true}),
      field(&P::bar_latency,
            {"bar_latency", ParamKind::time, "100 ns",
             "latency of the controller's registers behind BAR0 (estimate; the dma_engine's "
             "default, which the drive ran on before it had this parameter)",
             0, 1e9}),
      field(&P::bar_bandwidth,
            {"bar_bandwidth", ParamKind::rate, "32 GB/s",
             "bandwidth of the controller's registers behind BAR0 (estimate; the dma_engine's "
             "default, which the drive ran on before it had this parameter)",
             1e6, 0}),
      field(&P::read_completion_boundary,
            {"read_completion_boundary", ParamKind::size, "64 B",
             "RCB of the drive as completer of reads to its BARs (PCIe Base Spec: 64 B or 128 B)",
             64, 128, true}),
      field(&P::cmb,
            {"cmb", ParamKind::boolean, false,
             "Controller Memory Buffer: BAR1 exposes drive DRAM as p2pdma memory that peers may "
             "target (NVMe base spec, CMB; Linux pci_p2pdma_add_resource)"}),
      field(&P::cmb_size, {"cmb_size", ParamKind::size, "64 MiB",
                           "size of the CMB (BAR1, a power of two)", 4096, 0, true}),
      field(&P::cmb_latency,
            {"cmb_latency", ParamKind::time, "200 ns",
             "access latency of the CMB's DRAM behind the controller (estimate: DRAM plus the "
             "controller's internal bus)",
             0, 1e9}),
      field(&P::cmb_bandwidth,
            {"cmb_bandwidth", ParamKind::rate, "8 GB/s",
             "bandwidth of the CMB (estimate: a controller's DRAM, above a Gen4 x4 link)", 1e6, 0}),
      field(&P::queue_depth,
            {"queue_depth", ParamKind::integer, 1024,
             "commands submitted and not yet completed (Linux nvme driver io_queue_depth default "
             "1024)",
             1, 65536}),
      field(&P::mdts,
            {"mdts", ParamKind::size, "128 KiB",
             "Maximum Data Transfer Size: larger transfers become several commands (Identify "
             "Controller MDTS; 128 KiB to 2 MiB on shipping drives)",
             4096, 1ull << 30, true}),
      field(&P::flash_read_latency,
            {"flash_read_latency", ParamKind::time, "85 us",
             "NAND read of one command before its data moves (TLC; with the fabric the QD1 4 KiB "
             "read lands near the 92 us of Micron 9200's datasheet)",
             0, 1e12}),
      field(
          &P::flash_write_latency,
          {"flash_write_latency", ParamKind::time, "21 us",
           "from a write's data received to its completion (QD1 write latency of Micron 9200, "
           "acknowledged from power-loss-protected DRAM; about 300 us of raw TLC tPROG without it)",
           0, 1e12}),
      field(&P::flash_read_bandwidth,
            {"flash_read_bandwidth", ParamKind::rate, "6.5 GB/s",
             "internal read bandwidth shared by all commands (Samsung PM9A3 U.2 sequential read)",
             1e6, 0}),
      field(&P::flash_write_bandwidth,
            {"flash_write_bandwidth", ParamKind::rate, "3.5 GB/s",
             "internal write bandwidth shared by all commands (Samsung PM9A3 U.2 sequential write)",
             1e6, 0}),
      field(&P::formatted,
            {"formatted", ParamKind::boolean, false,
             "the namespace was formatted (or its blocks deallocated) and not written since, as "
             "benchmarks on fresh drives often leave it: a read of deallocated blocks is answered "
             "with zeroes without reading the flash (NVMe's DLFEAT read behaviour), so only the "
             "controller's command rate and the transfer remain"}),
      field(&P::max_read_iops,
            {"max_read_iops", ParamKind::integer, 900000,
             "read commands the controller starts per second (Samsung PM9A3 U.2 4 KiB random read)",
             1, 100000000}),
      field(
          &P::max_write_iops,
          {"max_write_iops", ParamKind::integer, 200000,
           "write commands the controller starts per second (Samsung PM9A3 U.2 4 KiB random write)",
           1, 100000000}),
      field(&P::tags, {"tags", ParamKind::integer, 64,
                       "outstanding PCIe reads (SQE fetches and write data; estimate)", 1, 1024}),
      field(&P::mrrs, {"mrrs", ParamKind::size, "512 B", "Max_Read_Request_Size", 128, 4096, true}),
      field(&P::posted_window,
            {"posted_window", ParamKind::integer, 32,
             "MWr TLPs the drive keeps queued at its port before waiting", 1, 4096}),
      nested(&P::ports, port_fields(kPortDefaults)),
      nested(&P::costs, device_dma_cost_fields(kCostDefaults)));
  return table;
}

std::vector<Bytes> NvmeSsdParams::bar_sizes(const ParamSet &params) {
  NvmeSsdParams n = from(params);
  if (n.cmb)
    return {n.bar_size, n.cmb_size};
  return {n.bar_size};
}

// The doorbell is the drive's, per command (NvmeSsd::submit_waiting), not the core's per transfer.
DmaEngineParams NvmeSsdParams::engine_params() const {
  DmaEngineParams d = core_params_of(*this);
  d.costs.doorbell_latency = Duration{0};
  return d;
}

NvmeSsd::NvmeSsd(sc_core::sc_module_name name, const NvmeSsdParams &params, DmaEngineWiring wiring,
                 SimContext &context)
    : DmaEngine(name, params.engine_params(), std::move(wiring), context), nvme_params_(params),
      timer_(*this, context.calendar),
      flash_read_{params.flash_read_latency, 1e12 / params.flash_read_bandwidth.bytes_per_second},
      flash_write_{params.flash_write_latency,
                   1e12 / params.flash_write_bandwidth.bytes_per_second},
      cmb_ps_per_byte_(1e12 / params.cmb_bandwidth.bytes_per_second) {}

void NvmeSsd::Timer::at(std::int64_t at_ps, Step step, int command) {
  heap_.push_back(Due{at_ps, seq_++, step, command});
  std::push_heap(heap_.begin(), heap_.end(), std::greater<Due>());
  calendar_.wake_at(*this, heap_.front().at_ps);
}

void NvmeSsd::Timer::run() {
  const std::int64_t now = now_ps();
  while (!heap_.empty() && heap_.front().at_ps <= now) {
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<Due>());
    Due due = heap_.back();
    heap_.pop_back();
    ssd_.step(due.step, due.command);
  }
  if (!heap_.empty())
    calendar_.wake_at(*this, heap_.front().at_ps);
}

NvmeSsd::Io &NvmeSsd::io_of(int transfer) {
  if (ios_.size() <= static_cast<std::size_t>(transfer))
    ios_.resize(static_cast<std::size_t>(transfer) + 1);
  return ios_[static_cast<std::size_t>(transfer)];
}

// The host submits the transfer as ceil(bytes / MDTS) commands (the block layer splits at the
// drive's max_hw_sectors); each command's data moves once that command is ready for it.
bool NvmeSsd::transfer_may_start(int transfer) {
  TransferInfo info = transfer_info(transfer);
  Io &io = io_of(transfer);
  io.commands.clear();
  for (std::uint64_t offset = 0; offset < info.bytes; offset += nvme_params_.mdts.count) {
    int id;
    if (free_commands_.empty()) {
      id = static_cast<int>(commands_.size());
      commands_.emplace_back();
    } else {
      id = free_commands_.back();
      free_commands_.pop_back();
    }
    commands_[static_cast<std::size_t>(id)] = Command{
        transfer, std::min(nvme_params_.mdts.count, info.bytes - offset), info.is_write, true};
    io.commands.push_back(id);
    ++nvme_stats_.commands;
  }
  io.commands_before_data = io.commands_to_complete = static_cast<int>(io.commands.size());
  waiting_.push_back(transfer);
  submit_waiting();
  return false;
}

// An I/O's commands enter the submission queue together, once the queue depth leaves room for
// all of them; an I/O of more commands than the queue depth enters an empty queue alone. Each
// command rings the doorbell.
void NvmeSsd::submit_waiting() {
  while (!waiting_.empty()) {
    const std::vector<int> &commands = io_of(waiting_.front()).commands;
    int count = static_cast<int>(commands.size());
    if (in_flight_ > 0 && in_flight_ + count > nvme_params_.queue_depth) {
      ++nvme_stats_.queue_full_waits;
      return;
    }
    waiting_.pop_front();
    in_flight_ += count;
    for (int command : commands) {
      count_doorbell();
      timer_.at(now_ps() + nvme_params_.costs.doorbell_latency.ps, Step::FetchSqe, command);
    }
  }
}

void NvmeSsd::fetch_pending_sqes() {
  while (!sqe_pending_.empty()) {
    int command = sqe_pending_.front();
    std::uint64_t sqe = wiring().host_memory_base + kSubmissionQueueOffset +
                        static_cast<std::uint64_t>(command) * kSqeBytes % kCompletionQueueOffset;
    if (!send_fetch(sqe, kSqeBytes, AddressType::Untranslated, command))
      return; // no tag: retried when a fetch completes or a transfer ends
    ++nvme_stats_.sqe_fetches;
    sqe_pending_.pop_front();
  }
}

// The SQE is in: the controller starts the command at its command rate; a read then goes to
// the flash, a write first fetches its data.
void NvmeSsd::fetch_completed(int command) {
  Command &c = commands_[static_cast<std::size_t>(command)];
  std::int64_t &free_at = c.nvme_read ? read_commands_free_at_ps_ : write_commands_free_at_ps_;
  double iops =
      static_cast<double>(c.nvme_read ? nvme_params_.max_read_iops : nvme_params_.max_write_iops);
  free_at = std::max(free_at, now_ps()) + static_cast<std::int64_t>(std::llround(1e12 / iops));
  if (c.nvme_read && nvme_params_.formatted) {
    timer_.at(free_at, Step::MediaDone, command); // deallocated blocks: zeroes, no flash read
  } else if (c.nvme_read) {
    std::int64_t done =
        media_done_ps(flash_read_, c.bytes, free_at, nvme_stats_.flash_read_busy_ns);
    nvme_stats_.flash_bytes_read += c.bytes;
    timer_.at(done, Step::MediaDone, command);
  } else {
    timer_.at(free_at, Step::MediaDone, command);
  }
  fetch_pending_sqes();
}

std::int64_t NvmeSsd::media_done_ps(FlashServer &flash, std::uint64_t bytes, std::int64_t at_ps,
                                    std::uint64_t &busy_ns) {
  std::int64_t busy = busy_ps(static_cast<double>(bytes) * flash.ps_per_byte);
  flash.free_at_ps = std::max(at_ps + flash.latency.ps, flash.free_at_ps) + busy;
  busy_ns += static_cast<std::uint64_t>(busy / 1000);
  return flash.free_at_ps;
}

void NvmeSsd::step(Step step, int command) {
  Command &c = commands_[static_cast<std::size_t>(command)];
  switch (step) {
  case Step::FetchSqe:
    sqe_pending_.push_back(command);
    fetch_pending_sqes();
    return;
  case Step::MediaDone: {
    if (!c.nvme_read && io_of(c.transfer).commands_before_data == 0) {
      post_completion(command); // a write's program finished
      return;
    }
    // Each command's data moves once that command has it: a read's once its flash read is
    // done, a write's once the command has started (commands run in order, so the bytes they
    // release follow the transfer's offsets).
    --io_of(c.transfer).commands_before_data;
    release_transfer_bytes(c.transfer, c.bytes);
    return;
  }
  case Step::Completed: {
    int transfer = c.transfer;
    c.in_use = false;
    free_commands_.push_back(command);
    --in_flight_;
    submit_waiting();
    if (--io_of(transfer).commands_to_complete == 0)
      finish_held_transfer(transfer, now_ps());
    return;
  }
  }
}

// The data has moved: a read's commands complete now; a write's are programmed first.
bool NvmeSsd::transfer_may_finish(int transfer) {
  for (int command : io_of(transfer).commands) {
    Command &c = commands_[static_cast<std::size_t>(command)];
    if (c.nvme_read) {
      post_completion(command);
      continue;
    }
    std::int64_t done =
        media_done_ps(flash_write_, c.bytes, now_ps(), nvme_stats_.flash_write_busy_ns);
    nvme_stats_.flash_bytes_written += c.bytes;
    timer_.at(done, Step::MediaDone, command);
  }
  fetch_pending_sqes();
  return false;
}

// The 16 B completion queue entry, then the MSI-X message, both posted writes to host
// memory (PCIe ordering keeps them in that order); the command is complete for the host when
// the interrupt lands.
void NvmeSsd::post_completion(int command) {
  std::uint64_t base = wiring().host_memory_base + kSubmissionQueueOffset;
  std::uint64_t id = static_cast<std::uint64_t>(command);
  send_posted_write(base + kCompletionQueueOffset + id * kCqeBytes % kCompletionQueueOffset,
                    kCqeBytes, static_cast<std::uint32_t>(2 * id));
  send_posted_write(base + kMsixOffset, kMsixBytes, static_cast<std::uint32_t>(2 * id + 1));
  ++nvme_stats_.cqe_writes;
  ++nvme_stats_.interrupts;
}

void NvmeSsd::posted_write_delivered(std::uint32_t write_id, std::int64_t at_ps) {
  if (write_id % 2 == 1) // the interrupt
    timer_.at(at_ps, Step::Completed, static_cast<int>(write_id / 2));
}

// The CMB: one DRAM server for every access through BAR1 (BAR0 holds registers only).
std::int64_t NvmeSsd::memory_access(bool is_write, std::uint64_t address, std::uint32_t bytes,
                                    std::int64_t at_ps) {
  // BAR0 holds the controller's registers (the core's BAR timing); BAR1, with a CMB, its DRAM.
  const DmaEngineWiring &w = wiring();
  bool in_cmb = w.bar_bases.size() > kCmbBar && address >= w.bar_bases[kCmbBar] &&
                address - w.bar_bases[kCmbBar] < w.bar_sizes[kCmbBar];
  if (!in_cmb)
    return DmaEngine::memory_access(is_write, address, bytes, at_ps);
  std::int64_t start = std::max(at_ps + nvme_params_.cmb_latency.ps, cmb_free_at_ps_);
  cmb_free_at_ps_ = start + busy_ps(bytes * cmb_ps_per_byte_);
  nvme_stats_.cmb_bytes += bytes;
  return cmb_free_at_ps_;
}

std::string NvmeSsd::describe_outstanding() const {
  std::string out = DmaEngine::describe_outstanding();
  if (in_flight_ || !waiting_.empty())
    out += fmt::format("{}{} NVMe commands in flight, {} I/Os waiting for the queue",
                       out.empty() ? "" : "; ", in_flight_, waiting_.size());
  return out;
}

} // namespace pciesim
