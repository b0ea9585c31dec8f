#include "sim/report/csv_tables.h"

#include <fmt/format.h>

namespace pciesim {
namespace {
// The results files are read as ordered JSON (the config layer's Json is the unordered kind).
using RowJson = nlohmann::ordered_json;

// The value at `pointer` in `row`, null when it is absent.
const RowJson &value_at(const RowJson &row, const RowJson::json_pointer &pointer) {
  static const RowJson null;
  return row.is_object() && row.contains(pointer) ? row.at(pointer) : null;
}

// Text and integers as they are; anything else (null, an object) an empty cell.
CsvColumn text(const std::string &name, const std::string &pointer) {
  RowJson::json_pointer p(pointer);
  return {name, [p](const RowJson &row) {
            const RowJson &v = value_at(row, p);
            if (v.is_string())
              return csv_field(v.get<std::string>());
            return v.is_number_integer() || v.is_boolean() ? v.dump() : std::string();
          }};
}

// A number with fixed decimals (the rounding results.json applies), empty when null.
CsvColumn fixed(const std::string &name, const std::string &pointer, int decimals) {
  RowJson::json_pointer p(pointer);
  return {name, [p, decimals](const RowJson &row) {
            const RowJson &v = value_at(row, p);
            return v.is_number() ? fmt::format("{:.{}f}", v.get<double>(), decimals)
                                 : std::string();
          }};
}

// TLPs of every type: the sum of links[].tlps {MRd, MWr, CplD, Cpl}.
CsvColumn tlp_total() {
  return {"tlps", [](const RowJson &row) {
            const RowJson &tlps = value_at(row, RowJson::json_pointer("/tlps"));
            if (!tlps.is_object())
              return std::string();
            std::uint64_t total = 0;
            for (const auto &count : tlps)
              total += count.get<std::uint64_t>();
            return std::to_string(total);
          }};
}

} // namespace

std::string csv_field(const std::string &s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos)
    return s;
  std::string out = "\"";
  for (char c : s)
    out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

const CsvColumns &transfer_csv_columns() {
  static const CsvColumns columns = {
      text("transfer", "/id"),
      text("initiator", "/initiator"),
      text("target", "/target"),
      text("direction", "/direction"),
      text("status", "/status"),
      text("transfer_bytes", "/transfer_bytes"),
      text("count", "/count"),
      text("transfers_done", "/transfers_done"),
      text("bytes", "/bytes"),
      fixed("start_ns", "/start_ns", 3),
      fixed("end_ns", "/end_ns", 3),
      fixed("bandwidth_GBps", "/bandwidth_GBps", 6),
      fixed("latency_mean_ns", "/latency_ns/mean", 3),
      fixed("latency_p50_ns", "/latency_ns/p50", 3),
      fixed("latency_p99_ns", "/latency_ns/p99", 3),
      fixed("latency_max_ns", "/latency_ns/max", 3),
      text("mechanism", "/mechanism"),
      text("map_type", "/map_type"),
      text("distance", "/distance"),
      text("route", "/route"),
      text("error", "/error"),
  };
  return columns;
}

const CsvColumns &link_csv_columns() {
  static const CsvColumns columns = {
      text("link", "/link"),
      text("from", "/from"),
      text("to", "/to"),
      text("gen", "/gen"),
      text("width", "/width"),
      fixed("usable_GBps", "/usable_GBps", 6),
      tlp_total(),
      text("mrd", "/tlps/MRd"),
      text("mwr", "/tlps/MWr"),
      text("cpld", "/tlps/CplD"),
      text("cpl", "/tlps/Cpl"),
      text("payload_bytes", "/payload_bytes"),
      text("wire_bytes", "/wire_bytes"),
      fixed("utilization", "/utilization", 6),
      text("credit_stalls", "/credit_stalls"),
      text("max_queue_depth", "/max_queue_depth"),
  };
  return columns;
}

const CsvColumns &mechanism_csv_columns() {
  static const CsvColumns columns = {
      text("topology", "/topology"),
      text("mechanism", "/name"),
      text("status", "/status"),
      fixed("total_time_ns", "/total_time_ns", 3),
      fixed("throughput_GBps", "/throughput_GBps", 3),
      fixed("latency_mean_ns", "/latency/mean_ns", 3),
      fixed("latency_p50_ns", "/latency/p50_ns", 3),
      fixed("latency_p99_ns", "/latency/p99_ns", 3),
      fixed("latency_max_ns", "/latency/max_ns", 3),
      text("bytes_accessed", "/bytes_accessed"),
      text("nic_bytes", "/nic_bytes"),
      text("cpu_faults", "/faults/cpu"),
      text("gpu_faults", "/faults/gpu"),
      text("odp_faults", "/faults/odp"),
      text("pages_migrated", "/pages_migrated"),
      text("pages_to_ram", "/pages_to_ram"),
      text("pages_to_device", "/pages_to_device"),
      text("bytes_migrated", "/bytes_migrated"),
      text("invalidations", "/invalidations"),
      fixed("dma_ns", "/breakdown_ns/dma", 3),
      fixed("copy_ns", "/breakdown_ns/copy", 3),
      fixed("fault_handling_ns", "/breakdown_ns/fault_handling", 3),
      fixed("invalidation_ns", "/breakdown_ns/invalidation", 3),
      fixed("shootdown_ns", "/breakdown_ns/shootdown", 3),
      fixed("setup_ns", "/breakdown_ns/setup", 3),
      fixed("waiting_ns", "/breakdown_ns/waiting", 3),
      text("reason", "/reason"),
  };
  return columns;
}

std::vector<std::string> column_names(const CsvColumns &columns) {
  std::vector<std::string> names;
  for (const CsvColumn &c : columns)
    names.push_back(c.name);
  return names;
}

std::string csv_header(const CsvColumns &columns) {
  std::string out;
  for (const CsvColumn &c : columns)
    out += (out.empty() ? "" : ",") + c.name;
  return out;
}

std::string csv_cells(const CsvColumns &columns, const RowJson &row) {
  std::string out;
  for (std::size_t i = 0; i < columns.size(); ++i)
    out += (i ? "," : "") + columns[i].cell(row);
  return out;
}

std::string csv_table(const CsvColumns &columns, const RowJson &rows) {
  std::string out = csv_header(columns) + "\n";
  for (const RowJson &row : rows)
    out += csv_cells(columns, row) + "\n";
  return out;
}

} // namespace pciesim
