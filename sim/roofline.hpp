// Roofline cost of one operator on one GPU.
#pragma once

#include "core/units.hpp"
#include "hwmodels/efficiency.hpp"
#include "hwmodels/gpu_spec.hpp"
#include "sim/collective.hpp"
#include "workloads/op_graph.hpp"

#include <array>
#include <string>

namespace rooftop::sim {

/// What limits an operator or a phase.
enum class Bound { compute, memory, communication };
std::string to_string(Bound b);

/// The machine one operator runs on: a GPU, its efficiencies, the fabric levels with
/// efficiency applied, and where each communication group of the mapping sits on the cluster.
struct Machine {
  const hw::GpuSpec &gpu;
  const hw::Efficiency &eff;
  Level intra;        ///< scale-up domain (NVLink/NVSwitch/PCIe)
  Level inter;        ///< scale-out network
  Placement tp{1, 1}; ///< the TP group
  Placement cp{1, 1}; ///< the CP group
  Placement ep{1, 1}; ///< the EP group
  Placement pp{1, 1}; ///< two adjacent pipeline stages (a send/recv pair)
  /// The efficiency table's measured all-reduce when it applies to this cluster's scale-up
  /// domain (same link, NVSwitch), else nullptr: every collective on NCCL's model.
  const hw::AllReduceCurves *allreduce = nullptr;
  /// eff's GEMM terms per input type, resolved once (resolve_gemm_terms; make_machine does):
  /// the per-dtype look-ups were a quarter of an estimate's time. Unresolved, each GEMM looks
  /// its terms up in eff.
  std::array<hw::GemmTerms, k_dtype_count> gemm{};
  bool gemm_resolved = false;

  /// Fills `gemm` from `eff`.
  void resolve_gemm_terms();
  /// The GEMM terms of input type `t`.
  [[nodiscard]] hw::GemmTerms gemm_terms(DType t) const {
    return gemm_resolved ? gemm[static_cast<std::size_t>(t)] : eff.gemm_terms(t);
  }

  [[nodiscard]] const Placement &placement(wl::CommGroup g) const;
};

/// Cost of one instance of an operator, seconds.
struct OpCost {
  Seconds compute;   ///< F / (P_peak(dtype) x efficiency)
  Seconds memory;    ///< B / (BW_hbm x efficiency)
  Seconds network;   ///< collective time
  Seconds overhead;  ///< kernels x per-kernel overhead
  Seconds time;      ///< max(compute, memory) + network + overhead; a GEMM with a separate
                     ///< activation-conversion pass adds its time (in memory too) after the max
  Bound bound = Bound::memory;
  const char *algorithm = ""; ///< collectives: the algorithm chosen
  const char *protocol = "";  ///< collectives: NCCL's protocol (CollectiveCost::protocol)
};

/// Peak FLOP/s an operator's unit reaches on this GPU before efficiency. Throws NotSupported
/// when the GPU has no tensor-core path for the operator's data type.
FlopsPerSecond unit_peak(const hw::GpuSpec &gpu, wl::Unit unit, DType dt);

/// t = max(F / (P x e_c), B / (BW x e_m)) + kernels x t_kernel  (Williams et al., Roofline,
/// CACM 2009); collectives: sim::collective_cost over the operator's group placement.
OpCost cost_op(const wl::Op &op, const Machine &m);

/// Ridge point of the GPU for GEMMs of this dtype: P x e_c / (BW x e_m), FLOP/byte.
double ridge_point(const hw::GpuSpec &gpu, const hw::Efficiency &eff, DType dt);

} // namespace rooftop::sim
