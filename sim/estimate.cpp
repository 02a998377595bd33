// sim::estimate: roofline costs of the prefill pass and of the decode steps, memory per GPU.
#include "sim/estimate.hpp"

#include "core/errors.hpp"
#include "sim/pipeline.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace rooftop::sim {
namespace {

using wl::Op;
using wl::Phase;

OpResult to_result(const Op &op, const OpCost &c, Phase phase, double weight, const Machine &m,
                   int stage) {
  OpResult r;
  r.name = op.name;
  r.kind = op.kind;
  r.phase = phase;
  r.group = op.group;
  r.stage = stage;
  r.count = op.count;
  if (op.unit == wl::Unit::network) {
    const Placement &p = m.placement(op.comm_group);
    r.collective = wl::to_string(op.collective);
    r.comm_group = wl::to_string(op.comm_group);
    r.algorithm = c.algorithm;
    r.protocol = c.protocol;
    r.ranks = p.size;
    r.ranks_per_domain = p.per_domain;
  }
  const double k = static_cast<double>(op.count) * weight;
  r.flops = op.flops * k;
  r.bytes = op.bytes() * k;
  r.comm_bytes = op.comm_bytes * k;
  r.compute_time = c.compute * k;
  r.memory_time = c.memory * k;
  r.time = c.time * k;
  r.bound = c.bound;
  return r;
}

/// Adds b (weighted) into a, operator by operator (same lowering structure).
void accumulate(std::vector<OpResult> &acc, const std::vector<Op> &ops, const Machine &m,
                Phase phase, double weight, int stage) {
  if (acc.empty()) {
    for (const auto &op : ops) acc.push_back(to_result(op, cost_op(op, m), phase, weight, m, stage));
    return;
  }
  if (acc.size() != ops.size()) throw InternalError("decode lowering changed shape across steps");
  for (std::size_t i = 0; i < ops.size(); ++i) {
    // Only the numbers change between samples: add them without rebuilding the result.
    const Op &op = ops[i];
    const OpCost c = cost_op(op, m);
    const double k = static_cast<double>(op.count) * weight;
    OpResult &a = acc[i];
    a.flops += op.flops * k;
    a.bytes += op.bytes() * k;
    a.comm_bytes += op.comm_bytes * k;
    a.compute_time += c.compute * k;
    a.memory_time += c.memory * k;
    a.time += c.time * k;
  }
}

/// An averaged operator is compute-bound when its summed compute time exceeds its memory time.
void settle_bounds(std::vector<OpResult> &ops) {
  for (auto &o : ops)
    if (o.bound != Bound::communication)
      o.bound = o.compute_time > o.memory_time ? Bound::compute : Bound::memory;
}

/// Time of one stage's pass: the sum of its operators, or with overlap the larger of its
/// collectives and everything else (communication fully hidden: an upper bound on overlap).
Seconds stage_time(const std::vector<OpResult> &ops, bool overlap) {
  Seconds comm, rest;
  for (const auto &o : ops) (o.bound == Bound::communication ? comm : rest) += o.time;
  return overlap ? max(comm, rest) : comm + rest;
}

PhaseResult summarize(const std::vector<OpResult> &ops) {
  PhaseResult p;
  for (const auto &o : ops) {
    p.time += o.time;
    p.flops += o.flops;
    p.bytes += o.bytes;
    if (o.bound == Bound::compute) p.compute_bound_time += o.time;
    else if (o.bound == Bound::memory) p.memory_bound_time += o.time;
    else p.communication_time += o.time;
  }
  p.bound = Bound::memory;
  if (p.compute_bound_time > p.memory_bound_time) p.bound = Bound::compute;
  if (p.communication_time > max(p.compute_bound_time, p.memory_bound_time))
    p.bound = Bound::communication;
  return p;
}

/// Decode context samples: (past tokens before the step, weight), weights summing to 1.
/// n <= k steps: every step, weight 1/n. Otherwise k points spread evenly over the steps with
/// trapezoid weights (exact for costs linear in context).
std::vector<std::pair<long long, double>> decode_samples(long long input_len, long long n, int k) {
  std::vector<std::pair<long long, double>> s;
  if (n <= k) {
    for (long long t = 0; t < n; ++t) s.emplace_back(input_len + t, 1.0 / static_cast<double>(n));
    return s;
  }
  const double span = static_cast<double>(n - 1);
  for (int j = 0; j < k; ++j) {
    const double t = span * j / (k - 1);
    const double w = (j == 0 || j == k - 1 ? 0.5 : 1.0) / (k - 1);
    s.emplace_back(input_len + std::llround(t), w);
  }
  return s;
}

/// Peak activation bytes of a pass: the residual stream plus the largest operator's inputs and
/// outputs (inference frees each layer's activations before the next).
Bytes peak_activations(const wl::ModelSpec &m, const std::vector<Op> &ops, double tokens) {
  Bytes largest;
  for (const auto &op : ops) largest = max(largest, op.act_bytes);
  return largest + Bytes(tokens * static_cast<double>(m.hidden_size) * dtype_storage_bytes(m.dtype));
}

} // namespace

