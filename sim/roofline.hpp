// Roofline cost of one operator on one GPU.
#pragma once

#include "core/units.hpp"
#include "hwmodels/efficiency.hpp"
#include "hwmodels/gpu_spec.hpp"
#include "hwmodels/links.hpp"
#include "workloads/op_graph.hpp"

#include <string>

namespace rooftop::sim {

/// What limits an operator or a phase.
enum class Bound { compute, memory, communication };
std::string to_string(Bound b);

/// The machine one operator runs on: a GPU, its efficiencies and its TP group's link.
struct Machine {
  const hw::GpuSpec &gpu;
  const hw::Efficiency &eff;
  hw::ScaleUpPath link;   ///< the path TP collectives use
  long long tp_group = 1; ///< GPUs in one TP all-reduce
};

/// Cost of one instance of an operator, seconds.
struct OpCost {
  Seconds compute;   ///< F / (P_peak(dtype) x efficiency)
  Seconds memory;    ///< B / (BW_hbm x efficiency)
  Seconds network;   ///< collective time
  Seconds overhead;  ///< kernels x per-kernel overhead
  Seconds time;      ///< max(compute, memory) + network + overhead
  Bound bound = Bound::memory;
};

/// Peak FLOP/s an operator's unit reaches on this GPU before efficiency. Throws NotSupported
/// when the GPU has no tensor-core path for the operator's data type.
FlopsPerSecond unit_peak(const hw::GpuSpec &gpu, wl::Unit unit, DType dt);

/// t = max(F / (P x e_c), B / (BW x e_m)) + kernels x t_kernel  (Williams et al., Roofline,
/// CACM 2009); collectives: ring all-reduce t = t_lat + 2 (n-1)/n x S / (BW_link x e_link)
/// (Patarasuk & Yuan 2009; nccl-tests' busbw convention).
OpCost cost_op(const wl::Op &op, const Machine &m);

/// Ridge point of the GPU for GEMMs of this dtype: P x e_c / (BW x e_m), FLOP/byte.
double ridge_point(const hw::GpuSpec &gpu, const hw::Efficiency &eff, DType dt);

} // namespace rooftop::sim
