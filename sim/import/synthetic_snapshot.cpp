#include "sim/import/synthetic_snapshot.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "sim/import/rdma_port.h"

namespace pciesim {
namespace {

using OrderedJson = nlohmann::ordered_json;

// What lspci and sysfs would show of one function.
struct SyntheticFunction {
  PciAddress address;
  std::uint32_t class_code = 0;
  std::uint16_t vendor = 0, device = 0;
  std::string name;
  std::optional<BusRange> buses;
  const char *port_type = "Endpoint";
  int cap_gen = 0, cap_width = 0, sta_gen = 0, sta_width = 0;
  int payload_supported = 0, payload = 0;
  bool acs = false, acs_redirect = false, acs_direct_translated = false, ats = false;
  std::vector<std::uint64_t> bars;
  int numa_node = 0;
  std::string infiniband_rate;
  std::string infiniband_link_layer;
  std::string net_mtu; // a RoCE port's net device
  std::string sysfs_path;
  std::vector<int> children; // functions on the secondary bus
};

const char *speed_text(int gen) {
  static const char *speeds[] = {"2.5", "5.0", "8.0", "16.0", "32.0", "64.0"};
  return speeds[std::clamp(gen, 1, 6) - 1];
}

const char *lspci_speed(int gen) {
  static const char *speeds[] = {"2.5GT/s", "5GT/s", "8GT/s", "16GT/s", "32GT/s", "64GT/s"};
  return speeds[std::clamp(gen, 1, 6) - 1];
}

// A CPU model name that names the platform (or the allow-list entry) the root complex has.
std::string cpu_model_of(const ComponentConfig &rc) {
  static const std::map<std::string, std::string> by_platform = {
      {"amd-zen2", "AMD EPYC 7742 64-Core Processor"},
      {"amd-zen3", "AMD EPYC 7763 64-Core Processor"},
      {"amd-zen4", "AMD EPYC 9654 96-Core Processor"},
      {"intel-broadwell-ep", "Intel(R) Xeon(R) CPU E5-2630 v4 @ 2.20GHz"},
      {"intel-haswell-ep", "Intel(R) Xeon(R) CPU E5-2637 v3 @ 3.50GHz"},
      {"intel-skylake-sp", "Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz"},
      {"intel-icelake-sp", "Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz"},
      {"intel-sapphire-rapids", "Intel(R) Xeon(R) Platinum 8480+"},
      {"intel-arrow-lake-s", "Intel(R) Core(TM) Ultra 9 285K"}};
  if (rc.platform)
    if (auto it = by_platform.find(rc.platform->name); it != by_platform.end())
      return it->second;
  // No platform file: a name that matches none, with the vendor the allow-list rule needs.
  static const std::map<std::string, std::string> by_cpu = {
      {"amd_zen", "AMD Zen Processor"},
      {"intel_xeon_e5", "Intel(R) Xeon(R) CPU E5-2670 0 @ 2.60GHz"},
      {"intel_xeon_e5_v3", "Intel(R) Xeon(R) CPU E5-2637 v3 @ 3.50GHz"},
      {"intel_skylake_e", "Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz"}};
  if (auto it = by_cpu.find(rc.params.choice("cpu")); it != by_cpu.end())
    return it->second;
  return "Generic x86-64 Processor";
}

class SnapshotWriter {
public:
  SnapshotWriter(const TopologyConfig &t, const Hierarchy &h, const Enumeration &e)
      : topo_(t), h_(h), e_(e) {}

