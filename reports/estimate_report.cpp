// Rendering estimates.
#include "reports/estimate_report.hpp"

#include "reports/format.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace rooftop::rep {
namespace {

nlohmann::ordered_json phase_json(const sim::PhaseResult &p) {
  return {{"time_s", p.time.value()},
          {"flops", p.flops.value()},
          {"bytes", p.bytes.value()},
          {"arithmetic_intensity", p.arithmetic_intensity()},
          {"bound", sim::to_string(p.bound)},
          {"compute_utilization", p.compute_utilization},
          {"bandwidth_utilization", p.bandwidth_utilization},
          {"compute_bound_time_s", p.compute_bound_time.value()},
          {"memory_bound_time_s", p.memory_bound_time.value()},
          {"communication_time_s", p.communication_time.value()}};
}

} // namespace

nlohmann::ordered_json efficiency_json(const hw::Efficiency &e, bool allreduce_applied) {
  return {{"origin", hw::to_string(e.origin)},
          {"provenance", e.provenance},
          {"engine", e.engine.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(e.engine)},
          {"gemm_flops_efficiency", e.gemm_flops},
          {"gemm_flops_efficiency_by_dtype", e.gemm_flops_by_dtype},
          {"gemm_bandwidth_efficiency_by_dtype", e.gemm_bandwidth_by_dtype},
          {"gemm_overhead_s_by_dtype", e.gemm_overhead_by_dtype},
          {"gemm_quantize_bandwidth_efficiency_by_dtype", e.gemm_quantize_by_dtype},
          {"gemm_curve_by_dtype", [&] {
             nlohmann::ordered_json j = nlohmann::ordered_json::object();
             for (const auto &[k, c] : e.gemm_curve_by_dtype)
               j[k] = {{"m_half", c.m_half}, {"tile_m", c.tile_m}, {"tile_n", c.tile_n}};
             return j;
           }()},
          {"gemm_m_half", e.gemm_m_half},
          {"gemm_tile_m", e.gemm_tile_m},
          {"gemm_tile_n", e.gemm_tile_n},
          {"attention_flops_efficiency", e.attention_flops},
          {"attention_bandwidth_efficiency", e.attention_bandwidth},
          {"attention_context_half", e.attention_context_half},
          {"attention_prefill_bandwidth_efficiency", e.attention_prefill_bandwidth},
          {"attention_fixed_s", e.attention_fixed.value()},
          {"attention_item_s", e.attention_item.value()},
          {"attention_decode_by_kv_dtype", hw::attention_decode_by_kv_dtype_json(e)},
          {"hbm_bandwidth_efficiency", e.hbm_bandwidth},
          {"link_bandwidth_efficiency", e.link_bandwidth},
          {"network_bandwidth_efficiency", e.network_bandwidth},
          {"nvls_bandwidth_efficiency", e.nvls_bandwidth},
          {"kernel_overhead_s", e.kernel_overhead.value()},
          {"collective_latency_s", e.collective_latency.value()},
          {"allreduce", allreduce_summary_json(e.allreduce, allreduce_applied)}};
}

nlohmann::ordered_json allreduce_summary_json(const hw::AllReduceCurves &c, bool applied) {
  if (c.empty()) return nullptr;
  std::vector<long long> ranks;
  for (const auto &[n, curve] : c.by_ranks) ranks.push_back(n);
  return {{"implementation", c.implementation},
          {"scale_up_link", c.scale_up_link},
          {"ranks", ranks},
          {"off", c.off},
          {"applied", applied}};
}

std::string allreduce_line(const hw::AllReduceCurves &c, bool applied, long long tp,
                           const std::string &system) {
  if (c.empty() || tp < 2) return ""; // no table, or no TP all-reduce to cost
  std::string ranks;
  for (const auto &[n, curve] : c.by_ranks) ranks += (ranks.empty() ? "" : ", ") + std::to_string(n);
  if (c.off)
    return "all-reduce: NCCL's model (--allreduce nccl; the table's measured one is off)\n";
  if (!applied)
    return fmt::format("all-reduce: NCCL's model (the table's measured all-reduce covers groups "
                       "of {} GPUs inside one {} NVSwitch domain; this TP group of {} on {} is "
                       "not one)\n",
                       ranks, c.scale_up_link, tp, system);
  return fmt::format("all-reduce: measured ({}) for groups of {} GPUs inside one NVSwitch domain "
                     "of {}; other collectives: NCCL's model\n",
                     c.implementation.empty() ? "implementation not named" : c.implementation,
                     ranks, c.scale_up_link);
}

