// Calibration statistics.
#include "calibration/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace rooftop::cal {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double mean(const std::vector<double> &v) {
  return v.empty() ? 0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

double stdev(const std::vector<double> &v) {
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

bool should_stop(const std::vector<double> &samples, double elapsed_s, const StopRule &rule) {
  const auto n = static_cast<int>(samples.size());
  if (n >= rule.max_samples) return true;
  if (n >= 1 && elapsed_s >= rule.max_seconds) return true; // a bound even below min_samples
  if (n < rule.min_samples) return false;
  const double m = mean(samples);
  return m > 0 && stdev(samples) / std::sqrt(static_cast<double>(n)) / m <= rule.target_rel_stderr;
}

int drop_slow_outliers(std::vector<double> &samples, double k) {
  if (samples.size() < 3) return 0;
  const double med = median(samples);
  std::vector<double> dev;
  for (double x : samples) dev.push_back(std::fabs(x - med));
  const double mad = median(dev);
  const double limit = mad > 0 ? med + k * mad : 1.5 * med;
  const auto before = samples.size();
  samples.erase(std::remove_if(samples.begin(), samples.end(), [&](double x) { return x > limit; }),
                samples.end());
  return static_cast<int>(before - samples.size());
}

void summarize(Measurement &m) {
  m.discarded += drop_slow_outliers(m.samples_s);
  m.median_s = median(m.samples_s);
  m.mean_s = mean(m.samples_s);
  m.rel_stdev = m.mean_s > 0 ? stdev(m.samples_s) / m.mean_s : 0;
}

} // namespace rooftop::cal
