#include "sim/config/embedded_files.h"

#include <stdexcept>

namespace pciesim {

const std::string &embedded_file(const std::string &path) {
  for (const EmbeddedFile &f : embedded_files())
    if (f.path == path)
      return f.text;
  throw std::logic_error("file not embedded: " + path);
}

} // namespace pciesim
