// Writing a report directory: report.html (self-contained) and one PNG per plot.
#pragma once

#include "reports/estimate_report.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace rooftop::rep {

/// What write_report wrote.
struct ReportFiles {
  std::filesystem::path html;              ///< dir/report.html
  std::vector<std::filesystem::path> pngs; ///< dir/<plot>.png
};

/// Computes the plots' data, draws them with gnuplot (scripts and data kept in dir/gnuplot/ so
/// that they can be redrawn or restyled) and renders report.html with every plot inline.
/// `command`: a command line that reproduces the report (shown in it). `cluster`: the run's
/// cluster (nullptr: the GPU's usual system), for the batch sweep. Throws NotCompiled when
/// gnuplot is not on $PATH (before writing anything), InputError when `dir` is empty, cannot be
/// made or cannot be written in, and GnuplotError when gnuplot fails.
ReportFiles write_report(const std::filesystem::path &dir, const EstimateInputs &in,
                         const sim::Estimate &e, const sim::EstimateOptions &o,
                         const std::string &command, const hw::Cluster *cluster = nullptr);

} // namespace rooftop::rep
