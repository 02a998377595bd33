// The estimate of one deployment: memory per GPU, prefill (TTFT), decode (TPOT) and throughput.
#pragma once

#include "core/units.hpp"
#include "hwmodels/efficiency.hpp"
#include "hwmodels/gpu_spec.hpp"
#include "sim/roofline.hpp"
#include "workloads/deployment.hpp"
#include "workloads/model_spec.hpp"
#include "workloads/op_graph.hpp"

#include <string>
#include <vector>

namespace rooftop::sim {

/// Whether the deployment can run (an expected outcome, not an exception).
enum class Feasibility { ok, out_of_memory };
std::string to_string(Feasibility f);

struct EstimateOptions {
  double reserve_fraction = 0.10; ///< of capacity kept for the runtime (vLLM's default
                                  ///< gpu_memory_utilization = 0.9 leaves 10%)
  int decode_samples = 16;        ///< context points at which decode is evaluated (>= 2)
  long long max_prefill_tokens = 0; ///< chunked prefill: tokens per pass for activation memory
                                    ///< (0 = the whole batch in one pass, as TTFT assumes)
};

/// Memory on one GPU, bytes.
struct MemoryBreakdown {
  Bytes weights;     ///< stored weights on this GPU
  Bytes kv_cache;    ///< batch x (input + output) tokens (sliding layers capped at their window)
  Bytes activations; ///< peak transient activations of a prefill pass (one chunk when chunked)
  Bytes reserved;    ///< runtime reserve (reserve_fraction x capacity)
  Bytes capacity;    ///< GPU memory (datasheet)
  [[nodiscard]] Bytes total() const { return weights + kv_cache + activations + reserved; }
  [[nodiscard]] bool fits() const { return total() <= capacity; }
  long long max_batch = 0; ///< largest batch that fits for these lengths (0: not even 1)
};

/// One operator's cost in one phase (decode: averaged over the generated context).
struct OpResult {
  std::string name;
  wl::OpKind kind = wl::OpKind::norm;
  wl::Phase phase = wl::Phase::prefill;
  int group = -1;
  long long count = 1;     ///< instances per pass
  Flops flops;             ///< all instances
  Bytes bytes;             ///< all instances (HBM traffic)
  Bytes comm_bytes;        ///< all instances (collective message per GPU)
  Seconds compute_time;    ///< all instances
  Seconds memory_time;     ///< all instances
  Seconds time;            ///< all instances
  Bound bound = Bound::memory;
  [[nodiscard]] double arithmetic_intensity() const;
};

/// Totals of one phase on one GPU.
struct PhaseResult {
  Seconds time;         ///< prefill: the pass; decode: the mean step
  Flops flops;
  Bytes bytes;
  Seconds compute_bound_time;      ///< time of the compute-bound operators
  Seconds memory_bound_time;       ///< time of the memory-bound operators
  Seconds communication_time;      ///< time of collectives
  Bound bound = Bound::memory;     ///< the largest of the three
  double compute_utilization = 0;  ///< flops / (time x dense matmul peak of the GEMM dtype)
  double bandwidth_utilization = 0; ///< bytes / (time x HBM bandwidth)
  [[nodiscard]] double arithmetic_intensity() const;
};

struct Estimate {
  Feasibility feasibility = Feasibility::ok;
  std::string reason;          ///< why not ok
  MemoryBreakdown memory;
  PhaseResult prefill;
  PhaseResult decode;
  Seconds ttft;                ///< time to first token = prefill time
  Seconds tpot;                ///< mean decode step over the generated context
  Seconds e2e_latency;         ///< ttft + (output_len - 1) x tpot
  long long decode_steps = 0;  ///< output_len - 1
  double output_tokens_per_s = 0;         ///< all replicas: dp x batch x output_len / e2e
  double output_tokens_per_s_per_gpu = 0; ///< / gpus
  double output_tokens_per_s_per_user = 0; ///< 1 / tpot
  double decode_tokens_per_s = 0;         ///< all replicas while decoding: dp x batch / tpot
  double ridge_point_flops_per_byte = 0;  ///< of the GEMM dtype, with efficiencies
  std::vector<OpResult> ops;   ///< prefill ops then decode ops
};

/// Resolves the data types a deployment uses when the user gives none: weights and experts as
/// the model stores them; GEMM inputs in FP8/FP4/INT8 where the weights are and the GPU has that
/// tensor-core rate (W8A8 / W4A4), else the model dtype (weight-only quantization); KV cache in
/// the model dtype.
void resolve_dtypes(const wl::ModelSpec &m, const hw::GpuSpec &gpu, wl::Deployment &d,
                    bool act_given, bool kv_given);

/// Memory on one GPU, including the largest batch that fits.
MemoryBreakdown estimate_memory(const hw::GpuSpec &gpu, const wl::ModelSpec &m,
                                const wl::Deployment &d, const EstimateOptions &o);

/// The whole estimate: sim::estimate(hardware, workload, mapping).
Estimate estimate(const hw::GpuSpec &gpu, const wl::ModelSpec &m, const wl::Deployment &d,
                  const hw::Efficiency &eff, const EstimateOptions &o = {});

} // namespace rooftop::sim
