// Sample statistics for calibration: summaries, the stopping rule and the throttle filter.
#pragma once

#include "calibration/plan.hpp"

#include <vector>

namespace rooftop::cal {

double median(std::vector<double> v);
double mean(const std::vector<double> &v);
/// Sample standard deviation (n - 1); 0 for fewer than 2 samples.
double stdev(const std::vector<double> &v);

/// True when sampling may stop: n >= max_samples, or elapsed >= max_seconds with n >= min, or
/// n >= min_samples and stdev / sqrt(n) / mean <= target_rel_stderr.
bool should_stop(const std::vector<double> &samples, double elapsed_s, const StopRule &rule);

/// Drops samples more than `k` median absolute deviations above the median (a clock throttle or
/// a preemption shows as a slow outlier); returns how many were dropped. With MAD = 0 only
/// samples above 1.5 x the median are dropped.
int drop_slow_outliers(std::vector<double> &samples, double k = 5.0);

/// Fills median/mean/rel_stdev of `m` from its samples (after the outlier filter).
void summarize(Measurement &m);

} // namespace rooftop::cal
