// The report's distribution sections: latency CDFs, link utilisation (heat maps and tables)
// and topology pictures (sim/report/report_figures.h).
#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "sim/report/report.h"
#include "sim/report/report_figure_parts.h"
#include "sim/report/report_figures.h"

namespace pciesim {
using nlohmann::json;
using namespace figure_parts;

namespace {

// The fractions 0, 0.05, ..., 1 of latency_cdf_ns, or the three known percentiles.
svg::CdfSeries latency_series(const std::string &name, const json &cdf, double p50, double p99,
                              double max, bool &approximated) {
  svg::CdfSeries s{name, {}, {}, {}};
  if (cdf.is_array() && cdf.size() == 21) {
    for (std::size_t i = 0; i < cdf.size(); ++i)
      if (cdf[i].is_number()) {
        s.values.push_back(cdf[i].get<double>());
        s.probabilities.push_back(static_cast<double>(i) / 20.0);
      }
    return s;
  }
  approximated = true;
  for (auto [v, q] : {std::pair{p50, 0.5}, {p99, 0.99}, {max, 1.0}})
    if (std::isfinite(v)) {
      s.values.push_back(v);
      s.probabilities.push_back(q);
    }
  return s;
}

Figure cdf_figure(const std::string &name, const std::string &title,
                  std::vector<svg::CdfSeries> series, const std::string &caption) {
  svg::CdfPlot plot;
  plot.frame = frame(title, "latency", "fraction of operations", format_ns);
  double lo = INFINITY, hi = 0;
  std::string csv = "series,latency_ns,fraction\n";
  for (const svg::CdfSeries &c : series)
    for (std::size_t i = 0; i < c.values.size(); ++i) {
      if (c.values[i] > 0) {
        lo = std::min(lo, c.values[i]);
        hi = std::max(hi, c.values[i]);
      }
      csv += csv_field(c.name) + "," + csv_number(c.values[i]) + "," +
             csv_number(c.probabilities[i]) + "\n";
    }
  plot.x_scale = svg::value_scale(lo, hi);
  plot.series = std::move(series);
  std::string scale_note = plot.x_scale == svg::Scale::Log10
                               ? " Logarithmic latency axis: the values span decades."
                               : "";
  return {name, svg::step_cdf(plot), caption + scale_note, csv};
}

} // namespace

Section latency_section(const ReportData &d, const std::vector<std::size_t> &chosen) {
  Section s{"latency", "Latency distributions", "", {}, {}};
  MechanismColours colours(d);
  bool approximated = false;
  for (const Panel &p : mechanism_panels(d, chosen)) {
    std::vector<svg::CdfSeries> series;
    for (const json *m : p.mechanisms) {
      if (!ran(*m))
        continue;
      const json &lat = m->contains("latency") ? (*m)["latency"] : json();
      series.push_back(latency_series(
          json_text(*m, "name"), m->contains("latency_cdf_ns") ? (*m)["latency_cdf_ns"] : json(),
          json_number(lat, "p50_ns"), json_number(lat, "p99_ns"), json_number(lat, "max_ns"),
          approximated));
      series.back().style = colours.style(json_text(*m, "name"));
    }
    if (!series.empty())
      s.figures.push_back(cdf_figure(stem("latency-", p.title), "Latency CDF on " + p.title, series,
                                     "Latency of each operation of the workload."));
  }
  std::vector<svg::CdfSeries> transfers;
  std::vector<std::string> transfer_ids;
  bool several = chosen.size() > 1;
  for (std::size_t k = 0; k < chosen.size(); ++k) {
    const ReportPoint &p = d.points[chosen[k]];
    for (const json &t : json_array(p.result, "transfers")) {
      const json &lat = t.contains("latency_ns") ? t["latency_ns"] : json();
      std::string id = json_text(t, "id");
      // Named and drawn as in the throughput chart: the combination first (its colour), then
      // the transfer (its dash pattern).
      std::string name = several ? combination(d, p) + " / " + id : id;
      transfers.push_back(latency_series(name, json(), json_number(lat, "p50"),
                                         json_number(lat, "p99"), json_number(lat, "max"),
                                         approximated));
      auto seen = std::find(transfer_ids.begin(), transfer_ids.end(), id);
      if (seen == transfer_ids.end())
        seen = transfer_ids.insert(transfer_ids.end(), id);
      transfers.back().style = {svg::series_colour(k), svg::series_dash(static_cast<std::size_t>(
                                                           seen - transfer_ids.begin()))};
    }
  }
  transfers.erase(std::remove_if(transfers.begin(), transfers.end(),
                                 [](const svg::CdfSeries &c) { return c.values.empty(); }),
                  transfers.end());
  if (!transfers.empty())
    s.figures.push_back(cdf_figure("latency-cdf", "Latency CDF", transfers,
                                   several ? "At the largest transfer size of each combination "
                                             "of the other axes."
                                           : ""));
  if (approximated)
    s.text = "Curves without a recorded distribution (latency_cdf_ns) are approximated from the "
             "percentiles in results.json (p50, p99, max): a step at each.";
  return s;
}

namespace {

// Link utilisation of one topology: a heat map with a row per link direction that carried
// traffic and a column per run (mechanism or point), and the same numbers as a table.
struct LinkGrid {
  std::string topology;
  std::vector<std::string> rows, columns;
  std::map<std::pair<std::size_t, std::size_t>, double> busy;