std::string to_string(Feasibility f) {
  return f == Feasibility::ok ? "ok" : "out_of_memory";
}

double OpResult::arithmetic_intensity() const {
  return bytes.value() > 0 ? flops / bytes : 0.0;
}

double PhaseResult::arithmetic_intensity() const {
  return bytes.value() > 0 ? flops / bytes : 0.0;
}

void resolve_dtypes(const wl::ModelSpec &m, const hw::GpuSpec &gpu, wl::Deployment &d,
                    bool act_given, bool kv_given) {
  if (!act_given) {
    const DType w = d.weight_dtype;
    const bool low = w == DType::fp8 || w == DType::int8 || w == DType::fp4 || w == DType::mxfp4;
    d.act_dtype = low && gpu.matmul_peak(w) ? w : m.dtype;
  }
  if (!kv_given) d.kv_dtype = m.dtype;
}

namespace {

/// Memory of one pipeline stage's GPU.
MemoryBreakdown stage_memory(const hw::GpuSpec &gpu, const wl::ModelSpec &m,
                             const wl::Deployment &d, const EstimateOptions &o,
                             const wl::StageSlice &stage) {
  MemoryBreakdown mem;
  // Capacity is the total nvidia-smi reports (memory.reported_bytes), 0.5-1% above what CUDA's
  // torch.cuda.mem_get_info total shows (the driver's reservation, README); vLLM sizes its pool
  // as gpu_memory_utilization x that device total, so the reserve is a fraction of capacity.
  mem.capacity = gpu.memory_capacity();
  mem.capacity_source = gpu.capacity_source();
  mem.reserved = mem.capacity * o.reserve_fraction;
  for (const auto &op : wl::lower_pass(m, d, Phase::decode, {1, 1, 0}, &stage))
    mem.weights += op.stored_weight_bytes * static_cast<double>(op.count);
  const long long tokens = d.input_len + d.output_len;
  // KV cache and prefill activations are both proportional to the batch (every activation term
  // scales with T = batch x input_len or with batch), so one sequence's share gives the slope.
  wl::Deployment one = d;
  one.batch = 1;
  const Bytes kv_one = wl::kv_cache_bytes_per_gpu(m, one, 1, tokens, &stage);
  const auto local = [&](long long t) {
    return static_cast<double>((t + d.cp - 1) / d.cp); // tokens per CP rank
  };
  const Bytes act_one = peak_activations(
      m, wl::lower_pass(m, one, Phase::prefill, {1, d.input_len, 0}, &stage), local(d.input_len));
  const auto b = static_cast<double>(d.batch);
  mem.kv_cache = kv_one * b;
  // With chunked prefill (o.max_prefill_tokens > 0) no pass holds more than one chunk.
  const long long chunk = o.max_prefill_tokens;
  const Bytes act_chunk =
      chunk > 0 ? peak_activations(m, wl::lower_pass(m, one, Phase::prefill, {1, chunk, 0}, &stage),
                                   local(chunk))
                : Bytes(0);
  const auto activations = [&](double batch) {
    const Bytes whole = act_one * batch;
    return chunk > 0 && batch * static_cast<double>(d.input_len) > static_cast<double>(chunk)
               ? min(whole, act_chunk)
               : whole;
  };
  mem.activations = activations(b);
  // mem(B) = W + R + B kv + act(B), act(B) = min(B act_one, act_chunk) once a batch exceeds a
  // chunk: solve each regime and keep the largest batch that fits.
  const Bytes room = mem.capacity - mem.reserved - mem.weights;
  double fit = room.value() <= 0 ? 0.0 : std::floor(room / (kv_one + act_one));
  if (chunk > 0 && room > act_chunk)
    fit = std::max(fit, std::floor((room - act_chunk) / kv_one));
  mem.max_batch = static_cast<long long>(std::min(fit, 1e15)); // bounded before the cast
  return mem;
}

/// One stage's operators for a micro-batch of `batch` sequences: the prefill pass and the
/// decode step averaged over the context samples.
std::pair<std::vector<OpResult>, std::vector<OpResult>>
stage_ops(const wl::ModelSpec &m, const wl::Deployment &d, long long batch,
          const wl::StageSlice &stage, const Machine &mach,
          const std::vector<std::pair<long long, double>> &samples, int si) {
  wl::Deployment mbd = d;
  mbd.batch = batch;
  std::vector<OpResult> prefill, decode;
  accumulate(prefill, wl::lower_pass(m, mbd, Phase::prefill, {batch, d.input_len, 0}, &stage),
             mach, Phase::prefill, 1.0, si);
  for (const auto &[past, w] : samples)
    accumulate(decode, wl::lower_pass(m, mbd, Phase::decode, {batch, 1, past}, &stage), mach,
               Phase::decode, w, si);
  settle_bounds(prefill);
  settle_bounds(decode);
  return {std::move(prefill), std::move(decode)};
}

/// One phase over the pipeline: each stage's pass time and the work of one micro-batch through
/// every stage, for the smaller (k = 0) and larger (k = 1) micro-batch size.
struct PhaseRuns {
  PipelineStages times;
  std::array<Flops, 2> flops;
  std::array<Bytes, 2> bytes;

