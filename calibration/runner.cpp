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

namespace {

bool starts_with(const std::string &s, const std::string &prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

/// Does case `c` run the kernel that self-check `name` checks?
bool uses_checked_kernel(const Case &c, const std::string &name) {
  const bool layer = c.kind == CaseKind::layer;
  if (starts_with(name, "gemm_fp8_")) return c.kind == CaseKind::gemm && c.dtype == DType::fp8;
  if (starts_with(name, "gemm_"))
    return layer || (c.kind == CaseKind::gemm && c.dtype != DType::fp8);
  if (starts_with(name, "stream_"))
    return c.kind == CaseKind::stream && name == "stream_" + to_string(c.stream);
  if (starts_with(name, "attention_"))
    return layer || c.kind == CaseKind::attention_decode || c.kind == CaseKind::attention_prefill;
  if (name == "rmsnorm") return layer || (c.kind == CaseKind::launch && c.hidden > 0);
  if (name == "silu_mul") return layer;
  return true; // a kernel this list does not know: nothing is trusted
}

} // namespace

std::string failed_check_for(const Case &c, const std::vector<SelfCheck> &checks) {
  for (const auto &k : checks)
    if (!k.passed() && uses_checked_kernel(c, k.name)) return k.name;
  return "";
}

std::vector<Measurement> run_plan(
    Backend &b, const Plan &plan, const StopRule &rule,
    const std::function<void(std::size_t, std::size_t, const Measurement &)> &progress,
    const std::vector<SelfCheck> &checks) {
  std::vector<Measurement> out;
  out.reserve(plan.cases.size());
  for (std::size_t i = 0; i < plan.cases.size(); ++i) {
    if (const auto bad = failed_check_for(plan.cases[i], checks); !bad.empty()) {
      out.push_back(skipped(plan.cases[i], "not timed: its kernel failed self-check " + bad));
      out.back().failed = true;
      if (progress) progress(i, plan.cases.size(), out.back());
      continue;
    }
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
