// Pipeline parallelism: the exact micro-batch split and the timing of uneven micro-batches.
#include "sim/pipeline.hpp"
#include "workloads/deployment.hpp"

#include <doctest/doctest.h>

using namespace rooftop;

namespace {
wl::Deployment pipeline(long long pp, long long batch) {
  wl::Deployment d;
  d.pp = pp;
  d.batch = batch;
  return d;
}
std::vector<Seconds> seconds(std::initializer_list<double> v) {
  std::vector<Seconds> out;
  for (double x : v) out.emplace_back(x);
  return out;
}
} // namespace

TEST_CASE("a batch splits exactly into floor and ceil micro-batches") {
  // 7 sequences over 3 stages: 3 micro-batches of 3, 2, 2 (7 = 3 + 2 + 2, not 3 x 3)
  const auto mb = wl::split_microbatches(pipeline(3, 7));
  CHECK(mb.count == 3);
  CHECK(mb.size == 2);
  CHECK(mb.larger == 1);
  CHECK(mb.largest() == 3);
  CHECK(mb.sequences(0) + mb.sequences(1) + mb.sequences(2) == 7);
  // a batch smaller than the stages: one sequence per micro-batch
  const auto few = wl::split_microbatches(pipeline(4, 2));
  CHECK(few.count == 2);
  CHECK(few.size == 1);
  CHECK(few.larger == 0);
  // without PP the batch is one micro-batch
  const auto one = wl::split_microbatches(pipeline(1, 9));
  CHECK(one.count == 1);
  CHECK(one.largest() == 9);
}

TEST_CASE("equal micro-batches: sum + (M - 1) x slowest to fill, max(sum, M x slowest) per step") {
  const wl::MicroBatches mb{2, 4, 0};
  const sim::PipelineStages t{seconds({3, 5}), {}};
  // fill: 3 + 5 + (2 - 1) x 5 = 13; step: max(3 + 5, 2 x 5) = 10
  CHECK(sim::pipeline_fill_time(mb, t).value() == doctest::Approx(13).epsilon(1e-12));
  CHECK(sim::pipeline_cycle_time(mb, t).value() == doctest::Approx(10).epsilon(1e-12));
}

TEST_CASE("uneven micro-batches are timed each by its own stage times") {
  // batch 4 over 3 stages: micro-batches of 2, 1, 1. Stage times: 2 sequences {3, 5, 4},
  // 1 sequence {2, 3, 2}.
  const wl::MicroBatches mb{3, 1, 1};
  const sim::PipelineStages t{seconds({2, 3, 2}), seconds({3, 5, 4})};
  // fill, C(i, s) = max(C(i-1, s), C(i, s-1)) + t_s(b_i):
  //  i = 0 (2 seq.): 3, 8, 12
  //  i = 1 (1 seq.): max(3, 0) + 2 = 5, max(8, 5) + 3 = 11, max(12, 11) + 2 = 14
  //  i = 2 (1 seq.): 5 + 2 = 7, max(11, 7) + 3 = 14, max(14, 14) + 2 = 16
  // (timing all three as the largest: 12 + 2 x 5 = 22)
  CHECK(sim::pipeline_fill_time(mb, t).value() == doctest::Approx(16).epsilon(1e-12));
  // step: trips 12 (2 seq.) and 7 (1 seq.); stage loads 3+2+2 = 7, 5+3+3 = 11, 4+2+2 = 8
  //  -> max(12, 11) = 12 (all as the largest: max(12, 3 x 5) = 15)
  CHECK(sim::pipeline_cycle_time(mb, t).value() == doctest::Approx(12).epsilon(1e-12));
}
