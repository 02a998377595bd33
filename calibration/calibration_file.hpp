// The calibration file (rooftop.calibration/1): provenance, device and every measurement; and
// the calibrated efficiency table (rooftop.efficiency/1, origin measured) the model reads.
#pragma once

#include "calibration/backend.hpp"
#include "calibration/fit.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace rooftop::cal {

/// One calibration run.
struct CalibrationRun {
  std::string gpu;                ///< the catalogue GPU (or spec file) the run is for
  std::string architecture;       ///< its architecture name
  nlohmann::ordered_json meta;    ///< rooftop version, git sha, date, command, argv
  DeviceInfo device;
  StopRule rule;                  ///< unused (and not written) when `published` is set
  /// Measurements taken by someone else and published (docs/calibration.md, "Published
  /// measurements"): where, under what licence, how they were timed and what was selected. An
  /// object with at least "source", "commit" and "statistic"; null for rooftop's own runs.
  nlohmann::ordered_json published;
  std::vector<SelfCheck> self_checks;   ///< the backend's kernels against host references
  std::vector<Measurement> measurements;
};

nlohmann::ordered_json to_json(const CalibrationRun &run);
/// Loads a rooftop.calibration/1 file. Throws InputError naming file and field.
CalibrationRun load_calibration(const std::filesystem::path &file);

/// The efficiency table estimate reads: rooftop.efficiency/1 with "origin": "measured", the GPU
/// and architecture, the calibration file it came from and the fit's notes and curves.
nlohmann::ordered_json efficiency_table_json(const FitResult &fit, const CalibrationRun &run,
                                             const std::string &calibration_file);

/// Writes JSON with a trailing newline. Throws InputError naming the file when it cannot.
void write_json_file(const std::filesystem::path &file, const nlohmann::ordered_json &j);

} // namespace rooftop::cal
