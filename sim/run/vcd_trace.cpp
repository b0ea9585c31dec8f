#include "sim/run/vcd_trace.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <deque>
#include <stdexcept>

#include <fmt/format.h>

#include "models/common/sim_time.h"

namespace pciesim {

namespace {
// VCD identifiers: printable ASCII '!' to '~', shortest first.
std::string vcd_code(std::size_t index) {
  constexpr std::size_t kFirst = '!', kCount = '~' - '!' + 1;
  std::string code;
  do {
    code += static_cast<char>(kFirst + index % kCount);
    index /= kCount;
  } while (index > 0);
  return code;
}

std::string vcd_value(bool wire, std::uint64_t value, const std::string &code) {
  if (wire)
    return (value ? "1" : "0") + code + "\n";
  std::string bits;
  do {
    bits += static_cast<char>('0' + (value & 1));
    value >>= 1;
  } while (value > 0);
  std::reverse(bits.begin(), bits.end());
  return "b" + bits + " " + code + "\n";
}
} // namespace

// Applies timed value changes to a direction's two signals at the kernel's time, so that the
// trace receives them in time order. The link's observer calls only queue the changes and wake
// it.
class VcdProbe : public sc_core::sc_module {
public:
  VcdProbe(sc_core::sc_module_name name, VcdTrace &trace, std::size_t busy, std::size_t depth)
      : sc_module(name), trace_(trace), busy_(busy), depth_(depth) {
    SC_HAS_PROCESS(VcdProbe);
    SC_METHOD(apply);
    sensitive << wake_;
    dont_initialize();
  }

  // Changes arrive in time order per signal: a TLP starts now and ends in the future, and
  // the next one starts no earlier than that end.
  void change_busy(std::int64_t at_ps, bool value) {
    busy_changes_.push_back({at_ps, value ? 1u : 0u});
    wake(at_ps);
  }
  void change_depth(std::int64_t at_ps, std::uint64_t value) {
    depth_changes_.push_back({at_ps, value});
    wake(at_ps);
  }

private:
  struct Change {
    std::int64_t at_ps;
    std::uint64_t value;
  };

  void wake(std::int64_t at_ps) {
    // An earlier notification replaces a later pending one; a later one is kept by apply().
    wake_.notify(ps_to_time(std::max<std::int64_t>(0, at_ps - now_ps())));
  }

  void apply() {
    std::int64_t now = now_ps();
    for (auto [queue, signal] : {std::pair{&busy_changes_, busy_}, {&depth_changes_, depth_}}) {
      while (!queue->empty() && queue->front().at_ps <= now) {
        trace_.change(signal, queue->front().value);
        queue->pop_front();
      }
      if (!queue->empty())
        wake(queue->front().at_ps);
    }
  }

