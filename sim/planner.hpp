// Capacity planner: for each GPU and tensor-parallel degree, the fewest data-parallel replicas
// whose simulated serving meets a latency objective at a request rate, and what they cost.
#pragma once

#include "core/units.hpp"
#include "hwmodels/gpu_spec.hpp"
#include "sim/serving.hpp"
#include "workloads/deployment.hpp"
#include "workloads/model_spec.hpp"

#include <optional>
#include <string>
#include <vector>

namespace rooftop::sim {

/// The most arrivals one probe of the search draws (requests x replicas): the replica simulated
/// gets every dp-th of the stream, so each probe draws requests x dp exponential gaps (~14 ns
/// each; 1e7 is about 0.14 s, and a search makes up to ~40 probes).
inline constexpr double k_max_plan_draws = 1e7;

/// The load to serve and the objective to meet.
struct PlanTarget {
  double rate_per_s = 1;           ///< Poisson arrivals of the whole load, requests/s
  long long requests = 2000;       ///< requests simulated per replica
  long long input_tokens = 1024;
  long long output_tokens = 256;
  std::uint64_t seed = 1;
  double quantile = 0.90;          ///< 0.5, 0.9 or 0.99: the percentile held to the objective
  Seconds ttft;                    ///< objective on that percentile of TTFT (> 0)
  std::optional<Seconds> tpot;     ///< and of TPOT, if given
  long long max_gpus = 1024;       ///< largest deployment considered
  double max_draws = k_max_plan_draws; ///< bound on requests x replicas of one probe
  std::string engine = "vllm";     ///< whose built-in efficiency tables (hw::known_engines())
};

/// One (GPU, TP, EP, PP) candidate and the result of its search.
struct PlanRow {
  std::string gpu;
  bool preliminary = false;    ///< the GPU's figures are NVIDIA's preliminary ones
  long long tp = 1;
  long long ep = 1;            ///< expert parallelism: 1 (experts split by TP) or tp (whole)
  long long pp = 1;            ///< pipeline stages of each replica
  long long dp = 0;            ///< fewest replicas meeting the objective (0: none found)
  long long gpus = 0;          ///< tp x pp x dp
  bool feasible = false;
  std::string reason;          ///< why not feasible
  Seconds ttft;                ///< the objective's percentile of TTFT at dp replicas
  std::optional<Seconds> tpot; ///< and of TPOT; none when every request has one output token
  double output_tokens_per_s = 0; ///< all replicas: the load served, rate x output tokens
  double usd_per_hour = 0;     ///< gpus x price (0 when no price was given)
  double usd_per_million_output_tokens = 0;
};

/// The deployment one candidate runs: the GPU, its TP degree, its data types resolved
/// (sim::resolve_dtypes) and its efficiency table (the GPU's default).
struct PlanCandidate {
  const hw::GpuSpec *gpu = nullptr;
  long long tp = 1;
  double usd_per_gpu_hour = 0; ///< 0 = no price
  long long ep = 1;            ///< 1, or tp: each GPU of the TP group holds E/tp whole experts
  long long pp = 1;            ///< pipeline stages (serve's model of them)
};

/// Searches every candidate: the load is dealt to dp replicas in turn (the one simulated gets
/// every dp-th arrival of one Poisson stream at the whole rate, as `serve --dp` deals them), and
/// dp grows (doubling, then bisection) to the smallest count whose
/// replica meets the objective; a candidate whose model does not fit or whose mapping is
/// invalid is kept with its reason, and so is one that misses the objective for a request
/// served alone (no replica count can help it). `base` gives the data types the user chose (unset ones are
/// resolved per GPU). Rows come back sorted: feasible first, by cost when every feasible row has
/// a price, else by GPUs, then by TTFT.
std::vector<PlanRow> plan_capacity(const wl::ModelSpec &m, const wl::Deployment &base,
                                   bool act_given, bool kv_given,
                                   const std::vector<PlanCandidate> &candidates,
                                   const PlanTarget &target, const SchedulerConfig &cfg);

} // namespace rooftop::sim