  void add(int k, const std::vector<OpResult> &ops, bool overlap) {
    (k == 0 ? times.smaller : times.larger).push_back(stage_time(ops, overlap));
    for (const auto &o : ops) {
      flops[static_cast<std::size_t>(k)] += o.flops;
      bytes[static_cast<std::size_t>(k)] += o.bytes;
    }
  }
  /// Utilisation of one replica's pp GPUs over `time`: the work of every micro-batch.
  void utilization(PhaseResult &p, const wl::MicroBatches &mb, FlopsPerSecond peak,
                   BytesPerSecond bandwidth, double gpus) const {
    const auto n_small = static_cast<double>(mb.count - mb.larger);
    const auto n_large = static_cast<double>(mb.larger);
    const Flops f = flops[0] * n_small + flops[1] * n_large;
    const Bytes b = bytes[0] * n_small + bytes[1] * n_large;
    p.compute_utilization = f / (peak * p.time * gpus);
    p.bandwidth_utilization = b / (bandwidth * p.time * gpus);
  }
};

} // namespace

MemoryBreakdown estimate_stage_memory(const hw::GpuSpec &gpu, const wl::ModelSpec &m,
                                      const wl::Deployment &d, const EstimateOptions &o,
                                      const wl::StageSlice &stage) {
  return stage_memory(gpu, m, d, o, stage);
}

