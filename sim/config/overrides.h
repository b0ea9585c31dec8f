// Command-line overrides of an input (`--set POINTER=VALUE`, ns-3's `--Attr=`): a value put at a
// JSON pointer of the scenario, or with `topology:POINTER` of every topology file it names,
// before the file is loaded, so the value is typed and checked exactly as if it were written in
// the file (and an error names the file and that pointer). VALUE is JSON when it parses as JSON
// (`4`, `true`, `"64 B"`, `{"gen": 4}`), otherwise the text itself (`64 KiB`).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sim/config/json_input.h"

namespace pciesim {

struct JsonOverride {
  bool topology = false; // `topology:POINTER`: the topology documents, not the scenario
  std::string pointer;
  Json value;
};

// Parses one `--set` argument; throws InputError naming "--set" when it is malformed.
JsonOverride parse_override(const std::string &text);
// `doc` with the overrides for its kind put in. A pointer must name a place that exists, or a
// new key of an object that exists (the loader then checks the key); the document keeps its
// file name, so the loader's messages name the file and the pointer.
std::shared_ptr<const JsonDocument> with_overrides(std::shared_ptr<const JsonDocument> doc,
                                                   const std::vector<JsonOverride> &overrides,
                                                   bool topology);

} // namespace pciesim
