#include "sim/import/lspci_text.h"

#include <map>
#include <regex>
#include <stdexcept>

#include <fmt/format.h>

#include "sim/util/input_error.h"

namespace pciesim {
namespace {

int hex_value(const std::string &text) { return static_cast<int>(std::stoul(text, nullptr, 16)); }

std::string where_of(const std::string &prefix, std::size_t index) {
  // A text file is reported by line number (1-based), a snapshot's array by its pointer.
  return prefix.empty() ? std::to_string(index + 1) : prefix + std::to_string(index);
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// A line of `lspci -x`/`-xxx`/`-xxxx` (configuration space in hex: "00: 86 80 02 2f …",
// "100: …"), which lspci prints after a function's details; pciesim reads the decoded lines.
bool is_register_dump(const std::string &line) {
  std::size_t colon = line.find(':');
  if (colon < 2 || colon > 3 || colon + 1 == line.size())
    return false;
  for (std::size_t i = 0; i < colon; ++i)
    if (!is_hex(line[i]))
      return false;
  for (std::size_t i = colon + 1; i < line.size(); i += 3)
    if (line[i] != ' ' || i + 2 >= line.size() || !is_hex(line[i + 1]) || !is_hex(line[i + 2]))
      return false;
  return true;
}

// "XX.X" at `pos` (lspci -t's device.function).
bool entry_at(const std::string &line, std::size_t pos) {
  return pos + 4 <= line.size() && is_hex(line[pos]) && is_hex(line[pos + 1]) &&
         line[pos + 2] == '.' && line[pos + 3] >= '0' && line[pos + 3] <= '7';
}

// The last "[vvvv:dddd]" of a name: lspci -nn's ids (names hold other brackets, "[AMD]").
void take_ids(const std::string &name, PciFunctionInfo &function) {
  static const std::regex ids("\\[([0-9a-f]{4}):([0-9a-f]{4})\\]");
  std::smatch last;
  for (auto it = std::sregex_iterator(name.begin(), name.end(), ids); it != std::sregex_iterator();
       ++it)
    last = *it;
  if (!last.empty()) {
    function.vendor = static_cast<std::uint16_t>(hex_value(last[1].str()));
    function.device = static_cast<std::uint16_t>(hex_value(last[2].str()));
  }
}

} // namespace

std::optional<int> pcie_gen_of_speed(const std::string &text) {
  static const std::regex rate("([0-9]+(?:\\.[0-9]+)?) ?GT/s");
  std::smatch m;
  if (!std::regex_search(text, m, rate))
    return std::nullopt;
  const double gts = std::stod(m[1].str());
  static const double rates[] = {2.5, 5, 8, 16, 32, 64};
  for (int gen = 1; gen <= 6; ++gen)
    if (gts > rates[gen - 1] - 0.01 && gts < rates[gen - 1] + 0.01)
      return gen;
  return std::nullopt;
}

bool looks_like_lspci_tree(const std::vector<std::string> &lines) {
  for (const std::string &line : lines)
    if (line.rfind("-[", 0) == 0 || line.rfind("-+-[", 0) == 0)
      return true;
  return false;
}

bool looks_like_lspci_verbose(const std::vector<std::string> &lines) {
  static const std::regex header("^(?:[0-9a-f]{4,8}:)?[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7] .+: .*");
  for (const std::string &line : lines)
    if (!line.empty())
      return std::regex_match(line, header);
  return false;
}

PciInventory read_lspci_tree(const std::vector<std::string> &lines, const std::string &file,
                             const std::string &where_prefix) {
  PciInventory inventory;
  inventory.source = file;
  inventory.format = "lspci-tree";
  // Children of a bus are printed at one column, each after a "+-", "\-" or "--" connector:
  // the column of the first child (on its parent's line) names the bus of the whole list.
  std::map<std::size_t, std::pair<int, int>> bus_at_column; // column -> (segment, bus)
  std::map<std::pair<int, int>, int> bridge_of_bus;         // (segment, bus) -> function
  for (std::size_t index = 0; index < lines.size(); ++index) {
    try {
      const std::string &line = lines[index];
      const std::string where = where_of(where_prefix, index);
      auto fail = [&](const std::string &problem) {
        throw InputError(file, where, problem,
                         "lspci -t output: a tree of \"[SSSS:BB]\" root buses, \"DD.F\" "
                         "functions and \"-[BB-SS]-\" bridges");
      };
      std::optional<std::pair<int, int>> pending_bus; // set by a header or bridge: its children
      std::size_t pos = 0;
      while (pos < line.size()) {
        const char c = line[pos];
        if (c == ' ' || c == '|' || c == '-' || c == '+' || c == '\\') {
          ++pos;
          continue;
        }
        if (c == '[') { // a root bus: "[0000:c0]"
          static const std::regex header("\\[([0-9a-f]{4,8}):([0-9a-f]{2})\\]");
          std::smatch m;
          const std::string rest = line.substr(pos);
          if (!std::regex_search(rest, m, header, std::regex_constants::match_continuous))
            fail(fmt::format("\"{}\" at column {} is not a root bus", rest.substr(0, 12), pos + 1));
          const int segment = hex_value(m[1].str()), bus = hex_value(m[2].str());
          if (segment == 0)
            inventory.root_buses.push_back(bus);
          pending_bus = {segment, bus};
          pos += static_cast<std::size_t>(m.length(0));
          continue;
        }
        if (!entry_at(line, pos))
          fail(fmt::format("unexpected \"{}\" at column {}", line.substr(pos, 12), pos + 1));
        std::pair<int, int> bus;
        if (pending_bus) {
          bus = *pending_bus;
          bus_at_column[pos] = bus;
          pending_bus.reset();
        } else if (auto it = bus_at_column.find(pos); it != bus_at_column.end()) {
          bus = it->second;
        } else {
          fail(fmt::format("function {} at column {} is below no bus", line.substr(pos, 4),
                           pos + 1));
        }
        PciFunctionInfo function;
        function.address.segment = bus.first;
        function.address.bdf = Bdf{static_cast<std::uint8_t>(bus.second),
                                   static_cast<std::uint8_t>(hex_value(line.substr(pos, 2))),
                                   static_cast<std::uint8_t>(line[pos + 3] - '0')};
        function.line = static_cast<int>(index + 1);
        function.where = where;
        if (auto it = bridge_of_bus.find(bus); it != bridge_of_bus.end())
          function.parent = it->second;
        pos += 4;
        static const std::regex range("-\\[([0-9a-f]{2})(?:-([0-9a-f]{2}))?\\]-");
        std::smatch m;
        const std::string rest = line.substr(pos);
        if (std::regex_search(rest, m, range, std::regex_constants::match_continuous)) {
          function.secondary_bus = hex_value(m[1].str());
          function.subordinate_bus = m[2].matched ? hex_value(m[2].str()) : *function.secondary_bus;
          if (*function.subordinate_bus < *function.secondary_bus)
            fail(fmt::format("bridge {} has buses {:02x}-{:02x}", format_bdf(function.address.bdf),
                             *function.secondary_bus, *function.subordinate_bus));
          pending_bus = std::make_pair(bus.first, *function.secondary_bus);
          // A bridge firmware gave no buses shows 00: it holds nothing.
          if (*function.secondary_bus > bus.second)
            bridge_of_bus[*pending_bus] = static_cast<int>(inventory.functions.size());
          pos += static_cast<std::size_t>(m.length(0));
        } else if (!rest.empty() && rest[0] == '-') {
          fail(fmt::format("bridge {} has no whole bus range", format_bdf(function.address.bdf)));
        } else {
          // A function that is not a bridge: its name (with -v) ends the line.
          std::size_t name = rest.find_first_not_of(' ');
          if (name != std::string::npos) {
            function.name = rest.substr(name);
            take_ids(function.name, function);
          }
          pos = line.size();
        }
        if (inventory.find(function.address) >= 0)
          fail(fmt::format("function {} appears twice", format_pci_address(function.address)));
        inventory.functions.push_back(std::move(function));
      }
      if (pending_bus && !line.empty() && line.back() != '-')
        fail("a bus with nothing after it");
    } catch (const std::logic_error &) { // std::stoi and kin on a damaged number
      throw InputError(file, where_of(where_prefix, index), "a number out of range",
                       "lspci -t output as lspci prints it");
    }
  }
  if (inventory.functions.empty())
    throw InputError(file, where_prefix.empty() ? "1" : where_prefix, "no PCI function in the tree",
                     "lspci -t output");
  return inventory;
}

namespace {

struct ClassName {
  const char *name;
  std::uint32_t code; // base and sub-class, without the programming interface
};
// lspci's names of the classes import tells apart when -nn did not print the code.
constexpr ClassName kClassNames[] = {
    {"Host bridge", 0x0600},
    {"PCI bridge", 0x0604},
    {"Bridge", 0x0680},
    {"VGA compatible controller", 0x0300},
    {"3D controller", 0x0302},
    {"Display controller", 0x0380},
    {"Ethernet controller", 0x0200},
    {"Network controller", 0x0280},
    {"Infiniband controller", 0x0207},
    {"Non-Volatile memory controller", 0x0108},
    {"Processing accelerators", 0x1200},
};

std::optional<std::uint64_t> size_in_bytes(const std::string &number, const std::string &unit) {
  std::uint64_t value = std::stoull(number);
  int shift = unit.empty() ? 0 : unit == "K" ? 10 : unit == "M" ? 20 : unit == "G" ? 30 : 40;
  if (value > (UINT64_MAX >> shift))
    return std::nullopt;
  return value << shift;
}

AcsBits acs_bits(const std::string &text) {
  auto on = [&](const char *flag) {
    return text.find(std::string(flag) + "+") != std::string::npos;
  };
  AcsBits bits;
  bits.source_validation = on("SrcValid");
  bits.translation_blocking = on("TransBlk");
  bits.request_redirect = on("ReqRedir");
  bits.completion_redirect = on("CmpltRedir");
  bits.upstream_forwarding = on("UpstreamFwd");
  bits.egress_control = on("EgressCtrl");
  bits.direct_translated = on("DirectTrans");
  return bits;
}

PciLinkState link_state(const std::string &text) {
  PciLinkState state;
  static const std::regex width("Width x([0-9]+)");
  std::smatch m;
  state.gen = pcie_gen_of_speed(text);
  if (std::regex_search(text, m, width))
    state.width = std::stoi(m[1].str());
  return state;
}

} // namespace

void read_lspci_verbose(const std::vector<std::string> &lines, const std::string &file,
                        PciInventory &inventory, const std::string &where_prefix) {
  if (inventory.source.empty())
    inventory.source = file;
  if (inventory.format.empty())
    inventory.format = "lspci-verbose";
  static const std::regex header("^(?:([0-9a-f]{4,8}):)?([0-9a-f]{2}):([0-9a-f]{2})\\.([0-7]) "
                                 "(.+?)(?: \\[([0-9a-f]{4})\\])?: (.*)$");
  static const std::regex region("Region ([0-5]): .*\\[size=([0-9]+)([KMGT]?)\\]");
  static const std::regex buses("Bus: primary=([0-9a-f]{2}), secondary=([0-9a-f]{2}), "
                                "subordinate=([0-9a-f]{2})");
  static const std::regex payload("MaxPayload ([0-9]+) bytes");
  static const std::regex read_request("MaxReadReq ([0-9]+) bytes");
  static const std::regex numa("NUMA node: ([0-9]+)");
  PciFunctionInfo *current = nullptr;
  bool in_device_control = false;
  for (std::size_t index = 0; index < lines.size(); ++index) {
    try {
      const std::string &line = lines[index];
      if (line.empty())
        continue;
      std::smatch m;
      if (is_register_dump(line))
        continue;
      if (line[0] != ' ' && line[0] != '\t') {
        if (!std::regex_match(line, m, header))
          throw InputError(file, where_of(where_prefix, index),
                           fmt::format("\"{}\" is not a PCI function's first line",
                                       printable_on_one_line(line.substr(0, 40))),
                           "lspci -vvv output: \"BB:DD.F class: name\" and indented details");
        PciAddress address;
        address.segment = m[1].matched ? hex_value(m[1].str()) : 0;
        address.bdf = Bdf{static_cast<std::uint8_t>(hex_value(m[2].str())),
                          static_cast<std::uint8_t>(hex_value(m[3].str())),
                          static_cast<std::uint8_t>(m[4].str()[0] - '0')};
        if (address.bdf.device > 0x1f)
          throw InputError(file, where_of(where_prefix, index),
                           fmt::format("device {:02x} is above 1f", address.bdf.device));
        int found = inventory.find(address);
        if (found < 0) {
          inventory.functions.emplace_back();
          found = static_cast<int>(inventory.functions.size() - 1);
          inventory.functions.back().address = address;
          inventory.functions.back().line = static_cast<int>(index + 1);
          inventory.functions.back().where = where_of(where_prefix, index);
        }
        current = &inventory.functions[static_cast<std::size_t>(found)];
        current->capabilities_listed = true; // until lspci says it could not read them
        const std::string class_name = m[5].str();
        if (m[6].matched)
          current->class_code = static_cast<std::uint32_t>(hex_value(m[6].str())) << 8;
        else
          for (const ClassName &known : kClassNames)
            if (class_name == known.name)
              current->class_code = known.code << 8;
        std::string name = m[7].str();
        take_ids(name, *current);
        if (current->name.empty())
          current->name = name;
        in_device_control = false;
        continue;
      }
      if (!current)
        throw InputError(file, where_of(where_prefix, index),
                         "details before any PCI function's first line",
                         "lspci -vvv output, starting with \"BB:DD.F class: name\"");
      if (std::regex_search(line, m, region)) {
        const std::size_t bar = std::stoul(m[1].str());
        std::optional<std::uint64_t> bytes = size_in_bytes(m[2].str(), m[3].str());
        if (line.find("I/O ports") == std::string::npos && bytes) {
          if (current->bar_sizes_bytes.size() <= bar)
            current->bar_sizes_bytes.resize(bar + 1, 0);
          current->bar_sizes_bytes[bar] = *bytes;
        }
      } else if (std::regex_search(line, m, buses)) {
        current->secondary_bus = hex_value(m[2].str());
        current->subordinate_bus = hex_value(m[3].str());
      } else if (line.find("Express (v") != std::string::npos ||
                 line.find("Express Root Port") != std::string::npos ||
                 line.find("Express Endpoint") != std::string::npos) {
        static const std::pair<const char *, PciePortType> kinds[] = {
            {"Root Port", PciePortType::RootPort},
            {"Upstream Port", PciePortType::UpstreamPort},
            {"Downstream Port", PciePortType::DownstreamPort},
            {"Root Complex Integrated Endpoint", PciePortType::RootComplexEndpoint},
            {"Legacy Endpoint", PciePortType::LegacyEndpoint},
            {"Endpoint", PciePortType::Endpoint},
            {"PCI/PCI-X Bridge", PciePortType::PciBridge},
        };
        for (const auto &[text, type] : kinds)
          if (line.find(text) != std::string::npos) {
            current->port_type = type;
            break;
          }
      } else if (line.find("DevCap:") != std::string::npos) {
        in_device_control = false;
        if (std::regex_search(line, m, payload))
          current->max_payload_supported_bytes = std::stoi(m[1].str());
      } else if (line.find("DevCtl:") != std::string::npos) {
        in_device_control = true;
      } else if (line.find("LnkCap:") != std::string::npos) {
        current->link_capability = link_state(line);
      } else if (line.find("LnkSta:") != std::string::npos) {
        current->link_status = link_state(line);
      } else if (line.find("ACSCap:") != std::string::npos) {
        current->acs_capability = acs_bits(line);
      } else if (line.find("ACSCtl:") != std::string::npos) {
        current->acs_control = acs_bits(line);
      } else if (line.find("Address Translation Service (ATS)") != std::string::npos) {
        current->ats_capable = true;
      } else if (line.find("ATSCtl:") != std::string::npos) {
        current->ats_enabled = line.find("Enable+") != std::string::npos;
      } else if (std::regex_search(line, m, numa)) {
        current->numa_node = std::stoi(m[1].str());
      } else if (line.find("<access denied>") != std::string::npos) {
        current->capabilities_listed = false;
      } else if (line.find("Kernel driver in use:") != std::string::npos) {
        current->driver = line.substr(line.find(':') + 2);
      } else if (line.find("DevSta:") != std::string::npos ||
                 line.find("LnkCtl:") != std::string::npos) {
        in_device_control = false;
      }
      if (in_device_control) {
        if (std::regex_search(line, m, payload))
          current->max_payload_bytes = std::stoi(m[1].str());
        if (std::regex_search(line, m, read_request))
          current->max_read_request_bytes = std::stoi(m[1].str());
      }
    } catch (const std::logic_error &) { // std::stoi and kin on a damaged number
      throw InputError(file, where_of(where_prefix, index), "a number out of range",
                       "lspci -vvv output as lspci prints it");
    }
  }
  for (PciFunctionInfo &f : inventory.functions)
    if (f.capabilities_listed) {
      if (!f.acs_capability)
        f.acs_capability = AcsBits{};
      if (!f.acs_control)
        f.acs_control = AcsBits{};
      if (!f.ats_capable)
        f.ats_capable = false;
    }
  inventory.place_below_numbered_bridges(); // functions no tree placed
}

} // namespace pciesim
