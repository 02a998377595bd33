// Sampling one case per the stopping rule, and running a plan on a backend.
#pragma once

#include "calibration/backend.hpp"
#include "calibration/plan.hpp"

#include <functional>
#include <string>
#include <vector>

namespace rooftop::cal {

/// Warm-up, then samples of `run_once` (which returns the seconds of one run) until
/// `should_stop`; then the outlier filter and the summary.
Measurement sample_case(const Case &c, const StopRule &rule, const std::function<double()> &run_once);

/// A case the device cannot run, with the reason.
Measurement skipped(const Case &c, std::string why);

/// Runs every case of `plan`; `progress(i, n, m)` is called after each (may be empty). A case
/// whose run throws comes back skipped and `failed`, with the error as its reason.
std::vector<Measurement> run_plan(
    Backend &b, const Plan &plan, const StopRule &rule,
    const std::function<void(std::size_t, std::size_t, const Measurement &)> &progress = {});

} // namespace rooftop::cal