/// Rank i of stage s and rank i of stage s + 1, TP x CP ranks apart; inside one domain only
/// when every pair is.
Placement pipeline_hop(const hw::Cluster &c, const wl::Deployment &d, long long s) {
  const long long width = d.tp * d.cp;
  return place(c, {2, width, s * width});
}

MemoryBreakdown estimate_memory(const hw::GpuSpec &gpu, const wl::ModelSpec &m,
                                const wl::Deployment &d, const EstimateOptions &o) {
  // The most loaded pipeline stage decides (it has the least room).
  MemoryBreakdown worst;
  double replication = 1;
  for (const auto &g : m.groups) {
    const auto &a = g.layer.attention;
    const auto tp = static_cast<double>(d.tp);
    if (a.kind == wl::AttentionKind::mla) replication = std::max(replication, tp);
    else replication = std::max(replication, tp / static_cast<double>(std::min(d.tp, a.num_kv_heads)));
  }
  bool first = true;
  for (const auto &stage : wl::split_stages(m, d.pp)) {
    const MemoryBreakdown mem = stage_memory(gpu, m, d, o, stage);
    if (first || mem.total() > worst.total()) worst = mem;
    worst.max_batch = first ? mem.max_batch : std::min(worst.max_batch, mem.max_batch);
    first = false;
  }
  worst.kv_replication = replication;
  return worst;
}

const hw::AllReduceCurves *applicable_allreduce(const hw::Efficiency &eff, const hw::Cluster &c) {
  const auto &s = c.system;
  const bool same_domain = s.topology == hw::Topology::nvswitch && s.switch_link.has_value() &&
                           s.scale_up_link.id == eff.allreduce.scale_up_link;
  return !eff.allreduce.empty() && !eff.allreduce.off && same_domain ? &eff.allreduce : nullptr;
}

bool uses_measured_allreduce(const Machine &m) {
  return m.allreduce && m.tp.domains() == 1 && m.allreduce->by_ranks.count(m.tp.size) > 0;
}

Machine make_machine(const hw::GpuSpec &gpu, const hw::Efficiency &eff, const hw::Cluster &c,
                     const wl::Deployment &d) {
  if (d.gpus() > c.gpus())
    throw InputError("impossible mapping: TP x CP x PP x DP = " + std::to_string(d.gpus()) +
                     " GPUs, but " + std::to_string(c.nodes) + " x " + c.system.id + " has " +
                     std::to_string(c.gpus()));
  const auto [intra, inter] = cluster_levels(c, eff);
  Machine m{gpu, eff, intra, inter};
  m.allreduce = applicable_allreduce(eff, c);
  m.resolve_gemm_terms();
  const long long replica = d.tp * d.cp * d.pp;
  m.tp = place(c, {d.tp, 1, 0, replica});
  m.cp = place(c, {d.cp, d.tp, 0, replica});
  m.ep = place(c, {d.ep, 1, 0, std::max(replica, d.ep)});
  // Reported: the worst hand-off between stages (each stage's own is used for its cost).
  for (long long s = 0; s + 1 < d.pp; ++s) {
    const Placement hop = pipeline_hop(c, d, s);
    if (s == 0 || worse_or_same(hop, m.pp)) m.pp = hop;
  }
  return m;
}

