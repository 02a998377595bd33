// Lowering to operators: FLOPs and bytes per operator, derived by hand on tiny models.
#include "core/errors.hpp"
#include "workloads/model_catalogue.hpp"
#include "workloads/op_graph.hpp"

#include <doctest/doctest.h>

#include <cstring>

using namespace rooftop;
using wl::Phase;

namespace {
const std::string good = ROOFTOP_TEST_DATA_DIR "/good/";

double sum(const std::vector<wl::Op> &ops, Bytes wl::Op::*field) {
  double s = 0;
  for (const auto &o : ops) s += (o.*field).value() * static_cast<double>(o.count);
  return s;
}
double gemm_flops(const std::vector<wl::Op> &ops) {
  double s = 0;
  for (const auto &o : ops)
    if (o.unit == wl::Unit::gemm) s += o.flops.value() * static_cast<double>(o.count);
  return s;
}
const wl::Op &find(const std::vector<wl::Op> &ops, const char *name, int group = 0) {
  for (const auto &o : ops)
    if (std::strcmp(o.name, name) == 0 && (o.group == group || o.group == -1)) return o;
  throw std::runtime_error(std::string("no op ") + name);
}
wl::Deployment bf16(long long tp = 1) {
  wl::Deployment d;
  d.tp = tp;
  return d;
}
} // namespace

TEST_CASE("attended keys: causal sums with and without a window") {
  CHECK(wl::attended_keys(0, 4, std::nullopt) == 10); // 1+2+3+4
  CHECK(wl::attended_keys(0, 4, 2) == 7);             // 1+2+2+2
  CHECK(wl::attended_keys(10, 1, 4) == 4);            // decode past the window
  CHECK(wl::attended_keys(10, 1, std::nullopt) == 11);
  CHECK(wl::attended_keys(2, 3, 4) == 3 + 4 + 4);     // 3, then capped at 4
}

TEST_CASE("expected distinct experts touched") {
  CHECK(wl::expected_touched_experts(8, 2, 1) == doctest::Approx(2.0));
  // 2 tokens: 8 x (1 - (6/8)^2) = 8 x 0.4375 = 3.5
  CHECK(wl::expected_touched_experts(8, 2, 2) == doctest::Approx(3.5));
  CHECK(wl::expected_touched_experts(256, 8, 1e6) == doctest::Approx(256.0));
}

TEST_CASE("tiny llama decode: GEMM FLOPs are 2 x the linear weights per token") {
  const auto m = wl::load_hf_config(good + "tiny-llama.config.json");
  const auto ops = wl::lower_pass(m, bf16(), Phase::decode, {1, 1, 0});
  // Per layer: qkv 2x64x128 = 16384, o 2x64x64 = 8192, up 2x64x256 = 32768, down 2x128x64 =
  // 16384 -> 73728; x 2 layers = 147456; lm_head 2x64x100 = 12800 -> 160256
  CHECK(gemm_flops(ops) == 160256);
  // attention with 1 key: 2 x 4 heads x (16 + 16) = 256 FLOP per layer
  CHECK(find(ops, "attention").flops.value() == 256);
  // stored weights at TP=1 = all parameters x 2 bytes = 86848 x 2
  CHECK(sum(ops, &wl::Op::stored_weight_bytes) == 173696);
  // no collectives without TP
  for (const auto &o : ops) CHECK(o.kind != wl::OpKind::all_reduce);
}

TEST_CASE("tensor parallelism splits weights and adds all-reduces") {
  const auto m = wl::load_hf_config(good + "tiny-llama.config.json");
  const auto ops = wl::lower_pass(m, bf16(2), Phase::decode, {1, 1, 0});
  // TP=2 per GPU: attention 12288/2 = 6144, MLP 24576/2 = 12288, norms 128 replicated
  // -> 18560 per layer x 2 = 37120; embedding 3200 + lm_head 3200 + final norm 64 = 43584 params
  CHECK(sum(ops, &wl::Op::stored_weight_bytes) == 43584 * 2);
  int reduces = 0;
  for (const auto &o : ops)
    if (o.kind == wl::OpKind::all_reduce) {
      reduces += static_cast<int>(o.count);
      CHECK(o.comm_bytes.value() == 64 * 2); // 1 token x hidden 64 x 2 bytes
    }
  CHECK(reduces == 2 * 2 + 1); // attention and MLP per layer, and the embedding
}

