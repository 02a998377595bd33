// Horizontal stacked bars as a gnuplot script: the time breakdown and memory plots.
#pragma once

#include "reports/plots.hpp"

#include <string>
#include <vector>

namespace rooftop::rep {

/// One segment of a bar: its legend name, length (in x-axis units) and colour.
struct BarSegment {
  std::string name;  ///< legend entry; segments of the same name share one entry
  double value = 0;  ///< length, x-axis units
  std::string color; ///< "#rrggbb"
  std::string label; ///< written inside the segment when it is wide enough
};
struct BarRow {
  std::string label; ///< y tic label
  std::vector<BarSegment> segments;
};
/// A vertical reference line (e.g. the memory capacity).
struct BarMarker {
  double x = 0;
  std::string label;
};
struct StackedBars {
  std::string title, xlabel;
  std::vector<BarRow> rows; ///< drawn top to bottom
  std::vector<BarMarker> markers;
  double xmax = 0;          ///< 0: from the data
};

/// The gnuplot body and data file `<name>.dat` of horizontal stacked bars.
PlotScript stacked_bars_plot(const std::string &name, const std::string &title, int width,
                             int height, const StackedBars &b);

/// Legend name of the pipeline-wait segment (PhaseBreakdown::pipeline_wait).
inline constexpr const char *k_pipeline_wait = "pipeline wait";

/// Share of each phase's time per operator kind (prefill pass, mean decode step), and the
/// pipeline wait when pipelining makes the phase longer than its operators' sum.
PlotScript breakdown_plot(const std::vector<PhaseBreakdown> &b);
/// Memory per GPU (GB) at the run's batch and the largest that fits, against capacity.
PlotScript memory_plot(const std::vector<MemoryRow> &rows, const std::string &gpu_name);

} // namespace rooftop::rep
