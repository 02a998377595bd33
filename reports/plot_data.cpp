// The tables behind the report's plots.
#include "reports/plot_data.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace rooftop::rep {
namespace {

/// Peaks shown as compute roofs: the inference tensor-core types and the CUDA-core FP32 rate
/// (norms and activations). fp64 and tf32 are left out: rooftop never uses them.
const char *const k_roof_types[] = {"fp4", "fp8", "int8", "bf16", "fp16", "fp32"};

sim::Estimate estimate_at(const hw::GpuSpec &gpu, const wl::ModelSpec &m, wl::Deployment d,
                          const hw::Efficiency &eff, const sim::EstimateOptions &o,
                          const hw::Cluster *cluster, long long batch) {
  d.batch = batch;
  return sim::estimate(gpu, m, d, eff, o, cluster);
}

SweepPoint sweep_point(long long batch, const sim::Estimate &e) {
  SweepPoint p;
  p.batch = batch;
  p.tpot = e.tpot;
  p.ttft = e.ttft;
  p.decode_tokens_per_s = e.decode_tokens_per_s;
  p.output_tokens_per_s = e.output_tokens_per_s;
  p.decode_bound = e.decode.bound;
  p.memory_total = e.memory.total();
  p.fits = e.memory.fits();
  return p;
}

} // namespace

RooflineData roofline_data(const hw::GpuSpec &gpu, const hw::Efficiency &eff,
                           const wl::Deployment &d, const sim::Estimate &e) {
  RooflineData r;
  std::map<double, std::string, std::greater<>> by_peak; // equal peaks share one roof
  for (const char *t : k_roof_types) {
    const auto peak = gpu.dense_flops.get(t);
    if (!peak) continue;
    auto &label = by_peak[peak->value()];
    label += (label.empty() ? "" : "/") + std::string(t);
  }
  for (const auto &[peak, label] : by_peak) r.roofs.push_back({label, FlopsPerSecond(peak)});
  r.memory_bandwidth = gpu.memory_bandwidth;
  r.memory_type = gpu.memory_type.empty() ? "memory" : gpu.memory_type;
  r.effective_bandwidth = gpu.memory_bandwidth * eff.hbm_bandwidth;
  r.gemm_dtype = to_string(d.act_dtype);
  const auto gemm_peak = gpu.matmul_peak(d.act_dtype);
  // e_max of this dtype (a calibrated table may have one per dtype); rows = 0: the large-M value
  r.effective_gemm_peak = gemm_peak ? *gemm_peak * eff.gemm_efficiency(d.act_dtype, 0) : FlopsPerSecond(0);
  for (const auto &o : e.ops) {
    if (o.flops.value() <= 0 || o.bytes.value() <= 0 || o.time.value() <= 0) {
      r.omitted.push_back(wl::to_string(o.phase) + " " + o.name);
      continue;
    }
    r.points.push_back({&o, o.arithmetic_intensity(), o.flops / o.time});
  }
  r.microbatches = e.microbatches.count;
  std::set<std::tuple<wl::Phase, std::string, int>> seen; // name repeated in another group
  for (const auto &p : r.points) {
    r.per_stage = r.per_stage || p.op->stage > 0;
    seen.insert({p.op->phase, p.op->name, p.op->group});
  }
  std::set<std::pair<wl::Phase, std::string>> names;
  for (const auto &[phase, name, group] : seen)
    if (!names.insert({phase, name}).second) r.per_group = true;
  return r;
}

