// The estimate of one deployment: memory per GPU, prefill (TTFT), decode (TPOT) and throughput.
#pragma once

#include "core/units.hpp"
#include "hwmodels/efficiency.hpp"
#include "hwmodels/gpu_spec.hpp"
#include "hwmodels/system.hpp"
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
                                  ///< gpu_memory_utilization = 0.9 leaves 10% of the total
                                  ///< the device reports)
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
  Bytes capacity;    ///< GPU memory: the reported total where known, else the datasheet's
  /// Which figure `capacity` is (the reported total or the datasheet's).
  hw::CapacitySource capacity_source = hw::CapacitySource::datasheet;
  [[nodiscard]] Bytes total() const { return weights + kv_cache + activations + reserved; }
  [[nodiscard]] bool fits() const { return total() <= capacity; }
  long long max_batch = 0; ///< largest batch that fits for these lengths (0: not even 1)
  double kv_replication = 1; ///< GPUs holding each K/V head (TP > K/V heads, or MLA's latent)
};

/// One operator's cost in one phase (decode: averaged over the generated context).
struct OpResult {
  std::string name;
  wl::OpKind kind = wl::OpKind::norm;
  wl::Phase phase = wl::Phase::prefill;
  int group = -1;
  int stage = 0;           ///< pipeline stage
  long long count = 1;     ///< instances per pass
  Flops flops;             ///< all instances
  Bytes bytes;             ///< all instances (HBM traffic)
  Bytes comm_bytes;        ///< all instances (collective message per GPU)
  Seconds compute_time;    ///< all instances
  Seconds memory_time;     ///< all instances
  Seconds time;            ///< all instances
  Bound bound = Bound::memory;
  // Collectives only:
  std::string collective;      ///< all-reduce, all-gather, all-to-all, send-recv
  std::string comm_group;      ///< tp, cp, ep, pp
  std::string algorithm;       ///< ring, tree, nvls, direct, p2p, hierarchical
  std::string protocol;        ///< NCCL protocol: LL, LL128, Simple, "inside/across"; "" none
  long long ranks = 1;         ///< GPUs in the group
  long long ranks_per_domain = 1; ///< of them in one scale-up domain
  [[nodiscard]] double arithmetic_intensity() const;
};

/// Totals of one phase on one GPU.
struct PhaseResult {
  Seconds time;         ///< prefill: TTFT of the batch; decode: the mean step (TPOT)
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
  std::string system;          ///< system id the GPUs sit in
  bool measured_allreduce = false; ///< the table's measured all-reduce applies on this cluster
  long long nodes = 1;         ///< systems used
  wl::MicroBatches microbatches; ///< pipeline micro-batches (pp > 1) and their sizes
  double bubble_fraction = 0;  ///< prefill pipeline bubble: (pp - 1) / (microbatches + pp - 1)
  Placement tp, cp, ep, pp;    ///< where each group sits (ranks, ranks per scale-up domain)
  std::vector<OpResult> ops;   ///< prefill ops then decode ops, stage by stage
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

/// Memory on one GPU of one pipeline stage (the stage's weights, KV cache and activations).
MemoryBreakdown estimate_stage_memory(const hw::GpuSpec &gpu, const wl::ModelSpec &m,
                                      const wl::Deployment &d, const EstimateOptions &o,
                                      const wl::StageSlice &stage);

/// The send/recv pairs between pipeline stage `s` and `s + 1` of the first replica.
Placement pipeline_hop(const hw::Cluster &c, const wl::Deployment &d, long long s);

/// The efficiency table's measured all-reduce when it applies on `c`: its curves exist, are not
/// turned off (--allreduce nccl), and the cluster's scale-up domain is an NVSwitch (with a
/// switch, not a standalone server's bridge) of the link they were measured on; else nullptr
/// (NCCL's model for every collective).
const hw::AllReduceCurves *applicable_allreduce(const hw::Efficiency &eff, const hw::Cluster &c);

/// Whether machine `m` costs its TP all-reduces with the measured curve: it has one, and the TP
/// group is a measured group size inside one scale-up domain (cost_op's rule).
bool uses_measured_allreduce(const Machine &m);

/// The machine of a mapping on a cluster: fabric levels and group placements. Ranks are laid out
/// TP innermost, then CP, then PP, then DP (the most bandwidth-hungry group nearest); an EP group
/// is contiguous (the TP group, or TP x DP replicas). Throws InputError when the mapping needs
/// more GPUs than the cluster has. The machine refers to `gpu` and `eff`, which must outlive it.
Machine make_machine(const hw::GpuSpec &gpu, const hw::Efficiency &eff, const hw::Cluster &c,
                     const wl::Deployment &d);
/// A temporary efficiency table would dangle.
Machine make_machine(const hw::GpuSpec &gpu, hw::Efficiency &&eff, const hw::Cluster &c,
                     const wl::Deployment &d) = delete;

/// The whole estimate: sim::estimate(hardware, workload, mapping). Without a cluster the GPUs
/// sit in their usual system (hw::cluster_for_gpu).
Estimate estimate(const hw::GpuSpec &gpu, const wl::ModelSpec &m, const wl::Deployment &d,
                  const hw::Efficiency &eff, const EstimateOptions &o = {},
                  const hw::Cluster *cluster = nullptr);

} // namespace rooftop::sim
