// pciesim's entry point. Our own main() overrides the one in libsystemc; sc_main exists
// only because libsystemc references it.
#include <cstdlib>

#include "sim/cli/cli.h"

extern "C" int sc_main(int, char **) { return 0; }

int main(int argc, char **argv) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  return pciesim::run_cli(argc, argv);
}