std::vector<PhaseBreakdown> time_breakdown(const sim::Estimate &e) {
  std::vector<PhaseBreakdown> out;
  for (auto phase : {wl::Phase::prefill, wl::Phase::decode}) {
    PhaseBreakdown b;
    b.phase = phase;
    b.total = phase == wl::Phase::prefill ? e.prefill.time : e.decode.time;
    std::map<wl::OpKind, Seconds> by_kind;
    for (const auto &o : e.ops)
      if (o.phase == phase) {
        by_kind[o.kind] += o.time;
        b.operators += o.time;
      }
    // Pipelining adds time beyond the operators' sum; overlapped collectives take time away.
    // A relative 1e-9 keeps rounding from showing as either.
    const double slack = 1e-9 * b.bar().value();
    if (b.total.value() > b.operators.value() + slack) b.pipeline_wait = b.total - b.operators;
    if (b.operators.value() > b.total.value() + slack) b.overlapped = b.operators - b.total;
    const Seconds bar = b.bar();
    const auto share = [&](Seconds t) { return bar.value() > 0 ? t / bar : 0.0; };
    b.pipeline_wait_fraction = share(b.pipeline_wait);
    for (const auto &[k, t] : by_kind) b.kinds.push_back({k, t, share(t)});
    std::stable_sort(b.kinds.begin(), b.kinds.end(),
                     [](const KindTime &x, const KindTime &y) { return x.time > y.time; });
    out.push_back(std::move(b));
  }
  return out;
}

std::vector<const sim::OpResult *> collectives(const sim::Estimate &e) {
  std::vector<const sim::OpResult *> out;
  for (const auto &o : e.ops)
    if (!o.collective.empty()) out.push_back(&o);
  return out;
}

BatchSweep batch_sweep(const hw::GpuSpec &gpu, const wl::ModelSpec &m, const wl::Deployment &d,
                       const hw::Efficiency &eff, const sim::EstimateOptions &o,
                       long long max_batch, const hw::Cluster *cluster) {
  BatchSweep s;
  s.chosen_batch = d.batch;
  s.max_batch = max_batch;
  // Powers of two up to four times the larger of the run's batch, max_batch and 16.
  const long long top = 4 * std::max({d.batch, max_batch, 16LL});
  std::set<long long> batches{d.batch};
  if (max_batch >= 1) batches.insert(max_batch);
  for (long long b = 1; b <= std::min(top, 1LL << 20); b *= 2) batches.insert(b);
  std::map<long long, SweepPoint> pts;
  for (long long b : batches) pts[b] = sweep_point(b, estimate_at(gpu, m, d, eff, o, cluster, b));
  // Smallest compute-bound batch: bisect between the last memory-bound point and the first
  // compute-bound one (the decode bound turns compute once as the batch grows).
  long long lo = 0, hi = 0;
  for (const auto &[b, p] : pts) {
    if (p.decode_bound == sim::Bound::compute) {
      hi = b;
      break;
    }
    lo = b;
  }
  if (hi > 0) {
    while (hi - lo > 1) {
      const long long mid = lo + (hi - lo) / 2;
      const auto e = estimate_at(gpu, m, d, eff, o, cluster, mid);
      (e.decode.bound == sim::Bound::compute ? hi : lo) = mid;
    }
    s.first_compute_bound = hi;
    if (!pts.count(hi)) pts[hi] = sweep_point(hi, estimate_at(gpu, m, d, eff, o, cluster, hi));
  }
  for (const auto &[b, p] : pts) s.points.push_back(p);
  return s;
}

std::vector<MemoryRow> memory_rows(const hw::GpuSpec &gpu, const wl::ModelSpec &m,
                                   const wl::Deployment &d, const sim::EstimateOptions &o,
                                   const sim::MemoryBreakdown &run) {
  std::vector<MemoryRow> rows;
  rows.push_back({"batch " + std::to_string(d.batch) + " (this run)", d.batch, run});
  if (run.max_batch >= 1 && run.max_batch != d.batch) {
    wl::Deployment dm = d;
    dm.batch = run.max_batch;
    rows.push_back({"batch " + std::to_string(run.max_batch) + " (largest that fits)",
                    run.max_batch, sim::estimate_memory(gpu, m, dm, o)});
  }
  return rows;
}

PlotData plot_data(const hw::GpuSpec &gpu, const wl::ModelSpec &m, const wl::Deployment &d,
                   const hw::Efficiency &eff, const sim::EstimateOptions &o,
                   const sim::Estimate &e, const hw::Cluster *cluster) {
  PlotData p;
  p.roofline = roofline_data(gpu, eff, d, e);
  p.breakdown = time_breakdown(e);
  p.sweep = batch_sweep(gpu, m, d, eff, o, e.memory.max_batch, cluster);
  p.memory = memory_rows(gpu, m, d, o, e.memory);
  p.collectives = collectives(e);
  return p;
}

} // namespace rooftop::rep
