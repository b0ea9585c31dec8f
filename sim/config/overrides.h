// Command-line overrides of an input (`--set POINTER=VALUE`, ns-3's `--Attr=`): a value put at a
// JSON pointer of the scenario, or with `topology:POINTER` of every topology file it names,
// before the file is loaded, so the value is typed and checked exactly as if it were written in
// the file (and an error names the file and that pointer). VALUE is JSON when it parses as JSON
// (`4`, `true`, `"64 B"`, `{"gen": 4}`), otherwise the text itself (`64 KiB`).
//
// Pointers here (and a sweep's axis pointers, which use the same code) may select an array
// element by a member instead of by position: `/components[id=gpu0]/params/bar_size` names the
// element of "components" whose "id" is "gpu0", wherever it is in the array, so one pointer fits
// topologies that list their components in different orders. A member that is an array of
// strings matches when it holds every comma-separated name: `/links[between=gpu0]` is the link
// with gpu0 at one end, `/links[between=sw0.dp1,nic0]` the one between those two.
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
// new key of an object that exists or that the pointer makes (the loader then checks the key);
// the document keeps its file name, so the loader's messages name the file and the pointer.
std::shared_ptr<const JsonDocument> with_overrides(std::shared_ptr<const JsonDocument> doc,
                                                   const std::vector<JsonOverride> &overrides,
                                                   bool topology);

// Why a pointer cannot be set in a document: where the walk stopped (a plain pointer into the
// document), the problem and what was expected.
struct PointerProblem {
  std::string at, problem, expected;
};

// `pointer` with its `[member=value]` selectors replaced by the indexes they select in `doc`,
// checked to be settable: every step names a value of `doc`, or a member to make in an object
// (the steps after such a member are made too, as objects). Throws PointerProblem otherwise: a
// selector that matches no element or several, a selector on a value that is not an array, an
// index past the end, a step into a value that has no members. J is nlohmann::json or
// nlohmann::ordered_json.
template <class J> std::string settable_pointer(const J &doc, const std::string &pointer);
// Puts `value` at `pointer` (selectors allowed), making the object members on the way that
// `doc` lacks. Throws PointerProblem as settable_pointer does.
template <class J> void set_at_pointer(J &doc, const std::string &pointer, const J &value);

} // namespace pciesim
