// The identity of a root complex's host bridge and CPU, which decides whether the kernel lets
// peer-to-peer DMA cross it (the P2PDMA allow-list, models/os/p2pdma.h). A root complex carries
// it as its `cpu` parameter; it lives here, with the PCIe models, so that the root complex does
// not depend on the OS models that read it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pciesim {

// CPU and host-bridge identity of a root complex, as a topology names it in its `cpu` param.
// The kernel asks two questions: is the boot CPU AMD family >= 0x17 (cpu_supports_p2pdma),
// and is the host bridge's root device on pci_p2pdma_whitelist[]?
enum class HostCpu {
  AmdZen,        // cpu_supports_p2pdma(): P2P between any root ports
  IntelXeonE5,   // Intel 0x3c00/0x3c01: listed, REQ_SAME_HOST_BRIDGE
  IntelXeonE5v3, // Intel 0x2f00/0x2f01: listed, REQ_SAME_HOST_BRIDGE
  IntelSkylakeE, // Intel 0x2030-0x2033, 0x2020, 0x09a2: listed, any host bridge
  Google,        // Google, any device: listed, any host bridge
  Other,         // not listed (ARM servers, other Intel parts, ...)
};
// Names as written in topology files: amd_zen, intel_xeon_e5, intel_xeon_e5_v3,
// intel_skylake_e, google, other.
std::string host_cpu_name(HostCpu cpu);
std::optional<HostCpu> parse_host_cpu(std::string_view name);
const std::vector<std::string> &host_cpu_names(); // for a ParamKind::choice spec

} // namespace pciesim