TEST_CASE("TP beyond the K/V heads replicates them, and the KV cache says so") {
  const auto m = wl::load_hf_config(good + "tiny-llama.config.json");
  // 2 layers x 2 (K,V) x kv heads x 16 x 2 bytes
  CHECK(wl::kv_bytes_per_token_per_gpu(m, bf16(1)).value() == 2 * 2 * 2 * 16 * 2);
  CHECK(wl::kv_bytes_per_token_per_gpu(m, bf16(2)).value() == 2 * 2 * 1 * 16 * 2);
  CHECK(wl::kv_bytes_per_token_per_gpu(m, bf16(4)).value() == 2 * 2 * 1 * 16 * 2); // replicated
  const auto hs = wl::split_heads(m.groups[0].layer.attention, 4, m.file);
  CHECK(hs.kv_replicated);
  CHECK_THROWS_WITH_AS(wl::split_heads(m.groups[0].layer.attention, 3, m.file),
                       doctest::Contains("does not divide"), InputError);
}

TEST_CASE("MoE decode at batch 1 reads only the chosen experts") {
  const auto m = wl::load_hf_config(good + "tiny-moe.config.json");
  const auto ops = wl::lower_pass(m, bf16(), Phase::decode, {1, 1, 0});
  const auto &ex = find(ops, "moe_experts");
  // one expert: 3 x 64 x 32 = 6144 params; top-2 read: 2 x 6144 x 2 bytes = 24576
  CHECK(ex.weight_bytes.value() == doctest::Approx(24576));
  CHECK(ex.stored_weight_bytes.value() == 8 * 6144 * 2);
  // FLOPs: 2 x 1 token x 2 experts x 6144 = 24576
  CHECK(ex.flops.value() == 24576);
  // Its two grouped GEMMs, for wave quantization: gate+up (N = 2 x 32) then down (N = 64, a
  // third of the FLOPs), over the 2 experts the token picked, one row each
  CHECK(ex.rows == doctest::Approx(1));
  CHECK(ex.cols == 64);
  CHECK(ex.groups == doctest::Approx(2));
  CHECK(ex.second_cols == 64);
  CHECK(ex.second_share == doctest::Approx(1.0 / 3));
  // A large batch touches all experts
  const auto big = wl::lower_pass(m, bf16(), Phase::decode, {4096, 1, 0});
  CHECK(find(big, "moe_experts").weight_bytes.value() == doctest::Approx(8 * 6144 * 2));
  CHECK(find(big, "moe_experts").groups == doctest::Approx(8));
  CHECK(find(big, "moe_experts").rows == doctest::Approx(4096 * 2 / 8.0));
}

TEST_CASE("decode reads the whole KV cache, capped by a sliding window") {
  const auto m = wl::resolve_model("gpt-oss-20b");
  wl::Deployment d;
  const auto near = wl::lower_pass(m, d, Phase::decode, {1, 1, 200});
  const auto far = wl::lower_pass(m, d, Phase::decode, {1, 1, 10000});
  // group 0 is the sliding layer type: reading min(P, w-1) + 1 = 128 tokens either way
  CHECK(find(near, "attention", 0).kv_bytes == find(far, "attention", 0).kv_bytes);
  // K/V per token per layer 2 x 8 x 64 x 2 = 2048 B; read 128 tokens + write 1
  CHECK(find(near, "attention", 0).kv_bytes.value() == 2048.0 * (128 + 1));
  // full layers grow with the context: 10001 tokens read + 1 written
  CHECK(find(far, "attention", 1).kv_bytes.value() == 2048.0 * (10001 + 1));
}

TEST_CASE("MLA decode reads the compressed latent, not per-head K/V") {
  const auto m = wl::resolve_model("deepseek-v3");
  wl::Deployment d;
  d.weight_dtype = d.expert_dtype = DType::fp8;
  const auto ops = wl::lower_pass(m, d, Phase::decode, {1, 1, 999});
  // (kv_lora 512 + rope 64) x 2 bytes = 1152 B per token: 1000 read + 1 written
  CHECK(find(ops, "attention", 0).kv_bytes.value() == 1152.0 * 1001);
  // kv_b_proj, absorbed: two GEMMs batched over the 128 heads, q_nope 128 -> kv_lora 512 and
  // the latent 512 -> v 128; their shapes give the M x K a conversion pass reads:
  // FLOPs (1 - s) / 2N1 + s / 2N2 = T H (nope + kv_lora) = 1 x 128 x (128 + 512).
  const auto &kvb = find(ops, "kv_b_proj", 0);
  CHECK(kvb.rows == 1);
  CHECK(kvb.groups == 128);
  CHECK(kvb.cols == 512);
  CHECK(kvb.second_cols == 128);
  const double f = kvb.flops.value(), s = kvb.second_share;
  CHECK((1 - s) * f / (2 * kvb.cols) + s * f / (2 * kvb.second_cols) ==
        doctest::Approx(128.0 * (128 + 512)));
  // Prefill decompresses every key: one GEMM of the keys x kv_lora -> 128 x (nope + v).
  const auto pre = wl::lower_pass(m, d, Phase::prefill, {1, 16, 0});
  const auto &kvp = find(pre, "kv_b_proj", 0);
  CHECK(kvp.rows == 16);
  CHECK(kvp.cols == 128.0 * (128 + 128));
  CHECK(kvp.flops.value() / (2 * kvp.cols) == doctest::Approx(16.0 * 512));
}

