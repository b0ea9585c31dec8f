// What the import knows about PCI devices by their ids or lspci names: the vendors it tells
// apart, the component type a function is modelled as, and the datasheet figures of the GPUs and
// NICs it knows (used when a dump lacks them).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

#include "sim/import/pci_inventory.h"

namespace pciesim {

constexpr std::uint16_t kVendorNvidia = 0x10de, kVendorAmdGpu = 0x1002, kVendorAmd = 0x1022,
                        kVendorIntel = 0x8086, kVendorMellanox = 0x15b3, kVendorNetronome = 0x19ee;

// Devices whose datasheet figures the import uses when the dump lacks them (NVIDIA and NVIDIA
// networking product pages: docs/references.md, "Importing a machine").
struct KnownDevice {
  std::uint16_t vendor, device;
  const char *name_part; // matched in lspci's name when the dump has no ids
  const char *model;
  int max_gen;
  int memory_gib;     // GPUs
  int line_rate_gbps; // NICs
  // NVIDIA GPUs before Hopper lose the DLLP share pcie-bench's model charges (their testbeds'
  // dllp_interval_unit "byte": docs/models.md, "Link").
  bool dllp_intervals_in_bytes = false;
  // The device file of its generation (devices/<name>.json), nullptr when none is shipped; the
  // import names it instead of setting what it gives.
  const char *device_file = nullptr;
};

// The known device a function is, by ids or (without ids) by name; nullptr when unknown.
const KnownDevice *known_device(const PciFunctionInfo &function);

// True when the function's lspci name contains any of `parts`.
bool name_has(const PciFunctionInfo &function, std::initializer_list<const char *> parts);

// The vendor id, from the dump's ids or from the vendor's name that starts lspci's name.
std::optional<std::uint16_t> vendor_of(const PciFunctionInfo &function);

// Which component type a function is modelled as ("gpu", "rdma_nic", "nvme_ssd", "dma_engine"),
// or "" when pciesim does not model it (USB, SATA, audio, BMC graphics…).
std::string modelled_type(const PciFunctionInfo &function);

} // namespace pciesim