Estimate estimate(const hw::GpuSpec &gpu, const wl::ModelSpec &m, const wl::Deployment &d,
                  const hw::Efficiency &eff, const EstimateOptions &o,
                  const hw::Cluster *cluster) {
  wl::validate_mapping(m, d);
  if (o.decode_samples < 2)
    throw InputError("--decode-samples = " + std::to_string(o.decode_samples) + ": must be >= 2");
  if (!(o.reserve_fraction >= 0 && o.reserve_fraction < 1)) // also rejects NaN
    throw InputError("--reserve-fraction must be a fraction in [0, 1)");
  const hw::Cluster c = cluster ? *cluster : hw::cluster_for_gpu(gpu, d.gpus(), d.tp);
  const Machine mach = make_machine(gpu, eff, c, d);
  Estimate e;
  e.system = c.system.id;
  e.measured_allreduce = uses_measured_allreduce(mach);
  e.nodes = c.nodes;
  e.tp = mach.tp;
  e.cp = mach.cp;
  e.ep = mach.ep;
  e.pp = mach.pp;
  e.memory = estimate_memory(gpu, m, d, o);
  if (!e.memory.fits()) {
    e.feasibility = Feasibility::out_of_memory;
    e.reason = "does not fit in GPU memory";
  }
  // Pipeline: the batch runs as micro-batches of floor or ceil(batch / micro) sequences; each
  // stage is costed for both sizes, and the operators reported are the largest micro-batch's.
  const wl::MicroBatches mb = wl::split_microbatches(d);
  e.microbatches = mb;
  const auto stages = wl::split_stages(m, d.pp);
  e.decode_steps = d.output_len - 1;
  const long long n = std::max(1LL, e.decode_steps); // TPOT is defined even for one token
  const auto samples = decode_samples(d.input_len, n, o.decode_samples);
  std::vector<OpResult> prefill_all, decode_all;
  PhaseRuns prefill_runs, decode_runs;
  for (std::size_t s = 0; s < stages.size(); ++s) {
    const int si = static_cast<int>(s);
    Machine stage_mach = mach; // this stage's hand-off to the next may cross a domain
    if (d.pp > 1 && s + 1 < stages.size())
      stage_mach.pp = pipeline_hop(c, d, static_cast<long long>(s));
    for (int k = 0; k < (mb.larger > 0 ? 2 : 1); ++k) {
      auto [prefill, decode] = stage_ops(m, d, mb.size + k, stages[s], stage_mach, samples, si);
      prefill_runs.add(k, prefill, d.overlap_comm);
      decode_runs.add(k, decode, d.overlap_comm);
      if (mb.size + k != mb.largest()) continue;
      prefill_all.insert(prefill_all.end(), prefill.begin(), prefill.end());
      decode_all.insert(decode_all.end(), decode.begin(), decode.end());
    }
  }
  e.prefill = summarize(prefill_all);
  e.decode = summarize(decode_all);
  // Prefill of the batch (GPipe): every micro-batch passes every stage once. Decode: in steady
  // state each micro-batch advances one token per cycle (sim/pipeline.hpp).
  e.prefill.time = pipeline_fill_time(mb, prefill_runs.times);
  e.decode.time = pipeline_cycle_time(mb, decode_runs.times);
  const auto micro = static_cast<double>(mb.count);
  const auto pp = static_cast<double>(d.pp);
  e.bubble_fraction = d.pp > 1 ? (pp - 1) / (micro + pp - 1) : 0.0;
  e.ttft = e.prefill.time;
  e.tpot = e.decode.time;
  e.e2e_latency = e.ttft + e.tpot * static_cast<double>(e.decode_steps);
  const FlopsPerSecond peak = unit_peak(gpu, wl::Unit::gemm, d.act_dtype);
  // Utilisation of the GPUs of one replica: all its stages' work over pp GPUs' time.
  prefill_runs.utilization(e.prefill, mb, peak, gpu.memory_bandwidth, pp);
  decode_runs.utilization(e.decode, mb, peak, gpu.memory_bandwidth, pp);
  const double batch = static_cast<double>(d.batch) * static_cast<double>(d.dp);
  e.output_tokens_per_s = batch * static_cast<double>(d.output_len) / e.e2e_latency.value();
  e.output_tokens_per_s_per_gpu = e.output_tokens_per_s / static_cast<double>(d.gpus());
  e.output_tokens_per_s_per_user = 1.0 / e.tpot.value();
  e.decode_tokens_per_s = batch / e.tpot.value();
  e.ridge_point_flops_per_byte = ridge_point(gpu, eff, d.act_dtype);
  e.ops = std::move(prefill_all);
  e.ops.insert(e.ops.end(), decode_all.begin(), decode_all.end());
  return e;
}

} // namespace rooftop::sim
