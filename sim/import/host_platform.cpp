#include "sim/import/host_platform.h"

#include <regex>

#include <fmt/format.h>

#include "sim/import/known_devices.h"

namespace pciesim {

bool is_amd_host(const PciInventory &inventory) {
  if (inventory.cpu_vendor.find("AMD") != std::string::npos)
    return true;
  for (const PciFunctionInfo &f : inventory.functions)
    if (f.parent < 0 && f.address.bdf.device == 0 && f.address.bdf.function == 0 &&
        vendor_of(f) == kVendorAmd)
      return true;
  return inventory.cpu_model.find("AMD") != std::string::npos;
}

HostPlatform choose_host_platform(const PciInventory &inventory) {
  HostPlatform result;
  std::string model = inventory.cpu_model;
  std::string reason;
  auto pick = [&](const char *platform, std::string why) {
    result.platform = platform;
    reason = std::move(why);
  };
  const bool amd = is_amd_host(inventory);
  if (inventory.cpu_family) {
    const int family = *inventory.cpu_family, number = inventory.cpu_model_number.value_or(-1);
    if (amd && family == 0x17)
      // Models 30h and up are Zen 2 (Rome); below, Zen 1 (Naples), whose nearest platform
      // file is Zen 2's.
      pick("amd-zen2", fmt::format("AMD family 17h model {:x}h{}", number,
                                   number >= 0x30 ? ""
                                                  : " (Zen 1: the Zen 2 platform is the "
                                                    "nearest pciesim has)"));
    else if (amd && family == 0x19)
      pick((number >= 0x10 && number < 0x20) || number >= 0x60 ? "amd-zen4" : "amd-zen3",
           fmt::format("AMD family 19h model {:x}h", number));
    else if (amd && family >= 0x1a)
      pick("amd-zen4", fmt::format("AMD family {:x}h (Zen 5 or later: the Zen 4 platform is "
                                   "the nearest pciesim has)",
                                   family));
    else if (!amd && family == 6) {
      static const std::pair<int, const char *> models[] = {
          {0x3f, "intel-haswell-ep"},      {0x4f, "intel-broadwell-ep"},
          {0x55, "intel-skylake-sp"},      {0x6a, "intel-icelake-sp"},
          {0x6c, "intel-icelake-sp"},      {0x8f, "intel-sapphire-rapids"},
          {0xcf, "intel-sapphire-rapids"}, {0xc6, "intel-arrow-lake-s"}};
      for (const auto &[id, name] : models)
        if (id == number)
          pick(name, fmt::format("Intel family 6 model {}", number));
    }
  }
  if (result.platform.empty() && !model.empty()) {
    std::smatch m;
    static const std::regex epyc("EPYC [0-9]{3}([0-9])"),
        threadripper("Threadripper PRO ([0-9])[0-9]{3}WX"), xeon_e5("E5-[0-9]{4}[A-Z]? v([2-4])"),
        scalable("(Platinum|Gold|Silver|Bronze) [0-9]([0-9])[0-9]{2}"),
        core_ultra_200_desktop("Core\\(TM\\) Ultra [579] 2[0-9]{2}(K|KF|F|T)?( |$)");
    if (std::regex_search(model, m, epyc)) {
      const char generation = m[1].str()[0];
      pick(generation == '2' ? "amd-zen2" : generation == '3' ? "amd-zen3" : "amd-zen4", model);
    } else if (std::regex_search(model, m, threadripper)) {
      const char series = m[1].str()[0];
      pick(series == '3' ? "amd-zen2" : series == '5' ? "amd-zen3" : "amd-zen4", model);
    } else if (std::regex_search(model, m, xeon_e5)) {
      if (m[1].str() == "2")
        pick("intel-ivybridge-ep", model);
      else if (m[1].str() == "3")
        pick("intel-haswell-ep", model);
      else if (m[1].str() == "4")
        pick("intel-broadwell-ep", model);
    } else if (std::regex_search(model, m, core_ultra_200_desktop)) {
      pick("intel-arrow-lake-s", model);
    } else if (std::regex_search(model, m, scalable)) {
      const char generation = m[2].str()[0];
      pick(generation <= '2'   ? "intel-skylake-sp"
           : generation == '3' ? "intel-icelake-sp"
                               : "intel-sapphire-rapids",
           model);
    }
  }
  if (result.platform.empty()) {
    // The host bridges' names: lspci's only word on the CPU in a bare listing.
    static const std::pair<const char *, const char *> bridges[] = {
        {"Xeon E7 v4/Xeon E5 v4", "intel-broadwell-ep"},
        {"Xeon E7 v3/Xeon E5 v3", "intel-haswell-ep"},
        {"Xeon E7 v2/Xeon E5 v2", "intel-ivybridge-ep"},
        {"Sky Lake-E", "intel-skylake-sp"},
        {"Ice Lake", "intel-icelake-sp"},
        {"Starship/Matisse", "amd-zen2"},
        {"Device 14a4", "amd-zen4"},
        {"Genoa", "amd-zen4"},
    };
    for (const PciFunctionInfo &f : inventory.functions) {
      if (f.parent >= 0 || !result.platform.empty())
        continue;
      for (const auto &[part, name] : bridges)
        if (f.name.find(part) != std::string::npos) {
          pick(name, fmt::format("host bridge {} \"{}\"", format_pci_address(f.address), f.name));
          break;
        }
    }
  }
  if (result.platform.empty()) {
    // Without a platform file, at least the P2PDMA allow-list entry the CPU has.
    static const std::regex sandy_bridge_ep("E5-[0-9]{4}[A-Z]?( 0)?( @|$)");
    if (amd) {
      result.cpu_param = "amd_zen";
      result.guess =
          (fmt::format("CPU {}: an AMD Zen host with no platform file: the model's defaults "
                       "with the Zen P2PDMA rule (any root ports)",
                       model.empty() ? std::string("unknown") : "\"" + model + "\""));
      return result;
    }
    if (std::regex_search(model, sandy_bridge_ep)) {
      result.cpu_param = "intel_xeon_e5";
      // Not the intel-sandybridge-ep platform file: a topology that names this allow-list
      // entry without a platform must come back from its own snapshot unchanged.
      result.guess =
          (fmt::format("CPU \"{}\" (Sandy Bridge-EP): the model's defaults with its P2PDMA "
                       "allow-list entry (platform intel-sandybridge-ep holds this host's "
                       "published figures: name it to use them)",
                       model));
      return result;
    }
    result.guess = (fmt::format("CPU {}: no platform file matches, so the root complexes take the "
                                "model's defaults (host bridge not on the P2PDMA allow-list)",
                                model.empty() ? std::string("unknown") : "\"" + model + "\""));
  } else {
    result.guess = (fmt::format("platform {} from {}", result.platform, reason));
  }
  return result;
}

} // namespace pciesim
