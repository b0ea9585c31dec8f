// The pciesim command line: run, topo, validate, describe. Returns the process exit code.
#pragma once

namespace pciesim {

int run_cli(int argc, char **argv);

} // namespace pciesim
