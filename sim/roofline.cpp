// Roofline costing of operators.
#include "sim/roofline.hpp"

#include "core/errors.hpp"

namespace rooftop::sim {

std::string to_string(Bound b) {
  switch (b) {
  case Bound::compute: return "compute";
  case Bound::memory: return "memory";
  case Bound::communication: return "communication";
  }
  throw InternalError("to_string: unknown Bound");
}

FlopsPerSecond unit_peak(const hw::GpuSpec &gpu, wl::Unit unit, DType dt) {
  if (unit == wl::Unit::vector) return gpu.vector_peak();
  if (auto p = gpu.matmul_peak(dt)) return *p;
  throw NotSupported(gpu.id + " has no dense " + to_string(dt) +
                     " tensor-core rate in " + gpu.file + " (/dense_flops_per_s): choose another "
                     "--act-dtype");
}

double ridge_point(const hw::GpuSpec &gpu, const hw::Efficiency &eff, DType dt) {
  return (unit_peak(gpu, wl::Unit::gemm, dt) * eff.gemm_flops) /
         (gpu.memory_bandwidth * eff.hbm_bandwidth);
}

OpCost cost_op(const wl::Op &op, const Machine &m) {
  OpCost c;
  if (op.unit == wl::Unit::network) {
    const double n = static_cast<double>(m.tp_group);
    const Bytes moved = op.comm_bytes * (2.0 * (n - 1.0) / n);
    c.network = m.eff.collective_latency + m.link.latency * (n - 1.0) +
                moved / (m.link.bandwidth_one_way * m.eff.link_bandwidth);
    c.time = c.network;
    c.bound = Bound::communication;
    return c;
  }
  const double e_c = op.unit == wl::Unit::attention ? m.eff.attention_flops
                     : op.unit == wl::Unit::gemm    ? m.eff.gemm_flops
                                                    : 1.0;
  c.compute = op.flops / (unit_peak(m.gpu, op.unit, op.compute_dtype) * e_c);
  c.memory = op.bytes() / (m.gpu.memory_bandwidth * m.eff.hbm_bandwidth);
  c.overhead = m.eff.kernel_overhead * static_cast<double>(op.kernels);
  c.bound = c.compute > c.memory ? Bound::compute : Bound::memory;
  c.time = max(c.compute, c.memory) + c.overhead;
  return c;
}

} // namespace rooftop::sim
