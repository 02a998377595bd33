// The report's plots as gnuplot scripts and data files (PNG through pngcairo, SVG for the HTML).
#pragma once

#include "reports/plot_data.hpp"

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace rooftop::rep {

/// One plot: its gnuplot script and data files. Drawn twice by the script: `<name>.png` in the
/// parent directory (the report directory) and `<name>.svg` beside the script.
struct PlotScript {
  std::string name;  ///< file stem, e.g. "roofline"
  std::string title; ///< for the HTML
  int width = 0;     ///< pixels (PNG and SVG)
  int height = 0;    ///< pixels
  std::string body;  ///< gnuplot commands after the terminal is set
  std::vector<std::pair<std::string, std::string>> data; ///< file name -> contents
};

/// PNG and SVG sizes, pixels (the CLI tests check the PNG headers against them).
inline constexpr int k_roofline_size[2] = {1100, 680};
inline constexpr int k_breakdown_size[2] = {1100, 420};
inline constexpr int k_sweep_size[2] = {1100, 620};
inline constexpr int k_memory_size[2] = {1100, 380};

/// The roofline, time breakdown, batch sweep and memory plots, in that order. `gpu_name`: the
/// GPU's marketing name (titles only).
std::vector<PlotScript> plot_scripts(const PlotData &p, const std::string &gpu_name);

/// The whole script of one plot: the body drawn to ../<name>.png and to <name>.svg.
std::string full_script(const PlotScript &s);

/// Writes each plot's script and data into `work_dir`, runs gnuplot there, and returns each
/// plot's SVG, inlinable (see inline_svg), in the order of `plots`. PNGs land in
/// work_dir/.. . Throws NotCompiled when gnuplot is absent.
std::vector<std::string> draw_plots(const std::vector<PlotScript> &plots,
                                    const std::filesystem::path &work_dir);

/// Colour of an operator kind, "#rrggbb" (the same in every plot).
std::string kind_color(wl::OpKind k);

} // namespace rooftop::rep
