// Capacity planner: the replicas it finds meet the objective and one fewer does not; candidates
// that cannot run keep their reason; cost ranking.
#include "core/errors.hpp"
#include "hwmodels/efficiency.hpp"
#include "hwmodels/gpu_spec.hpp"
#include "hwmodels/system.hpp"
#include "sim/planner.hpp"
#include "workloads/model_catalogue.hpp"
#include "workloads/requests.hpp"

#include <doctest/doctest.h>

#include <iomanip>
#include <sstream>

using namespace rooftop;

namespace {
const std::string good = ROOFTOP_TEST_DATA_DIR "/good/";
const hw::GpuSpec &gpu(const char *id) { return hw::GpuCatalogue::builtin().get(id); }

sim::PlanTarget target(double rate) {
  sim::PlanTarget t;
  t.rate_per_s = rate;
  t.requests = 300;
  t.input_tokens = 1024;
  t.output_tokens = 64;
  t.ttft = Seconds(0.5);
  t.max_gpus = 64;
  return t;
}

/// The objective's TTFT percentile of the first replica when `serve` runs dp replicas of `tp` x
/// `pp` GPUs and deals them one Poisson stream at `rate` in turn (t.requests for each replica),
/// simulated directly.
double p90_ttft(const wl::ModelSpec &m, const hw::GpuSpec &g, long long tp, double rate,
                long long dp, const sim::PlanTarget &t, long long ep = 1, long long pp = 1) {
  wl::Deployment d;
  d.tp = tp;
  d.ep = ep;
  d.pp = pp;
  d.dp = dp;
  d.input_len = t.input_tokens;
  d.output_len = t.output_tokens;
  sim::resolve_dtypes(m, g, d, false, false);
  wl::RequestPattern p;
  p.count = t.requests * dp;
  p.rate_per_s = rate;
  p.input_tokens = t.input_tokens;
  p.output_tokens = t.output_tokens;
  const auto r = sim::simulate_serving(g, m, d, hw::builtin_efficiency(g),
                                       hw::cluster_for_gpu(g, tp * pp * dp, tp), {},
                                       wl::generate_requests(p));
  std::vector<double> first;
  for (const auto &q : r.requests)
    if (q.replica == 0) first.push_back(q.ttft().value());
  REQUIRE(static_cast<long long>(first.size()) == t.requests);
  return sim::latency_stats(first).p90.value();
}
} // namespace

TEST_CASE("plan: the replicas found meet the objective and one fewer does not") {
  const auto m = wl::load_hf_config(good + "dense-30b.config.json");
  const auto &h100 = gpu("h100-sxm");
  const auto t = target(70);
  const auto rows = sim::plan_capacity(m, {}, false, false, {{&h100, 2, 0}}, t, {});
  REQUIRE(rows.size() == 1);
  const auto &r = rows[0];
  REQUIRE(r.feasible);
  CHECK(r.dp > 2); // 70 requests/s of 1024-token prompts is more than two TP-2 replicas prefill
  CHECK(r.gpus == 2 * r.dp);
  CHECK(p90_ttft(m, h100, 2, 70, r.dp, t) <= 0.5);
  CHECK(p90_ttft(m, h100, 2, 70, r.dp - 1, t) > 0.5);
  CHECK(r.ttft.value() == doctest::Approx(p90_ttft(m, h100, 2, 70, r.dp, t)).epsilon(1e-12));
}

TEST_CASE("plan: candidates that cannot run keep their reason, and prices rank the rest") {
  const auto m = wl::load_hf_config(good + "dense-30b.config.json"); // 48 heads, 8 K/V heads
  const auto &h100 = gpu("h100-sxm");
  const auto &h200 = gpu("h200-sxm");
  const auto rows = sim::plan_capacity(
      m, {}, false, false, {{&h100, 3, 2.0}, {&gpu("l40s"), 1, 1.0}, {&h100, 1, 2.0}, {&h200, 1, 3.0}},
      target(2), {});
  REQUIRE(rows.size() == 4);
  // 60 GB of BF16 weights on one 48 GB L40S; TP 3 does not divide the 8 K/V heads.
  CHECK_FALSE(rows[2].feasible);
  CHECK_FALSE(rows[3].feasible);
  bool l40s_reason = false, tp3_reason = false;
  for (const auto &r : rows) {
    if (r.gpu == "l40s") l40s_reason = r.reason.find("does not fit") != std::string::npos;
    if (r.tp == 3) tp3_reason = !r.reason.empty();
  }
  CHECK(l40s_reason);
  CHECK(tp3_reason);
  // Both feasible at one GPU here: the cheaper comes first, and USD per million output tokens is
  // USD/h / 3600 s/h / (tokens/s) x 1e6.
  REQUIRE(rows[0].feasible);
  REQUIRE(rows[1].feasible);
  CHECK(rows[0].gpu == "h100-sxm");
  CHECK(rows[0].usd_per_hour == doctest::Approx(2.0 * static_cast<double>(rows[0].gpus)));
  CHECK(rows[0].usd_per_hour <= rows[1].usd_per_hour);
  CHECK(rows[0].usd_per_million_output_tokens ==
        doctest::Approx(rows[0].usd_per_hour / 3600 / rows[0].output_tokens_per_s * 1e6));
  // A feasible deployment serves the whole load: 2 requests/s x 64 tokens = 128 tokens/s, not a
  // finite run's tokens / makespan (which counts the ramp and the drain, a few % less).
  CHECK(rows[0].output_tokens_per_s == doctest::Approx(128.0).epsilon(1e-12));
  // $2/h / 3600 s/h / 128 tokens/s x 1e6 = 4.340277...
  CHECK(rows[0].usd_per_million_output_tokens == doctest::Approx(2.0 / 3600 / 128 * 1e6));
}

