// The predicted-versus-measured plot of `rooftop validate --calibration --png`.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace rooftop::rep {

/// One measured case and rooftop's prediction of it, seconds.
struct CalibrationPoint {
  std::string kind;  ///< gemm, stream, attention_decode, ...
  double measured_s = 0;
  double predicted_s = 0;
  bool held_out = false;
};

/// A log-log scatter of predicted against measured time, one colour per kind, held-out cases
/// filled, with the y = x line and +-10% bands. Writes `png` (gnuplot pngcairo); throws
/// NotCompiled without gnuplot.
void write_calibration_plot(const std::filesystem::path &png, const std::vector<CalibrationPoint> &pts,
                            const std::string &gpu);

} // namespace rooftop::rep
