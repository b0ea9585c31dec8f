#include "sim/cli/describe.h"

#include <functional>

#include <fmt/format.h>

#include "models/os/os_kernel.h"
#include "models/pcie/link.h"
#include "sim/config/component_catalog.h"
#include "sim/config/driver_profile.h"
#include "sim/config/json_input.h"
#include "sim/config/platform.h"

namespace pciesim {
namespace {

std::string range_text(const ParamSpec &s) {
  auto value = [&](double v) -> std::string {
    switch (s.kind) {
    case ParamKind::size:
      return format_bytes(Bytes{static_cast<std::uint64_t>(v)});
    case ParamKind::time:
      return format_duration(Duration{static_cast<std::int64_t>(v)});
    case ParamKind::rate:
      return format_bandwidth(Bandwidth{v});
    default:
      return fmt::format("{}", v);
    }
  };
  if (s.kind == ParamKind::choice)
    return "one of " + fmt::format("{}", fmt::join(s.choices, ", "));
  if (s.kind == ParamKind::boolean)
    return "true or false";
  std::string r = s.max > 0 ? fmt::format("{} .. {}", value(s.min), value(s.max))
                            : fmt::format(">= {}", value(s.min));
  if (s.power_of_two)
    r += ", power of two";
  if (s.zero_means_unlimited)
    r += ", 0 = unlimited";
  return r;
}

void table(std::string &out, const std::vector<ParamSpec> &specs) {
  out += "| key | kind | default | allowed | meaning |\n|---|---|---|---|---|\n";
  for (const ParamSpec &s : specs)
    out += fmt::format("| `{}` | {} | `{}` | {} | {} |\n", s.name, kind_name(s.kind),
                       default_text(s), range_text(s), s.doc);
}

void stat_table(std::string &out, const std::vector<StatSpec> &specs) {
  out += "| key | unit | meaning |\n|---|---|---|\n";
  for (const StatSpec &s : specs)
    out += fmt::format("| `{}` | {} | {} |\n", s.name, s.unit, s.doc);
}

// Every platform file's values, in the sections' order, with their sources.
using PlatformRow =
    std::function<void(const PlatformProfile &, const std::string &section, const std::string &key,
                       const std::string &value, const std::string &source)>;
void for_each_platform_value(const PlatformRow &row, bool devices = false) {
  Node nowhere = Node::root(parse_json_text("\"describe\"", "<describe>"));
  for (const std::string &name : devices ? device_names() : platform_names()) {
    auto profile = devices ? load_device(name, nowhere) : load_platform(name, nowhere);
    for (const auto &[section, values] : profile->values)
      for (const auto &[key, value] : values)
        row(*profile, section, key,
            value.json().is_string() ? value.json().get<std::string>() : value.json().dump(),
            profile->sources.at(section).at(key));
  }
}

// Every driver profile's values, by key, with their sources.
using DriverRow = std::function<void(const DriverProfile &, const std::string &key,
                                     const std::string &value, const std::string &source)>;
void for_each_driver_value(const DriverRow &row) {
  Node nowhere = Node::root(parse_json_text("\"describe\"", "<describe>"));
  for (const std::string &name : driver_names()) {
    auto profile = load_driver(name, nowhere);
    for (const auto &[key, value] : profile->costs)
      row(*profile, key,
          value.json().is_string() ? value.json().get<std::string>() : value.json().dump(),
          profile->sources.at(key));
  }
}

} // namespace

std::string describe_drivers_markdown() {
  std::string out = "| driver | key | value | source |\n|---|---|---|---|\n";
  for_each_driver_value([&out](const DriverProfile &d, const std::string &key,
                               const std::string &value, const std::string &source) {
    out += fmt::format("| `{}` | `{}` | {} | {} |\n", d.name, key, value, source);
  });
  return out;
}

std::string describe_platforms_markdown() {
  std::string out = "| platform | component | key | value | source |\n|---|---|---|---|---|\n";
  for_each_platform_value([&out](const PlatformProfile &p, const std::string &section,
                                 const std::string &key, const std::string &value,
                                 const std::string &source) {
    out += fmt::format("| `{}` | {} | `{}` | {} | {} |\n", p.name, section, key, value, source);
  });
  return out;
}

std::string describe_devices_markdown() {
  std::string out = "| device | component | key | value | source |\n|---|---|---|---|---|\n";
  for_each_platform_value(
      [&out](const PlatformProfile &p, const std::string &section, const std::string &key,
             const std::string &value, const std::string &source) {
        out += fmt::format("| `{}` | {} | `{}` | {} | {} |\n", p.name, section, key, value, source);
      },
      true);
  return out;
}

std::string describe_stats_markdown() {
  std::string out;
  for (const ComponentType &t : component_types()) {
    out += fmt::format("### `{}`\n\n", t.name);
    for (const StatGroup &g : t.stats) {
      out += fmt::format("`{}`{}:\n\n", g.struct_name, g.when.empty() ? "" : " (" + g.when + ")");
      stat_table(out, *g.specs);
      out += "\n";
    }
  }
  out += "### Link directions (`links[]`)\n\n`LinkDirectionStats`:\n\n";
  stat_table(out, LinkDirectionStats::table().specs());
  out += "\n### OS kernel (`os` in a workload comparison's results)\n\n`OsStats`:\n\n";
  stat_table(out, OsStats::table().specs());
  return out;
}

std::string describe_markdown() {
  std::string out;
  for (const ComponentType &t : component_types()) {
    out += fmt::format("### `{}` ({})\n\n{}.\n\n", t.name, role_name(t.role), t.doc);
    table(out, t.specs());
    out += "\n";
  }
  out += "### Link `params`\n\n";
  table(out, LinkParams::specs());
  out += "\n### Workload `costs`\n\nSoftware costs of the Linux paths a workload's mechanisms run "
         "and the policies of the GPU driver (docs/mechanisms.md says which mechanism pays which; "
         "sources in [references.md](references.md#kernel-and-driver-costs-workload-costs)).\n\n";
  table(out, OsCosts::specs());
  out += "\n### Driver profiles\n\nThe `costs` a workload's `\"driver\"` gives it (sources in "
         "[references.md](references.md#driver-profiles)).\n\n";
  for_each_driver_value([&out, last = std::string()](const DriverProfile &d, const std::string &key,
                                                     const std::string &value,
                                                     const std::string &) mutable {
    if (d.name != last) {
      out += fmt::format("{}**`{}`**: {}\n\n| key | value |\n|---|---|\n", last.empty() ? "" : "\n",
                         d.name, d.description);
      last = d.name;
    }
    out += fmt::format("| `{}` | {} |\n", key, value);
  });
  out +=
      "\n### Platforms\n\nThe values a root complex's `\"platform\"` gives it, its host memory and "
      "its inter-socket link (sources in [references.md](references.md#platform-files)).\n\n";
  for_each_platform_value(
      [&out, last = std::string()](const PlatformProfile &p, const std::string &section,
                                   const std::string &key, const std::string &value,
                                   const std::string &) mutable {
        if (p.name != last) {
          out += fmt::format("{}**`{}`**: {}\n\n| component | key | value |\n|---|---|---|\n",
                             last.empty() ? "" : "\n", p.name, p.description);
          last = p.name;
        }
        out += fmt::format("| {} | `{}` | {} |\n", section, key, value);
      });
  return out;
}

std::string describe_text() {
  std::string out;
  auto list = [&out](const std::vector<ParamSpec> &specs) {
    for (const ParamSpec &s : specs)
      out += fmt::format("  {:<26} {:<10} default {:<10} {}\n", s.name, kind_name(s.kind),
                         default_text(s), s.doc);
  };
  for (const ComponentType &t : component_types()) {
    out += fmt::format("{} ({}): {}\n", t.name, role_name(t.role), t.doc);
    list(t.specs());
    out += "\n";
  }
  out += "link params:\n";
  list(LinkParams::specs());
  out += "\nworkload costs:\n";
  list(OsCosts::specs());
  out += "\nplatforms (\"platform\" on a root_complex; platforms/<name>.json):\n";
  Node nowhere = Node::root(parse_json_text("\"describe\"", "<describe>"));
  for (const std::string &name : platform_names())
    out += fmt::format("  {:<26} {}\n", name, load_platform(name, nowhere)->description);
  out += "\ndevices (\"device\" on an endpoint; devices/<name>.json):\n";
  for (const std::string &name : device_names())
    out += fmt::format("  {:<26} {}\n", name, load_device(name, nowhere)->description);
  out += "\ndrivers (\"driver\" in a workload; drivers/<name>.json):\n";
  for (const std::string &name : driver_names())
    out += fmt::format("  {:<26} {}\n", name, load_driver(name, nowhere)->description);
  return out;
}

} // namespace pciesim
