// Files compiled into the binary (cmake/embed.cmake): the JSON Schemas, so that validation
// needs no files at run time, and the bundled default scenario with its topology.
#pragma once

#include <string>
#include <vector>

namespace pciesim {

struct EmbeddedFile {
  std::string path; // as in the repository, e.g. "schemas/topology.schema.json"
  std::string text;
};

const std::vector<EmbeddedFile> &embedded_files();
// The text of an embedded file; throws std::logic_error if it is not embedded.
const std::string &embedded_file(const std::string &path);

} // namespace pciesim