TEST_CASE("plan: a bad load or objective is an input error") {
  const auto m = wl::load_hf_config(good + "dense-30b.config.json");
  const std::vector<sim::PlanCandidate> c{{&gpu("h100-sxm"), 1, 0}};
  auto t = target(0);
  CHECK_THROWS_AS(sim::plan_capacity(m, {}, false, false, c, t, {}), InputError);
  t = target(1);
  t.quantile = 0.95;
  CHECK_THROWS_AS(sim::plan_capacity(m, {}, false, false, c, t, {}), InputError);
  t = target(1);
  t.ttft = Seconds(0);
  CHECK_THROWS_AS(sim::plan_capacity(m, {}, false, false, c, t, {}), InputError);
  t = target(1);
  t.input_tokens = 9000; // dense-30b has 8192 positions
  CHECK_THROWS_AS(sim::plan_capacity(m, {}, false, false, c, t, {}), InputError);
  CHECK_THROWS_AS(sim::plan_capacity(m, {}, false, false, {}, target(1), {}), InputError);
}

TEST_CASE("plan: a bad load is an input error, not a reason on every row") {
  // The load is the same for every candidate: rejecting it per row would print a table of
  // identical reasons and exit 0.
  const auto m = wl::load_hf_config(good + "dense-30b.config.json");
  const std::vector<sim::PlanCandidate> c{{&gpu("h100-sxm"), 1, 0}};
  auto t = target(1);
  t.input_tokens = 0;
  CHECK_THROWS_AS(sim::plan_capacity(m, {}, false, false, c, t, {}), InputError);
  t = target(1);
  t.output_tokens = -5;
  CHECK_THROWS_AS(sim::plan_capacity(m, {}, false, false, c, t, {}), InputError);
  t = target(1);
  t.requests = 0;
  CHECK_THROWS_AS(sim::plan_capacity(m, {}, false, false, c, t, {}), InputError);
  t = target(1);
  t.requests = 10'000'001;
  CHECK_THROWS_AS(sim::plan_capacity(m, {}, false, false, c, t, {}), InputError);
  // A rate so low that the arrivals overrun the simulator's clock (1e8 s) even on one replica.
  t = target(1e-300);
  CHECK_THROWS_AS(sim::plan_capacity(m, {}, false, false, c, t, {}), InputError);
}

TEST_CASE("plan: one-token requests have no TPOT, and a TPOT objective does not bind them") {
  // As in `serve`: TPOT = (last - first token) / (output - 1) is undefined for one output token.
  const auto m = wl::load_hf_config(good + "dense-30b.config.json");
  auto t = target(1);
  t.output_tokens = 1;
  t.tpot = Seconds(1e-9); // no request can break it: none has a TPOT
  const auto rows = sim::plan_capacity(m, {}, false, false, {{&gpu("h100-sxm"), 1, 0}}, t, {});
  REQUIRE(rows.size() == 1);
  REQUIRE(rows[0].feasible);
  CHECK_FALSE(rows[0].tpot.has_value());
  t.output_tokens = 2; // now every request has a TPOT, and 1 ns is out of reach
  const auto two = sim::plan_capacity(m, {}, false, false, {{&gpu("h100-sxm"), 1, 0}}, t, {});
  CHECK_FALSE(two[0].feasible);
}

