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

/// The name of the failed self-check whose kernel case `c` runs, or "" when none did: a kernel
/// that disagrees with its host reference is not timed. Matched by the check's name:
/// gemm_fp8_* (FP8 GEMMs), any other gemm_* (the other GEMMs and the layers), stream_<kind>
/// (that stream), attention_* (attention and the layers), rmsnorm (the small-operation launch
/// case and the layers), silu_mul (the layers); a failed check of any other name blocks every
/// case.
std::string failed_check_for(const Case &c, const std::vector<SelfCheck> &checks);

/// Runs every case of `plan`; `progress(i, n, m)` is called after each (may be empty). A case
/// whose run throws comes back skipped and `failed`, with the error as its reason; so does,
/// without running, a case whose kernel failed one of `checks` (failed_check_for).
std::vector<Measurement> run_plan(
    Backend &b, const Plan &plan, const StopRule &rule,
    const std::function<void(std::size_t, std::size_t, const Measurement &)> &progress = {},
    const std::vector<SelfCheck> &checks = {});

} // namespace rooftop::cal
