#include "sim/import/topology_builder.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <regex>
#include <set>

#include <fmt/format.h>

#include "sim/import/host_platform.h"
#include "sim/import/kernel_settings.h"
#include "sim/import/known_devices.h"
#include "sim/import/rdma_port.h"
#include "sim/import/socket_layout.h"
#include "sim/util/input_error.h"

namespace pciesim {
namespace {

using OrderedJson = nlohmann::ordered_json;

std::string address_text(const PciAddress &a) { return format_pci_address(a); }

std::string gen_text(int gen) {
  static const char *rates[] = {"2.5", "5", "8", "16", "32", "64"};
  return fmt::format("Gen{} ({} GT/s)", gen, rates[std::clamp(gen, 1, 6) - 1]);
}

enum class Role { Other, RootPort, UpstreamPort, DownstreamPort, Endpoint };

class Builder {
public:
  Builder(const PciInventory &inventory, const ImportOptions &options)
      : inv_(inventory), options_(options), roles_(inventory.functions.size(), Role::Other),
        children_(inventory.functions.size()), kept_(inventory.functions.size(), false),
        types_(inventory.functions.size()) {}

  ImportedTopology run() {
    nccl_ = inv_.format == "nccl-topology";
    for (const std::string &note : inv_.notes)
      guess(note);
    for (std::size_t i = 0; i < inv_.functions.size(); ++i)
      if (int p = inv_.functions[i].parent; p >= 0)
        children_[static_cast<std::size_t>(p)].push_back(static_cast<int>(i));
    for (auto &list : children_)
      sort_as_firmware_numbered(list);
    assign_roles();
    choose_endpoints();
    find_sockets();
    const HostPlatform host = choose_host_platform(inv_);
    platform_ = host.platform;
    cpu_param_ = host.cpu_param;
    guess(host.guess);
    emit();
    return std::move(out_);
  }

private:
  const PciFunctionInfo &fn(int i) const { return inv_.functions[static_cast<std::size_t>(i)]; }

  bool before(int a, int b) const {
    const PciAddress &x = fn(a).address, &y = fn(b).address;
    return std::make_pair(x.segment, x.bdf.packed()) < std::make_pair(y.segment, y.bdf.packed());
  }

  // Siblings in address order, except that bridges with functions below them follow their bus
  // numbers: pciesim numbers buses depth first in port order, and firmware may number a bus's
  // bridges out of device order (an ASUS X99 board numbers 00:02.0-00:03.2 before 00:01.x).
  // Those bridges swap among their own places; everything else (empty ports included, whose
  // bus numbers pciesim does not keep) stays where it is.
  void sort_as_firmware_numbered(std::vector<int> &list) const {
    std::sort(list.begin(), list.end(), [&](int a, int b) { return before(a, b); });
    std::vector<std::size_t> places;
    std::vector<int> numbered;
    for (std::size_t k = 0; k < list.size(); ++k)
      if (fn(list[k]).secondary_bus.value_or(-1) >= 0 &&
          !children_[static_cast<std::size_t>(list[k])].empty()) {
        places.push_back(k);
        numbered.push_back(list[k]);
      }
    std::stable_sort(numbered.begin(), numbered.end(), [&](int a, int b) {
      return std::make_pair(fn(a).address.segment, *fn(a).secondary_bus) <
             std::make_pair(fn(b).address.segment, *fn(b).secondary_bus);
    });
    for (std::size_t k = 0; k < places.size(); ++k)
      list[places[k]] = numbered[k];
  }

  void guess(const std::string &text) { out_.guesses.push_back(text); }

  [[noreturn]] void fail(const PciFunctionInfo &f, const std::string &problem,
                         const std::string &expected = "") const {
    throw InputError(inv_.source, f.where.empty() ? address_text(f.address) : f.where, problem,
                     expected);
  }

  void assign_roles() {
    std::function<void(int, Role)> visit = [&](int i, Role parent_role) {
      const PciFunctionInfo &f = fn(i);
      Role role = Role::Endpoint;
      if (f.is_bridge()) {
        if (nccl_)
          role = Role::UpstreamPort; // NCCL lists switch upstream ports only
        else if (parent_role == Role::Other)
          role = Role::RootPort;
        else if (parent_role == Role::UpstreamPort)
          role = Role::DownstreamPort;
        else
          role = Role::UpstreamPort;
      }
      roles_[static_cast<std::size_t>(i)] = role;
      for (int child : children_[static_cast<std::size_t>(i)])
        visit(child, role);
    };
    for (std::size_t i = 0; i < inv_.functions.size(); ++i)
      if (inv_.functions[i].parent < 0)
        visit(static_cast<int>(i), Role::Other);
  }