  OrderedJson run() {
    int socket = 0;
    for (std::size_t r = 0; r < topo_.components.size(); ++r)
      if (topo_.components[r].type->role == ComponentRole::RootComplex)
        add_root_complex(static_cast<int>(r), socket++);
    OrderedJson snapshot;
    snapshot["format"] = "pciesim-snapshot";
    snapshot["version"] = 1;
    snapshot["host"] = topo_.name.empty() ? "synthetic" : topo_.name;
    snapshot["kernel"] = "synthetic";
    snapshot["cmdline"] = cmdline();
    snapshot["cpu_model"] = cpu_model_;
    snapshot["sockets"] = socket;
    OrderedJson iommu = {{"devices", OrderedJson::array()}, {"groups", 0}};
    if (!iommu_mode_.empty() && iommu_mode_ != "off") {
      iommu["devices"] = {"iommu0"};
      iommu["groups"] = endpoints_;
      iommu["default_domain"] = iommu_mode_ == "passthrough" ? "identity" : "DMA";
    }
    snapshot["iommu"] = iommu;
    snapshot["commands"] = {
        {"lspci_tree", command("lspci -tvnn", tree_lines())},
        {"lspci_verbose", command("lspci -vvvnn", verbose_lines())},
    };
    OrderedJson functions = OrderedJson::object();
    std::vector<std::size_t> order(functions_.size());
    for (std::size_t i = 0; i < order.size(); ++i)
      order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return functions_[a].address.bdf.packed() < functions_[b].address.bdf.packed();
    });
    for (std::size_t i : order)
      functions[format_pci_address(functions_[i].address)] = sysfs(functions_[i]);
    snapshot["pci_functions"] = functions;
    snapshot["missing"] = OrderedJson::array();
    return snapshot;
  }

private:
  static OrderedJson command(const char *text, const std::vector<std::string> &lines) {
    return {{"command", text}, {"exit_code", 0}, {"output", lines}};
  }

  int add(SyntheticFunction f) {
    functions_.push_back(std::move(f));
    return static_cast<int>(functions_.size() - 1);
  }

  void add_root_complex(int r, int socket) {
    const ComponentConfig &rc = topo_.components[static_cast<std::size_t>(r)];
    const ComponentAddressing &a = e_.components[static_cast<std::size_t>(r)];
    if (cpu_model_.empty())
      cpu_model_ = cpu_model_of(rc);
    if (iommu_mode_.empty())
      iommu_mode_ = rc.params.choice("iommu");
    const bool amd = cpu_model_.find("AMD") != std::string::npos;
    SyntheticFunction host;
    host.address.bdf = a.bdf;
    host.class_code = 0x060000;
    host.vendor = amd ? 0x1022 : 0x8086;
    host.device = 0x0001;
    host.name = fmt::format("{} pciesim host bridge",
                            amd ? "Advanced Micro Devices, Inc. [AMD]" : "Intel Corporation");
    host.numa_node = socket;
    root_functions_[a.root_bus].push_back(add(host));
    const std::string root_path = fmt::format("devices/pci0000:{:02x}", a.root_bus);
    for (std::size_t p = 0; p < a.ports.size(); ++p) {
      SyntheticFunction port;
      port.address.bdf = a.ports[p].bdf;
      port.class_code = 0x060400;
      port.vendor = host.vendor;
      port.device = 0x0002;
      port.name = fmt::format("{} pciesim root port",
                              amd ? "Advanced Micro Devices, Inc. [AMD]" : "Intel Corporation");
      port.buses = assigned(a.ports[p].buses);
      port.port_type = "Root Port (Slot+)";
      port.cap_gen = static_cast<int>(rc.params.integer("max_gen"));
      port.cap_width = static_cast<int>(rc.params.integer("max_width"));
      port.payload_supported = static_cast<int>(rc.params.bytes("max_payload_supported").count);
      port.payload = static_cast<int>(h_.mps_bytes);
      port.acs = rc.params.boolean("acs");
      port.acs_redirect = port.acs && redirect_on(r, static_cast<int>(p));
      port.numa_node = socket;
      port.sysfs_path = fmt::format("{}/{}", root_path, format_pci_address(port.address));
      const int index = add(port);
      root_functions_[port.address.bdf.bus].push_back(index);
      for (int child : h_.children[static_cast<std::size_t>(r)])
        if (h_.parent_port[static_cast<std::size_t>(child)] == static_cast<int>(p)) {
          // add_below grows functions_: take the path by value and index again after it.
          const int below =
              add_below(child, socket, functions_[static_cast<std::size_t>(index)].sysfs_path);
          functions_[static_cast<std::size_t>(index)].children.push_back(below);
        }
    }
  }

