// Capacity planner: a search over replicas per (GPU, TP), each step a serving simulation.
#include "sim/planner.hpp"

#include "core/errors.hpp"
#include "hwmodels/efficiency.hpp"
#include "hwmodels/system.hpp"
#include "sim/estimate.hpp"
#include "workloads/requests.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

namespace rooftop::sim {
namespace {

Seconds at_quantile(const LatencyStats &s, double q) {
  return q == 0.5 ? s.p50 : q == 0.9 ? s.p90 : s.p99;
}

/// The load as one replica gets it (stride 1: the whole load on one replica).
wl::RequestPattern pattern(const PlanTarget &t) {
  wl::RequestPattern p;
  p.count = t.requests;
  p.rate_per_s = t.rate_per_s;
  p.input_tokens = t.input_tokens;
  p.output_tokens = t.output_tokens;
  p.seed = t.seed;
  return p;
}

void check_target(const wl::ModelSpec &m, const PlanTarget &t) {
  if (!(std::isfinite(t.rate_per_s) && t.rate_per_s > 0 && t.rate_per_s <= 1e6))
    throw InputError("--rate must be in (0, 1e6] requests/s");
  if (t.quantile != 0.5 && t.quantile != 0.9 && t.quantile != 0.99)
    throw InputError("--percentile must be 50, 90 or 99");
  if (!(std::isfinite(t.ttft.value()) && t.ttft.value() > 0))
    throw InputError("--slo-ttft must be a time > 0 (s)");
  if (t.tpot && !(std::isfinite(t.tpot->value()) && t.tpot->value() > 0))
    throw InputError("--slo-tpot must be a time > 0 (s)");
  // The load is the same for every candidate: checked here, not left to each row's simulation
  // (whose InputError would become that row's reason).
  if (t.input_tokens < 1 || t.output_tokens < 1)
    throw InputError("--input-len and --output-len must be >= 1 tokens");
  if (t.requests < 1 || t.requests > 10'000'000)
    throw InputError("--requests = " + std::to_string(t.requests) + ": must be in [1, 10^7]");
  // One replica takes the whole load first: arrivals that overrun the simulator's clock there
  // are the load's fault (one error), not a row's.
  (void)wl::generate_requests(pattern(t));
  if (t.max_gpus < 1 || t.max_gpus > (1LL << 20))
    throw InputError("--max-gpus must be in [1, 2^20]");
  if (m.max_position_embeddings > 0 &&
      t.input_tokens + t.output_tokens > m.max_position_embeddings)
    throw InputError("--input-len + --output-len = " +
                     std::to_string(t.input_tokens + t.output_tokens) +
                     " exceeds max_position_embeddings = " +
                     std::to_string(m.max_position_embeddings) + " of " + m.file);
}

/// "TTFT 1.2 s, TPOT 0.08 s" at the objective's percentile.
std::string objective_figures(const PlanRow &r, const PlanTarget &t) {
  std::ostringstream o;
  o << std::setprecision(4) << "TTFT " << r.ttft.value() << " s";
  if (t.tpot && r.tpot) o << ", TPOT " << r.tpot->value() << " s";
  return o.str();
}

/// One candidate's search.
class Search {
public:
  Search(const wl::ModelSpec &m, const wl::Deployment &d, const hw::GpuSpec &gpu,
         const PlanTarget &t, const SchedulerConfig &cfg)
      : m_(m), d_(d), gpu_(gpu), eff_(hw::engine_efficiency(gpu, t.engine)),
        cluster_(hw::cluster_for_gpu(gpu, d.tp * d.pp, d.tp)), t_(t), cfg_(cfg) {}

  /// Whether dp replicas meet the objective; fills `row` with that run's figures. The replica
  /// simulated is the first of dp that the load's arrivals are dealt to in turn, as `serve --dp`
  /// deals them: every dp-th request of one Poisson stream at the whole rate.
  bool meets(long long dp, PlanRow &row) const {
    wl::RequestPattern p = pattern(t_);
    p.stride = dp;
    // What the deployment serves is the load itself; a finite run's tokens / makespan differs
    // from it by the Poisson sample's noise and the ramp and drain (a few % either way).
    row.output_tokens_per_s = t_.rate_per_s * static_cast<double>(t_.output_tokens);
    return judge(wl::generate_requests(p), row);
  }

  /// Whether one request served alone (no queue, no batch) meets the objective: the floor no
  /// replica count can go below.
  bool meets_alone(PlanRow &row) const {
    wl::Request q;
    q.input_tokens = t_.input_tokens;
    q.output_tokens = t_.output_tokens;
    return judge({q}, row);
  }

private:
  bool judge(const std::vector<wl::Request> &requests, PlanRow &row) const {
    const auto r = simulate_serving(gpu_, m_, d_, eff_, cluster_, cfg_, requests);
    row.ttft = at_quantile(r.ttft, t_.quantile);
    // One-token requests have no TPOT (serve's statistics count none); an objective on it
    // then binds nothing, as in serve's goodput.
    row.tpot = r.tpot.count > 0 ? std::optional(at_quantile(r.tpot, t_.quantile)) : std::nullopt;
    return row.ttft <= t_.ttft && (!t_.tpot || !row.tpot || *row.tpot <= *t_.tpot);
  }