  void choose_endpoints() {
    std::map<std::string, int> skipped; // what is not modelled, by kind, for one guess line
    std::set<std::pair<int, int>> devices_taken; // (bus, device) of kept endpoints
    int kept_count = 0;
    for (std::size_t i = 0; i < inv_.functions.size(); ++i) {
      const PciFunctionInfo &f = inv_.functions[i];
      if (roles_[i] != Role::Endpoint)
        continue;
      std::string type = modelled_type(f);
      if (type.empty()) {
        ++skipped["other functions (host bridges, USB, SATA, audio, BMC graphics…)"];
        continue;
      }
      if (f.address.segment != 0) {
        guess(fmt::format("{} ({}) is in PCI segment {:04x}: left out (pciesim numbers one "
                          "segment)",
                          address_text(f.address), f.name, f.address.segment));
        continue;
      }
      if (f.parent < 0 && !nccl_) {
        guess(fmt::format("{} ({}) sits on a root bus (root-complex integrated): left out, as "
                          "pciesim attaches endpoints to root ports",
                          address_text(f.address), f.name));
        continue;
      }
      if (!devices_taken.insert({f.address.bdf.bus, f.address.bdf.device}).second) {
        ++skipped[fmt::format("further functions of multi-function {} devices (one link each: "
                              "modelled as one device)",
                              type)];
        continue;
      }
      types_[i] = type;
      ++kept_count;
      for (int a = static_cast<int>(i); a >= 0; a = fn(a).parent)
        kept_[static_cast<std::size_t>(a)] = true;
    }
    for (const auto &[what, count] : skipped)
      guess(fmt::format("not modelled: {} {}", count, what));
    // Empty root ports (open slots) are part of the machine: kept, as ports with nothing on.
    int empty = 0;
    for (std::size_t i = 0; i < inv_.functions.size(); ++i)
      if (roles_[i] == Role::RootPort && children_[i].empty() &&
          inv_.functions[i].address.segment == 0) {
        kept_[i] = true;
        ++empty;
      }
    if (empty > 0)
      guess(fmt::format("{} root port(s) with nothing below them kept as empty ports", empty));
    if (kept_count == 0)
      throw InputError(inv_.source, "", "the dump holds no device pciesim models",
                       "a GPU, RDMA NIC, NVMe drive or DMA engine below a root port");
  }

  // --- sockets ---------------------------------------------------------------------------

  void find_sockets() {
    for (std::size_t i = 0; i < inv_.functions.size(); ++i)
      if (kept_[i] && inv_.functions[i].parent < 0)
        tops_.push_back(static_cast<int>(i));
    sort_as_firmware_numbered(tops_);
    layout_ = find_socket_layout(inv_, tops_, children_, options_.sockets, out_.guesses);
  }

  // --- emitting the topology ---------------------------------------------------------------

  std::string next_id(const std::string &type) {
    static const std::map<std::string, std::string> prefixes = {{"gpu", "gpu"},
                                                                {"rdma_nic", "nic"},
                                                                {"nvme_ssd", "nvme"},
                                                                {"dma_engine", "dma"},
                                                                {"switch", "sw"}};
    const std::string &prefix = prefixes.at(type);
    return fmt::format("{}{}", prefix, counters_[prefix]++);
  }

