#include "models/pcie/host_bridge.h"

namespace pciesim {

const std::vector<std::string> &host_cpu_names() {
  static const std::vector<std::string> names = {
      "amd_zen", "intel_xeon_e5", "intel_xeon_e5_v3", "intel_skylake_e", "google", "other"};
  return names;
}

std::string host_cpu_name(HostCpu cpu) { return host_cpu_names()[static_cast<std::size_t>(cpu)]; }

std::optional<HostCpu> parse_host_cpu(std::string_view name) {
  const std::vector<std::string> &names = host_cpu_names();
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name)
      return static_cast<HostCpu>(i);
  return std::nullopt;
}

} // namespace pciesim
