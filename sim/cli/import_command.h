// `pciesim import DUMP`: a topology file from a machine dump (sim/import), checked by loading
// and enumerating it as `pciesim topo` would, with every guess listed.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace pciesim {

struct ImportCommandOptions {
  std::vector<std::string> dumps; // the first any format; more: lspci -vvv of the same machine
  std::string out;                // "" = standard output
  int sockets = 0;                // 0 = from the dump
  std::string name;
  bool quiet = false;
};

CLI::App *add_import_command(CLI::App &app, ImportCommandOptions &options);
int command_import(const ImportCommandOptions &options);

} // namespace pciesim