namespace {

std::string phase_line(const char *name, const sim::PhaseResult &p) {
  return fmt::format("  {:<8} {:>12}  {:>14}  {:>12}  {:>8.1f} FLOP/B  {:>6} {:>6}  {}-bound\n",
                     name, time(p.time), flops(p.flops), bytes(p.bytes), p.arithmetic_intensity(),
                     percent(p.compute_utilization), percent(p.bandwidth_utilization),
                     sim::to_string(p.bound));
}

/// Sequences in each micro-batch, in order (the larger first).
std::vector<long long> microbatch_sizes(const wl::MicroBatches &mb) {
  std::vector<long long> sizes;
  for (long long i = 0; i < mb.count; ++i) sizes.push_back(mb.sequences(i));
  return sizes;
}

} // namespace

std::string capacity_text(const sim::MemoryBreakdown &m) {
  return gb(m.capacity) + " (" + hw::capacity_label(m.capacity_source) + ")";
}

std::string microbatch_text(const wl::MicroBatches &mb) {
  const std::string n =
      std::to_string(mb.count) + (mb.count == 1 ? " micro-batch" : " micro-batches");
  if (mb.larger == 0) return n + " of " + counted(mb.size, "sequence");
  return n + ": " + std::to_string(mb.larger) + " of " + counted(mb.largest(), "sequence") +
         ", " + std::to_string(mb.count - mb.larger) + " of " + std::to_string(mb.size);
}

nlohmann::ordered_json result_header(const std::string &schema, const wl::ModelSpec &m,
                                     const hw::GpuSpec &gpu, long long gpus,
                                     const std::string &system, long long nodes) {
  return {{"schema", schema},   {"rooftop_version", version()}, {"git_sha", git_sha()},
          {"model", m.id},      {"model_file", m.file},         {"gpu", gpu.id},
          {"gpus", gpus},       {"system", system},             {"nodes", nodes}};
}

nlohmann::ordered_json dtypes_json(const wl::Deployment &d) {
  return {{"weights", to_string(d.weight_dtype)},
          {"experts", to_string(d.expert_dtype)},
          {"activations", to_string(d.act_dtype)},
          {"kv_cache", to_string(d.kv_dtype)}};
}

