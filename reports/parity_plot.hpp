// Parity plots: rooftop's figure against a reference (a measurement or a published result),
// log-log, for `rooftop validate --calibration --png` and `rooftop validate --serving --png`.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace rooftop::rep {

/// One compared case: the reference figure and rooftop's, in the plot's unit.
struct ParityPoint {
  std::string group; ///< one colour per group (kernel kind, model, ...)
  double reference = 0;
  double predicted = 0;
  bool filled = false; ///< drawn filled (what `filled_means` says), else hollow
};

struct ParityPlot {
  std::string title;
  std::string x_label;      ///< the reference, with its unit
  std::string y_label;      ///< rooftop's figure, with its unit
  std::string filled_means; ///< e.g. "held out" (one key entry says what filled and hollow mean)
  std::string hollow_means; ///< e.g. "fitted on"
  double band = 0.1;        ///< dashed lines at (1 +- band) x
  std::string key = "top left"; ///< where the key goes (gnuplot: "bottom right", ...)
  std::vector<ParityPoint> points;
};

/// A log-log scatter of predicted against reference, one colour per group, with the y = x line
/// and the +-band lines; points not both positive are left out. Writes `png` (gnuplot
/// pngcairo, 900 x 700); throws InputError naming `--png` when its directory is not writable or
/// nothing can be plotted, NotCompiled without gnuplot.
void write_parity_plot(const std::filesystem::path &png, const ParityPlot &plot);

} // namespace rooftop::rep
