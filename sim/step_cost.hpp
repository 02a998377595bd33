// The time of one serving step: a mixed batch of decode tokens and prefill chunks on one replica.
#pragma once

#include "core/units.hpp"
#include "hwmodels/efficiency.hpp"
#include "hwmodels/gpu_spec.hpp"
#include "hwmodels/system.hpp"
#include "sim/roofline.hpp"
#include "workloads/deployment.hpp"
#include "workloads/model_spec.hpp"

#include <vector>

namespace rooftop::sim {

/// A slice of one request's prompt computed in a step (chunked prefill).
struct PrefillChunk {
  long long past_tokens = 0; ///< tokens of the request already in the KV cache
  long long new_tokens = 1;  ///< prompt tokens computed in this step (>= 1)
  bool last = true;          ///< the chunk ends the prompt: the step samples its first token
};

/// What one step of continuous batching computes.
struct StepShape {
  long long decodes = 0;        ///< requests generating one token each
  double decode_past_sum = 0;   ///< their cached tokens, summed (tokens)
  std::vector<PrefillChunk> prefills;
  /// Tokens the step's GEMMs process: decodes + every chunk's new tokens.
  [[nodiscard]] long long tokens() const;
};

/// Costs steps of one replica (cp = 1). A step runs every linear layer, norm and collective
/// once over all its tokens (weights read once: lower_pass with T = tokens()), the final norm and
/// LM head over the sequences that sample a token, and attention twice: once for the decodes (at
/// their mean cached length, exact for costs linear in context) and once for the prefill chunks,
/// as TensorRT-LLM runs context and generation attention as separate kernels.
///
/// With pp > 1 the layers are split into pp stages (wl::split_stages), each costed on its own
/// GPUs with its hand-off to the next (pp_send over that stage's link), and pp micro-batches are
/// in flight (the serving simulator runs pp schedulers per replica, as vLLM's virtual engines
/// and TensorRT-LLM's micro-batches do). A step of one of them then takes the pipeline's
/// steady-state cycle: max(sum_s t_s, pp x max_s t_s) (pipeline_cycle_time).
class StepCost {
public:
  /// Throws InputError for cp > 1 (not modelled by the serving simulator).
  StepCost(const hw::GpuSpec &gpu, const wl::ModelSpec &m, const wl::Deployment &d,
           const hw::Efficiency &eff, const hw::Cluster &cluster);
  /// A temporary efficiency table would dangle.
  StepCost(const hw::GpuSpec &gpu, const wl::ModelSpec &m, const wl::Deployment &d,
           hw::Efficiency &&eff, const hw::Cluster &cluster) = delete;

  /// Seconds of one step (0 for an empty step).
  [[nodiscard]] Seconds time(const StepShape &s) const;
  /// Seconds of one step's pass through pipeline stage `stage` alone.
  [[nodiscard]] Seconds stage_time(const StepShape &s, std::size_t stage) const;
  /// The step's operators on pipeline stage `stage` (counted per layer, as lower_pass gives
  /// them) for inspection.
  [[nodiscard]] std::vector<wl::Op> ops(const StepShape &s, std::size_t stage = 0) const;
  [[nodiscard]] std::size_t stages() const { return machines_.size(); }
  /// Whether its TP all-reduces take the efficiency table's measured curve
  /// (sim::uses_measured_allreduce).
  [[nodiscard]] bool uses_measured_allreduce() const;

private:
  const wl::ModelSpec &m_;
  wl::Deployment d_;
  std::vector<wl::StageSlice> slices_; ///< empty for pp = 1 (every layer)
  std::vector<Machine> machines_;      ///< one per stage: its hand-off to the next
};

} // namespace rooftop::sim