nlohmann::ordered_json estimate_json(const EstimateInputs &in, const sim::Estimate &e) {
  const auto &d = in.deployment;
  const auto &m = e.memory;
  nlohmann::ordered_json ops = nlohmann::ordered_json::array();
  nlohmann::ordered_json collectives = nlohmann::ordered_json::array();
  for (const auto &o : e.ops) {
    if (!o.collective.empty())
      collectives.push_back({{"name", o.name},
                             {"phase", wl::to_string(o.phase)},
                             {"stage", o.stage},
                             {"collective", o.collective},
                             {"group", o.comm_group},
                             {"ranks", o.ranks},
                             {"ranks_per_domain", o.ranks_per_domain},
                             {"algorithm", o.algorithm},
                             {"protocol", o.protocol},
                             {"count", o.count},
                             {"bytes_per_call", o.count > 0 ? o.comm_bytes.value() /
                                                                  static_cast<double>(o.count)
                                                            : 0.0},
                             {"time_s", o.time.value()}});
    ops.push_back({{"name", o.name},
                   {"phase", wl::to_string(o.phase)},
                   {"kind", wl::to_string(o.kind)},
                   {"layer_group", o.group},
                   {"stage", o.stage},
                   {"count", o.count},
                   {"flops", o.flops.value()},
                   {"bytes", o.bytes.value()},
                   {"comm_bytes", o.comm_bytes.value()},
                   {"time_s", o.time.value()},
                   {"compute_time_s", o.compute_time.value()},
                   {"memory_time_s", o.memory_time.value()},
                   {"arithmetic_intensity", o.arithmetic_intensity()},
                   {"bound", sim::to_string(o.bound)}});
  }
  const auto placement = [](const sim::Placement &p) {
    return nlohmann::ordered_json{{"ranks", p.size},
                                  {"ranks_per_domain", p.per_domain},
                                  {"fewest_ranks_per_domain", p.fewest_per_domain},
                                  {"domains", p.domains()}};
  };
  auto j = result_header("rooftop.estimate/1", in.model, in.gpu, d.gpus(), e.system, e.nodes);
  j.update(nlohmann::ordered_json{
      {"mapping",
       {{"tp", d.tp}, {"pp", d.pp}, {"cp", d.cp}, {"ep", d.ep}, {"dp", d.dp},
        {"overlap_comm", d.overlap_comm},
        {"placement",
         {{"tp", placement(e.tp)}, {"cp", placement(e.cp)}, {"ep", placement(e.ep)},
          {"pp_hop", placement(e.pp)}}}}},
      {"pipeline",
       {{"stages", d.pp},
        {"microbatches", e.microbatches.count},
        {"microbatch_sizes", microbatch_sizes(e.microbatches)},
        {"bubble_fraction", e.bubble_fraction}}},
      {"dtypes", dtypes_json(d)},
      {"workload", {{"batch", d.batch}, {"input_len", d.input_len}, {"output_len", d.output_len}}},
      {"efficiency", efficiency_json(in.efficiency, e.measured_allreduce)},
      {"feasibility", sim::to_string(e.feasibility)},
      {"memory",
       {{"weights_bytes_per_gpu", m.weights.value()},
        {"kv_cache_bytes_per_gpu", m.kv_cache.value()},
        {"activation_bytes_per_gpu", m.activations.value()},
        {"reserved_bytes_per_gpu", m.reserved.value()},
        {"total_bytes_per_gpu", m.total().value()},
        {"capacity_bytes_per_gpu", m.capacity.value()},
        {"capacity_source", hw::to_string(m.capacity_source)},
        {"datasheet_capacity_bytes_per_gpu", in.gpu.memory_datasheet.value()},
        {"fits", m.fits()},
        {"max_batch", m.max_batch},
        {"kv_replication", m.kv_replication}}},
      {"prefill", phase_json(e.prefill)},
      {"decode", phase_json(e.decode)},
      {"decode_steps", e.decode_steps},
      {"ttft_s", e.ttft.value()},
      {"tpot_s", e.tpot.value()},
      {"e2e_latency_s", e.e2e_latency.value()},
      {"output_tokens_per_s", e.output_tokens_per_s},
      {"output_tokens_per_s_per_gpu", e.output_tokens_per_s_per_gpu},
      {"output_tokens_per_s_per_user", e.output_tokens_per_s_per_user},
      {"decode_tokens_per_s", e.decode_tokens_per_s},
      {"ridge_point_flops_per_byte", e.ridge_point_flops_per_byte},
      {"collectives", collectives},
      {"ops", ops}});
  return j;
}

std::string out_of_memory_message(const EstimateInputs &in, const sim::Estimate &e) {
  const auto &m = e.memory;
  const auto &d = in.deployment;
  return fmt::format(
      "{} does not fit on {} x {} (TP={}): needs {} per GPU (weights {}, KV cache {}, "
      "activations {}, reserve {}) but has {}: short by {}; largest batch that fits: {}",
      in.model.id, d.gpus(), in.gpu.id, d.tp, gb(m.total()), gb(m.weights), gb(m.kv_cache),
      gb(m.activations), gb(m.reserved), capacity_text(m), gb(m.total() - m.capacity),
      m.max_batch);
}

