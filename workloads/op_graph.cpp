// Lowering: per-GPU operators of a forward pass, with FLOPs and bytes (formulas beside each).
// Conventions: a GEMM of (M x K) by (K x N) costs 2 M N K FLOP (Williams et al., Roofline, 2009);
// activations move at the model's dtype; embedding, lm_head, norms and routers stay at the
// model's dtype (quantization applies to the linear layers, as in vLLM's FP8/NVFP4 paths).
#include "workloads/op_graph.hpp"

#include "core/errors.hpp"

#include <algorithm>
#include <cmath>

namespace rooftop::wl {
namespace {

/// Everything a layer lowering needs, in doubles.
struct Ctx {
  const ModelSpec &m;
  const Deployment &d;
  Phase phase;
  PassShape s;
  double h;        // hidden size
  double tp;
  double T;        // tokens this GPU processes: batch * new_tokens (/ cp in prefill)
  double cp;       // context-parallel degree
  double ab;       // activation bytes per element (model dtype)
  double wb;       // weight bytes per element
  double eb;       // expert weight bytes per element
  double kvb;      // KV bytes per element
  std::vector<Op> *out;
};

Op make(const char *name, OpKind kind, Unit unit, int group, long long count, DType dt) {
  Op o;
  o.name = name;
  o.kind = kind;
  o.unit = unit;
  o.group = group;
  o.count = count;
  o.compute_dtype = dt;
  return o;
}

/// A linear layer: M tokens x K in -> N out. FLOP = 2 M N K; weights K N; act (K + N) M.
Op linear(const Ctx &c, const char *name, OpKind kind, int group, long long count, double tokens,
          double k, double n, double wbytes) {
  Op o = make(name, kind, Unit::gemm, group, count, c.d.act_dtype);
  o.flops = Flops(2 * tokens * k * n);
  o.weight_bytes = o.stored_weight_bytes = Bytes(k * n * wbytes);
  o.act_bytes = Bytes((k + n) * tokens * c.ab);
  o.rows = tokens;
  o.cols = n;
  return o;
}

/// RMSNorm over `tokens` x width: ~4 FLOP per element; read and write the row, read the weight.
Op norm(const Ctx &c, const char *name, int group, long long count, double tokens, double width) {
  Op o = make(name, OpKind::norm, Unit::vector, group, count, c.m.dtype);
  o.flops = Flops(4 * tokens * width);
  o.act_bytes = Bytes(2 * tokens * width * c.ab);
  o.weight_bytes = o.stored_weight_bytes = Bytes(width * c.ab);
  return o;
}

/// A collective of `size` bytes (nccl-tests convention) over one group (costed in sim/).
void collective(const Ctx &c, const char *name, int group, long long count, Collective kind,
                CommGroup over, double size) {
  const OpKind op_kind = kind == Collective::all_reduce   ? OpKind::all_reduce
                         : kind == Collective::all_gather ? OpKind::all_gather
                         : kind == Collective::all_to_all ? OpKind::all_to_all
                                                          : OpKind::send_recv;
  Op o = make(name, op_kind, Unit::network, group, count, c.m.dtype);
  o.comm_bytes = Bytes(size);
  o.collective = kind;
  o.comm_group = over;
  c.out->push_back(o);
}

/// All-reduce of the T x hidden activations across the TP group.
void all_reduce(const Ctx &c, const char *name, int group, long long count) {
  if (c.d.tp <= 1) return;
  collective(c, name, group, count, Collective::all_reduce, CommGroup::tp, c.T * c.h * c.ab);
}

/// Context parallelism: prefill all-gathers the new tokens' K/V (whole output `kv_size`) so each
/// rank attends over all of them (ring attention moves the same bytes); decode all-gathers the
/// partial attention outputs (`out_size` per rank) to combine them.
void cp_exchange(const Ctx &c, int g, long long n, double kv_size, double out_size) {
  if (c.d.cp <= 1) return;
  if (c.phase == Phase::prefill)
    collective(c, "cp_kv_all_gather", g, n, Collective::all_gather, CommGroup::cp, kv_size);
  else
    collective(c, "cp_attn_all_gather", g, n, Collective::all_gather, CommGroup::cp,
               out_size * c.cp);
}

void lower_gqa(const Ctx &c, const AttentionSpec &a, int g, long long n) {
  const HeadSplit hs = split_heads(a, c.d.tp, c.m.file);
  const double H = static_cast<double>(hs.q_heads), Hkv = static_cast<double>(hs.kv_heads);
  const double dh = static_cast<double>(a.head_dim), dv = static_cast<double>(a.v_head_dim);
  Op qkv = linear(c, "qkv_proj", OpKind::qkv_proj, g, n, c.T, c.h, (H + 2 * Hkv) * dh, c.wb);
  if (a.qk_norm) qkv.flops += Flops(4 * c.T * (H + Hkv) * dh); // per-head q/k RMSNorm
  c.out->push_back(qkv);
  // Attention: QK^T 2*d and PV 2*dv FLOP per (query, key) pair per head.
  // With CP every rank attends its share (load-balanced causal split): keys / cp per rank.
  const double keys = attended_keys(c.s.past_tokens, c.s.new_tokens, a.window) / c.cp;
  const double batch = static_cast<double>(c.s.batch);
  Op at = make("attention", OpKind::attention, Unit::attention, g, n, c.m.dtype);
  at.kv_dtype = c.d.kv_dtype;
  at.flops = Flops(2 * batch * H * (dh + dv) * keys);
  // K/V read for the cached keys in the window plus the new ones, and the new K/V written; CP
  // shards the cache (decode) or the new tokens (prefill) over its ranks.
  const double past = static_cast<double>(
      a.window ? std::min(c.s.past_tokens, std::max(0LL, *a.window - 1)) : c.s.past_tokens);
  const double kv_tok = 2 * Hkv * dh * c.kvb;
  const double news = static_cast<double>(c.s.new_tokens);
  at.kv_bytes = Bytes(batch * (past + news) * kv_tok / c.cp + c.T * kv_tok);
  at.act_bytes = Bytes(c.T * H * (dh + dv) * c.ab); // read Q, write O
  at.context = keys * c.cp / news; // keys each query attends (keys is per sequence)
  at.new_tokens = news;
  at.items = batch * Hkv;
  c.out->push_back(at);
  cp_exchange(c, g, n, batch * news * kv_tok, batch * H * dv * c.ab);
  c.out->push_back(linear(c, "o_proj", OpKind::o_proj, g, n, c.T, H * dv, c.h, c.wb));
}

/// MLA (DeepSeek V2/V3). Prefill decompresses K/V from the latent (kv_b_proj on every key) and
/// runs MHA; decode absorbs kv_b_proj into the query and output and attends in latent space
/// (DeepSeek-V2 paper, sec. 2.1.3; vLLM's MLA backend).
void lower_mla(const Ctx &c, const AttentionSpec &a, int g, long long n) {
  const HeadSplit hs = split_heads(a, c.d.tp, c.m.file);
  const double H = static_cast<double>(hs.q_heads);
  const double nope = static_cast<double>(a.qk_nope_head_dim);
  const double rope = static_cast<double>(a.qk_rope_head_dim);
  const double dv = static_cast<double>(a.v_head_dim);
  const double kvl = static_cast<double>(a.kv_lora_rank), ql = static_cast<double>(a.q_lora_rank);
  const double qd = nope + rope;
  // q path: q_a_proj (replicated) + q_b_proj (column-parallel), or a direct q_proj.
  Op q = ql > 0 ? linear(c, "q_proj", OpKind::qkv_proj, g, n, c.T, c.h, ql, c.wb)
                : linear(c, "q_proj", OpKind::qkv_proj, g, n, c.T, c.h, H * qd, c.wb);
  if (ql > 0) {
    const Op qb = linear(c, "q_proj", OpKind::qkv_proj, g, n, c.T, ql, H * qd, c.wb);
    q.flops += qb.flops;
    q.weight_bytes += qb.weight_bytes;
    q.stored_weight_bytes += qb.stored_weight_bytes;
    q.act_bytes += qb.act_bytes;
    q.kernels = 2;
  }
  c.out->push_back(q);
  // kv_a_proj_with_mqa (replicated): h -> kv_lora + rope, the latent that is cached.
  c.out->push_back(linear(c, "kv_a_proj", OpKind::qkv_proj, g, n, c.T, c.h, kvl + rope, c.wb));
  const double keys = attended_keys(c.s.past_tokens, c.s.new_tokens, a.window) / c.cp;
  const double batch = static_cast<double>(c.s.batch);
  const double lat_tok = (kvl + rope) * c.kvb; // latent bytes per token (whole, on every GPU)
  const double kv_tokens = batch * static_cast<double>(c.s.past_tokens + c.s.new_tokens) / c.cp;
  Op kvb = make("kv_b_proj", OpKind::qkv_proj, Unit::gemm, g, n, c.d.act_dtype);
  kvb.weight_bytes = kvb.stored_weight_bytes = Bytes(kvl * H * (nope + dv) * c.wb);
  Op at = make("attention", OpKind::attention, Unit::attention, g, n, c.m.dtype);
  at.kv_dtype = c.d.kv_dtype;
  if (c.phase == Phase::prefill) {
    // Decompress every key: kv_tokens x kv_lora -> H (nope + v).
    kvb.flops = Flops(2 * kv_tokens * kvl * H * (nope + dv));
    kvb.act_bytes = Bytes(kv_tokens * (kvl + H * (nope + dv)) * c.ab);
    kvb.rows = kv_tokens;
    kvb.cols = H * (nope + dv);
    at.flops = Flops(2 * batch * H * (qd + dv) * keys);
    at.kv_bytes = Bytes(kv_tokens * H * (qd + dv) * c.ab + c.T * lat_tok);
    at.act_bytes = Bytes(c.T * H * (qd + dv) * c.ab);
  } else {
    // Absorbed: q_nope (H x nope) -> H x kv_lora, and the latent output H x kv_lora -> H x v.
    kvb.flops = Flops(2 * c.T * H * kvl * (nope + dv));
    kvb.act_bytes = Bytes(c.T * H * (nope + 2 * kvl + dv) * c.ab);
    kvb.kernels = 2;
    // Two GEMMs batched over the H heads: T x nope -> kv_lora, then T x kv_lora -> v.
    kvb.rows = c.T;
    kvb.groups = H;
    kvb.cols = kvl;
    kvb.second_cols = dv;
    kvb.second_share = dv / (nope + dv);
    // Scores over (kv_lora + rope), values over kv_lora, per head and key (MQA-like).
    at.flops = Flops(2 * batch * H * (kvl + rope + kvl) * keys);
    at.kv_bytes = Bytes(kv_tokens * lat_tok + c.T * lat_tok);
    at.act_bytes = Bytes(c.T * H * (kvl + rope + kvl) * c.ab);
  }
  at.context = keys * c.cp / static_cast<double>(c.s.new_tokens);
  at.new_tokens = static_cast<double>(c.s.new_tokens);
  // Prefill runs MHA over the decompressed heads; decode one shared latent (one KV head).
  at.items = c.phase == Phase::prefill ? batch * H : batch;
  c.out->push_back(kvb);
  c.out->push_back(at);
  cp_exchange(c, g, n, batch * static_cast<double>(c.s.new_tokens) * lat_tok, batch * H * dv * c.ab);
  c.out->push_back(linear(c, "o_proj", OpKind::o_proj, g, n, c.T, H * dv, c.h, c.wb));
}

/// Gated MLP (gate+up fused, activation, down) split by TP over the intermediate dimension.
void lower_dense_mlp(const Ctx &c, const FfnSpec &f, int g, long long n, double inter,
                     const char *up_name, const char *down_name, OpKind kind) {
  const double i = inter / c.tp;
  const double ups = f.gated ? 2.0 : 1.0;
  c.out->push_back(linear(c, up_name, kind, g, n, c.T, c.h, ups * i, c.wb));
  Op act = make("mlp_act", OpKind::activation, Unit::vector, g, n, c.m.dtype);
  act.flops = Flops(4 * c.T * i);                   // SiLU and product, ~4 FLOP per element
  act.act_bytes = Bytes((ups + 1) * c.T * i * c.ab); // read gate (and up), write the product
  c.out->push_back(act);
  c.out->push_back(linear(c, down_name, kind, g, n, c.T, i, c.h, c.wb));
}

/// The two grouped GEMMs of the routed experts, for wave quantization: gate and up fused
/// (N = 2 x intermediate, gated) or up alone, then down (N = hidden), over `groups` experts with
/// tokens; the down projection does 1/3 of the FLOPs (gated) or 1/2.
void expert_gemm_shapes(Op &ex, const FfnSpec &f, double hidden, double inter, double groups) {
  ex.cols = (f.gated ? 2.0 : 1.0) * inter;
  ex.groups = std::max(groups, 1.0);
  ex.second_cols = hidden;
  ex.second_share = f.gated ? 1.0 / 3.0 : 0.5;
}

/// Expert parallelism: E/ep whole experts per GPU. With ep = tp the TP group already holds every
/// token (after the attention all-reduce): each rank runs its experts on the tokens routed to
/// them and the TP all-reduce that follows combines the outputs, as in TP MoE. With ep = tp x dp
/// (attention DP) the EP group's tokens (ep/tp replicas' worth) are dispatched to their experts
/// and combined back by two all-to-alls; dispatch moves activations at the GEMM input dtype
/// (FP8 where the GEMMs run in FP8, as DeepEP does), combine at the model dtype.
void lower_moe_ep(const Ctx &c, const FfnSpec &f, int g, long long n) {
  const double E = static_cast<double>(f.num_experts);
  const double k = static_cast<double>(f.experts_per_token);
  const double ep = static_cast<double>(c.d.ep);
  const double ie = static_cast<double>(f.expert_intermediate);
  const bool dispatch = c.d.ep > c.d.tp;
  const double group_tokens = c.T * ep / c.tp; // tokens of every replica in the EP group
  const double imbalance = c.d.ep_imbalance > 0
                               ? c.d.ep_imbalance
                               : expected_ep_imbalance(c.d.ep, group_tokens * k,
                                                       max_ep_imbalance(c.d.ep, f));
  const double local_picks = group_tokens * k / ep * imbalance; // busiest rank
  const double ups = f.gated ? 3.0 : 2.0;
  const double per_expert = ups * c.h * ie;
  const double local_experts = E / ep;
  const double touched = local_experts * (1.0 - std::pow(1.0 - k / E, group_tokens));
  // Each rank sends its tokens' k copies of the hidden state (one rank's send buffer); the
  // all-to-all lasts as long as the busiest rank's share, imbalance x the mean.
  const double copies = group_tokens / ep * k * c.h * imbalance;
  if (dispatch)
    collective(c, "ep_dispatch_all_to_all", g, n, Collective::all_to_all, CommGroup::ep,
               copies * dtype_storage_bytes(c.d.act_dtype));
  Op ex = make("moe_experts", OpKind::moe_experts, Unit::gemm, g, n, c.d.act_dtype);
  ex.flops = Flops(2 * local_picks * per_expert);
  ex.rows = local_picks / std::max(std::min(touched, local_experts), 1.0);
  expert_gemm_shapes(ex, f, c.h, ie, std::min(touched, local_experts));
  ex.weight_bytes = Bytes(std::min(touched, local_experts) * per_expert * c.eb);
  ex.stored_weight_bytes = Bytes(local_experts * per_expert * c.eb);
  ex.act_bytes = Bytes(local_picks * (2 * c.h + (ups + 1) * ie) * c.ab);
  ex.kernels = 3;
  c.out->push_back(ex);
  if (dispatch)
    collective(c, "ep_combine_all_to_all", g, n, Collective::all_to_all, CommGroup::ep, copies * c.ab);
}

void lower_moe(const Ctx &c, const FfnSpec &f, int g, long long n) {
  const double E = static_cast<double>(f.num_experts);
  const double k = static_cast<double>(f.experts_per_token);
  const double ie = static_cast<double>(f.expert_intermediate) / c.tp;
  // Router: h -> E logits, kept at the model dtype.
  Op r = linear(c, "router", OpKind::router, g, n, c.T, c.h, E, c.ab);
  c.out->push_back(r);
  if (c.d.ep > 1) {
    lower_moe_ep(c, f, g, n);
  } else {
  // Routed experts (grouped GEMMs): each token runs k experts; the batch reads only the experts
  // it touches (expected distinct experts of T tokens x k picks out of E).
  const double touched = expected_touched_experts(f.num_experts, f.experts_per_token, c.T);
  const double ups = f.gated ? 3.0 : 2.0;
  const double per_expert = ups * c.h * ie; // weights of one expert on one GPU
  Op ex = make("moe_experts", OpKind::moe_experts, Unit::gemm, g, n, c.d.act_dtype);
  ex.flops = Flops(2 * c.T * k * per_expert);
  ex.rows = c.T * k / std::max(touched, 1.0); // tokens per touched expert
  expert_gemm_shapes(ex, f, c.h, ie, touched);
  ex.weight_bytes = Bytes(touched * per_expert * c.eb);
  ex.stored_weight_bytes = Bytes(E * per_expert * c.eb);
  // Dispatch in, gate/up out, activation, down in, combine out.
  ex.act_bytes = Bytes(c.T * k * (2 * c.h + (ups + 1) * ie) * c.ab);
  ex.kernels = 3;
  c.out->push_back(ex);
  }
  if (f.num_shared_experts > 0) {
    FfnSpec shared = f;
    lower_dense_mlp(c, shared, g, n,
                    static_cast<double>(f.num_shared_experts * f.shared_intermediate),
                    "shared_up", "shared_down", OpKind::shared_experts);
  }
}

void lower_layer(const Ctx &c, const LayerSpec &l, int g, long long n) {
  c.out->push_back(norm(c, "attn_norm", g, n, c.T, c.h));
  if (l.attention.kind == AttentionKind::mla) lower_mla(c, l.attention, g, n);
  else lower_gqa(c, l.attention, g, n);
  all_reduce(c, "attn_all_reduce", g, n);
  c.out->push_back(norm(c, "ffn_norm", g, n, c.T, c.h));
  if (l.ffn.kind == FfnKind::moe) lower_moe(c, l.ffn, g, n);
  else lower_dense_mlp(c, l.ffn, g, n, static_cast<double>(l.ffn.intermediate), "mlp_up",
                       "mlp_down", OpKind::mlp);
  // With attention DP (ep > tp) the combine all-to-all returns each token's expert output to the
  // rank that sent it, which holds 1/tp of its TP group's tokens: an all-gather over TP restores
  // them all, and a TP all-reduce remains only for the TP-sharded shared experts. Otherwise
  // (dense, TP MoE, or EP = TP) one TP all-reduce combines the layer's outputs.
  const bool dp_ep = l.ffn.kind == FfnKind::moe && c.d.ep > c.d.tp;
  if (!dp_ep || l.ffn.num_shared_experts > 0) all_reduce(c, "ffn_all_reduce", g, n);
  if (dp_ep && c.d.tp > 1)
    collective(c, "ep_tp_all_gather", g, n, Collective::all_gather, CommGroup::tp, c.T * c.h * c.ab);
}

} // namespace

std::string to_string(Phase p) { return p == Phase::prefill ? "prefill" : "decode"; }

std::string to_string(OpKind k) {
  switch (k) {
  case OpKind::embedding: return "embedding";
  case OpKind::norm: return "norm";
  case OpKind::qkv_proj: return "qkv_proj";
  case OpKind::attention: return "attention";
  case OpKind::o_proj: return "o_proj";
  case OpKind::router: return "router";
  case OpKind::mlp: return "mlp";
  case OpKind::activation: return "activation";
  case OpKind::moe_experts: return "moe_experts";
  case OpKind::shared_experts: return "shared_experts";
  case OpKind::lm_head: return "lm_head";
  case OpKind::all_reduce: return "all_reduce";
  case OpKind::all_gather: return "all_gather";
  case OpKind::all_to_all: return "all_to_all";
  case OpKind::send_recv: return "send_recv";
  }
  throw InternalError("to_string: unknown OpKind");
}

std::string to_string(Collective k) {
  switch (k) {
  case Collective::all_reduce: return "all-reduce";
  case Collective::all_gather: return "all-gather";
  case Collective::all_to_all: return "all-to-all";
  case Collective::send_recv: return "send-recv";
  }
  throw InternalError("to_string: unknown Collective");
}

std::string to_string(CommGroup g) {
  switch (g) {
  case CommGroup::tp: return "tp";
  case CommGroup::cp: return "cp";
  case CommGroup::ep: return "ep";
  case CommGroup::pp: return "pp";
  }
  throw InternalError("to_string: unknown CommGroup");
}

std::string to_string(Unit u) {
  switch (u) {
  case Unit::gemm: return "gemm";
  case Unit::attention: return "attention";
  case Unit::vector: return "vector";
  case Unit::network: return "network";
  }
  throw InternalError("to_string: unknown Unit");
}

double attended_keys(long long past, long long new_tokens, std::optional<long long> window) {
  const auto P = static_cast<double>(past), S = static_cast<double>(new_tokens);
  if (!window) return S * P + S * (S + 1) / 2;
  // The first m queries (P+i+1 <= w) see P+i+1 keys, the rest see w.
  const auto w = static_cast<double>(*window);
  const double m = std::clamp(w - P, 0.0, S);
  return m * P + m * (m + 1) / 2 + (S - m) * w;
}

double expected_touched_experts(long long experts, long long k, double tokens) {
  const auto E = static_cast<double>(experts);
  return E * (1.0 - std::pow(1.0 - static_cast<double>(k) / E, tokens));
}

std::vector<StageSlice> split_stages(const ModelSpec &m, long long pp) {
  std::vector<StageSlice> stages(static_cast<std::size_t>(pp));
  const long long L = m.num_layers;
  for (long long s = 0; s < pp; ++s) {
    // Stage s holds layers [s L / pp, (s + 1) L / pp): sizes differ by at most one.
    const long long first = s * L / pp, end = (s + 1) * L / pp;
    auto &st = stages[static_cast<std::size_t>(s)];
    st.group_counts.assign(m.groups.size(), 0);
    for (long long i = first; i < end; ++i)
      ++st.group_counts[static_cast<std::size_t>(m.layer_group[static_cast<std::size_t>(i)])];
    st.embedding = s == 0;
    st.head = s == pp - 1;
  }
  return stages;
}

double max_ep_imbalance(long long ranks, const FfnSpec &f) {
  // A token's k picks are distinct experts, at most E/ep of them on one rank: the busiest rank
  // gets at most min(k, E/ep) of each token's k picks, i.e. ep min(k, E/ep) / k x the mean.
  const auto r = static_cast<double>(ranks), k = static_cast<double>(f.experts_per_token);
  const double per_rank = static_cast<double>(f.num_experts) / r;
  return std::max(1.0, r * std::min(k, per_rank) / k);
}

double expected_ep_imbalance(long long ranks, double assignments, double cap) {
  if (ranks <= 1 || assignments <= 0) return 1.0;
  const auto r = static_cast<double>(ranks);
  return std::min(cap, 1.0 + std::sqrt(2.0 * std::log(r) * (r - 1.0) / assignments));
}

std::vector<Op> lower_pass(const ModelSpec &m, const Deployment &d, Phase phase,
                           const PassShape &shape, const StageSlice *stage) {
  std::vector<Op> out;
  out.reserve(m.groups.size() * 20 + 6);
  const auto B = static_cast<double>(shape.batch);
  const auto cp = static_cast<double>(d.cp);
  // CP splits each prompt's new tokens over its ranks in prefill; decode adds one token.
  const double local_new = phase == Phase::prefill
                               ? std::ceil(static_cast<double>(shape.new_tokens) / cp)
                               : static_cast<double>(shape.new_tokens);
  Ctx c{m,
        d,
        phase,
        shape,
        static_cast<double>(m.hidden_size),
        static_cast<double>(d.tp),
        B * local_new,
        cp,
        dtype_storage_bytes(m.dtype),
        dtype_storage_bytes(d.weight_dtype),
        dtype_storage_bytes(d.expert_dtype),
        dtype_storage_bytes(d.kv_dtype),
        &out};
  const double V = static_cast<double>(m.vocab_size) / c.tp; // vocab-parallel shard
  if (!stage || stage->embedding) {
    // Embedding: gather T rows of the (vocab-parallel) table, then all-reduce the shards.
    Op emb = make("embedding", OpKind::embedding, Unit::vector, -1, 1, m.dtype);
    emb.weight_bytes = Bytes(c.T * c.h * c.ab / c.tp);
    emb.stored_weight_bytes = Bytes(V * c.h * c.ab);
    emb.act_bytes = Bytes(c.T * c.h * c.ab);
    out.push_back(emb);
    all_reduce(c, "embedding_all_reduce", -1, 1);
  }
  for (std::size_t g = 0; g < m.groups.size(); ++g) {
    const long long n = stage ? stage->group_counts[g] : m.groups[g].count;
    if (n > 0) lower_layer(c, m.groups[g].layer, static_cast<int>(g), n);
  }
  if (stage && !stage->head) {
    // Pipeline: hand the hidden states to the next stage.
    collective(c, "pp_send", -1, 1, Collective::send_recv, CommGroup::pp, c.T * c.h * c.ab);
    return out;
  }
  // Final norm and LM head on the last position of each sequence only.
  out.push_back(norm(c, "final_norm", -1, 1, B, c.h));
  Op head = linear(c, "lm_head", OpKind::lm_head, -1, 1, B, c.h, V, c.ab);
  head.compute_dtype = m.dtype;
  // A tied head shares the embedding table where one GPU holds both; a last pipeline stage
  // without the embedding keeps its own copy (vLLM builds embed_tokens on the last PP rank too).
  if (m.tie_word_embeddings && (!stage || stage->embedding)) head.stored_weight_bytes = Bytes(0);
  head.act_bytes = Bytes(B * (c.h * c.ab + V * 4.0)); // logits in FP32
  out.push_back(head);
  return out;
}

namespace {
/// KV bytes one token adds to one layer on one GPU: K/V heads split (or replicated) by TP;
/// MLA's latent is whole on every GPU.
double kv_token_layer_gpu(const ModelSpec &m, const AttentionSpec &a, const Deployment &d) {
  if (a.kind == AttentionKind::mla) return kv_bytes_per_token_layer(a, d.kv_dtype).value();
  const HeadSplit hs = split_heads(a, d.tp, m.file);
  return 2.0 * static_cast<double>(hs.kv_heads * a.head_dim) * dtype_storage_bytes(d.kv_dtype);
}
} // namespace

Bytes kv_bytes_per_token_per_gpu(const ModelSpec &m, const Deployment &d) {
  Bytes total;
  for (const auto &g : m.groups)
    total += Bytes(kv_token_layer_gpu(m, g.layer.attention, d) * static_cast<double>(g.count));
  return total;
}

Bytes kv_cache_bytes_per_gpu(const ModelSpec &m, const Deployment &d, long long batch,
                             long long tokens, const StageSlice *stage) {
  Bytes total;
  for (std::size_t i = 0; i < m.groups.size(); ++i) {
    const auto &a = m.groups[i].layer.attention;
    const long long layers = stage ? stage->group_counts[i] : m.groups[i].count;
    const long long kept = a.window ? std::min(tokens, *a.window) : tokens;
    total += Bytes(kv_token_layer_gpu(m, a, d) * static_cast<double>(kept) *
                   static_cast<double>(layers) * static_cast<double>(batch) /
                   static_cast<double>(d.cp));
  }
  return total;
}

} // namespace rooftop::wl
