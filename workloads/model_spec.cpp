// Parameter counts and KV-cache sizes of a ModelSpec.
#include "workloads/model_spec.hpp"

#include "core/errors.hpp"

#include <algorithm>

namespace rooftop::wl {

std::string to_string(AttentionKind k) {
  switch (k) {
  case AttentionKind::full: return "full";
  case AttentionKind::sliding: return "sliding";
  case AttentionKind::mla: return "mla";
  }
  throw InternalError("to_string: unknown AttentionKind");
}

std::string to_string(FfnKind k) { return k == FfnKind::dense ? "dense" : "moe"; }

bool ModelSpec::is_moe() const {
  return std::any_of(groups.begin(), groups.end(),
                     [](const LayerGroup &g) { return g.layer.ffn.kind == FfnKind::moe; });
}

double attention_params(const AttentionSpec &a, long long hidden) {
  const auto h = static_cast<double>(hidden);
  const auto nq = static_cast<double>(a.num_heads);
  if (a.kind == AttentionKind::mla) {
    // q: h*q_lora + q_lora (norm) + q_lora*nq*(nope+rope); or h*nq*(nope+rope) without q_lora
    const auto qd = static_cast<double>(a.qk_nope_head_dim + a.qk_rope_head_dim);
    const auto ql = static_cast<double>(a.q_lora_rank);
    const auto kvl = static_cast<double>(a.kv_lora_rank);
    const double q = ql > 0 ? h * ql + ql + ql * nq * qd : h * nq * qd;
    // kv_a_proj_with_mqa: h*(kv_lora+rope); kv_a_layernorm: kv_lora;
    // kv_b_proj: kv_lora*nq*(nope+v); o_proj: nq*v*h
    const double kv = h * (kvl + static_cast<double>(a.qk_rope_head_dim)) + kvl +
                      kvl * nq * static_cast<double>(a.qk_nope_head_dim + a.v_head_dim);
    return q + kv + nq * static_cast<double>(a.v_head_dim) * h + (a.o_bias ? h : 0.0);
  }
  const auto nkv = static_cast<double>(a.num_kv_heads);
  const auto d = static_cast<double>(a.head_dim);
  // q: h*nq*d, k and v: h*nkv*d each, o: nq*d*h (+ biases, q/k norms, sinks)
  double p = h * (nq + 2 * nkv) * d + nq * d * h;
  if (a.qkv_bias) p += (nq + 2 * nkv) * d;
  if (a.o_bias) p += h;
  if (a.qk_norm) p += 2 * d;
  if (a.sinks) p += nq;
  return p;
}

double expert_params(const FfnSpec &f, long long hidden, long long intermediate) {
  const auto h = static_cast<double>(hidden);
  const auto i = static_cast<double>(intermediate);
  // gated: gate and up h*I each, down I*h; biases: gate/up I each, down h
  const double mats = f.gated ? 3 * h * i : 2 * h * i;
  const double bias = f.bias ? (f.gated ? 2 * i : i) + h : 0.0;
  return mats + bias;
}

ParamCount count_params(const ModelSpec &m) {
  ParamCount p;
  const auto h = static_cast<double>(m.hidden_size);
  const auto v = static_cast<double>(m.vocab_size);
  p.embedding = v * h;
  p.lm_head = m.tie_word_embeddings ? 0.0 : v * h;
  p.norms = h; // final norm
  // Active without the input table: the final norm and the LM head (the tied table when tied).
  p.active_excluding_embedding = h + v * h;
  for (const auto &g : m.groups) {
    const auto n = static_cast<double>(g.count);
    const auto &a = g.layer.attention;
    const auto &f = g.layer.ffn;
    const double attn = attention_params(a, m.hidden_size);
    double ffn = 0;
    double ffn_active = 0;
    if (f.kind == FfnKind::dense) {
      ffn = ffn_active = expert_params(f, m.hidden_size, f.intermediate);
    } else {
      const double router = h * static_cast<double>(f.num_experts) +
                            (f.router_bias ? static_cast<double>(f.num_experts) : 0.0);
      const double one = expert_params(f, m.hidden_size, f.expert_intermediate);
      const double shared = static_cast<double>(f.num_shared_experts) *
                            expert_params(f, m.hidden_size, f.shared_intermediate);
      ffn = router + static_cast<double>(f.num_experts) * one + shared;
      ffn_active = router + static_cast<double>(f.experts_per_token) * one + shared;
      p.routed_experts += n * static_cast<double>(f.num_experts) * one;
    }
    p.attention += n * attn;
    p.ffn += n * ffn;
    p.norms += n * 2 * h; // input and post-attention RMSNorm
    p.active_excluding_embedding += n * (attn + ffn_active + 2 * h);
  }
  p.total = p.embedding + p.lm_head + p.attention + p.ffn + p.norms;
  // With the table (counted once when tied to the LM head).
  p.active = p.active_excluding_embedding + (m.tie_word_embeddings ? 0.0 : p.embedding);
  return p;
}

Bytes kv_bytes_per_token_layer(const AttentionSpec &a, DType kv) {
  const double b = dtype_storage_bytes(kv);
  if (a.kind == AttentionKind::mla)
    return Bytes(static_cast<double>(a.kv_lora_rank + a.qk_rope_head_dim) * b);
  return Bytes(2.0 * static_cast<double>(a.num_kv_heads * a.head_dim) * b);
}

Bytes kv_bytes_per_token(const ModelSpec &m, DType kv) {
  Bytes total;
  for (const auto &g : m.groups)
    total += kv_bytes_per_token_layer(g.layer.attention, kv) * static_cast<double>(g.count);
  return total;
}

Bytes kv_cache_bytes(const ModelSpec &m, DType kv, long long tokens) {
  Bytes total;
  for (const auto &g : m.groups) {
    const auto &a = g.layer.attention;
    const long long kept = a.window ? std::min(tokens, *a.window) : tokens;
    total += kv_bytes_per_token_layer(a, kv) * static_cast<double>(kept * g.count);
  }
  return total;
}

} // namespace rooftop::wl
