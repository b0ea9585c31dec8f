// A GPU's replayable fault buffer and the driver thread that services it. The GPU has one
// fault buffer whatever memory faults, and the driver services it in one place (UVM's
// replayable fault handler, uvm_gpu_replayable_faults.c, one batch at a time per GPU; amdgpu's
// retry faults through one interrupt ring): faults on different buffers of the same GPU wait
// in the same queue, and a batch takes them in the order they were raised, whichever buffer
// they touch. Each buffer's pages in a batch are then serviced by that buffer's driver
// (models/os/hmm.h), one buffer after the other, before the batch's faults are replayed.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "models/os/os_kernel.h"

namespace pciesim {

class HmmDriver;
using Done = std::function<void(std::int64_t at_ps)>;

class GpuFaultBuffer {
public:
  GpuFaultBuffer(OsKernel &kernel, int gpu) : kernel_(kernel), gpu_(gpu) {}

  // The GPU faulted on `pages` of the buffer `driver` handles; done(at_ps) once every one of
  // them is reachable by the GPU (migrated or mapped).
  void fault(HmmDriver &driver, std::vector<std::uint64_t> pages, Done done);

private:
  struct Request {
    HmmDriver *driver;
    std::vector<std::uint64_t> pages;
    Done done;
  };
  // One buffer's faulted pages in a batch.
  struct Group {
    HmmDriver *driver;
    std::vector<std::uint64_t> pages;
  };
  void fetch();
  void serve();
  // Services groups[from..] one after the other, then `finish`.
  void service_groups(std::shared_ptr<std::vector<Group>> groups, std::size_t from,
                      std::function<void()> finish);
  void replay(std::vector<Done> completed);

  OsKernel &kernel_;
  int gpu_;
  std::deque<Request> waiting_;
  bool busy_ = false;
  bool fetch_due_ = false; // a fetch of the fault buffer is scheduled
};

} // namespace pciesim