  void add(const std::string &column, const json &links) {
    std::size_t c = columns.size();
    columns.push_back(column);
    for (const json &l : links) {
      if (!(json_number(l, "payload_bytes") > 0) && !(json_number(l, "utilization") > 0))
        continue;
      std::string row = json_text(l, "from") + " -> " + json_text(l, "to");
      auto it = std::find(rows.begin(), rows.end(), row);
      std::size_t r = static_cast<std::size_t>(it - rows.begin());
      if (it == rows.end())
        rows.push_back(row);
      busy[{r, c}] = json_number(l, "utilization");
    }
  }
};

void add_link_grid(Section &s, const LinkGrid &g, std::size_t index) {
  if (g.rows.empty())
    return;
  svg::HeatMap map;
  map.frame = frame("Link utilisation on " + g.topology, "", "busy");
  map.value_label = percent;
  map.rows = g.rows;
  map.columns = g.columns;
  map.values.assign(g.rows.size(), std::vector<double>(g.columns.size(), NAN));
  double most = 0;
  std::string csv = "link_direction,run,utilization\n";
  for (const auto &[cell, v] : g.busy) {
    map.values[cell.first][cell.second] = v;
    most = std::max(most, std::isfinite(v) ? v : 0.0);
    csv += csv_field(g.rows[cell.first]) + "," + csv_field(g.columns[cell.second]) + "," +
           csv_number(v) + "\n";
  }
  // The colours span what was seen, so that a run busy 2% of its time is not all white.
  map.max = most > 0 ? most : 1.0;
  s.figures.push_back({fmt::format("links-{}", index + 1), svg::heat_map(map),
                       "Share of the simulated time each link direction was busy sending "
                       "(utilization in links.csv); only directions that carried data.",
                       csv});
  if (g.columns.size() > 12)
    return; // a sweep's many points: the heat map and its CSV hold them
  Table t{{"link direction"}, {false}, {}};
  for (const std::string &c : g.columns) {
    t.header.push_back(c + " busy %");
    t.numeric.push_back(true);
  }
  for (std::size_t r = 0; r < g.rows.size(); ++r) {
    std::vector<std::string> row{g.rows[r]};
    for (std::size_t c = 0; c < g.columns.size(); ++c) {
      auto it = g.busy.find({r, c});
      row.push_back(it == g.busy.end() ? "" : fixed_decimals(100.0 * it->second, 2));
    }
    t.rows.push_back(row);
  }
  s.tables.emplace_back("Link utilisation on " + g.topology, t);
}

} // namespace

Section links_section(const ReportData &d, const std::vector<std::size_t> &chosen) {
  Section s{"links", "Link utilisation", "", {}, {}};
  std::vector<LinkGrid> grids;
  auto grid = [&](const std::string &topology) -> LinkGrid & {
    auto it = std::find_if(grids.begin(), grids.end(),
                           [&](const LinkGrid &g) { return g.topology == topology; });
    if (it == grids.end())
      it = grids.insert(grids.end(), LinkGrid{topology, {}, {}, {}});
    return *it;
  };
  for (const Panel &p : mechanism_panels(d, chosen))
    for (const json *m : p.mechanisms)
      if (ran(*m))
        grid(p.topology)
            .add(p.combination.empty() ? json_text(*m, "name")
                                       : json_text(*m, "name") + " / " + p.combination,
                 json_array(*m, "links"));
  for (const ReportPoint &p : d.points) {
    if (!completed(p) || json_array(p.result, "links").empty())
      continue;
    std::string topology =
        p.topology >= 0 && static_cast<std::size_t>(p.topology) < d.topologies.size()
            ? d.topologies[static_cast<std::size_t>(p.topology)].name
            : "topology";
    std::string label = axis_values(
        d, p, [](const std::string &a) { return a.find("topolog") == std::string::npos; });
    grid(topology).add(label.empty() ? p.id : label, json_array(p.result, "links"));
  }
  for (std::size_t i = 0; i < grids.size(); ++i)
    add_link_grid(s, grids[i], i);
  return s;
}

Section topology_section(const ReportData &d) {
  Section s{"topologies", "Topologies", "", {}, {}};
  std::vector<std::string> notes;
  for (std::size_t t = 0; t < d.topologies.size(); ++t) {
    const ReportTopology &topo = d.topologies[t];
    if (topo.svg.empty())
      notes.push_back(topo.name + ": " + topo.note);
    else
      s.figures.push_back({fmt::format("topology-{}", t + 1), topo.svg,
                           topo.name + " (Graphviz of `pciesim topo --dot`)", ""});
  }
  for (const std::string &n : notes)
    s.text += (s.text.empty() ? "" : " ") + n;
  return s;
}

} // namespace pciesim