TEST_CASE("prefill attention is causal") {
  const auto m = wl::load_hf_config(good + "tiny-llama.config.json");
  const auto ops = wl::lower_pass(m, bf16(), Phase::prefill, {1, 8, 0});
  // 8 tokens causal: 1+...+8 = 36 (query, key) pairs x 4 heads x 2 x (16+16) = 9216
  CHECK(find(ops, "attention").flops.value() == 9216);
  // LM head only for the last position: 2 x 64 x 100
  CHECK(find(ops, "lm_head").flops.value() == 12800);
}

TEST_CASE("attention context is keys per query, whatever the batch") {
  const auto m = wl::load_hf_config(good + "tiny-llama.config.json");
  // decode after 99 cached tokens: each query attends 100 keys, at batch 1 and at batch 4
  for (long long b : {1LL, 4LL}) {
    CAPTURE(b);
    CHECK(find(wl::lower_pass(m, bf16(), Phase::decode, {b, 1, 99}), "attention").context == 100);
  }
  // causal prefill of 8 tokens: 36 (query, key) pairs / 8 queries = 4.5 keys per query
  CHECK(find(wl::lower_pass(m, bf16(), Phase::prefill, {3, 8, 0}), "attention").context == 4.5);
}

TEST_CASE("attention carries its new tokens and (sequence, KV head) pairs per GPU") {
  // tiny llama: 4 q heads, 2 KV heads. The calibrated attention cost (docs/model.md section 6)
  // charges a fixed time per item; an op that left these at 0 would silently skip it.
  const auto m = wl::load_hf_config(good + "tiny-llama.config.json");
  const auto dec = find(wl::lower_pass(m, bf16(), Phase::decode, {3, 1, 99}), "attention");
  CHECK(dec.new_tokens == 1);
  CHECK(dec.items == 3 * 2);
  const auto pre = find(wl::lower_pass(m, bf16(), Phase::prefill, {3, 8, 0}), "attention");
  CHECK(pre.new_tokens == 8);
  CHECK(pre.items == 3 * 2);
  // TP 2: one KV head per GPU; TP 4: still one (replicated), never 0.
  CHECK(find(wl::lower_pass(m, bf16(2), Phase::decode, {3, 1, 99}), "attention").items == 3);
  CHECK(find(wl::lower_pass(m, bf16(4), Phase::decode, {3, 1, 99}), "attention").items == 3);
  // Context parallelism: every rank holds every KV head of its share.
  wl::Deployment cp = bf16();
  cp.cp = 2;
  const auto pre_cp = find(wl::lower_pass(m, cp, Phase::prefill, {3, 8, 0}), "attention");
  CHECK(pre_cp.items == 3 * 2);
  CHECK(pre_cp.new_tokens == 8);
  // MLA (DeepSeek-V3, 128 heads at TP 8 = 16 per GPU): decode attends one shared latent per
  // sequence, prefill runs MHA over the decompressed heads.
  const auto ds = wl::resolve_model("deepseek-v3");
  wl::Deployment d8;
  d8.tp = 8;
  d8.weight_dtype = d8.expert_dtype = DType::fp8;
  const auto mla_dec = find(wl::lower_pass(ds, d8, Phase::decode, {5, 1, 999}), "attention");
  CHECK(mla_dec.new_tokens == 1);
  CHECK(mla_dec.items == 5);
  const auto mla_pre = find(wl::lower_pass(ds, d8, Phase::prefill, {2, 64, 0}), "attention");
  CHECK(mla_pre.new_tokens == 64);
  CHECK(mla_pre.items == 2 * 16);
}