  // An empty port has no buses in pciesim's enumeration; lspci shows such a bridge's registers
  // as they are, 00.
  static BusRange assigned(BusRange buses) {
    if (buses.secondary < 0)
      return BusRange{0, 0};
    return buses;
  }

  // Whether the kernel turned on ACS redirection at port `port` of component `c`.
  bool redirect_on(int c, int port) const {
    bool iommu_on = !iommu_mode_.empty() && iommu_mode_ != "off";
    const std::string &request = topo_.kernel.request_acs;
    bool requested = request == "always" || (request == "when_iommu_on" && iommu_on) ||
                     (request == "when_translating" && iommu_mode_ == "translated");
    if (!requested)
      return false;
    for (const PortRef &disabled : topo_.kernel.disable_acs_redir)
      if (disabled.component == c && (disabled.port < 0 || disabled.port == port))
        return false;
    return true;
  }

  int add_below(int v, int socket, std::string parent_path) {
    const ComponentConfig &c = topo_.components[static_cast<std::size_t>(v)];
    const ComponentAddressing &a = e_.components[static_cast<std::size_t>(v)];
    const TrainedLink &link =
        h_.trained[static_cast<std::size_t>(h_.parent_link[static_cast<std::size_t>(v)])];
    SyntheticFunction f;
    f.address.bdf = a.bdf;
    f.cap_gen = static_cast<int>(c.params.integer("max_gen"));
    f.cap_width = static_cast<int>(c.params.integer("max_width"));
    f.sta_gen = link.shape.generation;
    f.sta_width = link.shape.width;
    f.payload_supported = static_cast<int>(c.params.bytes("max_payload_supported").count);
    f.payload = static_cast<int>(h_.mps_bytes);
    f.numa_node = socket;
    f.sysfs_path = fmt::format("{}/{}", parent_path, format_pci_address(f.address));
    for (const Bar &bar : a.bars) {
      if (f.bars.size() <= static_cast<std::size_t>(bar.index))
        f.bars.resize(static_cast<std::size_t>(bar.index) + 1, 0);
      f.bars[static_cast<std::size_t>(bar.index)] = bar.size;
    }
    const std::string &type = c.type->name;
    if (type == "switch") {
      f.class_code = 0x060400;
      f.vendor = 0x10b5;
      f.device = 0x0001;
      f.name = "PLX Technology, Inc. pciesim switch";
      f.buses = a.ports[0].buses;
      f.port_type = "Upstream Port";
      const int up = add(f);
      const std::string up_path = functions_[static_cast<std::size_t>(up)].sysfs_path;
      for (std::size_t p = 1; p < a.ports.size(); ++p) {
        SyntheticFunction dp;
        dp.address.bdf = a.ports[p].bdf;
        dp.class_code = 0x060400;
        dp.vendor = 0x10b5;
        dp.device = 0x0001;
        dp.name = f.name;
        dp.buses = assigned(a.ports[p].buses);
        dp.port_type = "Downstream Port (Slot+)";
        dp.cap_gen = f.cap_gen;
        dp.cap_width = f.cap_width;
        dp.payload_supported = f.payload_supported;
        dp.payload = f.payload;
        dp.acs = c.params.boolean("acs");
        dp.acs_redirect = dp.acs && redirect_on(v, static_cast<int>(p));
        dp.acs_direct_translated = dp.acs && c.params.boolean("acs_direct_translated");
        dp.numa_node = socket;
        dp.sysfs_path = fmt::format("{}/{}", up_path, format_pci_address(dp.address));
        const int index = add(dp);
        functions_[static_cast<std::size_t>(up)].children.push_back(index);
        for (int child : h_.children[static_cast<std::size_t>(v)])
          if (h_.parent_port[static_cast<std::size_t>(child)] == static_cast<int>(p)) {
            const int below =
                add_below(child, socket, functions_[static_cast<std::size_t>(index)].sysfs_path);
            functions_[static_cast<std::size_t>(index)].children.push_back(below);
          }
      }
      return up;
    }
    ++endpoints_;
    if (type == "gpu") {
      f.class_code = 0x030200;
      f.vendor = 0x10de;
      f.device = 0x0001;
      f.name = fmt::format("NVIDIA Corporation pciesim GPU [{}GB]",
                           c.params.bytes("memory_size").count >> 30);
    } else if (type == "rdma_nic") {
      f.class_code = 0x020700;
      f.vendor = 0x15b3;
      f.device = 0x0001;
      f.name = "Mellanox Technologies pciesim RDMA NIC";
      f.ats = c.params.boolean("ats");
      f.infiniband_rate = fmt::format("{:g} Gb/sec (4X)",
                                      c.params.bandwidth("line_rate").bytes_per_second * 8 / 1e9);
      // InfiniBand's framing reads as an InfiniBand port, anything else as RoCE, whose path MTU
      // comes from the net device's (roce_path_mtu).
      const bool infiniband =
          c.params.bytes("packet_overhead").count == kInfinibandPacketOverheadBytes;
      f.infiniband_link_layer = infiniband ? "InfiniBand" : "Ethernet";
      if (!infiniband)
        f.net_mtu = std::to_string(c.params.bytes("network_mtu").count + kRoceHeaderReserveBytes);
    } else if (type == "nvme_ssd") {
      f.class_code = 0x010802;
      f.vendor = 0x144d;
      f.device = 0x0001;
      f.name = "Samsung Electronics Co Ltd pciesim NVMe SSD Controller";
    } else {
      f.class_code = 0x020000;
      f.vendor = 0x19ee;
      f.device = 0x6000;
      f.name = "Netronome Systems, Inc. Device 6000";
    }
    return add(f);
  }

