// Hugging Face config import, parameter counts and KV-cache bytes, derived by hand.
#include "core/errors.hpp"
#include "workloads/model_catalogue.hpp"
#include "workloads/model_spec.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <fstream>

using namespace rooftop;

namespace {
const std::string good = ROOFTOP_TEST_DATA_DIR "/good/";

/// Writes `text` to a temporary config file and returns its path.
std::string temp_config(const std::string &name, const std::string &text) {
  const std::string path = "/tmp/rooftop_test_" + name + ".config.json";
  std::ofstream(path) << text;
  return path;
}
} // namespace

TEST_CASE("tiny llama: parameter count by hand") {
  const auto m = wl::load_hf_config(good + "tiny-llama.config.json");
  // attention: q 64x(4x16)=4096, k and v 64x(2x16)=2048 each, o 4096 -> 12288
  // MLP (gated): 3 x 64 x 128 = 24576; norms 2 x 64 = 128; per layer 36992; x 2 = 73984
  // embedding 100x64 = 6400, lm_head 6400, final norm 64 -> total 86848
  const auto p = wl::count_params(m);
  CHECK(p.total == 86848);
  CHECK(p.attention == 2 * 12288);
  CHECK(p.ffn == 2 * 24576);
  // a dense model uses every weight: active = total; without the input table: 86848 - 6400
  CHECK(p.active == 86848);
  CHECK(p.active_excluding_embedding == 86848 - 6400);
  REQUIRE(m.groups.size() == 1);
  CHECK(m.groups[0].count == 2);
}

TEST_CASE("tiny MoE: experts, router, tied embeddings") {
  const auto m = wl::load_hf_config(good + "tiny-moe.config.json");
  // attention (MHA 4x16): 4 x 64 x 64 = 16384; router 64x8 = 512;
  // experts 8 x 3 x 64 x 32 = 49152; norms 128 -> per layer 66176; x 2 = 132352
  // embedding 6400 (tied: no lm_head), final norm 64 -> 138816
  const auto p = wl::count_params(m);
  CHECK(p.total == 138816);
  // active per layer: 16384 + 512 + 2 x 6144 + 128 = 29312; x 2 = 58624;
  // + the tied table (once: it is also the LM head) 6400 + final norm 64
  CHECK(p.active == 58624 + 6400 + 64);
  CHECK(p.active_excluding_embedding == 58624 + 6400 + 64); // the LM head still reads the table
  CHECK(m.is_moe());
}

TEST_CASE("preset parameter totals match the published figures within 1%") {
  for (const auto &pr : wl::builtin_presets()) {
    CAPTURE(pr.id);
    const auto m = wl::load_hf_config(pr.config, pr.id);
    const auto p = wl::count_params(m);
    CHECK(std::fabs(p.total / pr.published_total_params - 1.0) < 0.01);
    // Active counts follow each publisher's convention, recorded in the index (Mixtral's 12.9B
    // counts the embedding table, gpt-oss's 5.13B does not). A figure published to two
    // significant digits ("37B") is only known to +-0.5 of its last digit.
    const double ours =
        pr.published_active_counts_embedding ? p.active : p.active_excluding_embedding;
    const double tolerance = std::max(0.01, pr.published_active_rounding / pr.published_active_params);
    CHECK(std::fabs(ours / pr.published_active_params - 1.0) <= tolerance);
  }
}

TEST_CASE("KV-cache bytes per token, by hand") {
  // Llama-3.1-70B: 80 layers x 2 (K,V) x 8 kv heads x 128 x 2 bytes = 327680
  const auto llama = wl::resolve_model("llama-3.1-70b");
  CHECK(wl::kv_bytes_per_token(llama, DType::bf16).value() == 327680);
  CHECK(wl::kv_bytes_per_token(llama, DType::fp8).value() == 163840);
  // DeepSeek-V3 MLA: 61 layers x (kv_lora 512 + rope 64) x 2 bytes = 70272
  const auto ds = wl::resolve_model("deepseek-v3");
  CHECK(wl::kv_bytes_per_token(ds, DType::bf16).value() == 70272);
  // gpt-oss-120b: 36 layers x 2 x 8 x 64 x 2 = 73728 per token before the window cap
  const auto oss = wl::resolve_model("gpt-oss-120b");
  CHECK(wl::kv_bytes_per_token(oss, DType::bf16).value() == 73728);
  // 1000 tokens: 18 full layers keep 1000, 18 sliding layers keep 128; 2048 B per layer-token
  CHECK(wl::kv_cache_bytes(oss, DType::bf16, 1000).value() == 2048.0 * 18 * (1000 + 128));
}

