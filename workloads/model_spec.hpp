// ModelSpec: the shape of a transformer (layers grouped by distinct type), read from a Hugging
// Face config.json, and its parameter and KV-cache sizes.
#pragma once

#include "core/dtype.hpp"
#include "core/units.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace rooftop::wl {

enum class AttentionKind { full, sliding, mla };
std::string to_string(AttentionKind k);

/// One layer's attention block (per model, not per GPU).
struct AttentionSpec {
  AttentionKind kind = AttentionKind::full;
  long long num_heads = 0;        ///< query heads
  long long num_kv_heads = 0;     ///< K/V heads (GQA/MQA); for MLA equal to num_heads
  long long head_dim = 0;         ///< Q/K head dimension (MLA: qk_nope + qk_rope)
  long long v_head_dim = 0;       ///< V head dimension
  std::optional<long long> window; ///< sliding window in tokens (kind == sliding)
  bool qkv_bias = false;          ///< biases on q, k, v projections
  bool o_bias = false;            ///< bias on the output projection
  bool qk_norm = false;           ///< RMSNorm on q and k per head (Qwen3)
  bool sinks = false;             ///< one learned sink logit per head (gpt-oss)
  // MLA (DeepSeek V2/V3) only:
  long long q_lora_rank = 0;      ///< 0 = q projected directly
  long long kv_lora_rank = 0;     ///< compressed latent width
  long long qk_nope_head_dim = 0;
  long long qk_rope_head_dim = 0;
  bool operator==(const AttentionSpec &) const = default;
};

enum class FfnKind { dense, moe };
std::string to_string(FfnKind k);

/// One layer's feed-forward block.
struct FfnSpec {
  FfnKind kind = FfnKind::dense;
  long long intermediate = 0;         ///< dense MLP width (kind == dense)
  bool gated = true;                  ///< gate, up and down matrices (SwiGLU); false: up and down
  bool bias = false;                  ///< biases on the MLP/expert projections
  long long num_experts = 0;          ///< routed experts (kind == moe)
  long long experts_per_token = 0;    ///< top-k
  long long expert_intermediate = 0;  ///< width of one routed expert
  long long num_shared_experts = 0;   ///< always-active experts
  long long shared_intermediate = 0;  ///< width of one shared expert
  bool router_bias = false;           ///< bias (or correction bias) per expert in the router
  bool operator==(const FfnSpec &) const = default;
};

/// One decoder layer.
struct LayerSpec {
  AttentionSpec attention;
  FfnSpec ffn;
  bool operator==(const LayerSpec &) const = default;
};

/// Layers of one distinct type and how many of them the model has.
struct LayerGroup {
  LayerSpec layer;
  long long count = 0;
};

/// A decoder-only transformer.
struct ModelSpec {
  std::string id;                 ///< preset id or the config path
  std::string file;               ///< config.json it came from
  std::string model_type;         ///< Hugging Face model_type
  long long hidden_size = 0;
  long long vocab_size = 0;
  long long num_layers = 0;
  bool tie_word_embeddings = false;
  long long max_position_embeddings = 0;
  DType dtype = DType::bf16;      ///< torch_dtype: activations and unquantized weights
  DType weight_dtype = DType::bf16; ///< stored weights (quantization_config, else dtype)
  DType expert_dtype = DType::bf16; ///< stored routed-expert weights (gpt-oss: mxfp4)
  std::vector<LayerGroup> groups; ///< distinct layer types in first-appearance order
  std::vector<int> layer_group;   ///< for each layer, its index in groups
  long long mtp_layers = 0;       ///< multi-token-prediction modules (not counted)
  std::vector<std::string> notes; ///< what was approximated or ignored

  [[nodiscard]] bool is_moe() const;
};

/// Reads a Hugging Face config.json. Throws InputError for malformed or missing fields and
/// NotSupported naming the field for an architecture or feature rooftop cannot model.
ModelSpec load_hf_config(const std::filesystem::path &file, const std::string &id = "");

/// Parameter counts (elements, not bytes).
struct ParamCount {
  double total = 0;         ///< all weights of the main model
  double active = 0;        ///< per token, embedding table included (dense: = total); the
                            ///< convention of most model cards (Llama, Qwen, Mixtral)
  double active_excluding_embedding = 0; ///< per token without the input embedding table (a
                                         ///< lookup, not a matmul); gpt-oss's convention
  double embedding = 0;     ///< input embedding table
  double lm_head = 0;       ///< output projection (0 when tied)
  double attention = 0;     ///< all layers' attention blocks
  double ffn = 0;           ///< all layers' MLP/MoE blocks, routers included
  double norms = 0;         ///< all norm weights
  double routed_experts = 0; ///< all routed experts of all layers
};
ParamCount count_params(const ModelSpec &m);

/// Parameters of one attention block.
double attention_params(const AttentionSpec &a, long long hidden);
/// Parameters of one routed expert (gated: 3 h I, else 2 h I, plus biases).
double expert_params(const FfnSpec &f, long long hidden, long long intermediate);

/// KV-cache bytes one token adds to one layer (whole model, before sharding):
/// GQA/MHA/MQA: 2 * kv_heads * head_dim * bytes; MLA: (kv_lora_rank + qk_rope_head_dim) * bytes.
Bytes kv_bytes_per_token_layer(const AttentionSpec &a, DType kv);
/// Sum over all layers; sliding-window layers count fully here (their cap is in kv_cache_bytes).
Bytes kv_bytes_per_token(const ModelSpec &m, DType kv);
/// KV cache of one sequence of `tokens` tokens over all layers: sliding layers keep at most
/// `window` tokens.
Bytes kv_cache_bytes(const ModelSpec &m, DType kv, long long tokens);

} // namespace rooftop::wl
