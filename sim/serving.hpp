// Serving simulator: continuous batching with chunked prefill over a paged KV cache, one step at
// a time, each step costed by the roofline (sim/step_cost.hpp).
#pragma once

#include "core/units.hpp"
#include "hwmodels/efficiency.hpp"
#include "hwmodels/gpu_spec.hpp"
#include "hwmodels/system.hpp"
#include "sim/estimate.hpp"
#include "workloads/deployment.hpp"
#include "workloads/model_spec.hpp"
#include "workloads/requests.hpp"

#include <string>
#include <vector>

namespace rooftop::sim {

/// When a request gets KV-cache blocks.
enum class Admission {
  /// Blocks for the tokens computed so far; a step that needs a block when none is free
  /// preempts the most recently admitted request, which frees its blocks and later recomputes
  /// its prompt and generated tokens (vLLM's scheduler, preemption by recompute).
  on_demand,
  /// A request is admitted only when blocks for its whole prompt and output are free, and is
  /// never preempted (TensorRT-LLM's GUARANTEED_NO_EVICT capacity scheduler).
  reserve
};
std::string to_string(Admission a);
/// "on-demand" or "reserve"; throws InputError listing them.
Admission admission_from_string(const std::string &s);

/// The engine's scheduler settings.
struct SchedulerConfig {
  long long max_num_seqs = 256;            ///< requests running at once (vLLM max_num_seqs)
  long long max_num_batched_tokens = 8192; ///< tokens per step, decodes + prefill chunks
  long long block_size = 16;               ///< tokens per KV-cache block (vLLM's default)
  Admission admission = Admission::on_demand;
  Seconds step_overhead{0};                ///< host time added to every step (scheduler,
                                           ///< sampling); 0 = not modelled
  double reserve_fraction = 0.10;          ///< of GPU memory kept for the runtime
  Bytes kv_pool{0};                        ///< KV-cache pool per GPU; 0 = what memory leaves
                                           ///< (vLLM's kv_cache_memory_bytes when set)
};

/// Throws InputError naming the option for a setting out of range (max_num_seqs < 1, ...).
void check_scheduler_config(const SchedulerConfig &c);

/// What happened to one request. Times in seconds from the start.
struct RequestOutcome {
  wl::Request request;
  long long replica = 0;   ///< data-parallel replica that served it
  Seconds first_token;     ///< when its first token was sampled
  Seconds finish;          ///< when its last token was sampled
  long long preemptions = 0;
  [[nodiscard]] Seconds ttft() const { return first_token - Seconds(request.arrival_s); }
  [[nodiscard]] Seconds e2e() const { return finish - Seconds(request.arrival_s); }
  /// (finish - first token) / (output - 1); 0 for a one-token request, which has none (it is
  /// left out of the TPOT statistics and the CSV).
  [[nodiscard]] Seconds tpot() const;
};

/// Mean and percentiles of a latency over the requests, seconds.
struct LatencyStats {
  Seconds mean, p50, p90, p99, max;
  std::size_t count = 0; ///< requests measured; 0: none (every figure is then meaningless)
};
/// Linear interpolation between order statistics (numpy's default "linear" method):
/// q-th percentile of sorted x at rank q/100 x (n - 1).
LatencyStats latency_stats(std::vector<double> x);

/// The whole run.
struct ServingResult {
  std::vector<RequestOutcome> requests; ///< in the order given
  Seconds makespan;                     ///< first arrival to last token
  long long steps = 0;                  ///< steps of all replicas
  long long preemptions = 0;
  double output_tokens_per_s = 0;       ///< all output tokens / makespan
  double output_tokens_per_s_per_gpu = 0;
  double input_tokens_per_s = 0;
  double requests_per_s = 0;
  double mean_decode_batch = 0;         ///< decoding requests per step, mean over steps
  long long max_running = 0;            ///< most requests running at once in one scheduler
                                        ///< (a replica has pp of them, one per micro-batch)
  Bytes kv_pool;                        ///< KV-cache pool per GPU (the room left after weights,
                                        ///< activations of one step and the reserve)
  double peak_kv_fraction = 0;          ///< most of one scheduler's share (1/pp) in use at once
  MemoryBreakdown memory;               ///< weights, step activations and reserve per GPU (of
                                        ///< stage kv_stage with pp > 1)
  long long kv_stage = 0;               ///< the pipeline stage whose room sets the KV pool
  LatencyStats ttft, tpot, e2e;
  std::string system;
  long long nodes = 1;
  bool measured_allreduce = false; ///< the table's measured all-reduce applies on this cluster
};

/// Simulates `requests` on the deployment: requests go to the dp replicas in turn, by arrival,
/// and each replica runs continuous batching (SchedulerConfig). With pp > 1 a replica runs pp
/// schedulers, one per micro-batch in flight, each with 1/pp of the KV pool and requests dealt
/// to them in turn; a step of each takes the pipeline's cycle (StepCost). Throws InputError when the model
/// does not fit beside one step's activations, or when a request could never fit in the KV pool
/// or exceeds the model's positions; `origin`, a trace file, is named in those errors with the
/// request's JSON pointer (requests are indexed as given, in any order of arrival).
ServingResult simulate_serving(const hw::GpuSpec &gpu, const wl::ModelSpec &m,
                               const wl::Deployment &d, const hw::Efficiency &eff,
                               const hw::Cluster &cluster, const SchedulerConfig &cfg,
                               const std::vector<wl::Request> &requests,
                               const std::string &origin = {});

} // namespace rooftop::sim