  std::string cmdline() const {
    std::string text = "BOOT_IMAGE=/boot/vmlinuz ro";
    if (iommu_mode_ == "passthrough")
      text += " iommu=pt";
    std::string ports;
    for (const PortRef &ref : topo_.kernel.disable_acs_redir) {
      const ComponentAddressing &a = e_.components[static_cast<std::size_t>(ref.component)];
      const bool is_switch = topo_.components[static_cast<std::size_t>(ref.component)].type->role ==
                             ComponentRole::Switch;
      for (std::size_t p = is_switch ? 1 : 0; p < a.ports.size(); ++p)
        if (ref.port < 0 || ref.port == static_cast<int>(p)) {
          PciAddress address;
          address.bdf = a.ports[p].bdf;
          ports += (ports.empty() ? "" : ";") + format_pci_address(address);
        }
    }
    if (!ports.empty())
      text += " pci=disable_acs_redir=" + ports;
    return text;
  }

  // lspci -tvnn, as lspci's ls-tree.c lays it out.
  std::vector<std::string> tree_lines() {
    lines_.clear();
    std::string line;
    std::vector<int> buses;
    for (const auto &[bus, list] : root_functions_)
      buses.push_back(bus);
    std::sort(buses.rbegin(), buses.rend()); // lspci lists root buses from the highest
    line = "-";
    if (buses.size() == 1) {
      line += fmt::format("[0000:{:02x}]-", buses[0]);
      tree_bus(root_functions_.at(buses[0]), line);
    } else {
      const std::size_t base = line.size();
      for (std::size_t i = 0; i < buses.size(); ++i) {
        line.resize(base);
        line += fmt::format("{}-[0000:{:02x}]-", i + 1 < buses.size() ? '+' : '\\', buses[i]);
        tree_bus(root_functions_.at(buses[i]), line);
        // the next root bus starts where this one's connector was
      }
    }
    return lines_;
  }

  void print(std::string &line) {
    lines_.push_back(line);
    for (char &c : line)
      c = c == '+' || c == '|' ? '|' : ' ';
  }

