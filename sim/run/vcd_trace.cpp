#include "sim/run/vcd_trace.h"

#include <cstdio>
#include <deque>
#include <stdexcept>
#include <sys/stat.h>

#include <fmt/format.h>

#include "models/pcie/pcie_port.h"

namespace pciesim {

namespace {
constexpr std::int64_t kFsPerPs = 1000;
std::int64_t ps_ceil(std::int64_t fs) { return (fs + kFsPerPs - 1) / kFsPerPs; }
} // namespace

// Applies timed value changes to two signals. Only its own process writes them (SystemC's
// one-writer rule); the link's observer calls just queue the changes and wake it.
class VcdProbe : public sc_core::sc_module {
public:
  explicit VcdProbe(sc_core::sc_module_name name) : sc_module(name) {
    SC_HAS_PROCESS(VcdProbe);
    SC_METHOD(apply);
    sensitive << wake_;
    dont_initialize();
  }

  sc_core::sc_signal<bool> busy{"busy", false};
  sc_core::sc_signal<unsigned> queue_depth{"queue_depth", 0u};

  // Changes arrive in time order per signal: a TLP starts now and ends in the future, and
  // the next one starts no earlier than that end.
  void change_busy(std::int64_t at_ps, bool value) {
    busy_changes_.push_back({at_ps, value ? 1u : 0u});
    wake(at_ps);
  }
  void change_depth(std::int64_t at_ps, unsigned value) {
    depth_changes_.push_back({at_ps, value});
    wake(at_ps);
  }

private:
  struct Change {
    std::int64_t at_ps;
    unsigned value;
  };

  void wake(std::int64_t at_ps) {
    // An earlier notification replaces a later pending one; a later one is kept by apply().
    wake_.notify(ps_to_time(std::max<std::int64_t>(0, at_ps - now_ps())));
  }

  // The last change due wins, so a TLP that starts as the previous one ends keeps busy at 1.
  void apply() {
    std::int64_t now = now_ps();
    while (!busy_changes_.empty() && busy_changes_.front().at_ps <= now) {
      busy.write(busy_changes_.front().value != 0);
      busy_changes_.pop_front();
    }
    while (!depth_changes_.empty() && depth_changes_.front().at_ps <= now) {
      queue_depth.write(depth_changes_.front().value);
      depth_changes_.pop_front();
    }
    if (!busy_changes_.empty())
      wake(busy_changes_.front().at_ps);
    if (!depth_changes_.empty())
      wake(depth_changes_.front().at_ps);
  }

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

VcdTrace::VcdTrace(const std::string &path) : staged_(path, ".vcd") {
  // SystemC appends ".vcd" to the name it is given. The staged file exists already, so SystemC's
  // writer, which cannot report a failure to open, finds a file it can write.
  const std::string &name = staged_.temporary();
  file_ = sc_core::sc_create_vcd_trace_file(name.substr(0, name.size() - 4).c_str());
  if (!file_)
    throw std::runtime_error("cannot write " + path);
  file_->set_time_unit(1, sc_core::SC_PS);
}

VcdTrace::~VcdTrace() {
  // finish() was not reached; the staged file removes what was written. SystemC's writer
  // crashes (SIGFPE) closing a file it failed to open, which it then never wrote to: a writer
  // whose file is still empty is left alone (the process is ending).
  struct stat st {};
  if (file_ && ::stat(staged_.temporary().c_str(), &st) == 0 && st.st_size > 0)
    sc_core::sc_close_vcd_trace_file(file_);
}

void VcdTrace::watch_link(const LinkDirection &direction, const std::string &scope) {
  std::string module = fmt::format("vcd_probe_{}", probes_.size());
  probes_.push_back(std::make_unique<VcdProbe>(module.c_str()));
  VcdProbe *probe = probes_.back().get();
  sc_core::sc_trace(file_, probe->busy, scope + ".busy");
  sc_core::sc_trace(file_, probe->queue_depth, scope + ".queue_depth");
  probe_of_[&direction] = probe;
}

void VcdTrace::tlp_on_wire(const LinkDirection &direction, const TlpExtension &,
                           std::int64_t start_fs, std::int64_t end_fs) {
  auto it = probe_of_.find(&direction);
  if (it == probe_of_.end())
    return;
  it->second->change_busy(start_fs / kFsPerPs, true);
  it->second->change_busy(ps_ceil(end_fs), false);
}

void VcdTrace::queue_depth_changed(const LinkDirection &direction, std::uint64_t depth,
                                   std::int64_t at_fs) {
  auto it = probe_of_.find(&direction);
  if (it == probe_of_.end())
    return;
  it->second->change_depth(at_fs / kFsPerPs, static_cast<unsigned>(depth));
}

namespace {
// SystemC writes the wall-clock date into the header; blank it in place (same length, so the
// rest of a possibly large file stays where it is) so that a run's VCD is the same every time.
void blank_vcd_date(const std::string &path) {
  std::FILE *f = std::fopen(path.c_str(), "r+b");
  if (!f)
    return;
  char head[256];
  std::size_t n = std::fread(head, 1, sizeof head, f);
  std::string text(head, n);
  constexpr char kDate[] = "$date";
  std::size_t start = text.find(kDate);
  std::size_t end = start == std::string::npos ? start : text.find("$end", start);
  if (end != std::string::npos) {
    start += sizeof kDate - 1;
    for (std::size_t i = start; i < end; ++i)
      if (text[i] != '\n')
        text[i] = ' ';
    std::fseek(f, static_cast<long>(start), SEEK_SET);
    std::fwrite(text.data() + start, 1, end - start, f);
  }
  std::fclose(f);
}
} // namespace

void VcdTrace::finish() {
  sc_core::sc_close_vcd_trace_file(file_);
  file_ = nullptr;
  blank_vcd_date(staged_.temporary());
  staged_.commit();
}

} // namespace pciesim
