// The roofline and batch-sweep plots, and drawing all plots with gnuplot.
#include "reports/plots.hpp"

#include "core/errors.hpp"
#include "reports/format.hpp"
#include "reports/gnuplot.hpp"
#include "reports/plot_bars.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <numbers>
#include <sstream>

namespace rooftop::rep {
namespace {

constexpr double k_tera = 1e12;

double decade_below(double v) { return std::pow(10.0, std::floor(std::log10(v))); }
double decade_above(double v) { return std::pow(10.0, std::ceil(std::log10(v))); }

/// Plot axes of the roofline: intensity (FLOP/B) and TFLOP/s ranges.
struct Range {
  double xmin, xmax, ymin, ymax;
};

Range roofline_range(const RooflineData &r) {
  const double bw = r.memory_bandwidth.value() / k_tera; // TFLOP/s per FLOP/B
  double ai_lo = 1, ai_hi = 10, y_lo = 1, y_hi = 1;
  for (const auto &roof : r.roofs) {
    ai_hi = std::max(ai_hi, roof.peak.value() / k_tera / bw);
    y_hi = std::max(y_hi, roof.peak.value() / k_tera);
  }
  for (const auto &p : r.points) {
    ai_lo = std::min(ai_lo, p.intensity);
    ai_hi = std::max(ai_hi, p.intensity);
    y_lo = std::min(y_lo, p.achieved.value() / k_tera);
  }
  const double xmin = decade_below(ai_lo / 1.5), xmax = decade_above(ai_hi * 1.5);
  return {xmin, xmax, decade_below(std::min(y_lo, bw * xmin) / 1.5), decade_above(y_hi * 2)};
}

PlotScript roofline_plot(const RooflineData &r, const std::string &gpu_name) {
  PlotScript p{"roofline", "Roofline", k_roofline_size[0], k_roofline_size[1], "", {}};
  const Range g = roofline_range(r);
  const double bw = r.memory_bandwidth.value() / k_tera;
  std::string s = "reset\n";
  const std::string mem = r.memory_type;
  std::string title =
      "Roofline of one " + gpu_name + ": each operator at its intensity and achieved FLOP/s";
  if (r.per_stage || r.per_group) // a second line: repeated points are not duplicates
    title += std::string("\none point per ") + (r.per_group ? "layer group" : "") +
             (r.per_group && r.per_stage ? " and " : "") +
             (r.per_stage ? "pipeline stage" : "") + " (equal costs coincide)";
  s += fmt::format("set title {}\n", gp_quote(title));
  s += "set logscale xy\nset format x '%g'\nset format y '%g'\nset samples 1000\n";
  s += fmt::format("set xlabel {}\n",
                   gp_quote("arithmetic intensity (FLOP per byte of " + mem + " traffic)"));
  s += "set ylabel 'achieved compute (TFLOP/s, 1e12 FLOP/s)'\n"
       "set grid xtics ytics lc rgb '#dddddd'\n"
       "set key outside right top vertical Left reverse samplen 2 spacing 1.1 width -2\n";
  s += fmt::format("set xrange [{}:{}]\nset yrange [{}:{}]\nbw = {}\n", g.xmin, g.xmax, g.ymin,
                   g.ymax, bw);
  s += "roof(x, p) = bw * x < p ? bw * x : p\n";
  // Compute roofs: a label above each, at the right edge.
  int tag = 1;
  for (const auto &roof : r.roofs)
    s += fmt::format("set label {} {} at {},{} right offset 0,0.6 front\n", tag++,
                     gp_quote(fmt::format("{} {}", roof.label, flops_rate(roof.peak))),
                     g.xmax / 1.05, roof.peak.value() / k_tera);
  // The memory roof: a label along its slope, rotated by its angle on screen (plot area about
  // 62% of the width and 78% of the height; equal decades would be 45 degrees).
  const double dx = std::log10(g.xmax / g.xmin), dy = std::log10(g.ymax / g.ymin);
  const double angle = std::atan((0.78 * p.height / dy) / (0.62 * p.width / dx)) * 180 /
                       std::numbers::pi;
  const double xl = g.xmin * std::pow(10.0, dx * 0.08);
  s += fmt::format("set label {} {} at {},{} rotate by {:.1f} offset 0,0.8 front\n", tag++,
                   gp_quote(mem + " " + bandwidth(r.memory_bandwidth)), xl, bw * xl, angle);
  std::string plot = "plot ";
  for (std::size_t i = 0; i < r.roofs.size(); ++i)
    plot += fmt::format("roof(x, {}) lw 2 lc rgb '#333333' {}, \\\n     ",
                        r.roofs[i].peak.value() / k_tera,
                        i ? "notitle"
                          : "title " + gp_quote("spec roofs (dense peaks, " + mem + ")"));
  if (r.effective_gemm_peak.value() > 0)
    plot += fmt::format("(x * {0} < {1} ? x * {0} : {1}) lw 2 dt 2 lc rgb '#888888' title {2}, "
                        "\\\n     ",
                        r.effective_bandwidth.value() / k_tera,
                        r.effective_gemm_peak.value() / k_tera,
                        gp_quote("derated roof (" + r.gemm_dtype + " GEMM, " + mem + ")"));
  // Legend: one entry per kind (colour) and per phase (shape); the points themselves untitled.
  std::map<wl::OpKind, bool> kinds;
  for (const auto &pt : r.points) kinds[pt.op->kind] = true;
  const std::string per = r.per_stage ? " (per stage)" : r.per_group ? " (per group)" : "";
  plot += fmt::format("NaN with points pt 7 ps 1.4 lc rgb 'black' title {}, \\\n     "
                      "NaN with points pt 9 ps 1.6 lc rgb 'black' title {}, \\\n     ",
                      gp_quote("prefill operator" + per), gp_quote("decode operator" + per));
  for (const auto &[k, unused] : kinds)
    plot += fmt::format("NaN with points pt 5 ps 1.4 lc rgb '{}' title {}, \\\n     ",
                        kind_color(k), gp_quote(wl::to_string(k)));
  plot += "'roofline.dat' index 0 using 1:2:3 with points pt 7 ps 1.4 lc rgb variable notitle, "
          "\\\n     'roofline.dat' index 1 using 1:2:3 with points pt 9 ps 1.6 lc rgb variable "
          "notitle\n";
  std::string data[2];
  for (const auto &pt : r.points) {
    const auto color = std::stoul(kind_color(pt.op->kind).substr(1), nullptr, 16);
    data[pt.op->phase == wl::Phase::prefill ? 0 : 1] +=
        fmt::format("{} {} {} # {} stage {} group {}\n", pt.intensity,
                    pt.achieved.value() / k_tera, color, pt.op->name, pt.op->stage,
                    pt.op->group);
  }
  for (auto &d : data)
    if (d.empty()) d = "NaN NaN 0\n"; // keep the block so that `index` finds it
  p.body = s + plot;
  p.data.emplace_back("roofline.dat", "# intensity_flop_per_byte achieved_tflops color\n" +
                                          data[0] + "\n\n" + data[1]);
  return p;
}

/// A vertical line at batch `x`; its label goes in the key (a NaN plot of the same style), so
/// that no text sits on the curves.
struct Marker {
  std::string arrow; ///< `set arrow` command
  std::string key;   ///< plot clause of the key entry
};
Marker marker(double x, const std::string &label, const char *color, const char *dash) {
  return {fmt::format("set arrow from {0},graph 0 to {0},graph 1 nohead lw 2 dt {1} "
                      "lc rgb '{2}' front\n",
                      x, dash, color),
          fmt::format("NaN with lines lw 2 dt {} lc rgb '{}' title {}", dash, color,
                      gp_quote(label))};
}

/// The batch sweep's shading and vertical lines (gnuplot commands) and their key entries (plot
/// clauses): out of memory (from max_batch, or everywhere when nothing fits), the first
/// compute-bound batch and the run's batch.
std::pair<std::string, std::vector<std::string>> sweep_marks(const BatchSweep &w, double bmax) {
  std::string s;
  std::vector<std::string> keys;
  const char *oom_fill = "fs solid 0.6 noborder fc rgb '#f4cccc'";
  if (w.max_batch < 1) { // the whole plot is out of memory
    s += fmt::format("set object 1 rect from graph 0,graph 0 to graph 1,graph 1 behind {}\n",
                     oom_fill);
    keys.push_back(fmt::format("NaN with boxes {} title 'out of memory at every batch'",
                               oom_fill));
  } else if (static_cast<double>(w.max_batch) < bmax) {
    const double x = static_cast<double>(w.max_batch) + 0.5;
    s += fmt::format("set object 1 rect from {},graph 0 to graph 1,graph 1 behind {}\n", x,
                     oom_fill);
    s += marker(x, "", "#c00000", "1").arrow;
    keys.push_back(fmt::format("NaN with boxes {} title {}", oom_fill,
                               gp_quote(fmt::format("out of memory beyond batch {}",
                                                    w.max_batch))));
  }
  if (w.first_compute_bound > 0) {
    const auto m = marker(static_cast<double>(w.first_compute_bound),
                          fmt::format("decode compute-bound from batch {}",
                                      w.first_compute_bound),
                          "#6a3d9a", "2");
    s += m.arrow;
    keys.push_back(m.key);
  } else { // a key entry without a line
    keys.push_back(fmt::format("NaN with dots lc rgb 'white' title {}",
                               gp_quote(fmt::format("decode not compute-bound up to batch {:g}",
                                                    bmax))));
  }
  const auto run = marker(static_cast<double>(w.chosen_batch),
                          fmt::format("this run: batch {}", w.chosen_batch), "#333333", "3");
  s += run.arrow;
  keys.push_back(run.key);
  return {s, keys};
}

PlotScript sweep_plot(const BatchSweep &w) {
  PlotScript p{"batch_sweep", "Decode versus batch size", k_sweep_size[0], k_sweep_size[1], "",
               {}};
  std::string data = "# batch tpot_ms decode_tokens_per_s fits compute_bound\n";
  for (const auto &pt : w.points)
    data += fmt::format("{} {} {} {} {}\n", pt.batch, pt.tpot.value() * 1e3,
                        pt.decode_tokens_per_s, pt.fits ? 1 : 0,
                        pt.decode_bound == sim::Bound::compute ? 1 : 0);
  const double bmax = static_cast<double>(w.points.empty() ? 1 : w.points.back().batch);
  std::string s = "reset\n";
  // Notes go in the title and the key, never on the curves (no labels, no axis offsets).
  s += w.max_batch < 1
           ? "set title 'DOES NOT FIT: out of memory even at batch 1 (the curves are "
             "hypothetical)' tc rgb '#c00000' font ',15'\n"
           : "set title 'Decode step time and throughput versus batch size (per replica)'\n";
  s += "set logscale x 2\nset logscale y\nset logscale y2\nset format x '%g'\n"
       "set format y '%g'\nset format y2 '%g'\nset ytics nomirror\nset y2tics\n"
       "set xlabel 'batch (sequences decoded together per replica)'\n"
       "set ylabel 'decode step time, TPOT (ms)' tc rgb '#1f77b4'\n"
       "set y2label 'decode throughput (tokens/s, all replicas)' tc rgb '#d95f02'\n"
       "set grid xtics ytics lc rgb '#dddddd'\n"
       "set key outside below center horizontal maxcols 2 samplen 3 spacing 1.2 width 2\n"
       "set bmargin 9\n";
  s += fmt::format("set xrange [0.8:{}]\n", bmax * 1.3);
  const auto [marks, keys] = sweep_marks(w, bmax);
  s += marks;
  s += "plot 'batch_sweep.dat' using 1:2 axes x1y1 with linespoints pt 7 ps 1.2 lw 2 "
       "lc rgb '#1f77b4' title 'decode step time (ms, left axis)', \\\n"
       "     '' using 1:3 axes x1y2 with linespoints pt 5 ps 1.2 lw 2 lc rgb '#d95f02' "
       "title 'decode throughput (tokens/s, right axis)'";
  for (const auto &k : keys) s += ", \\\n     " + k;
  p.body = s + "\n";
  p.data.emplace_back("batch_sweep.dat", data);
  return p;
}

std::string terminal(const char *kind, const PlotScript &s, const std::string &out) {
  return fmt::format("set terminal {} size {},{} noenhanced font 'DejaVu Sans,{}' "
                     "background rgb 'white'\nset output {}\n",
                     kind, s.width, s.height, std::string(kind) == "svg" ? 13 : 11, gp_quote(out));
}

std::string slurp(const std::filesystem::path &f) {
  std::ifstream in(f);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace

std::string kind_color(wl::OpKind k) {
  switch (k) {
  case wl::OpKind::embedding: return "#7f7f7f";
  case wl::OpKind::norm: return "#bcbd22";
  case wl::OpKind::qkv_proj: return "#1f77b4";
  case wl::OpKind::attention: return "#d62728";
  case wl::OpKind::o_proj: return "#17becf";
  case wl::OpKind::router: return "#e377c2";
  case wl::OpKind::mlp: return "#2ca02c";
  case wl::OpKind::activation: return "#8c564b";
  case wl::OpKind::moe_experts: return "#9467bd";
  case wl::OpKind::shared_experts: return "#98df8a";
  case wl::OpKind::lm_head: return "#ff7f0e";
  case wl::OpKind::all_reduce: return "#393b79";
  case wl::OpKind::all_gather: return "#6b6ecf";
  case wl::OpKind::all_to_all: return "#843c39";
  case wl::OpKind::send_recv: return "#e7969c";
  }
  throw InternalError("kind_color: unknown OpKind");
}

std::vector<PlotScript> plot_scripts(const PlotData &p, const std::string &gpu_name) {
  return {roofline_plot(p.roofline, gpu_name), breakdown_plot(p.breakdown),
          sweep_plot(p.sweep), memory_plot(p.memory, gpu_name)};
}

std::string full_script(const PlotScript &s) {
  return "# rooftop: " + s.title + " (run `gnuplot " + s.name + ".gp` here to redraw)\n" +
         terminal("pngcairo", s, "../" + s.name + ".png") + s.body + "set output\n" +
         terminal("svg", s, s.name + ".svg") + s.body + "set output\n";
}

std::vector<std::string> draw_plots(const std::vector<PlotScript> &plots,
                                    const std::filesystem::path &work_dir) {
  if (!find_gnuplot()) run_gnuplot(work_dir, {}); // throws the NotCompiled message
  std::filesystem::create_directories(work_dir);
  std::vector<std::string> scripts;
  const auto write = [&](const std::string &file, const std::string &text) {
    std::ofstream out(work_dir / file);
    out << text;
    if (!out) throw InputError(work_dir.string() + ": cannot write there (" + file + ")");
  };
  for (const auto &pl : plots) {
    for (const auto &[file, text] : pl.data) write(file, text);
    write(pl.name + ".gp", full_script(pl));
    scripts.push_back(pl.name + ".gp");
  }
  run_gnuplot(work_dir, scripts);
  std::vector<std::string> svgs;
  for (const auto &pl : plots) {
    const auto svg = work_dir / (pl.name + ".svg");
    const std::string text = slurp(svg);
    if (text.find("<svg") == std::string::npos)
      throw GnuplotError("gnuplot exited normally but wrote no SVG plot to " + svg.string());
    svgs.push_back(inline_svg(text, pl.name + "-"));
  }
  return svgs;
}

} // namespace rooftop::rep