  void tree_bus(std::vector<int> devices, std::string &line) {
    std::sort(devices.begin(), devices.end(), [&](int a, int b) {
      return functions_[static_cast<std::size_t>(a)].address.bdf.packed() <
             functions_[static_cast<std::size_t>(b)].address.bdf.packed();
    });
    const std::size_t at = line.size();
    if (devices.empty()) {
      print(line);
      line.resize(at);
      return;
    }
    if (devices.size() == 1) {
      line += "--";
      tree_device(devices[0], line);
      line.resize(at);
      return;
    }
    for (std::size_t i = 0; i < devices.size(); ++i) {
      line.resize(at);
      line += i + 1 < devices.size() ? "+-" : "\\-";
      tree_device(devices[i], line);
    }
    line.resize(at);
  }

  void tree_device(int index, std::string &line) {
    const SyntheticFunction &f = functions_[static_cast<std::size_t>(index)];
    const std::size_t at = line.size();
    line += fmt::format("{:02x}.{}", f.address.bdf.device, f.address.bdf.function);
    if (f.buses) {
      line += f.buses->secondary == f.buses->subordinate
                  ? fmt::format("-[{:02x}]-", f.buses->secondary)
                  : fmt::format("-[{:02x}-{:02x}]-", f.buses->secondary, f.buses->subordinate);
      tree_bus(f.children, line);
    } else {
      line += fmt::format("  {} [{:04x}:{:04x}]", f.name, f.vendor, f.device);
      print(line);
    }
    line.resize(at);
  }