  // Gen/width a link trained to, from the device below (its LnkSta) and both ends' LnkCap.
  OrderedJson link_params(int child, const std::optional<PciLinkState> &port_capability,
                          const std::string &child_id) {
    const PciFunctionInfo &f = fn(child);
    OrderedJson params = OrderedJson::object();
    std::optional<int> cap_gen = f.link_capability.gen;
    if (port_capability && port_capability->gen)
      cap_gen = cap_gen ? std::min(*cap_gen, *port_capability->gen) : port_capability->gen;
    std::optional<int> gen = f.link_status.gen;
    const int width = f.link_status.width.value_or(0); // 0: not in the dump
    // GPUs lower their link speed when idle (NVIDIA's to 2.5 GT/s), so a GPU's LnkSta below what
    // both ends support is the idle state, not what transfers run at. Other links trained lower
    // for a reason (a riser, a slot wired for less) and stay as they are.
    if (gen && cap_gen && *gen < *cap_gen && types_[static_cast<std::size_t>(child)] == "gpu") {
      guess(fmt::format("{} ({}): its link ran at {} when the dump was taken, below the {} both "
                        "ends support (GPUs slow idle links): modelled at {}",
                        child_id, address_text(f.address), gen_text(*gen), gen_text(*cap_gen),
                        gen_text(*cap_gen)));
      gen = cap_gen;
    }
    if (!gen && cap_gen) {
      gen = cap_gen;
      unknown_links_.push_back(child_id + " (speed from its capability)");
    }
    if (!gen || width <= 0)
      unknown_links_.push_back(child_id);
    if (gen)
      params["gen"] = *gen;
    if (width > 0)
      params["width"] = width;
    return params;
  }

  OrderedJson endpoint_params(int i, const std::string &type, const std::string &id) {
    const PciFunctionInfo &f = fn(i);
    OrderedJson params = OrderedJson::object();
    const KnownDevice *known = known_device(f);
    std::optional<int> max_gen = f.link_capability.gen;
    if (!max_gen && known)
      max_gen = known->max_gen;
    if (!max_gen)
      max_gen = f.link_status.gen;
    if (max_gen)
      params["max_gen"] = *max_gen;
    if (f.link_capability.width)
      params["max_width"] = *f.link_capability.width;
    if (type == "gpu") {
      if (known && known->dllp_intervals_in_bytes && !known->device_file)
        params["dllp_interval_unit"] = "byte";
      std::optional<int> memory_gib;
      static const std::regex gigabytes("([0-9]{2,3}) ?GB");
      std::smatch m;
      if (known && known->memory_gib)
        memory_gib = known->memory_gib;
      else if (std::regex_search(f.name, m, gigabytes))
        memory_gib = std::stoi(m[1].str());
      if (memory_gib)
        params["memory_size"] = fmt::format("{} GiB", *memory_gib);
      else
        guess(fmt::format("{}: memory size unknown (\"{}\"): the model's default", id, f.name));
      const std::uint64_t bar1 = f.bar_sizes_bytes.size() > 1 ? f.bar_sizes_bytes[1] : 0;
      const std::uint64_t memory_bytes =
          memory_gib ? static_cast<std::uint64_t>(*memory_gib) << 30 : 0;
      if (bar1 && memory_bytes && bar1 >= memory_bytes) {
        params["resizable_bar"] = true;
      } else if (bar1 && (bar1 & (bar1 - 1)) == 0 && bar1 >= (1u << 20)) {
        params["bar_aperture"] = format_bytes(Bytes{bar1});
      } else if (known && known->memory_gib && known->max_gen >= 4 &&
                 std::string(known->model).find("RTX") == std::string::npos) {
        params["resizable_bar"] = true;
        guess(fmt::format("{}: BAR1 size not in the dump: a data-centre {} maps all its memory "
                          "through BAR1",
                          id, known->model));
      } else {
        guess(fmt::format("{}: BAR1 size not in the dump: the model's default aperture", id));
      }
    } else if (type == "dma_engine" || type == "nvme_ssd") {
      const std::uint64_t bar0 = f.bar_sizes_bytes.empty() ? 0 : f.bar_sizes_bytes[0];
      if (bar0 >= 4096 && (bar0 & (bar0 - 1)) == 0)
        params["bar_size"] = format_bytes(Bytes{bar0});
      const std::uint64_t bar1 = f.bar_sizes_bytes.size() > 1 ? f.bar_sizes_bytes[1] : 0;
      if (type == "nvme_ssd" && bar1 >= 4096 && (bar1 & (bar1 - 1)) == 0) {
        params["cmb"] = true; // a second memory BAR on an NVMe drive is its CMB
        params["cmb_size"] = format_bytes(Bytes{bar1});
      }
    } else if (type == "rdma_nic") {
      add_rdma_port_params(f, known, id, params, out_.guesses);
      if (f.ats_enabled && *f.ats_enabled)
        params["ats"] = true;
    }
    return params;
  }

