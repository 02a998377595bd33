// Mixed-step cost: lower the token-linear operators once over all tokens, attention per part.
#include "sim/step_cost.hpp"

#include "core/errors.hpp"
#include "sim/estimate.hpp"
#include "sim/pipeline.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace rooftop::sim {
namespace {

using wl::Op;
using wl::Phase;

/// Operators whose cost depends on the cached context, not only on the token count: attention,
/// and MLA's kv_b_proj (absorbed in decode, decompressing every key in prefill).
bool context_dependent(const Op &op) {
  return op.kind == wl::OpKind::attention || std::strcmp(op.name, "kv_b_proj") == 0;
}
bool head(const Op &op) {
  return op.kind == wl::OpKind::lm_head || std::strcmp(op.name, "final_norm") == 0;
}

/// Adds `b` into `a` (the same operator of another request's chunk).
void merge(Op &a, const Op &b) {
  const double wa = a.act_bytes.value(), wb = b.act_bytes.value();
  if (wa + wb > 0) a.context = (a.context * wa + b.context * wb) / (wa + wb); // token-weighted
  a.flops += b.flops;
  a.act_bytes += b.act_bytes;
  a.kv_bytes += b.kv_bytes;
  a.rows += b.rows;
  // Calibrated attention (docs/model.md section 6): one launch's fixed cost, a per-item cost for
  // every chunk's (sequence, KV head) pairs, and the prefill bandwidth if any chunk is a prompt
  // of more than one token, as estimate's batched prefill costs them.
  a.items += b.items;
  a.new_tokens = std::max(a.new_tokens, b.new_tokens);
}

} // namespace

long long StepShape::tokens() const {
  long long t = decodes;
  for (const auto &c : prefills) t += c.new_tokens;
  return t;
}

StepCost::StepCost(const hw::GpuSpec &gpu, const wl::ModelSpec &m, const wl::Deployment &d,
                   const hw::Efficiency &eff, const hw::Cluster &cluster)
    : m_(m), d_(d) {
  if (d.cp > 1) throw InputError("--cp " + std::to_string(d.cp) +
                                 ": the serving simulator does not model context parallelism");
  const Machine whole = make_machine(gpu, eff, cluster, d);
  if (d.pp <= 1) {
    machines_.push_back(whole);
    return;
  }
  slices_ = wl::split_stages(m, d.pp);
  for (std::size_t s = 0; s < slices_.size(); ++s) {
    Machine stage = whole;
    if (s + 1 < slices_.size()) stage.pp = pipeline_hop(cluster, d, static_cast<long long>(s));
    machines_.push_back(stage);
  }
}

std::vector<Op> StepCost::ops(const StepShape &s, std::size_t stage) const {
  if (stage >= machines_.size())
    throw InternalError("StepCost::ops: stage " + std::to_string(stage) + " of " +
                        std::to_string(machines_.size()));
  std::vector<Op> out;
  const long long tokens = s.tokens();
  if (tokens <= 0) return out;
  wl::Deployment d = d_;
  const wl::StageSlice *slice = slices_.empty() ? nullptr : &slices_[stage];
  const auto lower = [&](Phase ph, long long batch, long long news, long long past) {
    d.batch = batch;
    return wl::lower_pass(m_, d, ph, {batch, news, past}, slice);
  };
  for (auto &op : lower(Phase::decode, tokens, 1, 0))
    if (!context_dependent(op) && !head(op)) out.push_back(op);
  long long sampling = s.decodes;
  for (const auto &c : s.prefills) sampling += c.last ? 1 : 0;
  if (sampling > 0)
    for (auto &op : lower(Phase::decode, sampling, 1, 0))
      if (head(op)) out.push_back(op);
  if (s.decodes > 0) {
    const auto past = std::llround(s.decode_past_sum / static_cast<double>(s.decodes));
    for (auto &op : lower(Phase::decode, s.decodes, 1, past))
      if (context_dependent(op)) out.push_back(op);
  }
  // Every chunk's context-dependent operators, merged into one launch per operator.
  const std::size_t first = out.size();
  for (const auto &c : s.prefills) {
    std::size_t k = first;
    for (auto &op : lower(Phase::prefill, 1, c.new_tokens, c.past_tokens)) {
      if (!context_dependent(op)) continue;
      if (k < out.size()) merge(out[k], op);
      else out.push_back(op);
      ++k;
    }
  }
  return out;
}

Seconds StepCost::stage_time(const StepShape &s, std::size_t stage) const {
  Seconds comm, rest;
  for (const auto &op : ops(s, stage)) {
    const Seconds t = cost_op(op, machines_[stage]).time * static_cast<double>(op.count);
    (op.unit == wl::Unit::network ? comm : rest) += t;
  }
  return d_.overlap_comm ? max(comm, rest) : comm + rest;
}

Seconds StepCost::time(const StepShape &s) const {
  if (machines_.size() == 1) return stage_time(s, 0);
  PipelineStages t;
  for (std::size_t k = 0; k < machines_.size(); ++k) t.smaller.push_back(stage_time(s, k));
  wl::MicroBatches mb;
  mb.count = static_cast<long long>(machines_.size());
  return pipeline_cycle_time(mb, t);
}

bool StepCost::uses_measured_allreduce() const {
  return !machines_.empty() && sim::uses_measured_allreduce(machines_.front());
}

} // namespace rooftop::sim