  // lspci -vvvnn (as root): the fields the import reads.
  std::vector<std::string> verbose_lines() const {
    std::vector<std::size_t> order(functions_.size());
    for (std::size_t i = 0; i < order.size(); ++i)
      order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return functions_[a].address.bdf.packed() < functions_[b].address.bdf.packed();
    });
    std::vector<std::string> out;
    const std::string tab = "        "; // the snapshot writes lspci's tabs as 8 spaces
    for (std::size_t i : order) {
      const SyntheticFunction &f = functions_[i];
      out.push_back(fmt::format("{} {} [{:04x}]: {} [{:04x}:{:04x}]", format_bdf(f.address.bdf),
                                class_name(f.class_code), f.class_code >> 8, f.name, f.vendor,
                                f.device));
      if (f.buses)
        out.push_back(fmt::format("{}Bus: primary={:02x}, secondary={:02x}, subordinate={:02x}, "
                                  "sec-latency=0",
                                  tab, f.address.bdf.bus, f.buses->secondary,
                                  f.buses->subordinate));
      for (std::size_t bar = 0; bar < f.bars.size(); ++bar)
        if (f.bars[bar])
          out.push_back(fmt::format("{}Region {}: Memory at <synthetic> (64-bit, prefetchable) "
                                    "[size={}]",
                                    tab, bar, lspci_size(f.bars[bar])));
      if (f.class_code != 0x060000) {
        out.push_back(
            fmt::format("{}Capabilities: [60] Express (v2) {}, MSI 00", tab, f.port_type));
        out.push_back(fmt::format("{}{}DevCap: MaxPayload {} bytes, PhantFunc 0", tab, tab,
                                  f.payload_supported));
        out.push_back(
            fmt::format("{}{}DevCtl: CorrErr- NonFatalErr- FatalErr- UnsupReq-", tab, tab));
        out.push_back(fmt::format("{}{}{}MaxPayload {} bytes, MaxReadReq 512 bytes", tab, tab, tab,
                                  f.payload));
        out.push_back(fmt::format("{}{}LnkCap: Port #0, Speed {}, Width x{}", tab, tab,
                                  lspci_speed(f.cap_gen), f.cap_width));
        if (f.sta_gen)
          out.push_back(fmt::format("{}{}LnkSta: Speed {} (ok), Width x{} (ok)", tab, tab,
                                    lspci_speed(f.sta_gen), f.sta_width));
      }
      if (f.acs) {
        out.push_back(fmt::format("{}Capabilities: [148 v1] Access Control Services", tab));
        out.push_back(fmt::format("{}{}ACSCap: SrcValid+ TransBlk+ ReqRedir+ CmpltRedir+ "
                                  "UpstreamFwd+ EgressCtrl+ DirectTrans+",
                                  tab, tab));
        out.push_back(
            fmt::format("{}{}ACSCtl: SrcValid{} TransBlk- ReqRedir{} CmpltRedir{} UpstreamFwd{} "
                        "EgressCtrl- DirectTrans{}",
                        tab, tab, f.acs_redirect ? '+' : '-', f.acs_redirect ? '+' : '-',
                        f.acs_redirect ? '+' : '-', f.acs_redirect ? '+' : '-',
                        f.acs_direct_translated ? '+' : '-'));
      }
      if (f.ats) {
        out.push_back(
            fmt::format("{}Capabilities: [480 v1] Address Translation Service (ATS)", tab));
        out.push_back(fmt::format("{}{}ATSCtl: Enable+, Smallest Translation Unit: 00", tab, tab));
      }
      out.push_back(fmt::format("{}NUMA node: {}", tab, f.numa_node));
      out.push_back("");
    }
    return out;
  }

  static std::string lspci_size(std::uint64_t bytes) {
    static const char *units[] = {"", "K", "M", "G", "T"};
    int unit = 0;
    while (unit < 4 && bytes % 1024 == 0 && bytes >= 1024) {
      bytes /= 1024;
      ++unit;
    }
    return fmt::format("{}{}", bytes, units[unit]);
  }

  static const char *class_name(std::uint32_t code) {
    switch (code >> 8) {
    case 0x0600:
      return "Host bridge";
    case 0x0604:
      return "PCI bridge";
    case 0x0302:
      return "3D controller";
    case 0x0207:
      return "Infiniband controller";
    case 0x0108:
      return "Non-Volatile memory controller";
    default:
      return "Ethernet controller";
    }
  }

  OrderedJson sysfs(const SyntheticFunction &f) const {
    OrderedJson j;
    j["class"] = fmt::format("0x{:06x}", f.class_code);
    j["vendor"] = fmt::format("0x{:04x}", f.vendor);
    j["device"] = fmt::format("0x{:04x}", f.device);
    j["numa_node"] = std::to_string(f.numa_node);
    if (f.class_code != 0x060000) {
      if (f.sta_gen) {
        j["current_link_speed"] = fmt::format("{} GT/s PCIe", speed_text(f.sta_gen));
        j["current_link_width"] = std::to_string(f.sta_width);
      }
      j["max_link_speed"] = fmt::format("{} GT/s PCIe", speed_text(f.cap_gen));
      j["max_link_width"] = std::to_string(f.cap_width);
    }
    OrderedJson resource = OrderedJson::array();
    std::uint64_t base = 0x10000000000ull;
    for (std::size_t bar = 0; bar < 6; ++bar) {
      const std::uint64_t size = bar < f.bars.size() ? f.bars[bar] : 0;
      if (size == 0) {
        resource.push_back("0x0000000000000000 0x0000000000000000 0x0000000000000000");
        continue;
      }
      resource.push_back(
          fmt::format("0x{:016x} 0x{:016x} 0x{:016x}", base, base + size - 1, 0x14220c));
      base += size;
    }
    j["resource"] = resource;
    if (!f.infiniband_rate.empty())
      j["infiniband_rate"] = f.infiniband_rate;
    if (!f.infiniband_link_layer.empty())
      j["infiniband_link_layer"] = f.infiniband_link_layer;
    if (!f.net_mtu.empty())
      j["net_mtu"] = f.net_mtu;
    if (!f.sysfs_path.empty())
      j["sysfs_path"] = f.sysfs_path;
    return j;
  }

  const TopologyConfig &topo_;
  const Hierarchy &h_;
  const Enumeration &e_;
  std::vector<SyntheticFunction> functions_;
  std::map<int, std::vector<int>> root_functions_; // root bus -> functions on it
  std::vector<std::string> lines_;
  std::string cpu_model_, iommu_mode_;
  int endpoints_ = 0;
};

} // namespace

OrderedJson synthetic_snapshot(const TopologyConfig &topology, const Hierarchy &hierarchy,
                               const Enumeration &enumeration) {
  return SnapshotWriter(topology, hierarchy, enumeration).run();
}

} // namespace pciesim
