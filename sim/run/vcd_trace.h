// VCD waveforms of a run (`pciesim run --vcd FILE`), for GTKWave: per link direction a `busy`
// bit (a TLP is on the wire) and its `queue_depth` (TLPs waiting to be sent).
//
// The link model computes times instead of stepping, so it has no signals of its own. A probe
// module per direction turns the link's observer calls into sc_signal writes at the right
// simulated times, and SystemC's VCD writer (sc_create_vcd_trace_file) records them. The
// probes only ever schedule events no later than the link's own next wake-up (the TLP's
// arrival), so they do not move the end of the run, and nothing reads their signals.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <systemc>

#include "models/pcie/link.h"
#include "sim/util/file_io.h"

namespace pciesim {

class VcdProbe;

class VcdTrace : public LinkObserver {
public:
  // Opens the trace file under a temporary name; call before sc_start. Throws
  // std::runtime_error if it cannot be created.
  explicit VcdTrace(const std::string &path);
  ~VcdTrace() override;
  VcdTrace(const VcdTrace &) = delete;
  VcdTrace &operator=(const VcdTrace &) = delete;

  // Signals `<scope>.busy` and `<scope>.queue_depth`; dots in `scope` nest VCD scopes.
  void watch_link(const LinkDirection &direction, const std::string &scope);

  void tlp_on_wire(const LinkDirection &direction, const TlpExtension &tlp, std::int64_t start_fs,
                   std::int64_t end_fs) override;
  void queue_depth_changed(const LinkDirection &direction, std::uint64_t depth,
                           std::int64_t at_fs) override;

  // Closes the file and puts it in place at the path given (sim/util/file_io.h: a symbolic link is
  // followed, a device or FIFO is written in place); call after sc_start returned.
  void finish();

private:
  StagedFile staged_;
  sc_core::sc_trace_file *file_ = nullptr;
  std::vector<std::unique_ptr<VcdProbe>> probes_;
  std::unordered_map<const LinkDirection *, VcdProbe *> probe_of_;
};

// A name usable as one VCD scope: letters, digits and '_' only.
std::string vcd_identifier(const std::string &name);

} // namespace pciesim
