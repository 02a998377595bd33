// The sampling loop shared by all backends.
#include "calibration/runner.hpp"

#include "calibration/stats.hpp"

#include <chrono>
#include <exception>
#include <string>

namespace rooftop::cal {

Measurement sample_case(const Case &c, const StopRule &rule, const std::function<double()> &run_once) {
  Measurement m;
  m.c = c;
  // Warm-up runs, at least one, no more than max_seconds of them (a case of 20 s runs is warm
  // after one).
  double warm = 0;
  for (int i = 0; i < rule.warmup && (i == 0 || warm < rule.max_seconds); ++i) warm += run_once();
  double elapsed = 0;
  while (!should_stop(m.samples_s, elapsed, rule)) {
    const double t = run_once();
    m.samples_s.push_back(t);
    elapsed += t;
  }
  summarize(m);
  return m;
}

Measurement skipped(const Case &c, std::string why) {
  Measurement m;
  m.c = c;
  m.skipped = true;
  m.skip_reason = std::move(why);
  return m;
}

std::vector<Measurement> run_plan(
    Backend &b, const Plan &plan, const StopRule &rule,
    const std::function<void(std::size_t, std::size_t, const Measurement &)> &progress) {
  std::vector<Measurement> out;
  out.reserve(plan.cases.size());
  for (std::size_t i = 0; i < plan.cases.size(); ++i) {
    // One case's failure (a cuBLASLt error, a kernel fault) is recorded and the run goes on, so
    // what did run is kept; after a sticky CUDA error the remaining cases fail at once.
    try {
      out.push_back(b.run(plan.cases[i], rule));
    } catch (const std::exception &e) {
      out.push_back(skipped(plan.cases[i], std::string("failed: ") + e.what()));
      out.back().failed = true;
    }
    if (progress) progress(i, plan.cases.size(), out.back());
  }
  return out;
}

} // namespace rooftop::cal
