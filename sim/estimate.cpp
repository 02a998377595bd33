// sim::estimate: roofline costs of the prefill pass and of the decode steps, memory per GPU.
#include "sim/estimate.hpp"

#include "core/errors.hpp"
#include "hwmodels/links.hpp"

#include <algorithm>
#include <cmath>

namespace rooftop::sim {
namespace {

using wl::Op;
using wl::Phase;

OpResult to_result(const Op &op, const OpCost &c, Phase phase, double weight) {
  OpResult r;
  r.name = op.name;
  r.kind = op.kind;
  r.phase = phase;
  r.group = op.group;
  r.count = op.count;
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
                Phase phase, double weight) {
  if (acc.empty()) {
    for (const auto &op : ops) acc.push_back(to_result(op, cost_op(op, m), phase, weight));
    return;
  }
  if (acc.size() != ops.size()) throw InternalError("decode lowering changed shape across steps");
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const OpResult r = to_result(ops[i], cost_op(ops[i], m), phase, weight);
    OpResult &a = acc[i];
    a.flops += r.flops;
    a.bytes += r.bytes;
    a.comm_bytes += r.comm_bytes;
    a.compute_time += r.compute_time;
    a.memory_time += r.memory_time;
    a.time += r.time;
  }
}

/// An averaged operator is compute-bound when its summed compute time exceeds its memory time.
void settle_bounds(std::vector<OpResult> &ops) {
  for (auto &o : ops)
    if (o.bound != Bound::communication)
      o.bound = o.compute_time > o.memory_time ? Bound::compute : Bound::memory;
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

MemoryBreakdown estimate_memory(const hw::GpuSpec &gpu, const wl::ModelSpec &m,
                                const wl::Deployment &d, const EstimateOptions &o) {
  MemoryBreakdown mem;
  mem.capacity = gpu.memory_capacity;
  mem.reserved = gpu.memory_capacity * o.reserve_fraction;
  for (const auto &op : wl::lower_pass(m, d, Phase::decode, {1, 1, 0}))
    mem.weights += op.stored_weight_bytes * static_cast<double>(op.count);
  const long long tokens = d.input_len + d.output_len;
  // KV cache and prefill activations are both proportional to the batch (every activation term
  // scales with T = batch x input_len or with batch), so one sequence's share gives the slope.
  wl::Deployment one = d;
  one.batch = 1;
  const Bytes kv_one = wl::kv_cache_bytes_per_gpu(m, one, 1, tokens);
  const Bytes act_one = peak_activations(
      m, wl::lower_pass(m, one, Phase::prefill, {1, d.input_len, 0}),
      static_cast<double>(d.input_len));
  const auto b = static_cast<double>(d.batch);
  mem.kv_cache = kv_one * b;
  // With chunked prefill (o.max_prefill_tokens > 0) no pass holds more than one chunk.
  const long long chunk = o.max_prefill_tokens;
  const Bytes act_chunk =
      chunk > 0 ? peak_activations(m, wl::lower_pass(m, one, Phase::prefill, {1, chunk, 0}),
                                   static_cast<double>(chunk))
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

Estimate estimate(const hw::GpuSpec &gpu, const wl::ModelSpec &m, const wl::Deployment &d,
                  const hw::Efficiency &eff, const EstimateOptions &o) {
  wl::validate_mapping(m, d);
  if (o.decode_samples < 2)
    throw InputError("--decode-samples = " + std::to_string(o.decode_samples) + ": must be >= 2");
  if (!(o.reserve_fraction >= 0 && o.reserve_fraction < 1)) // also rejects NaN
    throw InputError("--reserve-fraction must be a fraction in [0, 1)");
  Estimate e;
  e.memory = estimate_memory(gpu, m, d, o);
  if (!e.memory.fits()) {
    e.feasibility = Feasibility::out_of_memory;
    e.reason = "does not fit in GPU memory";
  }
  const Machine mach{gpu, eff, hw::scale_up_path(gpu, d.tp), d.tp};
  std::vector<OpResult> prefill;
  accumulate(prefill, wl::lower_pass(m, d, Phase::prefill, {d.batch, d.input_len, 0}), mach,
             Phase::prefill, 1.0);
  settle_bounds(prefill);
  e.decode_steps = d.output_len - 1;
  const long long n = std::max(1LL, e.decode_steps); // TPOT is defined even for one token
  std::vector<OpResult> decode;
  for (const auto &[past, w] : decode_samples(d.input_len, n, o.decode_samples))
    accumulate(decode, wl::lower_pass(m, d, Phase::decode, {d.batch, 1, past}), mach,
               Phase::decode, w);
  settle_bounds(decode);
  e.prefill = summarize(prefill);
  e.decode = summarize(decode);
  const FlopsPerSecond peak = unit_peak(gpu, wl::Unit::gemm, d.act_dtype);
  for (PhaseResult *p : {&e.prefill, &e.decode}) {
    p->compute_utilization = p->flops / (peak * p->time);
    p->bandwidth_utilization = p->bytes / (gpu.memory_bandwidth * p->time);
  }
  e.ttft = e.prefill.time;
  e.tpot = e.decode.time;
  e.e2e_latency = e.ttft + e.tpot * static_cast<double>(e.decode_steps);
  const double batch = static_cast<double>(d.batch) * static_cast<double>(d.dp);
  e.output_tokens_per_s = batch * static_cast<double>(d.output_len) / e.e2e_latency.value();
  e.output_tokens_per_s_per_gpu = e.output_tokens_per_s / static_cast<double>(d.gpus());
  e.output_tokens_per_s_per_user = 1.0 / e.tpot.value();
  e.decode_tokens_per_s = batch / e.tpot.value();
  e.ridge_point_flops_per_byte = ridge_point(gpu, eff, d.act_dtype);
  e.ops = std::move(prefill);
  e.ops.insert(e.ops.end(), decode.begin(), decode.end());
  return e;
}

} // namespace rooftop::sim