  VcdTrace &trace_;
  std::size_t busy_, depth_;
  sc_core::sc_event wake_;
  std::deque<Change> busy_changes_, depth_changes_;
};

std::string vcd_identifier(const std::string &name) {
  std::string out = name;
  for (char &c : out)
    if (!std::isalnum(static_cast<unsigned char>(c)))
      c = '_';
  return out;
}

VcdTrace::VcdTrace(const std::string &path)
    : path_(path), staged_(path, ".vcd"), body_(open_scratch_file_beside(staged_.temporary())) {
  if (!body_)
    throw std::runtime_error(fmt::format("cannot write {}: no temporary file for its values: {}",
                                         path, std::strerror(errno)));
}

VcdTrace::~VcdTrace() {
  if (body_)
    std::fclose(body_);
}

std::size_t VcdTrace::add_signal(std::vector<std::string> path, bool wire) {
  Signal s;
  s.path = std::move(path);
  s.wire = wire;
  s.code = vcd_code(signals_.size());
  signals_.push_back(std::move(s));
  return signals_.size() - 1;
}

void VcdTrace::watch_link(const LinkDirection &direction, const std::string &port) {
  std::vector<std::string> path;
  for (std::size_t start = 0;;) {
    std::size_t dot = port.find('.', start);
    path.push_back(vcd_identifier(port.substr(start, dot - start)));
    if (dot == std::string::npos)
      break;
    start = dot + 1;
  }
  path.push_back("tx_busy");
  std::size_t busy = add_signal(path, true);
  path.back() = "tx_queue_depth";
  std::size_t depth = add_signal(path, false);
  std::string module = fmt::format("vcd_probe_{}", probes_.size());
  probes_.push_back(std::make_unique<VcdProbe>(module.c_str(), *this, busy, depth));
  probe_of_[&direction] = probes_.back().get();
}

void VcdTrace::tlp_on_wire(const LinkDirection &direction, const TlpExtension &,
                           std::int64_t start_fs, std::int64_t end_fs) {
  auto it = probe_of_.find(&direction);
  if (it == probe_of_.end())
    return;
  it->second->change_busy(start_fs / kFsPerPs, true);
  it->second->change_busy(ps_ceil_of_fs(end_fs), false);
}

void VcdTrace::queue_depth_changed(const LinkDirection &direction, std::uint64_t depth,
                                   std::int64_t at_fs) {
  auto it = probe_of_.find(&direction);
  if (it == probe_of_.end())
    return;
  it->second->change_depth(at_fs / kFsPerPs, depth);
}

void VcdTrace::change(std::size_t signal, std::uint64_t value) {
  const std::int64_t now = now_ps();
  if (now != time_ps_) {
    flush();
    time_ps_ = now;
  }
  Signal &s = signals_[signal];
  s.pending = value;
  if (!s.dirty) {
    s.dirty = true;
    dirty_.push_back(signal);
  }
}

void VcdTrace::flush() {
  // In the order the signals were declared, so the same run gives the same bytes.
  std::sort(dirty_.begin(), dirty_.end());
  for (std::size_t i : dirty_) {
    Signal &s = signals_[i];
    s.dirty = false;
    if (s.pending == s.written)
      continue;
    if (time_ps_ != written_time_ps_) {
      note_write(std::fprintf(body_, "#%lld\n", static_cast<long long>(time_ps_)) >= 0);
      written_time_ps_ = time_ps_;
    }
    s.written = s.pending;
    s.changed = true;
    note_write(std::fputs(vcd_value(s.wire, s.written, s.code).c_str(), body_) >= 0);
  }
  dirty_.clear();
}

// Declarations of the signals that changed, sorted by path into nested scopes, and their
// initial values. No $date: the same run gives the same bytes.
std::string VcdTrace::header() const {
  std::vector<const Signal *> kept;
  for (const Signal &s : signals_)
    if (s.changed)
      kept.push_back(&s);
  std::sort(kept.begin(), kept.end(),
            [](const Signal *a, const Signal *b) { return a->path < b->path; });
  std::string out = "$version pciesim " PCIESIM_VERSION " $end\n$timescale 1 ps $end\n";
  std::vector<std::string> open; // the scopes open now
  for (const Signal *s : kept) {
    const std::vector<std::string> scopes(s->path.begin(), s->path.end() - 1);
    std::size_t common = 0;
    while (common < open.size() && common < scopes.size() && open[common] == scopes[common])
      ++common;
    for (; open.size() > common; open.pop_back())
      out += "$upscope $end\n";
    for (; open.size() < scopes.size(); open.push_back(scopes[open.size()]))
      out += "$scope module " + scopes[open.size()] + " $end\n";
    out += fmt::format("$var {} {} {} {} $end\n", s->wire ? "wire" : "integer", s->wire ? 1 : 32,
                       s->code, s->path.back());
  }
  for (; !open.empty(); open.pop_back())
    out += "$upscope $end\n";
  out += "$enddefinitions $end\n#0\n$dumpvars\n";
  for (const Signal *s : kept)
    out += vcd_value(s->wire, 0, s->code);
  return out + "$end\n";
}

void VcdTrace::note_write(bool ok) {
  if (!ok && write_error_ == 0)
    write_error_ = errno;
}

// The header, then the values, into the staged file; a failure (a full disk, `ulimit -f`) is
// reported with the path given, and the staged file goes.
void VcdTrace::finish() {
  flush();
  note_write(std::fflush(body_) == 0);
  std::FILE *file = std::fopen(staged_.temporary().c_str(), "wb");
  note_write(file != nullptr);
  if (file) {
    const std::string head = header();
    note_write(std::fwrite(head.data(), 1, head.size(), file) == head.size());
    std::rewind(body_);
    char buffer[1 << 16];
    for (std::size_t n; write_error_ == 0 && (n = std::fread(buffer, 1, sizeof buffer, body_)) > 0;)
      note_write(std::fwrite(buffer, 1, n, file) == n);
    note_write(std::fclose(file) == 0);
  }
  if (write_error_ != 0)
    throw std::runtime_error(
        fmt::format("cannot write {}: {}", path_, std::strerror(write_error_)));
  staged_.commit();
}

} // namespace pciesim
