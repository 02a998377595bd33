// Calibration plans and the work each case declares.
#include "calibration/plan.hpp"

#include "core/errors.hpp"
#include "workloads/model_catalogue.hpp"
#include "workloads/op_graph.hpp"

#include <array>
#include <cmath>
#include <utility>

namespace rooftop::cal {
namespace {

constexpr std::array<std::pair<CaseKind, const char *>, 7> k_kinds{{
    {CaseKind::gemm, "gemm"},
    {CaseKind::stream, "stream"},
    {CaseKind::attention_decode, "attention_decode"},
    {CaseKind::attention_prefill, "attention_prefill"},
    {CaseKind::launch, "launch"},
    {CaseKind::layer, "layer"},
    {CaseKind::all_reduce, "all_reduce"},
}};
constexpr std::array<std::pair<StreamKind, const char *>, 4> k_streams{{
    {StreamKind::read, "read"},
    {StreamKind::write, "write"},
    {StreamKind::copy, "copy"},
    {StreamKind::triad, "triad"},
}};

/// Bytes per element in memory; FP8 GEMMs write BF16 outputs.
double elem(DType t) { return dtype_storage_bytes(t); }

/// One decoder layer of `model` as rooftop lowers it: the decode step of `batch` sequences at
/// `context` cached tokens, one GPU, no parallelism.
std::pair<double, double> layer_work(const std::string &model, long long batch, long long context) {
  const auto m = wl::resolve_model(model);
  wl::Deployment d;
  d.batch = batch;
  d.input_len = context;
  d.output_len = 2;
  wl::StageSlice one;
  one.group_counts.assign(m.groups.size(), 0);
  one.group_counts[0] = 1; // the first layer type, once
  one.embedding = false;
  one.head = true;
  double flops = 0, bytes = 0;
  for (const auto &op : wl::lower_pass(m, d, wl::Phase::decode, {batch, 1, context}, &one)) {
    if (op.group < 0) continue; // final norm and LM head are not part of the layer
    flops += op.flops.value() * static_cast<double>(op.count);
    bytes += op.bytes().value() * static_cast<double>(op.count);
  }
  return {flops, bytes};
}

Case gemm(DType t, long long m, long long n, long long k) {
  Case c;
  c.kind = CaseKind::gemm;
  c.dtype = t;
  c.m = m;
  c.n = n;
  c.k = k;
  c.id = "gemm_" + to_string(t) + "_" + std::to_string(m) + "x" + std::to_string(n) + "x" +
         std::to_string(k);
  return c;
}

} // namespace

std::string to_string(CaseKind k) {
  for (const auto &[v, n] : k_kinds)
    if (v == k) return n;
  throw InternalError("to_string: unknown CaseKind");
}

CaseKind case_kind_from_string(const std::string &s) {
  for (const auto &[v, n] : k_kinds)
    if (s == n) return v;
  throw InputError("unknown case kind '" + s + "'");
}

std::string to_string(StreamKind k) {
  for (const auto &[v, n] : k_streams)
    if (v == k) return n;
  throw InternalError("to_string: unknown StreamKind");
}

StreamKind stream_kind_from_string(const std::string &s) {
  for (const auto &[v, n] : k_streams)
    if (s == n) return v;
  throw InputError("unknown stream kind '" + s + "'");
}

void declare_work(Case &c) {
  const auto d = [](long long x) { return static_cast<double>(x); };
  switch (c.kind) {
  case CaseKind::gemm: {
    const double out = c.dtype == DType::fp8 ? 2.0 : elem(c.dtype);
    c.flops = 2 * d(c.m) * d(c.n) * d(c.k);
    c.bytes_moved = (d(c.m) * d(c.k) + d(c.k) * d(c.n)) * elem(c.dtype) + d(c.m) * d(c.n) * out;
    return;
  }
  case CaseKind::stream: {
    const double arrays[] = {1, 1, 2, 3}; // read, write, copy (1 + 1), triad (2 + 1)
    c.bytes_moved = c.bytes * arrays[static_cast<int>(c.stream)];
    c.flops = c.stream == StreamKind::triad ? 2 * c.bytes / 4 : 0; // FP32 a = b + s c
    return;
  }
  case CaseKind::attention_decode: {
    const double b = elem(c.dtype), ctx = d(c.context), bt = d(c.batch), hq = d(c.q_heads);
    if (c.latent_dim > 0) { // scores and values over one shared latent (MLA, absorbed)
      c.flops = 2 * bt * hq * 2 * d(c.latent_dim) * ctx;
      c.bytes_moved = bt * ctx * d(c.latent_dim) * b + 2 * bt * hq * d(c.latent_dim) * b;
    } else {
      c.flops = 2 * bt * hq * 2 * d(c.head_dim) * ctx;
      c.bytes_moved = bt * ctx * 2 * d(c.kv_heads) * d(c.head_dim) * b +
                      2 * bt * hq * d(c.head_dim) * b;
    }
    return;
  }
  case CaseKind::attention_prefill: {
    const double b = elem(c.dtype), s = d(c.context), bt = d(c.batch);
    // causal: s (s + 1) / 2 (query, key) pairs per head, 2 x (d + d) FLOP each
    c.flops = 2 * bt * d(c.q_heads) * 2 * d(c.head_dim) * s * (s + 1) / 2;
    c.bytes_moved = bt * s * (2 * d(c.q_heads) + 2 * d(c.kv_heads)) * d(c.head_dim) * b;
    return;
  }
  case CaseKind::all_reduce: // communication: no FLOP or HBM traffic is declared
    c.flops = 0;
    c.bytes_moved = 0;
    return;
  case CaseKind::launch: // empty, or a one-row RMSNorm of `hidden` bf16 (read and written)
    c.flops = 4 * d(c.hidden);
    c.bytes_moved = 2 * d(c.hidden) * 2;
    return;
  case CaseKind::layer: {
    const auto m = wl::resolve_model(c.model);
    const auto &l = m.groups.front().layer;
    if (l.attention.kind == wl::AttentionKind::mla || l.ffn.kind == wl::FfnKind::moe)
      throw InputError("layer case " + c.id + ": " + c.model +
                       " is not a dense GQA model (the layer case composes one)");
    c.hidden = m.hidden_size;
    c.intermediate = l.ffn.intermediate;
    c.q_heads = l.attention.num_heads;
    c.kv_heads = l.attention.num_kv_heads;
    c.head_dim = l.attention.head_dim;
    const auto [f, by] = layer_work(c.model, c.batch, c.context);
    c.flops = f;
    c.bytes_moved = by;
    return;
  }
  }
}

double first_stream_bytes(bool quick, double l2_bytes) {
  return quick ? 256e3 : std::max(1e6, l2_bytes / 8);
}

Plan default_plan(bool quick, bool has_fp8, double l2_bytes, double max_stream_bytes) {
  Plan p;
  auto add = [&](Case c) {
    declare_work(c);
    p.cases.push_back(std::move(c));
  };
  // GEMMs: decode-like skinny (small m) to prefill-like (large m), Llama-8B/70B-like N, K.
  const std::vector<long long> ms = quick ? std::vector<long long>{1, 16, 128}
                                          : std::vector<long long>{1, 4, 16, 64, 256, 1024, 4096, 16384};
  const std::vector<std::pair<long long, long long>> nks =
      quick ? std::vector<std::pair<long long, long long>>{{128, 128}, {256, 512}}
            : std::vector<std::pair<long long, long long>>{
                  {4096, 4096}, {6144, 4096}, {28672, 4096}, {4096, 14336}, {8192, 8192},
                  {1280, 8192}}; // the last: a TP-sharded projection, few tiles per wave
  std::vector<DType> types{DType::bf16};
  if (has_fp8) types.push_back(DType::fp8);
  // Cold: L2 flushed before each sample, as a layer's weights arrive from HBM in real inference.
  for (DType t : types)
    for (const auto &[n, k] : nks)
      for (long long m : ms) {
        Case c = gemm(t, m, n, k);
        c.cold = true;
        add(c);
      }
  // Streams: below L2 to many GiB, x4 steps.
  const double start = first_stream_bytes(quick, l2_bytes);
  for (double s = start; s <= max_stream_bytes * 1.0001; s *= 4)
    for (StreamKind k : {StreamKind::read, StreamKind::write, StreamKind::copy, StreamKind::triad}) {
      Case c;
      c.kind = CaseKind::stream;
      c.stream = k;
      c.dtype = DType::fp32;
      c.bytes = std::round(s / 4096) * 4096;
      c.id = "stream_" + to_string(k) + "_" + std::to_string(static_cast<long long>(c.bytes));
      add(c);
    }
  // Decode attention: MHA, GQA and MLA-like layouts over growing contexts.
  struct Layout {
    const char *name;
    long long q, kv, dim, latent;
  };
  const std::vector<Layout> layouts =
      quick ? std::vector<Layout>{{"gqa", 4, 2, 32, 0}, {"mla", 4, 0, 0, 64}}
            : std::vector<Layout>{{"mha", 32, 32, 128, 0}, {"gqa", 32, 8, 128, 0},
                                  {"mla", 128, 0, 0, 576}};
  const std::vector<long long> contexts = quick ? std::vector<long long>{64, 512}
                                                : std::vector<long long>{512, 2048, 8192, 32768};
  const std::vector<long long> batches = quick ? std::vector<long long>{1, 4}
                                               : std::vector<long long>{1, 16, 64};
  for (const auto &l : layouts)
    for (long long b : batches)
      for (long long ctx : contexts) {
        Case c;
        c.kind = CaseKind::attention_decode;
        c.batch = b;
        c.q_heads = l.q;
        c.kv_heads = l.kv;
        c.head_dim = l.dim;
        c.latent_dim = l.latent;
        c.context = ctx;
        c.cold = true; // the KV cache comes from HBM
        c.id = std::string("attn_decode_") + l.name + "_b" + std::to_string(b) + "_ctx" +
               std::to_string(ctx);
        add(c);
      }
  // Causal prefill attention (GQA).
  for (long long s : quick ? std::vector<long long>{64, 256} : std::vector<long long>{512, 2048, 8192}) {
    Case c;
    c.kind = CaseKind::attention_prefill;
    c.batch = 1;
    c.q_heads = quick ? 4 : 32;
    c.kv_heads = quick ? 2 : 8;
    c.head_dim = quick ? 32 : 128;
    c.context = s;
    c.id = "attn_prefill_gqa_s" + std::to_string(s);
    add(c);
  }
  Case launch;
  launch.kind = CaseKind::launch;
  launch.id = "launch_empty_kernel";
  add(launch);
  // The fixed cost of a small real operation: one token's RMSNorm (a dependent DRAM read, a
  // reduction and a write), the kind of kernel a decode step runs dozens of per layer.
  Case small;
  small.kind = CaseKind::launch;
  small.hidden = 4096;
  small.id = "launch_small_rmsnorm_4096";
  add(small);
  // Whole decoder layers (the end-to-end check).
  const std::string model = quick ? "" : "llama-3.1-8b";
  if (!model.empty())
    for (long long b : {1LL, 16LL, 64LL})
      for (long long ctx : {512LL, 4096LL}) {
        Case c;
        c.kind = CaseKind::layer;
        c.model = model;
        c.batch = b;
        c.context = ctx;
        c.id = "layer_" + model + "_b" + std::to_string(b) + "_ctx" + std::to_string(ctx);
        add(c);
      }
  return p;
}

} // namespace rooftop::cal