TEST_CASE("model structure: layer groups of each family") {
  const auto ds = wl::resolve_model("deepseek-v3");
  REQUIRE(ds.groups.size() == 2); // first_k_dense_replace = 3 dense, 58 MoE
  CHECK(ds.groups[0].count == 3);
  CHECK(ds.groups[0].layer.ffn.kind == wl::FfnKind::dense);
  CHECK(ds.groups[1].count == 58);
  CHECK(ds.groups[1].layer.ffn.num_shared_experts == 1);
  CHECK(ds.groups[1].layer.attention.kind == wl::AttentionKind::mla);
  CHECK(ds.weight_dtype == DType::fp8);
  CHECK(ds.mtp_layers == 1);
  const auto oss = wl::resolve_model("gpt-oss-20b");
  REQUIRE(oss.groups.size() == 2);
  CHECK(oss.groups[0].layer.attention.kind == wl::AttentionKind::sliding);
  CHECK(*oss.groups[0].layer.attention.window == 128);
  CHECK(oss.expert_dtype == DType::mxfp4);
  CHECK(oss.weight_dtype == DType::bf16);
  const auto q = wl::resolve_model("qwen3-235b-a22b");
  REQUIRE(q.groups.size() == 1);
  CHECK(q.groups[0].layer.ffn.num_experts == 128);
  CHECK(q.groups[0].layer.attention.qk_norm);
}

TEST_CASE("configs rooftop cannot model are refused, naming the field") {
  const auto unknown = temp_config("unknown_type", R"({"model_type": "llama4", "hidden_size": 8,
      "vocab_size": 10, "num_hidden_layers": 1})");
  CHECK_THROWS_WITH_AS(wl::load_hf_config(unknown), doctest::Contains("/model_type = \"llama4\""),
                       NotSupported);
  const auto lt = temp_config("linear_layer", R"({"model_type": "qwen3", "hidden_size": 64,
      "vocab_size": 10, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 8,
      "layer_types": ["full_attention", "linear_attention"]})");
  CHECK_THROWS_WITH_AS(wl::load_hf_config(lt), doctest::Contains("/layer_types/1"), NotSupported);
  const auto q = temp_config("quant", R"({"model_type": "llama", "hidden_size": 64,
      "vocab_size": 10, "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 8,
      "quantization_config": {"quant_method": "bitsandbytes"}})");
  CHECK_THROWS_WITH_AS(wl::load_hf_config(q), doctest::Contains("/quantization_config/quant_method"),
                       NotSupported);
}

TEST_CASE("malformed configs are input errors naming the field") {
  const auto missing = temp_config("missing", R"({"model_type": "llama", "vocab_size": 10})");
  CHECK_THROWS_WITH_AS(wl::load_hf_config(missing), doctest::Contains("/hidden_size: missing"),
                       InputError);
  const auto zero = temp_config("zero_heads", R"({"model_type": "llama", "hidden_size": 64,
      "vocab_size": 10, "num_hidden_layers": 1, "num_attention_heads": 0, "intermediate_size": 8})");
  CHECK_THROWS_WITH_AS(wl::load_hf_config(zero), doctest::Contains("/num_attention_heads = 0"),
                       InputError);
  const auto gqa = temp_config("gqa", R"({"model_type": "llama", "hidden_size": 64,
      "vocab_size": 10, "num_hidden_layers": 1, "num_attention_heads": 4,
      "num_key_value_heads": 3, "intermediate_size": 8})");
  CHECK_THROWS_WITH_AS(wl::load_hf_config(gqa), doctest::Contains("/num_key_value_heads"),
                       InputError);
  CHECK_THROWS_AS(wl::resolve_model("no-such-model"), InputError);
}
