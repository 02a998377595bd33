// Roofline costing of operators.
#include "sim/roofline.hpp"

#include "core/errors.hpp"

#include <string>
#include <vector>

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
  // The GEMM's own memory roof (a calibrated dtype's bandwidth), as cost_op prices GEMMs.
  return (unit_peak(gpu, wl::Unit::gemm, dt) * eff.gemm_efficiency(dt, 0)) /
         (gpu.memory_bandwidth * eff.gemm_bandwidth(dt));
}

const Placement &Machine::placement(wl::CommGroup g) const {
  switch (g) {
  case wl::CommGroup::tp: return tp;
  case wl::CommGroup::cp: return cp;
  case wl::CommGroup::ep: return ep;
  case wl::CommGroup::pp: return pp;
  }
  throw InternalError("Machine::placement: unknown group");
}

namespace {
CollectiveOp to_collective(wl::Collective c) {
  switch (c) {
  case wl::Collective::all_reduce: return CollectiveOp::all_reduce;
  case wl::Collective::all_gather: return CollectiveOp::all_gather;
  case wl::Collective::all_to_all: return CollectiveOp::all_to_all;
  case wl::Collective::send_recv: return CollectiveOp::send_recv;
  }
  throw InternalError("to_collective: unknown collective");
}
const char *intern(const std::string &algorithm) {
  // Algorithm names come from a small fixed set; keep one copy of each for OpCost.
  static const char *names[] = {"none", "ring", "tree", "nvls", "direct", "p2p"};
  for (const char *n : names)
    if (algorithm == n) return n;
  return "hierarchical";
}
const char *intern_protocol(const std::string &protocol) {
  // "", LL, LL128, Simple, and a hierarchy's "inside/across" pairs ("-" for a part without one).
  static const std::vector<std::string> names = [] {
    const std::vector<std::string> one{"LL", "LL128", "Simple"};
    std::vector<std::string> v{""};
    v.insert(v.end(), one.begin(), one.end());
    for (const auto &a : {"-", "LL", "LL128", "Simple"})
      for (const auto &b : {"-", "LL", "LL128", "Simple"}) v.push_back(std::string(a) + "/" + b);
    return v;
  }();
  for (const auto &n : names)
    if (n == protocol) return n.c_str();
  throw InternalError("intern_protocol: unknown protocol '" + protocol + "'");
}
} // namespace

void Machine::resolve_gemm_terms() {
  for (std::size_t i = 0; i < k_dtype_count; ++i) gemm[i] = eff.gemm_terms(static_cast<DType>(i));
  gemm_resolved = true;
}

namespace {
/// Wave quantization of a GEMM op; for two grouped GEMMs in one op (MoE experts), their times
/// add: 1 / ((1 - s) / w1 + s / w2), s the second's share of the FLOPs.
double wave_efficiency(const wl::Op &op, const Machine &m, const hw::GemmTerms &g) {
  const int sms = m.gpu.sm_count.value_or(0);
  const double w1 = hw::gemm_wave_fraction(op.rows, op.cols, g.tile_m, g.tile_n, sms, op.groups);
  if (!(op.second_share > 0)) return w1;
  const double w2 =
      hw::gemm_wave_fraction(op.rows, op.second_cols, g.tile_m, g.tile_n, sms, op.groups);
  return 1.0 / ((1.0 - op.second_share) / w1 + op.second_share / w2);
}
} // namespace

OpCost cost_op(const wl::Op &op, const Machine &m) {
  OpCost c;
  if (op.unit == wl::Unit::network) {
    const Placement &p = m.placement(op.comm_group);
    // A measured engine all-reduce inside one domain replaces NCCL's model (docs/model.md,
    // "Measured all-reduce"): its time is what the engine took, call overhead included.
    if (m.allreduce && op.collective == wl::Collective::all_reduce && p.domains() == 1)
      if (const auto t = m.allreduce->time(p.size, op.comm_bytes)) {
        c.network = c.time = *t;
        c.bound = Bound::communication;
        c.algorithm = "measured";
        return c;
      }
    const auto r = collective_cost(to_collective(op.collective), op.comm_bytes, p, m.intra, m.inter,
                                   m.eff.collective_latency);
    c.network = c.time = r.time;
    c.bound = Bound::communication;
    c.algorithm = intern(r.algorithm);
    c.protocol = intern_protocol(r.protocol);
    return c;
  }
  if (op.unit == wl::Unit::attention && m.eff.additive_attention()) {
    // Calibrated attention: fixed + per-item costs, then compute and memory one after the other.
    // A decode step over a KV cache of a type with its own terms (an FP8 cache) uses them.
    const auto t = m.eff.attention_terms(op.kv_dtype, op.new_tokens <= 1, op.context);
    c.compute = op.flops / (unit_peak(m.gpu, op.unit, op.compute_dtype) * m.eff.attention_flops);
    c.memory = op.bytes() / (m.gpu.memory_bandwidth * t.bandwidth);
    c.overhead = t.fixed + t.item * op.items;
    c.bound = c.compute > c.memory ? Bound::compute : Bound::memory;
    c.time = c.compute + c.memory + c.overhead;
    return c;
  }
  if (op.unit == wl::Unit::gemm) {
    const hw::GemmTerms g = m.gemm_terms(op.compute_dtype);
    // The activations a conversion pass reads: M x K per GEMM, FLOPs / 2N, summed over the op's
    // GEMMs (an MoE op's second has its own N and share of the FLOPs).
    const double s = op.second_share > 0 && op.second_cols > 0 ? op.second_share : 0;
    const double elements = op.cols > 0 ? (1 - s) * op.flops.value() / (2 * op.cols) +
                                              (s > 0 ? s * op.flops.value() / (2 * op.second_cols) : 0)
                                        : 0;
    const auto t = g.times(op.flops, op.bytes(), op.rows, wave_efficiency(op, m, g), elements,
                           op.compute_dtype, unit_peak(m.gpu, op.unit, op.compute_dtype),
                           m.gpu.memory_bandwidth, op.kernels);
    c.compute = t.compute;
    c.memory = t.memory + t.quantize; // the pass is memory traffic too
    c.overhead = t.overhead;
    c.time = t.total();
    c.bound = c.compute > c.memory ? Bound::compute : Bound::memory;
    return c;
  }
  const double e_c = op.unit == wl::Unit::attention ? m.eff.attention_flops : 1.0;
  const double e_m = op.unit == wl::Unit::attention ? m.eff.attention_bandwidth_efficiency(op.context)
                                                    : m.eff.hbm_bandwidth;
  c.compute = op.flops / (unit_peak(m.gpu, op.unit, op.compute_dtype) * e_c);
  c.memory = op.bytes() / (m.gpu.memory_bandwidth * e_m);
  c.overhead = m.eff.kernel_overhead * static_cast<double>(op.kernels);
  c.time = max(c.compute, c.memory) + c.overhead;
  c.bound = c.compute > c.memory ? Bound::compute : Bound::memory;
  return c;
}

} // namespace rooftop::sim
