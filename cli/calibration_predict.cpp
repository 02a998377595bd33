// Calibration cases as rooftop operators.
#include "cli/calibration_predict.hpp"

#include "calibration/fit.hpp"
#include "core/errors.hpp"
#include "hwmodels/system.hpp"
#include "sim/estimate.hpp"
#include "sim/collective_validation.hpp"
#include "workloads/model_catalogue.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace rooftop::cli {
namespace {

wl::Op op_for(const cal::Case &c) {
  wl::Op o;
  o.name = "case";
  o.flops = Flops(c.flops);
  o.weight_bytes = Bytes(c.bytes_moved);
  o.compute_dtype = c.dtype;
  switch (c.kind) {
  case cal::CaseKind::gemm:
    o.unit = wl::Unit::gemm;
    o.rows = static_cast<double>(c.m);
    o.cols = static_cast<double>(c.n);
    break;
  case cal::CaseKind::stream:
  case cal::CaseKind::launch:
    o.unit = wl::Unit::vector;
    break;
  case cal::CaseKind::attention_decode:
  case cal::CaseKind::attention_prefill:
    o.unit = wl::Unit::attention;
    o.compute_dtype = DType::bf16;
    o.kv_dtype = c.dtype; // an attention case's dtype is its KV cache's
    o.weight_bytes = Bytes(0);
    o.kv_bytes = Bytes(c.bytes_moved);
    o.context = c.kind == cal::CaseKind::attention_decode ? static_cast<double>(c.context)
                                                          : static_cast<double>(c.context + 1) / 2;
    o.kernels = 2; // split + combine
    o.new_tokens = c.kind == cal::CaseKind::attention_decode ? 1 : static_cast<double>(c.context);
    // (sequence, KV head) pairs; MLA-like decode has one shared latent
    o.items = static_cast<double>(c.batch) *
              static_cast<double>(c.latent_dim > 0 ? 1 : c.kv_heads);
    break;
  case cal::CaseKind::layer:
    throw InternalError("op_for: a layer is many operators");
  case cal::CaseKind::all_reduce:
    throw InternalError("op_for: an all-reduce is costed on its system");
  }
  return o;
}

} // namespace

double predict_case(const cal::Case &c, const hw::GpuSpec &gpu, const hw::Efficiency &eff) {
  if (c.kind == cal::CaseKind::all_reduce) {
    // As an estimate costs a TP all-reduce: the TP group of a deployment on one such system.
    const hw::Cluster cluster{hw::SystemCatalogue::builtin().get(c.system), 1, 1.0};
    wl::Deployment d;
    d.tp = c.ranks;
    const sim::Machine m = sim::make_machine(gpu, eff, cluster, d);
    wl::Op o;
    o.name = "case";
    o.unit = wl::Unit::network;
    o.collective = wl::Collective::all_reduce;
    o.comm_group = wl::CommGroup::tp;
    o.comm_bytes = Bytes(c.bytes);
    return sim::cost_op(o, m).time.value();
  }
  const sim::Machine m{gpu, eff, sim::Level{}, sim::Level{}};
  if (c.kind != cal::CaseKind::layer) return sim::cost_op(op_for(c), m).time.value();
  // A decoder layer: rooftop's lowering of one layer's decode step, summed.
  const auto model = wl::resolve_model(c.model);
  wl::Deployment d;
  d.batch = c.batch;
  d.input_len = c.context;
  d.output_len = 2;
  wl::StageSlice one;
  one.group_counts.assign(model.groups.size(), 0);
  one.group_counts[0] = 1;
  one.embedding = false;
  one.head = true;
  double t = 0;
  for (const auto &op : wl::lower_pass(model, d, wl::Phase::decode, {c.batch, 1, c.context}, &one))
    if (op.group >= 0) t += sim::cost_op(op, m).time.value() * static_cast<double>(op.count);
  return t;
}

std::string held_out_table(const std::vector<CaseError> &errors) {
  std::map<std::string, std::vector<double>> by;
  std::vector<const CaseError *> held;
  for (const auto &e : errors)
    if (e.held_out) {
      by[e.group].push_back(e.relative_error);
      held.push_back(&e);
    }
  std::string s = "held-out error |predicted - measured| / measured:\n";
  for (const auto &[kind, errs] : by) {
    const auto sum = sim::summarize_errors(errs);
    s += fmt::format("  {:<22} {:>3} cases  median {:>6.1f}%  p90 {:>6.1f}%  max {:>6.1f}%\n", kind,
                     sum.count, 100 * sum.median_abs, 100 * sum.p90_abs, 100 * sum.max_abs);
  }
  if (by.count("stream_cached"))
    s += "  (stream_cached: working sets under 4 x L2, partly served by L2; the model streams from "
         "HBM)\n";
  if (by.count("attention_decode_l2"))
    s += "  (attention_decode_l2: decode timed warm with its KV cache within L2, read from L2; in a "
         "model the other layers evict it, and the model reads it from DRAM)\n";
  std::sort(held.begin(), held.end(), [](const CaseError *a, const CaseError *b) {
    return std::fabs(a->relative_error) > std::fabs(b->relative_error);
  });
  s += "  worst:\n";
  for (std::size_t i = 0; i < held.size() && i < 5; ++i)
    s += fmt::format("    {:<42} measured {:>12.3e} s  predicted {:>12.3e} s  {:>+7.1f}%\n",
                     held[i]->m->c.id, held[i]->m->median_s, held[i]->predicted_s,
                     100 * held[i]->relative_error);
  return s;
}

std::vector<CaseError> compare_measurements(const std::vector<cal::Measurement> &ms,
                                            const hw::GpuSpec &gpu, const hw::Efficiency &eff) {
  std::vector<CaseError> out;
  for (std::size_t i = 0; i < ms.size(); ++i) {
    const auto &m = ms[i];
    if (m.skipped || !(m.median_s > 0)) continue;
    CaseError e;
    e.m = &m;
    try {
      e.predicted_s = predict_case(m.c, gpu, eff);
    } catch (const NotSupported &err) { // e.g. an FP4 GEMM on a GPU without FP4 tensor cores
      throw InputError("/measurements/" + std::to_string(i) + " (" + m.c.id + "): /dtype = " +
                       to_string(m.c.dtype) + ": " + gpu.id + " cannot run it (" + err.what() + ")");
    }
    e.relative_error = e.predicted_s / m.median_s - 1;
    e.held_out = cal::held_out(ms, i);
    e.group = cal::to_string(m.c.kind);
    if (m.c.kind == cal::CaseKind::stream && gpu.l2 && m.c.bytes_moved < 4 * gpu.l2->value())
      e.group = "stream_cached";
    if (m.c.kind == cal::CaseKind::attention_decode && m.c.latent_dim > 0) e.group = "attention_decode_mla";
    if (cal::warm_in_l2(m.c, gpu)) e.group = "attention_decode_l2";
    out.push_back(e);
  }
  return out;
}

} // namespace rooftop::cli