TEST_CASE("plan: an objective missed by one request served alone is named so, whatever --max-gpus") {
  // No replica count brings TTFT below one request's own prefill; the search used to climb to
  // replicas whose Poisson arrivals overran the simulator's clock and report that instead.
  const auto m = wl::load_hf_config(good + "dense-30b.config.json");
  auto t = target(0.01);
  t.ttft = Seconds(1e-3);
  t.max_gpus = 1 << 20;
  const auto rows = sim::plan_capacity(m, {}, false, false, {{&gpu("h100-sxm"), 1, 0}}, t, {});
  REQUIRE(rows.size() == 1);
  CHECK_FALSE(rows[0].feasible);
  CHECK(rows[0].reason.find("one request served alone") != std::string::npos);
  // The figure it names is that request's own TTFT, as serve gives it.
  wl::Deployment d;
  d.input_len = t.input_tokens;
  d.output_len = t.output_tokens;
  const auto &h100 = gpu("h100-sxm");
  sim::resolve_dtypes(m, h100, d, false, false);
  wl::Request q;
  q.input_tokens = t.input_tokens;
  q.output_tokens = t.output_tokens;
  const auto alone = sim::simulate_serving(h100, m, d, hw::builtin_efficiency(h100),
                                           hw::cluster_for_gpu(h100, 1, 1), {}, {q});
  std::ostringstream want;
  want << std::setprecision(4) << "TTFT " << alone.ttft.p90.value() << " s";
  CHECK(rows[0].reason.find(want.str()) != std::string::npos);
  CHECK(alone.ttft.p90.value() > 1e-3);
}

TEST_CASE("plan: expert parallelism over the TP group is a candidate of its own") {
  const auto m = wl::load_hf_config(good + "tiny-moe.config.json"); // 8 experts
  const auto &h100 = gpu("h100-sxm");
  auto t = target(50);
  t.input_tokens = 256;
  t.ttft = Seconds(0.01);
  const auto rows = sim::plan_capacity(m, {}, false, false,
                                       {{&h100, 2, 0, 1}, {&h100, 2, 0, 2}, {&h100, 2, 0, 3}}, t, {});
  REQUIRE(rows.size() == 3);
  const sim::PlanRow *split = nullptr, *whole = nullptr, *bad = nullptr;
  for (const auto &r : rows) (r.ep == 1 ? split : r.ep == 2 ? whole : bad) = &r;
  REQUIRE(split != nullptr);
  REQUIRE(whole != nullptr);
  REQUIRE(bad != nullptr);
  CHECK(split->feasible);
  CHECK(whole->feasible);
  CHECK_FALSE(bad->feasible); // --ep 3 is neither 1 nor tp
  CHECK(bad->reason.find("--ep") != std::string::npos);
  // Each row is the simulation of its own mapping.
  CHECK(whole->ttft.value() ==
        doctest::Approx(p90_ttft(m, h100, 2, 50, whole->dp, t, 2)).epsilon(1e-12));
  CHECK(split->ttft.value() ==
        doctest::Approx(p90_ttft(m, h100, 2, 50, split->dp, t, 1)).epsilon(1e-12));
  // A dense model has no experts to spread.
  const auto dense = wl::load_hf_config(good + "dense-30b.config.json");
  const auto d = sim::plan_capacity(dense, {}, false, false, {{&h100, 2, 0, 2}}, target(1), {});
  REQUIRE(d.size() == 1);
  CHECK_FALSE(d[0].feasible);
  CHECK(d[0].reason.find("no experts") != std::string::npos);
}

TEST_CASE("plan: pipeline stages are a candidate's own, and count in its GPUs") {
  const auto m = wl::load_hf_config(good + "dense-30b.config.json");
  const auto &h100 = gpu("h100-sxm");
  const auto t = target(70);
  const auto rows = sim::plan_capacity(m, {}, false, false, {{&h100, 2, 0, 1, 2}}, t, {});
  REQUIRE(rows.size() == 1);
  const auto &r = rows[0];
  REQUIRE(r.feasible);
  CHECK(r.pp == 2);
  CHECK(r.gpus == 2 * 2 * r.dp);
  CHECK(r.ttft.value() == doctest::Approx(p90_ttft(m, h100, 2, 70, r.dp, t, 1, 2)).epsilon(1e-12));
  CHECK(p90_ttft(m, h100, 2, 70, r.dp, t, 1, 2) <= 0.5);
  if (r.dp > 1) CHECK(p90_ttft(m, h100, 2, 70, r.dp - 1, t, 1, 2) > 0.5);
}

TEST_CASE("plan: the search stops where one probe would draw too many arrivals, and says so") {
  // Each probe at dp draws requests x dp arrivals (the replica gets every dp-th); past
  // max_draws the search would take minutes (10^7 requests x 10^4 replicas).
  const auto m = wl::load_hf_config(good + "dense-30b.config.json");
  auto t = target(70); // needs more than 2 TP-2 replicas (the first test)
  t.max_draws = 2.0 * static_cast<double>(t.requests); // at most 2 replicas
  const auto rows = sim::plan_capacity(m, {}, false, false, {{&gpu("h100-sxm"), 2, 0}}, t, {});
  REQUIRE(rows.size() == 1);
  CHECK_FALSE(rows[0].feasible);
  CHECK(rows[0].reason.find("even with 2 replicas") != std::string::npos);
  CHECK(rows[0].reason.find("--requests x replicas <= 600") != std::string::npos);
}
