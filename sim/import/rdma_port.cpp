#include "sim/import/rdma_port.h"

#include <fmt/format.h>

#include "models/common/units.h"

namespace pciesim {

std::uint64_t roce_path_mtu(int net_mtu_bytes) {
  const std::int64_t room =
      static_cast<std::int64_t>(net_mtu_bytes) - static_cast<std::int64_t>(kRoceHeaderReserveBytes);
  for (std::int64_t mtu = 4096; mtu >= 256; mtu /= 2)
    if (mtu <= room)
      return static_cast<std::uint64_t>(mtu);
  return 0;
}

void add_rdma_port_params(const PciFunctionInfo &f, const KnownDevice *known, const std::string &id,
                          nlohmann::ordered_json &params, std::vector<std::string> &guesses) {
  if (f.network_speed_gbps && *f.network_speed_gbps > 0) {
    params["line_rate"] = fmt::format("{:g} Gb/s", *f.network_speed_gbps);
  } else if (known && known->line_rate_gbps) {
    params["line_rate"] = fmt::format("{} Gb/s", known->line_rate_gbps);
    guesses.push_back(fmt::format("{}: line rate {} Gb/s, the {}'s port speed", id,
                                  known->line_rate_gbps, known->model));
  } else {
    guesses.push_back(
        fmt::format("{}: line rate unknown (\"{}\"): the model's default", id, f.name));
  }
  if (f.network_link_layer == "InfiniBand") {
    params["packet_overhead"] = format_bytes(Bytes{kInfinibandPacketOverheadBytes});
  } else if (f.net_mtu_bytes) {
    if (std::uint64_t mtu = roce_path_mtu(*f.net_mtu_bytes))
      params["network_mtu"] = format_bytes(Bytes{mtu});
    else
      guesses.push_back(fmt::format("{}: net device MTU {} leaves no RoCE MTU: the model's default",
                                    id, *f.net_mtu_bytes));
  }
}

} // namespace pciesim
