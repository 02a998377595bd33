// Horizontal stacked bars in gnuplot (boxxyerror boxes, so that labels and markers are exact).
#include "reports/plot_bars.hpp"

#include "reports/format.hpp"
#include "reports/gnuplot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace rooftop::rep {
namespace {

/// Dark text on light fills, white on dark (ITU-R BT.601 luma).
std::string text_color(const std::string &hex) {
  const auto c = std::stoul(hex.substr(1), nullptr, 16);
  const double luma = 0.299 * double((c >> 16) & 0xff) + 0.587 * double((c >> 8) & 0xff) +
                      0.114 * double(c & 0xff);
  return luma > 150 ? "#000000" : "#ffffff";
}

} // namespace

PlotScript stacked_bars_plot(const std::string &name, const std::string &title, int width,
                             int height, const StackedBars &b) {
  PlotScript p{name, title, width, height, "", {}};
  const double bar = 0.6; // bar thickness, in rows
  const auto n = static_cast<double>(b.rows.size());
  double xmax = b.xmax;
  std::vector<std::string> names; // legend order: first appearance
  std::map<std::string, std::string> colors, blocks;
  std::string labels, ytics;
  for (std::size_t i = 0; i < b.rows.size(); ++i) {
    const double y = n - 1 - static_cast<double>(i);
    ytics += fmt::format("{}{} {}", i ? ", " : "", gp_quote(b.rows[i].label), y);
    double x = 0;
    for (const auto &s : b.rows[i].segments) {
      if (!colors.count(s.name)) names.push_back(s.name);
      colors[s.name] = s.color;
      blocks[s.name] += fmt::format("{} {} {} {} {} {}\n", x + s.value / 2, y, x, x + s.value,
                                    y - bar / 2, y + bar / 2);
      x += s.value;
    }
    xmax = std::max(xmax, x);
  }
  xmax *= 1.04;
  for (std::size_t i = 0; i < b.rows.size(); ++i) { // labels of segments wide enough to hold one
    const double y = n - 1 - static_cast<double>(i);
    double x = 0;
    for (const auto &s : b.rows[i].segments) {
      const double room = (static_cast<double>(s.label.size()) + 2) * 0.011 * xmax; // glyphs
      if (!s.label.empty() && s.value > room)
        labels += fmt::format("set label {} at {},{} center front tc rgb '{}'\n",
                              gp_quote(s.label), x + s.value / 2, y, text_color(s.color));
      x += s.value;
    }
  }
  std::string data, plot;
  int index = 0;
  for (const auto &nm : names) {
    data += blocks[nm] + "\n\n";
    plot += fmt::format("{}'{}.dat' index {} using 1:2:3:4:5:6 with boxxyerror fs solid 1.0 "
                        "border lc rgb 'white' fc rgb '{}' title {}",
                        index ? ", \\\n     " : "plot ", name, index, colors[nm], gp_quote(nm));
    ++index;
  }
  std::string markers;
  for (const auto &m : b.markers)
    markers += fmt::format("set arrow from {0},graph 0 to {0},graph 1 nohead front lw 2 dt 2 "
                           "lc rgb '#c00000'\nset label {1} at {0},graph 1 right offset -0.5,-1 "
                           "front tc rgb '#c00000'\n",
                           m.x, gp_quote(m.label));
  p.body = fmt::format("reset\nset title {}\nset xlabel {}\nset xrange [0:{}]\n"
                       "set yrange [-0.6:{}]\nset ytics ({}) scale 0\nset grid xtics "
                       "lc rgb '#dddddd'\nset key outside right top vertical Left reverse "
                       "samplen 2\nset border 3\n"
                       "set xtics nomirror\n{}{}{}\n",
                       gp_quote(b.title), gp_quote(b.xlabel), xmax, n - 0.4, ytics, labels,
                       markers, plot);
  p.data.emplace_back(name + ".dat", data);
  return p;
}

PlotScript breakdown_plot(const std::vector<PhaseBreakdown> &phases) {
  StackedBars b;
  b.title = "Where the time goes: share of each phase by operator kind (per GPU)";
  b.xlabel = "share of the phase's time (%)";
  b.xmax = 100 / 1.04;
  for (const auto &ph : phases) {
    BarRow r;
    r.label = ph.phase == wl::Phase::prefill ? "prefill pass (TTFT)\n" + time(ph.total)
                                             : "decode step (TPOT)\n" + time(ph.total);
    for (const auto &k : ph.kinds)
      r.segments.push_back({wl::to_string(k.kind), 100 * k.fraction, kind_color(k.kind),
                            fmt::format("{:.0f}%", 100 * k.fraction)});
    if (ph.pipeline_wait.value() > 0)
      r.segments.push_back({k_pipeline_wait, 100 * ph.pipeline_wait_fraction, "#d9d9d9",
                            fmt::format("{:.0f}%", 100 * ph.pipeline_wait_fraction)});
    if (ph.overlapped.value() > 0) // shares of the operators' sum, which exceeds the phase
      r.label += "\n(" + time(ph.overlapped) + " hidden by overlap)";
    b.rows.push_back(std::move(r));
  }
  return stacked_bars_plot("breakdown", "Time by operator kind", k_breakdown_size[0],
                           k_breakdown_size[1], b);
}

PlotScript memory_plot(const std::vector<MemoryRow> &rows, const std::string &gpu_name) {
  StackedBars b;
  b.title = "Memory per GPU (" + gpu_name + ")";
  b.xlabel = "memory per GPU (GB, 1e9 bytes)";
  for (const auto &r : rows) {
    const auto &m = r.memory;
    const auto gbv = [](Bytes x) { return x.value() / 1e9; };
    b.rows.push_back({r.label,
                      {{"weights", gbv(m.weights), "#4e79a7", gb(m.weights)},
                       {"KV cache", gbv(m.kv_cache), "#f28e2b", gb(m.kv_cache)},
                       {"activations", gbv(m.activations), "#59a14f", gb(m.activations)},
                       {"runtime reserve", gbv(m.reserved), "#bab0ac", gb(m.reserved)}}});
    b.xmax = std::max(b.xmax, gbv(m.capacity));
  }
  if (!rows.empty()) {
    const auto &m = rows.front().memory;
    const std::string label = hw::capacity_label(m.capacity_source);
    b.markers.push_back({b.xmax, "capacity " + gb(m.capacity) + " (" + label + ")"});
  }
  return stacked_bars_plot("memory", "Memory per GPU", k_memory_size[0], k_memory_size[1], b);
}

} // namespace rooftop::rep
