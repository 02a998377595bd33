// Mapping validation and head splitting.
#include "workloads/deployment.hpp"

#include "core/errors.hpp"
#include "workloads/op_graph.hpp"

#include <algorithm>

namespace rooftop::wl {

HeadSplit split_heads(const AttentionSpec &a, long long tp, const std::string &model_file) {
  if (a.num_heads % tp != 0)
    throw InputError("impossible mapping: --tp " + std::to_string(tp) +
                     " does not divide num_attention_heads = " + std::to_string(a.num_heads) +
                     " of " + model_file);
  HeadSplit s;
  s.q_heads = a.num_heads / tp;
  if (a.kind == AttentionKind::mla) { // one latent shared by all heads: every GPU keeps it whole
    s.kv_heads = 1;
    s.kv_replicated = tp > 1;
    return s;
  }
  if (a.num_kv_heads >= tp) {
    if (a.num_kv_heads % tp != 0)
      throw InputError("impossible mapping: --tp " + std::to_string(tp) +
                       " does not divide num_key_value_heads = " + std::to_string(a.num_kv_heads) +
                       " of " + model_file);
    s.kv_heads = a.num_kv_heads / tp;
  } else {
    if (tp % a.num_kv_heads != 0)
      throw InputError("impossible mapping: num_key_value_heads = " +
                       std::to_string(a.num_kv_heads) + " of " + model_file +
                       " does not divide --tp " + std::to_string(tp));
    s.kv_heads = 1;
    s.kv_replicated = true;
  }
  return s;
}

MicroBatches split_microbatches(const Deployment &d) {
  const long long count = d.pp > 1 ? std::max(1LL, std::min(d.pp, d.batch)) : 1;
  return {count, d.batch / count, d.batch % count};
}

void validate_mapping(const ModelSpec &m, const Deployment &d) {
  for (const auto &[name, v] :
       {std::pair{"--tp", d.tp}, {"--pp", d.pp}, {"--cp", d.cp}, {"--ep", d.ep}, {"--dp", d.dp}})
    if (v < 1) throw InputError(std::string("impossible mapping: ") + name + " = " +
                                std::to_string(v) + ": must be >= 1");
  if (d.tp > (1 << 20) || d.dp > (1 << 20) || d.pp > (1 << 12) || d.cp > (1 << 12) ||
      d.batch > (1LL << 30) || d.gpus() > (1LL << 24))
    throw InputError("impossible mapping: --tp, --pp, --cp, --gpus or --batch is beyond any real "
                     "deployment");
  if (d.pp > m.num_layers)
    throw InputError("impossible mapping: --pp " + std::to_string(d.pp) + " exceeds the " +
                     std::to_string(m.num_layers) + " layers of " + m.file);
  if (d.ep > 1) {
    if (!m.is_moe())
      throw InputError("impossible mapping: --ep " + std::to_string(d.ep) + " on " + m.file +
                       ", which has no experts");
    if (d.ep != d.tp && d.ep != d.tp * d.dp)
      throw InputError("impossible mapping: --ep " + std::to_string(d.ep) +
                       " must equal --tp (experts spread over the TP group) or --tp x DP replicas (" +
                       std::to_string(d.tp * d.dp) + ", attention data parallelism)");
    if (d.ep > d.tp && (d.pp > 1 || d.cp > 1))
      throw NotSupported("--ep across DP replicas together with --pp or --cp is not modelled");
    for (const auto &g : m.groups)
      if (g.layer.ffn.kind == FfnKind::moe && g.layer.ffn.num_experts % d.ep != 0)
        throw InputError("impossible mapping: --ep " + std::to_string(d.ep) +
                         " does not divide the " + std::to_string(g.layer.ffn.num_experts) +
                         " routed experts of " + m.file);
  }
  if (d.ep_imbalance != 0 && !(d.ep_imbalance >= 1.0))
    throw InputError("--ep-imbalance must be >= 1 (busiest rank / mean), or 0 to derive it");
  for (const auto &g : m.groups)
    if (d.ep > 1 && d.ep_imbalance > 0 && g.layer.ffn.kind == FfnKind::moe) {
      const double cap = max_ep_imbalance(d.ep, g.layer.ffn);
      if (d.ep_imbalance > cap + 1e-9)
        throw InputError("--ep-imbalance " + std::to_string(d.ep_imbalance) + " exceeds the most " +
                         "possible with --ep " + std::to_string(d.ep) + ": " + std::to_string(cap) +
                         " (a token's top-k picks are distinct experts, at most E/ep per rank)");
    }
  if (d.batch < 1) throw InputError("--batch = " + std::to_string(d.batch) + ": must be >= 1");
  if (d.input_len < 1)
    throw InputError("--input-len = " + std::to_string(d.input_len) + ": must be >= 1 token");
  if (d.output_len < 1)
    throw InputError("--output-len = " + std::to_string(d.output_len) + ": must be >= 1 token");
  if (d.cp > d.input_len)
    throw InputError("impossible mapping: --cp " + std::to_string(d.cp) + " exceeds the " +
                     std::to_string(d.input_len) + "-token prompt it splits");
  constexpr long long max_tokens = 1LL << 31;
  if (d.input_len > max_tokens || d.output_len > max_tokens)
    throw InputError("--input-len and --output-len must be at most 2^31 tokens");
  for (const auto &g : m.groups) {
    split_heads(g.layer.attention, d.tp, m.file);
    const auto &f = g.layer.ffn;
    if (f.kind == FfnKind::moe && d.ep > 1) continue; // experts stay whole under EP
    const long long width = f.kind == FfnKind::dense ? f.intermediate : f.expert_intermediate;
    const char *field = f.kind == FfnKind::dense ? "intermediate_size" : "moe/expert intermediate size";
    if (width % d.tp != 0)
      throw InputError("impossible mapping: --tp " + std::to_string(d.tp) + " does not divide " +
                       field + " = " + std::to_string(width) + " of " + m.file);
  }
  if (dtype_bits(d.act_dtype) < dtype_bits(d.weight_dtype))
    throw InputError("--act-dtype " + to_string(d.act_dtype) +
                     " is narrower than the stored weights (" + to_string(d.weight_dtype) +
                     "): GEMM inputs are never quantized below the weights; quantize the weights "
                     "too (--weight-dtype)");
  if (m.max_position_embeddings > 0 && d.input_len + d.output_len > m.max_position_embeddings)
    throw InputError("--input-len + --output-len = " + std::to_string(d.input_len + d.output_len) +
                     " exceeds max_position_embeddings = " +
                     std::to_string(m.max_position_embeddings) + " of " + m.file);
}

} // namespace rooftop::wl
