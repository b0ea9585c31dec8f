// VCD waveforms of a run (`pciesim run --vcd FILE`), for GTKWave: per link direction, named
// by the port that sends on it, `<component>.<port>.tx_busy` (a 1-bit wire: a TLP is on the
// wire) and `<component>.<port>.tx_queue_depth` (an integer, which GTKWave shows in decimal:
// TLPs waiting to be sent). What a port receives is what its link partner sends, so no
// direction is recorded twice.
//
// The link model computes times instead of stepping, so it has no signals of its own. A probe
// module per direction turns the link's observer calls into value changes at the right
// simulated times; the probes only ever schedule events no later than the link's own next
// wake-up (the TLP's arrival), so they do not move the end of the run. The file is written
// here rather than by SystemC's writer: only values that differ from the last one written at
// a new time go into it (a TLP starting as the previous one ends leaves tx_busy at 1), the
// identifiers are one or two characters, and a signal that never changed is left out.
#pragma once

#include <cstdint>
#include <cstdio>
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
  // Stages the trace file; call before sc_start. Throws std::runtime_error if it cannot be
  // written.
  explicit VcdTrace(const std::string &path);
  ~VcdTrace() override;
  VcdTrace(const VcdTrace &) = delete;
  VcdTrace &operator=(const VcdTrace &) = delete;

  // Signals `<port>.tx_busy` and `<port>.tx_queue_depth`, `port` as "component.port" (each
  // part becomes a VCD scope).
  void watch_link(const LinkDirection &direction, const std::string &port);

  void tlp_on_wire(const LinkDirection &direction, const TlpExtension &tlp, std::int64_t start_fs,
                   std::int64_t end_fs) override;
  void queue_depth_changed(const LinkDirection &direction, std::uint64_t depth,
                           std::int64_t at_fs) override;

  // A probe's signal takes `value` at the kernel's current time.
  void change(std::size_t signal, std::uint64_t value);

  // Writes the file and puts it in place at the path given (sim/util/file_io.h: a symbolic link
  // is followed, a device or FIFO is written in place); call after sc_start returned.
  void finish();

private:
  struct Signal {
    std::vector<std::string> path; // scopes, then the name
    bool wire = false;             // 1 bit; else a 32-bit integer
    std::string code;              // the VCD identifier
    std::uint64_t written = 0, pending = 0;
    bool dirty = false, changed = false;
  };
  std::size_t add_signal(std::vector<std::string> path, bool wire);
  // Writes the changes of the time being recorded, those that differ from the value written.
  void flush();
  std::string header() const;
  // Keeps the errno of the first write that failed.
  void note_write(bool ok);

  std::string path_;
  StagedFile staged_;
  std::FILE *body_ = nullptr; // the value changes, put after the header at finish()
  std::vector<Signal> signals_;
  std::vector<std::size_t> dirty_;
  std::int64_t time_ps_ = 0, written_time_ps_ = 0;
  int write_error_ = 0;
  std::vector<std::unique_ptr<VcdProbe>> probes_;
  std::unordered_map<const LinkDirection *, VcdProbe *> probe_of_;
};

// A name usable as one VCD scope: letters, digits and '_' only.
std::string vcd_identifier(const std::string &name);

} // namespace pciesim