  const wl::ModelSpec &m_;
  wl::Deployment d_;
  const hw::GpuSpec &gpu_;
  hw::Efficiency eff_;
  hw::Cluster cluster_;
  const PlanTarget &t_;
  const SchedulerConfig &cfg_;
};

/// The smallest dp in [1, max_dp] that meets the objective (doubling, then bisection), or 0.
long long smallest_dp(const Search &s, long long max_dp, PlanRow &row) {
  PlanRow probe = row;
  if (s.meets(1, probe)) {
    row = probe;
    return 1;
  }
  long long fail = 1, ok = 0;
  for (long long dp = 1; dp < max_dp;) {
    dp = std::min(dp * 2, max_dp);
    if (s.meets(dp, probe)) {
      ok = dp;
      row = probe;
      break;
    }
    fail = dp;
  }
  if (ok == 0) return 0;
  while (ok - fail > 1) {
    const long long mid = fail + (ok - fail) / 2;
    if (s.meets(mid, probe)) {
      ok = mid;
      row = probe;
    } else {
      fail = mid;
    }
  }
  return ok;
}

} // namespace

std::vector<PlanRow> plan_capacity(const wl::ModelSpec &m, const wl::Deployment &base,
                                   bool act_given, bool kv_given,
                                   const std::vector<PlanCandidate> &candidates,
                                   const PlanTarget &target, const SchedulerConfig &cfg) {
  check_target(m, target);
  check_scheduler_config(cfg);
  if (candidates.empty()) throw InputError("no candidate GPU and TP to plan for");
  std::vector<PlanRow> rows;
  for (const auto &c : candidates) {
    PlanRow row;
    row.gpu = c.gpu->id;
    row.preliminary = c.gpu->preliminary;
    row.tp = c.tp;
    row.ep = c.ep;
    row.pp = c.pp;
    const long long replica = c.tp * c.pp;
    wl::Deployment d = base;
    d.tp = c.tp;
    d.ep = c.ep;
    d.pp = c.pp;
    d.cp = d.dp = 1;
    d.batch = 1;
    d.input_len = target.input_tokens;
    d.output_len = target.output_tokens;
    try {
      resolve_dtypes(m, *c.gpu, d, act_given, kv_given);
      if (replica > target.max_gpus)
        throw InputError("TP x PP = " + std::to_string(replica) + " > --max-gpus");
      const Search s(m, d, *c.gpu, target, cfg);
      PlanRow alone = row;
      if (!s.meets_alone(alone)) {
        row.reason = "misses the objective even for one request served alone: " +
                     objective_figures(alone, target);
      } else {
        // Replicas whose arrivals spread past the simulator's clock (max_arrival_s) cannot be
        // simulated; half of it leaves room for the Poisson sample's spread. And a probe at dp
        // draws requests x dp arrivals: past k_max_plan_draws the search would take minutes.
        const auto requests = static_cast<double>(target.requests);
        const long long by_gpus = target.max_gpus / replica;
        const double by_clock = std::floor(target.rate_per_s * wl::max_arrival_s / 2 / requests);
        const double by_draws = std::floor(target.max_draws / requests);
        const long long max_dp = std::max(
            1LL, static_cast<long long>(
                     std::min({static_cast<double>(by_gpus), by_clock, by_draws})));
        row.dp = smallest_dp(s, max_dp, row);
        row.feasible = row.dp > 0;
        std::string bound;
        if (max_dp == by_gpus) bound = "--max-gpus " + std::to_string(target.max_gpus);
        else if (static_cast<double>(max_dp) == by_clock)
          bound = "the most whose arrivals the simulator can time";
        else
          bound = "the most whose arrivals one probe draws: --requests x replicas <= " +
                  std::to_string(std::llround(target.max_draws));
        if (!row.feasible)
          row.reason = "misses the objective even with " + std::to_string(max_dp) + " replicas (" +
                       bound + ")";
      }
    } catch (const InputError &e) {
      row.reason = e.what(); // does not fit, or a mapping the model cannot take
    } catch (const NotSupported &e) {
      row.reason = e.what(); // e.g. a data type the GPU has no tensor-core path for
    }
    row.gpus = replica * row.dp;
    if (row.feasible && c.usd_per_gpu_hour > 0) {
      row.usd_per_hour = c.usd_per_gpu_hour * static_cast<double>(row.gpus);
      row.usd_per_million_output_tokens = row.usd_per_hour / 3600.0 / row.output_tokens_per_s * 1e6;
    }
    rows.push_back(row);
  }
  const bool priced = std::all_of(rows.begin(), rows.end(), [](const PlanRow &r) {
    return !r.feasible || r.usd_per_hour > 0;
  });
  std::stable_sort(rows.begin(), rows.end(), [&](const PlanRow &a, const PlanRow &b) {
    if (a.feasible != b.feasible) return a.feasible;
    if (!a.feasible) return false;
    if (priced && a.usd_per_hour != b.usd_per_hour) return a.usd_per_hour < b.usd_per_hour;
    if (a.gpus != b.gpus) return a.gpus < b.gpus;
    return a.ttft < b.ttft;
  });
  return rows;
}

} // namespace rooftop::sim