  std::optional<AcsBits> acs_of_ports(const std::vector<int> &ports, bool control) const {
    std::optional<AcsBits> any;
    for (int p : ports) {
      const auto &bits = control ? fn(p).acs_control : fn(p).acs_capability;
      if (!bits)
        continue;
      if (!any)
        any = AcsBits{};
      any->request_redirect |= bits->request_redirect;
      any->completion_redirect |= bits->completion_redirect;
      any->direct_translated |= bits->direct_translated;
    }
    return any;
  }

  // A switch (upstream port `up`) or an endpoint below `parent_port`; returns its id.
  void emit_below(const std::string &parent_port, int i,
                  const std::optional<PciLinkState> &port_capability) {
    const PciFunctionInfo &f = fn(i);
    const Role role = roles_[static_cast<std::size_t>(i)];
    OrderedJson component;
    std::string id;
    if (role == Role::UpstreamPort) {
      id = next_id("switch");
      std::vector<int> downstream; // kept children are DPs (text) or devices (NCCL)
      for (int child : children_[static_cast<std::size_t>(i)])
        if (nccl_ ? kept_[static_cast<std::size_t>(child)]
                  : roles_[static_cast<std::size_t>(child)] == Role::DownstreamPort)
          downstream.push_back(child);
      if (downstream.empty())
        fail(f, fmt::format("switch {} has no downstream port", address_text(f.address)));
      if (downstream.size() > 32)
        fail(f,
             fmt::format("switch {} has {} downstream ports", address_text(f.address),
                         downstream.size()),
             "at most 32 downstream ports per switch");
      OrderedJson params = OrderedJson::object();
      params["downstream_ports"] = downstream.size();
      if (auto gen = f.link_capability.gen ? f.link_capability.gen : f.link_status.gen)
        params["max_gen"] = *gen;
      if (f.link_capability.width)
        params["max_width"] = *f.link_capability.width;
      if (!nccl_) {
        if (auto cap = acs_of_ports(downstream, false))
          params["acs"] = cap->request_redirect;
        if (auto ctl = acs_of_ports(downstream, true); ctl && ctl->direct_translated)
          params["acs_direct_translated"] = true;
      }
      component = {{"id", id}, {"type", "switch"}, {"params", params}};
      component["pci_address"] = address_text(f.address);
      if (!nccl_) {
        OrderedJson ports = OrderedJson::array();
        for (int dp : downstream)
          ports.push_back(address_text(fn(dp).address));
        component["port_addresses"] = ports;
      }
      component["description"] = describe(f, "switch upstream port");
      components_.push_back(component);
      links_.push_back(link(parent_port, id + ".up", link_params(i, port_capability, id)));
      out_.addresses.push_back({id, f.address});
      for (std::size_t k = 0; k < downstream.size(); ++k) {
        const std::string port = fmt::format("{}.dp{}", id, k);
        port_of_function_[downstream[k]] = port;
        if (nccl_) {
          emit_below(port, downstream[k], std::nullopt);
          continue;
        }
        for (int below : children_[static_cast<std::size_t>(downstream[k])])
          if (kept_[static_cast<std::size_t>(below)]) {
            emit_below(port, below, fn(downstream[k]).link_capability);
            break; // one device per port: further functions are the same device's
          }
      }
      return;
    }
    const std::string &type = types_[static_cast<std::size_t>(i)];
    if (type.empty())
      fail(f, fmt::format("{} is neither a switch nor a modelled device", address_text(f.address)));
    id = next_id(type);
    component = {{"id", id}, {"type", type}};
    if (const KnownDevice *known = known_device(f); known && known->device_file)
      component["device"] = known->device_file;
    component["params"] = endpoint_params(i, type, id);
    component["pci_address"] = address_text(f.address);
    component["description"] = describe(f, type);
    components_.push_back(component);
    links_.push_back(link(parent_port, id, link_params(i, port_capability, id)));
    out_.addresses.push_back({id, f.address});
  }

  std::string describe(const PciFunctionInfo &f, const std::string &what) const {
    std::string name = f.name;
    if (const KnownDevice *known = known_device(f); known && name.rfind("GPU ", 0) == 0)
      name = "NVIDIA " + std::string(known->model) + " (" + name + ")";
    if (name.empty())
      name = what;
    return fmt::format("{} at {}", name, address_text(f.address));
  }