std::string estimate_text(const EstimateInputs &in, const sim::Estimate &e) {
  const auto &d = in.deployment;
  const auto &m = e.memory;
  std::string s;
  s += fmt::format("{} on {} x {}  (TP={} PP={} CP={} EP={} DP={})  batch {}  input {}  output {}\n",
                   in.model.id, d.gpus(), in.gpu.name, d.tp, d.pp, d.cp, d.ep, d.dp, d.batch,
                   d.input_len, d.output_len);
  s += fmt::format("system: {} x {}; TP group {} GPU(s) over {} scale-up domain(s){}{}\n", e.nodes,
                   e.system, e.tp.size, e.tp.domains(),
                   e.tp.even() ? std::string()
                               : fmt::format(" (uneven: {} to {} in one; costed at the worst)",
                                             e.tp.fewest_per_domain, e.tp.per_domain),
                   d.overlap_comm ? "; communication overlapped with compute" : "");
  if (d.pp > 1)
    s += fmt::format("pipeline: {} stages, {}, prefill bubble {}\n", d.pp,
                     microbatch_text(e.microbatches), percent(e.bubble_fraction));
  s += fmt::format("dtypes: weights {}, experts {}, GEMM inputs {}, KV cache {}\n",
                   to_string(d.weight_dtype), to_string(d.expert_dtype), to_string(d.act_dtype),
                   to_string(d.kv_dtype));
  s += fmt::format("efficiency: {} ({})\n", hw::to_string(in.efficiency.origin),
                   in.efficiency.provenance);
  s += allreduce_line(in.efficiency.allreduce, e.measured_allreduce, d.tp, e.system) + "\n";
  s += "Memory per GPU\n";
  s += fmt::format("  weights {}  KV cache {}  activations {}  reserve {}\n", gb(m.weights),
                   gb(m.kv_cache), gb(m.activations), gb(m.reserved));
  s += fmt::format("  total {} of {}: {}; largest batch that fits: {}\n", gb(m.total()),
                   capacity_text(m), m.fits() ? "fits" : "DOES NOT FIT", m.max_batch);
  if (m.capacity_source == hw::CapacitySource::reported)
    s += fmt::format(
        "  (capacity: the card's total as nvidia-smi reports it; its datasheet says {})\n",
        gb(in.gpu.memory_datasheet));
  if (m.kv_replication > 1)
    s += fmt::format("  each K/V head (or MLA latent) is held by {:.0f} GPUs of the TP group: the KV "
                     "cache above counts the copies\n",
                     m.kv_replication);
  s += "\n";
  s += "Per GPU      time          work           traffic   intensity      compute  HBM use\n";
  s += phase_line("prefill", e.prefill);
  s += phase_line("decode", e.decode);
  s += fmt::format("  (decode: mean step over {} steps; GEMM ridge point {:.1f} FLOP/B)\n\n",
                   e.decode_steps, e.ridge_point_flops_per_byte);
  s += fmt::format("TTFT {}   TPOT {}   end-to-end {}\n", time(e.ttft), time(e.tpot),
                   time(e.e2e_latency));
  s += fmt::format("throughput {:.1f} output tokens/s ({:.1f} per GPU, {:.1f} per user); "
                   "{:.1f} tokens/s while decoding\n",
                   e.output_tokens_per_s, e.output_tokens_per_s_per_gpu,
                   e.output_tokens_per_s_per_user, e.decode_tokens_per_s);
  // Time by operator kind per phase.
  for (auto phase : {wl::Phase::prefill, wl::Phase::decode}) {
    std::map<std::string, double> by_kind;
    double total = 0;
    for (const auto &o : e.ops)
      if (o.phase == phase) {
        by_kind[wl::to_string(o.kind)] += o.time.value();
        total += o.time.value();
      }
    std::vector<std::pair<std::string, double>> v(by_kind.begin(), by_kind.end());
    std::sort(v.begin(), v.end(), [](auto &a, auto &b) { return a.second > b.second; });
    s += fmt::format("\n{} time by operator kind\n", wl::to_string(phase));
    for (const auto &[k, t] : v)
      s += fmt::format("  {:<16} {:>12}  {:>6}\n", k, time(Seconds(t)), percent(t / total));
  }
  return s;
}

} // namespace rooftop::rep
