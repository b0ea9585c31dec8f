#include "sim/cli/import_command.h"

#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "sim/config/json_input.h"
#include "sim/config/schema_check.h"
#include "sim/fabric/enumeration.h"
#include "sim/import/snapshot_reader.h"
#include "sim/import/topology_builder.h"
#include "sim/util/file_io.h"

namespace pciesim {
namespace {

// "dumps/box-lspci-tree.txt" -> "box-lspci-tree": the topology's default name.
std::string name_of_dump(const std::string &path) {
  std::string base = path.substr(path.find_last_of('/') + 1);
  std::size_t dot = base.find_last_of('.');
  if (dot != std::string::npos && dot > 0)
    base.erase(dot);
  std::string name;
  for (char c : base)
    name += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '-';
  return name.empty() || path == "-" ? "imported" : name;
}

} // namespace

CLI::App *add_import_command(CLI::App &app, ImportCommandOptions &o) {
  CLI::App *command = app.add_subcommand(
      "import", "build a topology from a machine dump: a snapshot of "
                "scripts/snapshot-machine.sh, lspci -tvnn, -vvv or -nn text, an IOMMU-group "
                "listing, or NCCL's topology XML");
  command
      ->add_option("dump", o.dumps,
                   "the dump (- for standard input), then any `lspci -vvv` text of the same "
                   "machine, whose details (bus numbers, links, ACS, BARs) are added to it")
      ->required();
  command->add_option("--out", o.out, "write the topology here (default: standard output)");
  command->add_option("--sockets", o.sockets, "sockets, when the dump does not say (1 or 2)")
      ->check(CLI::Range(1, 2));
  command->add_option("--name", o.name, "the topology's name (default: the dump's file name)");
  command->add_flag("--quiet", o.quiet, "do not print the guesses (they stay in the file)");
  return command;
}

int command_import(const ImportCommandOptions &o) {
  PciInventory inventory = read_machine_dumps(o.dumps);
  if (!o.out.empty()) // after the dumps are read: it must not be one of them
    check_output_file(o.out, "--out");
  ImportOptions options;
  if (o.sockets > 0)
    options.sockets = o.sockets;
  options.name = o.name.empty() ? name_of_dump(o.dumps.front()) : o.name;
  ImportedTopology imported = build_imported_topology(inventory, options);
  // Names come from the dump as they are; bytes that are not UTF-8 (a damaged or
  // Latin-1 listing) become U+FFFD rather than an error.
  const std::string text =
      imported.topology.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) +
      "\n";

  // The file must load as any topology does, and enumerate with the dump's addresses.
  const std::string shown = o.out.empty() ? "<imported topology>" : o.out;
  Node root = Node::root(parse_json_text(text, shown));
  TopologyConfig topology = load_topology(root);
  Hierarchy hierarchy = build_hierarchy(topology);
  Enumeration enumeration = enumerate(topology, hierarchy);
  validate_against_schema(root, "topology");
  for (const auto &[id, address] : imported.addresses) {
    const Bdf bdf = enumeration.components[static_cast<std::size_t>(topology.find(id))].bdf;
    if (bdf.packed() != address.bdf.packed())
      throw std::logic_error(fmt::format("{} enumerates at {}, not at {} as in {}", id,
                                         format_bdf(bdf), format_bdf(address.bdf),
                                         o.dumps.front()));
  }

  std::ostream &notes = o.out.empty() ? std::cerr : std::cout;
  if (!o.quiet)
    for (const std::string &guess : imported.guesses)
      notes << "guess: " << guess << "\n";
  if (o.out.empty()) {
    std::cout << text;
  } else {
    write_file_atomically(o.out, text);
    if (!o.quiet)
      notes << fmt::format("wrote {}: {} components, {} links, {} guesses\n", o.out,
                           topology.components.size(), topology.links.size(),
                           imported.guesses.size());
  }
  return 0;
}

} // namespace pciesim