  static OrderedJson link(const std::string &a, const std::string &b, OrderedJson params) {
    OrderedJson l = {{"between", {a, b}}};
    if (!params.empty())
      l["params"] = std::move(params);
    return l;
  }

  void emit() {
    // Top-level kept nodes per socket.
    std::vector<std::vector<int>> tops(static_cast<std::size_t>(layout_.sockets));
    for (int top : tops_)
      tops[static_cast<std::size_t>(layout_.socket_of_top.at(top))].push_back(top);
    std::vector<bool> bridge_port(roles_.size());
    for (std::size_t i = 0; i < roles_.size(); ++i)
      bridge_port[i] = roles_[i] == Role::RootPort || roles_[i] == Role::DownstreamPort;
    const std::string iommu = iommu_mode_of(inv_, bridge_port, out_.guesses);
    std::vector<std::string> roots;
    for (int s = 0; s < layout_.sockets; ++s) {
      auto &ports = tops[static_cast<std::size_t>(s)];
      if (ports.empty()) {
        guess(fmt::format("socket {} has no root port: left out", s));
        continue;
      }
      if (ports.size() > 31) {
        std::vector<int> used;
        for (int p : ports)
          if (!children_[static_cast<std::size_t>(p)].empty())
            used.push_back(p);
        guess(fmt::format("socket {}: {} root ports, more than a root complex has (31): the {} "
                          "empty ones left out",
                          s, ports.size(), ports.size() - used.size()));
        ports = used;
      }
      if (ports.size() > 31)
        fail(fn(ports[31]),
             fmt::format("socket {} has {} root ports with modelled devices", s, ports.size()),
             "at most 31 root ports per root complex");
      const std::string rc = fmt::format("rc{}", roots.size());
      OrderedJson params = OrderedJson::object();
      params["root_ports"] = ports.size();
      if (iommu != "off")
        params["iommu"] = iommu;
      if (!nccl_) {
        if (auto cap = acs_of_ports(ports, false))
          params["acs"] = cap->request_redirect;
        std::optional<int> gen;
        for (int p : ports)
          if (fn(p).link_capability.gen)
            gen = std::max(gen.value_or(0), *fn(p).link_capability.gen);
        if (gen)
          params["max_gen"] = *gen;
      }
      OrderedJson component = {{"id", rc}, {"type", "root_complex"}};
      if (!platform_.empty())
        component["platform"] = platform_;
      else if (!cpu_param_.empty())
        params["cpu"] = cpu_param_;
      component["params"] = params;
      if (!nccl_) {
        int lowest = 0x100;
        for (int p : ports)
          lowest = std::min<int>(lowest, fn(p).address.bdf.bus);
        // The socket's first root bus: the lowest bus of a root port or of a root bus listed.
        for (int bus : inv_.root_buses)
          if (bus < lowest && socket_of_root_bus(bus) == s)
            lowest = bus;
        component["pci_address"] = fmt::format("0000:{:02x}:00.0", lowest);
        OrderedJson addresses = OrderedJson::array();
        for (int p : ports)
          addresses.push_back(address_text(fn(p).address));
        component["port_addresses"] = addresses;
      }
      component["description"] =
          fmt::format("socket {}{}", s, inv_.cpu_model.empty() ? "" : ": " + inv_.cpu_model);
      components_.push_back(component);
      components_.push_back({{"id", fmt::format("mem{}", roots.size())},
                             {"type", "host_memory"},
                             {"root_complex", rc}});
      roots.push_back(rc);
    }
    if (roots.size() == 2)
      components_.push_back(
          {{"id", "xsock"}, {"type", "inter_socket_link"}, {"root_complexes", roots}});
    std::size_t root_index = 0;
    for (int s = 0; s < layout_.sockets; ++s) {
      const auto &ports = tops[static_cast<std::size_t>(s)];
      if (ports.empty())
        continue;
      const std::string rc = roots[root_index++];
      for (std::size_t k = 0; k < ports.size(); ++k) {
        const std::string port = fmt::format("{}.rp{}", rc, k);
        const int top = ports[k];
        if (nccl_) { // NCCL leaves out root ports: the top node is the device itself
          emit_below(port, top, std::nullopt);
          continue;
        }
        port_of_function_[top] = port;
        for (int below : children_[static_cast<std::size_t>(top)])
          if (kept_[static_cast<std::size_t>(below)]) {
            emit_below(port, below, fn(top).link_capability);
            break;
          }
      }
    }
    if (nccl_)
      guess("NCCL's dump leaves out root ports and switch downstream ports: one port per device "
            "below each switch and CPU, numbered by pciesim");
    if (!unknown_links_.empty()) {
      std::sort(unknown_links_.begin(), unknown_links_.end());
      unknown_links_.erase(std::unique(unknown_links_.begin(), unknown_links_.end()),
                           unknown_links_.end());
      guess(fmt::format("link speed or width not in the dump for {} link(s) ({}): they train "
                        "to what both ends' parameters allow",
                        unknown_links_.size(), join_ids(unknown_links_)));
    }
    OrderedJson topology;
    topology["name"] = options_.name;
    topology["description"] =
        fmt::format("Imported by pciesim import from {} ({})", inv_.source, inv_.format);
    if (auto mps = fabric_mps())
      topology["fabric"] = {{"mps", fmt::format("{} B", *mps)}};
    if (auto kernel = kernel_section_of(inv_, port_of_function_, out_.guesses); !kernel.empty())
      topology["kernel"] = kernel;
    topology["components"] = components_;
    topology["links"] = links_;
    merge_per_device_guesses();
    topology["import"] = {
        {"source", inv_.source}, {"format", inv_.format}, {"guesses", out_.guesses}};
    out_.topology = std::move(topology);
  }

