// Pipeline-parallel timing: fill (GPipe) and steady-state cycle over uneven micro-batches.
#include "sim/pipeline.hpp"

#include "core/errors.hpp"

namespace rooftop::sim {
namespace {

/// Stage times of micro-batch i (the larger ones come first).
const std::vector<Seconds> &times_of(const wl::MicroBatches &mb, const PipelineStages &t,
                                     long long i) {
  const auto &v = i < mb.larger ? t.larger : t.smaller;
  if (v.size() != t.smaller.size()) throw InternalError("pipeline: stage times missing");
  return v;
}

} // namespace

Seconds pipeline_fill_time(const wl::MicroBatches &mb, const PipelineStages &t) {
  std::vector<Seconds> done(t.smaller.size()); // C(i - 1, s): stage s finished micro-batch i - 1
  for (long long i = 0; i < mb.count; ++i) {
    const auto &ti = times_of(mb, t, i);
    Seconds handed; // C(i, s - 1): the stage before handed micro-batch i over
    for (std::size_t s = 0; s < done.size(); ++s) {
      done[s] = max(done[s], handed) + ti[s];
      handed = done[s];
    }
  }
  return done.empty() ? Seconds(0) : done.back();
}

Seconds pipeline_cycle_time(const wl::MicroBatches &mb, const PipelineStages &t) {
  std::vector<Seconds> busy(t.smaller.size()); // sum_i t_s(b_i)
  Seconds cycle;
  for (long long i = 0; i < mb.count; ++i) {
    const auto &ti = times_of(mb, t, i);
    Seconds trip; // sum_s t_s(b_i)
    for (std::size_t s = 0; s < busy.size(); ++s) {
      trip += ti[s];
      busy[s] += ti[s];
    }
    cycle = max(cycle, trip);
  }
  for (const Seconds b : busy) cycle = max(cycle, b);
  return cycle;
}

} // namespace rooftop::sim
