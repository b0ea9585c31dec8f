// `pciesim describe`: every component type's parameters from the same tables the loader
// uses, as text or as the Markdown section of docs/file-formats.md; its statistics from the
// stats tables as docs/statistics.md; and schemas/topology.schema.json with the per-type
// `params` schemas generated. Tests keep the checked-in files identical to these outputs.
#pragma once

#include <string>

namespace pciesim {

std::string describe_text();
std::string describe_markdown();
std::string describe_stats_markdown(); // the generated part of docs/statistics.md
std::string describe_schema();         // all of schemas/topology.schema.json
// Every platform file's values with their sources: the table in docs/references.md.
std::string describe_platforms_markdown();
// Every device file's values and sources: the table in docs/references.md.
std::string describe_devices_markdown();
// Every driver profile's values with their sources (the table in docs/references.md).
std::string describe_drivers_markdown();

} // namespace pciesim