  // "gpu0: X" … "gpu7: X" become one "gpu0, gpu1, …, gpu7: X", where the first stood.
  void merge_per_device_guesses() {
    static const std::regex per_device("([a-z]+[0-9]+): (.*)");
    std::vector<std::string> merged;
    std::map<std::string, std::size_t> where; // the text after the id -> its line in `merged`
    for (const std::string &guess : out_.guesses) {
      std::smatch m;
      if (!std::regex_match(guess, m, per_device)) {
        merged.push_back(guess);
        continue;
      }
      auto [it, first] = where.emplace(m[2].str(), merged.size());
      if (first) {
        merged.push_back(guess);
        continue;
      }
      std::string &line = merged[it->second];
      line.insert(line.size() - static_cast<std::size_t>(m[2].length()) - 2, ", " + m[1].str());
    }
    out_.guesses = std::move(merged);
  }

  int socket_of_root_bus(int bus) const {
    for (const auto &[top, socket] : layout_.socket_of_top)
      if (fn(top).address.bdf.bus == bus)
        return socket;
    return layout_.sockets == 1 ? 0 : layout_.socket_of_bus(bus);
  }

  static std::string join_ids(const std::vector<std::string> &ids) {
    std::string text;
    for (std::size_t i = 0; i < ids.size() && i < 8; ++i)
      text += (i ? ", " : "") + ids[i];
    if (ids.size() > 8)
      text += fmt::format(" and {} more", ids.size() - 8);
    return text;
  }

  std::optional<int> fabric_mps() {
    std::optional<int> lowest;
    for (std::size_t i = 0; i < inv_.functions.size(); ++i)
      if (kept_[i] && inv_.functions[i].max_payload_bytes)
        lowest = std::min(lowest.value_or(4096), *inv_.functions[i].max_payload_bytes);
    if (lowest && (*lowest < 128 || *lowest > 4096 || (*lowest & (*lowest - 1)))) {
      guess(
          fmt::format("MaxPayload {} B is not a PCIe payload size: left to the default", *lowest));
      return std::nullopt;
    }
    return lowest;
  }

  const PciInventory &inv_;
  const ImportOptions &options_;
  bool nccl_ = false;
  std::vector<Role> roles_;
  std::vector<std::vector<int>> children_;
  std::vector<bool> kept_;
  std::vector<std::string> types_;
  std::vector<int> tops_;
  SocketLayout layout_;
  std::map<int, std::string> port_of_function_;
  std::string platform_;
  std::string cpu_param_; // the root complexes' `cpu` when no platform file matches
  std::map<std::string, int> counters_;
  std::vector<std::string> unknown_links_;
  OrderedJson components_ = OrderedJson::array(), links_ = OrderedJson::array();
  ImportedTopology out_;
};

} // namespace

ImportedTopology build_imported_topology(const PciInventory &inventory,
                                         const ImportOptions &options) {
  return Builder(inventory, options).run();
}

} // namespace pciesim
