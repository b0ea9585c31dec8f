#include "sim/run/kernel_run.h"

#include <cstring>
#include <new>

#include <systemc>

#include "models/common/sim_time.h"

namespace pciesim {

void install_report_handler() {
  using namespace sc_core;
  // SystemC errors become exceptions we turn into exit codes, never an abort().
  sc_report_handler::set_actions(SC_ERROR, SC_THROW);
  sc_report_handler::set_actions(SC_FATAL, SC_THROW);
  sc_report_handler::set_actions(SC_WARNING, SC_DO_NOTHING);
  sc_report_handler::set_actions(SC_INFO, SC_DO_NOTHING);
}

void run_kernel_until(std::int64_t limit_ps) {
  try {
    sc_core::sc_start(ps_to_time(limit_ps), sc_core::SC_EXIT_ON_STARVATION);
  } catch (const sc_core::sc_report &e) {
    if (std::strcmp(e.get_msg_type(), sc_core::SC_ID_SIMULATION_UNCAUGHT_EXCEPTION_) == 0 &&
        std::strcmp(e.get_msg(), "std::bad_alloc") == 0)
      throw std::bad_alloc();
    throw;
  }
}

} // namespace pciesim
