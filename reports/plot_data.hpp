// The tables behind the report's plots, in SI units: roofline points, time per operator kind,
// a batch sweep and memory per GPU. Pure functions of an estimate (no gnuplot needed).
#pragma once

#include "core/units.hpp"
#include "hwmodels/efficiency.hpp"
#include "hwmodels/gpu_spec.hpp"
#include "sim/estimate.hpp"
#include "workloads/deployment.hpp"
#include "workloads/model_spec.hpp"

#include <string>
#include <vector>

namespace rooftop::rep {

/// One compute roof: a dense peak shared by one or more data types.
struct Roof {
  std::string label;   ///< e.g. "bf16/fp16"
  FlopsPerSecond peak; ///< dense spec-sheet peak, FLOP/s
};

/// One operator placed on the roofline.
struct RooflinePoint {
  const sim::OpResult *op = nullptr; ///< into Estimate::ops
  double intensity = 0;              ///< FLOP/byte of memory (HBM or GDDR) traffic
  FlopsPerSecond achieved;           ///< flops / time (kernel overheads included), FLOP/s
};

/// The roofline of one GPU with every prefill and decode operator on it.
struct RooflineData {
  std::vector<Roof> roofs;               ///< tensor-core types and fp32, highest first
  BytesPerSecond memory_bandwidth;       ///< GPU memory, bytes/s (spec)
  std::string memory_type;               ///< "HBM3", "GDDR6", ... (labels)
  FlopsPerSecond effective_gemm_peak;    ///< GEMM dtype peak x gemm efficiency, FLOP/s
  BytesPerSecond effective_bandwidth;    ///< memory bandwidth x its efficiency, bytes/s
  bool per_stage = false;                ///< points are per pipeline stage (pp > 1)
  bool per_group = false;                ///< some operator repeats per layer group
  long long microbatches = 1;            ///< pipeline micro-batches (operator times: the largest)
  std::string gemm_dtype;                ///< the GEMM input dtype
  std::vector<RooflinePoint> points;     ///< operators with FLOPs and bytes
  std::vector<std::string> omitted;      ///< operators without FLOPs (collectives), "phase name"
};
RooflineData roofline_data(const hw::GpuSpec &gpu, const hw::Efficiency &eff,
                           const wl::Deployment &d, const sim::Estimate &e);

/// Time of one operator kind within one phase.
struct KindTime {
  wl::OpKind kind = wl::OpKind::norm;
  Seconds time;        ///< all operators of this kind, s
  double fraction = 0; ///< of the bar (PhaseBreakdown::bar), in [0, 1]
};
/// One phase's time split by operator kind (largest first) and pipeline wait.
struct PhaseBreakdown {
  wl::Phase phase = wl::Phase::prefill;
  Seconds total;         ///< the phase time: prefill pass (TTFT), mean decode step (TPOT), s
  Seconds operators;     ///< sum of the phase's operator times (all stages), s
  /// total - operators when positive: with PP, the time the pipeline adds to the largest
  /// micro-batch's pass through all stages (prefill: the other micro-batches passing the stages;
  /// decode: the busiest stage serving the other micro-batches), s
  Seconds pipeline_wait;
  /// operators - total when positive: collectives hidden behind compute (--overlap-comm), s
  Seconds overlapped;
  double pipeline_wait_fraction = 0; ///< of the bar, in [0, 1]
  std::vector<KindTime> kinds;
  /// What the shares are of: max(total, operators), s
  [[nodiscard]] Seconds bar() const { return max(total, operators); }
};
std::vector<PhaseBreakdown> time_breakdown(const sim::Estimate &e);

/// The estimate's collectives (OpResult::collective set), in Estimate::ops order.
std::vector<const sim::OpResult *> collectives(const sim::Estimate &e);

/// One batch size of the decode sweep.
struct SweepPoint {
  long long batch = 1;
  Seconds tpot;                    ///< mean decode step, s
  Seconds ttft;                    ///< prefill, s
  double decode_tokens_per_s = 0;  ///< all replicas while decoding
  double output_tokens_per_s = 0;  ///< all replicas, end to end
  sim::Bound decode_bound = sim::Bound::memory;
  Bytes memory_total;              ///< per GPU
  bool fits = true;
};
/// Decode step time and throughput versus batch: 1, 2, 4, ... past the largest batch that fits,
/// plus the run's batch, max_batch and the first compute-bound batch.
struct BatchSweep {
  std::vector<SweepPoint> points;   ///< ascending batch
  long long chosen_batch = 1;       ///< the run's batch
  long long max_batch = 0;          ///< largest that fits (0: not even 1)
  long long first_compute_bound = 0; ///< smallest batch whose decode is compute-bound (0: none)
};
/// `cluster`: the run's cluster (nullptr: the GPU's usual system, as sim::estimate).
BatchSweep batch_sweep(const hw::GpuSpec &gpu, const wl::ModelSpec &m, const wl::Deployment &d,
                       const hw::Efficiency &eff, const sim::EstimateOptions &o,
                       long long max_batch, const hw::Cluster *cluster = nullptr);

/// Memory per GPU at one batch size.
struct MemoryRow {
  std::string label; ///< "batch 32 (this run)"
  long long batch = 1;
  sim::MemoryBreakdown memory;
};
/// The run's batch, and the largest batch that fits when it differs and is >= 1.
std::vector<MemoryRow> memory_rows(const hw::GpuSpec &gpu, const wl::ModelSpec &m,
                                   const wl::Deployment &d, const sim::EstimateOptions &o,
                                   const sim::MemoryBreakdown &run);

/// Everything the plots draw.
struct PlotData {
  RooflineData roofline;
  std::vector<PhaseBreakdown> breakdown;
  BatchSweep sweep;
  std::vector<MemoryRow> memory;
  std::vector<const sim::OpResult *> collectives; ///< into the Estimate's ops
};
/// `cluster`: the run's cluster, for the batch sweep (nullptr: the GPU's usual system).
PlotData plot_data(const hw::GpuSpec &gpu, const wl::ModelSpec &m, const wl::Deployment &d,
                   const hw::Efficiency &eff, const sim::EstimateOptions &o,
                   const sim::Estimate &e, const hw::Cluster *cluster = nullptr);

} // namespace rooftop::rep
