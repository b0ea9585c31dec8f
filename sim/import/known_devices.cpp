#include "sim/import/known_devices.h"

namespace pciesim {
namespace {

constexpr KnownDevice kKnownDevices[] = {
    {kVendorNvidia, 0x13c0, "GTX 980]", "GeForce GTX 980 4GB", 3, 4, 0, true},
    {kVendorNvidia, 0x1c82, "GTX 1050 Ti]", "GeForce GTX 1050 Ti 4GB", 3, 4, 0, true},
    {kVendorNvidia, 0x1db1, "V100 SXM2", "V100 SXM2 16GB", 3, 16, 0, true},
    {kVendorNvidia, 0x1db4, "V100 PCIe", "V100 PCIe 16GB", 3, 16, 0, true},
    {kVendorNvidia, 0x20b0, "A100 SXM4 40GB", "A100 SXM4 40GB", 4, 40, 0, true, "nvidia-ampere"},
    {kVendorNvidia, 0x20b2, "A100 SXM4 80GB", "A100 SXM4 80GB", 4, 80, 0, true, "nvidia-ampere"},
    {kVendorNvidia, 0x20b5, "A100 80GB PCIe", "A100 PCIe 80GB", 4, 80, 0, true, "nvidia-ampere"},
    {kVendorNvidia, 0x20f1, "A100 PCIe 40GB", "A100 PCIe 40GB", 4, 40, 0, true, "nvidia-ampere"},
    {kVendorNvidia, 0x2330, "H100 SXM5", "H100 SXM5 80GB", 5, 80, 0},
    {kVendorNvidia, 0x2331, "H100 PCIe", "H100 PCIe 80GB", 5, 80, 0},
    {kVendorNvidia, 0x2335, "H200", "H200 SXM 141GB", 5, 141, 0},
    {kVendorNvidia, 0x26b1, "RTX 6000 Ada", "RTX 6000 Ada Generation 48GB", 4, 48, 0, true,
     "nvidia-ada"},
    {kVendorNvidia, 0x2684, "RTX 4090", "GeForce RTX 4090 24GB", 4, 24, 0, true, "nvidia-ada"},
    {kVendorMellanox, 0x1003, "ConnectX-3]", "ConnectX-3", 3, 0, 40},
    {kVendorMellanox, 0x1017, "ConnectX-5]", "ConnectX-5", 3, 0, 100},
    {kVendorMellanox, 0x1019, "ConnectX-5 Ex", "ConnectX-5 Ex", 4, 0, 100},
    {kVendorMellanox, 0x101b, "ConnectX-6]", "ConnectX-6", 4, 0, 200},
    {kVendorMellanox, 0x101d, "ConnectX-6 Dx", "ConnectX-6 Dx", 4, 0, 100},
    {kVendorMellanox, 0x1021, "ConnectX-7", "ConnectX-7", 5, 0, 400},
};

} // namespace

const KnownDevice *known_device(const PciFunctionInfo &f) {
  for (const KnownDevice &d : kKnownDevices)
    if (f.vendor && f.device && *f.vendor == d.vendor && *f.device == d.device)
      return &d;
  if (!f.device)
    for (const KnownDevice &d : kKnownDevices)
      if (f.name.find(d.name_part) != std::string::npos)
        return &d;
  return nullptr;
}

bool name_has(const PciFunctionInfo &f, std::initializer_list<const char *> parts) {
  for (const char *part : parts)
    if (f.name.find(part) != std::string::npos)
      return true;
  return false;
}

std::optional<std::uint16_t> vendor_of(const PciFunctionInfo &f) {
  if (f.vendor)
    return f.vendor;
  // lspci -t without -nn: the vendor's name starts the function's name.
  static const std::pair<const char *, std::uint16_t> names[] = {
      {"NVIDIA Corporation", kVendorNvidia},
      {"Advanced Micro Devices, Inc. [AMD/ATI]", kVendorAmdGpu},
      {"Advanced Micro Devices", kVendorAmd},
      {"Intel Corporation", kVendorIntel},
      {"Mellanox Technologies", kVendorMellanox},
      {"Netronome", kVendorNetronome},
  };
  for (const auto &[name, id] : names)
    if (f.name.rfind(name, 0) == 0)
      return id;
  return std::nullopt;
}

std::string modelled_type(const PciFunctionInfo &f) {
  if (f.is_bridge())
    return "";
  const std::optional<std::uint16_t> vendor = vendor_of(f);
  const std::optional<std::uint32_t> base_sub =
      f.class_code ? std::optional<std::uint32_t>(*f.class_code >> 8) : std::nullopt;
  if ((base_sub && *base_sub == 0x0108) ||
      (!base_sub && name_has(f, {"NVMe", "Non-Volatile memory controller"})))
    return "nvme_ssd";
  if (vendor == kVendorNvidia || vendor == kVendorAmdGpu) {
    if (base_sub)
      return (*base_sub >> 8) == 0x03 || (*base_sub >> 8) == 0x12 ? "gpu" : "";
    return name_has(f, {"Audio", "USB", "UCSI", "Bridge", "NVSwitch", "Switch"}) ? "" : "gpu";
  }
  if (vendor == kVendorMellanox) {
    if (base_sub)
      return (*base_sub >> 8) == 0x02 ? "rdma_nic" : "";
    return name_has(f, {"ConnectX", "MT2", "MT4"}) ? "rdma_nic" : "";
  }
  if (vendor == kVendorNetronome)
    return "dma_engine";
  return "";
}

} // namespace pciesim
