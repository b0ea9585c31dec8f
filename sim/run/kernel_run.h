// Driving the SystemC kernel for a run: its reports become exceptions (never an abort), and
// an allocation failure inside a model's process stays one.
#pragma once

#include <cstdint>

namespace pciesim {

// SystemC errors and fatals throw sc_report; warnings and infos are dropped.
void install_report_handler();

// sc_start up to `limit_ps` (or until nothing is pending). An allocation failure inside a
// process leaves it as std::bad_alloc, which every caller reports as running out of memory:
// SystemC would hand it back as an error of its own ("uncaught exception", E549).
void run_kernel_until(std::int64_t limit_ps);

} // namespace pciesim
