// Reading Hugging Face config.json files into a ModelSpec. Keys that do not change the cost are
// ignored; a value that changes the cost and cannot be modelled is refused, naming the field.
#include "core/errors.hpp"
#include "core/json_io.hpp"
#include "workloads/model_spec.hpp"

#include <algorithm>
#include <set>

namespace rooftop::wl {
namespace {

const std::set<std::string> k_supported{"llama",   "mistral",     "qwen2",       "qwen3",
                                        "qwen3_moe", "mixtral",   "deepseek_v2", "deepseek_v3",
                                        "gpt_oss"};

[[noreturn]] void unsupported(const JsonReader &r, const std::string &key, const std::string &why) {
  std::string value;
  if (auto it = r.json().find(key); it != r.json().end()) value = " = " + it->dump();
  throw NotSupported(r.where(key) + value + ": " + why);
}

/// torch_dtype (or the newer "dtype"); absent means bf16, recorded as a note.
DType read_dtype(JsonReader &r, ModelSpec &m) {
  for (const char *key : {"torch_dtype", "dtype"}) {
    if (auto s = r.optional_string(key)) {
      try {
        return dtype_from_string(*s);
      } catch (const InputError &e) {
        r.fail(key, e.what());
      }
    }
  }
  m.notes.push_back("config has no torch_dtype: weights and activations assumed bf16");
  return DType::bf16;
}

void read_quantization(JsonReader &r, ModelSpec &m) {
  m.weight_dtype = m.expert_dtype = m.dtype;
  if (!r.has("quantization_config")) return;
  JsonReader q = r.object("quantization_config");
  const std::string method = q.string("quant_method");
  if (method == "fp8") {
    m.weight_dtype = m.expert_dtype = DType::fp8;
    m.notes.push_back("quantization_config fp8: linear weights stored in FP8 (block scales ignored)");
  } else if (method == "mxfp4") {
    m.expert_dtype = DType::mxfp4;
    m.notes.push_back("quantization_config mxfp4: routed experts stored in MXFP4, the rest in " +
                      to_string(m.dtype));
  } else if (method == "awq" || method == "gptq") {
    const long long bits = q.integer("bits");
    if (bits == 4) m.weight_dtype = m.expert_dtype = DType::int4;
    else if (bits == 8) m.weight_dtype = m.expert_dtype = DType::int8;
    else unsupported(q, "bits", "only 4- and 8-bit weight-only quantization is modelled");
  } else {
    unsupported(q, "quant_method", "unknown quantization method (modelled: fp8, mxfp4, awq, gptq)");
  }
}

/// Attention of a GQA/MHA/MQA layer (llama, mistral, qwen, mixtral, gpt-oss).
AttentionSpec read_gqa(JsonReader &r, const std::string &type) {
  AttentionSpec a;
  const long long hidden = r.integer("hidden_size");
  a.num_heads = r.integer("num_attention_heads");
  a.num_kv_heads = r.integer_or("num_key_value_heads", a.num_heads, Check::positive_integer);
  if (a.num_heads % a.num_kv_heads != 0)
    r.fail("num_key_value_heads", "must divide num_attention_heads (" +
                                      std::to_string(a.num_heads) + ")");
  if (r.has("head_dim")) {
    a.head_dim = r.integer("head_dim");
  } else {
    r.ignore({"head_dim"});
    if (hidden % a.num_heads != 0)
      r.fail("num_attention_heads", "must divide hidden_size when head_dim is absent");
    a.head_dim = hidden / a.num_heads;
  }
  a.v_head_dim = a.head_dim;
  const bool bias = r.boolean_or("attention_bias", false);
  a.qkv_bias = bias || type == "qwen2";
  a.o_bias = bias && type != "qwen2";
  a.qk_norm = type == "qwen3" || type == "qwen3_moe";
  a.sinks = type == "gpt_oss";
  return a;
}

AttentionSpec read_mla(JsonReader &r) {
  AttentionSpec a;
  a.kind = AttentionKind::mla;
  a.num_heads = r.integer("num_attention_heads");
  a.num_kv_heads = a.num_heads;
  r.ignore({"num_key_value_heads", "head_dim"});
  a.q_lora_rank = r.integer_or("q_lora_rank", 0, Check::non_negative_integer);
  a.kv_lora_rank = r.integer("kv_lora_rank");
  a.qk_nope_head_dim = r.integer("qk_nope_head_dim");
  a.qk_rope_head_dim = r.integer("qk_rope_head_dim");
  a.head_dim = a.qk_nope_head_dim + a.qk_rope_head_dim;
  a.v_head_dim = r.integer("v_head_dim");
  a.qkv_bias = a.o_bias = r.boolean_or("attention_bias", false);
  return a;
}

/// Per-layer attention kinds from layer_types, sliding_window and use_sliding_window.
std::vector<AttentionSpec> layer_attention(JsonReader &r, const AttentionSpec &base,
                                           long long layers, const std::string &type) {
  std::vector<AttentionSpec> out(static_cast<std::size_t>(layers), base);
  const auto window = r.optional_integer("sliding_window");
  const bool use_sw = r.boolean_or("use_sliding_window", false); // transformers' default
  r.ignore({"max_window_layers", "attention_chunk_size"});
  if (const auto *lt = r.raw("layer_types")) {
    if (!lt->is_array() || static_cast<long long>(lt->size()) != layers)
      r.fail("layer_types", "must be an array with one entry per layer (num_hidden_layers)");
    for (std::size_t i = 0; i < lt->size(); ++i) {
      const auto &v = (*lt)[i];
      const std::string s = v.is_string() ? v.get<std::string>() : v.dump();
      if (s == "full_attention") continue;
      if (s != "sliding_attention")
        throw NotSupported(r.where("layer_types") + "/" + std::to_string(i) + " = \"" + s +
                           "\": unknown layer type (modelled: full_attention, sliding_attention)");
      if (!window) r.fail("sliding_window", "required when layer_types has sliding_attention");
      out[i].kind = AttentionKind::sliding;
      out[i].window = *window;
    }
    return out;
  }
  // Without layer_types: mistral/mixtral apply sliding_window to every layer; qwen only when
  // use_sliding_window is true, to a subset that rooftop does not model without layer_types.
  if (window && (type == "mistral" || type == "mixtral")) {
    for (auto &a : out) {
      a.kind = AttentionKind::sliding;
      a.window = *window;
    }
  } else if (window && use_sw && (type == "qwen2" || type == "qwen3" || type == "qwen3_moe")) {
    unsupported(r, "use_sliding_window",
                "sliding window on a subset of layers without layer_types is not modelled");
  }
  return out;
}

FfnSpec dense_ffn(JsonReader &r, const std::string &type) {
  FfnSpec f;
  f.intermediate = r.integer("intermediate_size");
  f.bias = type == "llama" && r.boolean_or("mlp_bias", false);
  return f;
}

/// Per-layer FFN for MoE families.
std::vector<FfnSpec> layer_ffn(JsonReader &r, long long layers, const std::string &type) {
  std::vector<FfnSpec> out(static_cast<std::size_t>(layers));
  FfnSpec moe;
  moe.kind = FfnKind::moe;
  if (type == "mixtral" || type == "gpt_oss") {
    moe.num_experts = r.integer("num_local_experts");
    moe.experts_per_token = r.has("num_experts_per_tok") ? r.integer("num_experts_per_tok")
                                                         : r.integer("experts_per_token");
    r.ignore({"num_experts_per_tok", "experts_per_token"});
    moe.expert_intermediate = r.integer("intermediate_size");
    moe.bias = moe.router_bias = type == "gpt_oss";
    std::fill(out.begin(), out.end(), moe);
    return out;
  }
  if (type == "qwen3_moe") {
    moe.num_experts = r.integer("num_experts");
    moe.experts_per_token = r.integer("num_experts_per_tok");
    moe.expert_intermediate = r.integer("moe_intermediate_size");
    const long long step = r.integer_or("decoder_sparse_step", 1, Check::positive_integer);
    std::set<long long> mlp_only;
    if (const auto *v = r.raw("mlp_only_layers")) {
      if (!v->is_array()) r.fail("mlp_only_layers", "must be an array of layer indices");
      for (const auto &e : *v) {
        if (!e.is_number_integer() || e.get<long long>() < 0 || e.get<long long>() >= layers)
          r.fail("mlp_only_layers", "entries must be layer indices in [0, num_hidden_layers)");
        mlp_only.insert(e.get<long long>());
      }
    }
    const FfnSpec dense = dense_ffn(r, type);
    for (long long i = 0; i < layers; ++i)
      out[static_cast<std::size_t>(i)] = (!mlp_only.count(i) && (i + 1) % step == 0) ? moe : dense;
    return out;
  }
  // deepseek_v2 / deepseek_v3
  moe.num_experts = r.integer("n_routed_experts");
  moe.experts_per_token = r.integer("num_experts_per_tok");
  moe.expert_intermediate = r.integer("moe_intermediate_size");
  moe.num_shared_experts = r.integer_or("n_shared_experts", 0, Check::non_negative_integer);
  moe.shared_intermediate = moe.expert_intermediate;
  const auto topk_method = r.optional_string("topk_method");
  moe.router_bias = topk_method && *topk_method == "noaux_tc"; // e_score_correction_bias
  const long long first_dense = r.integer_or("first_k_dense_replace", 0, Check::non_negative_integer);
  const long long freq = r.integer_or("moe_layer_freq", 1, Check::positive_integer);
  const FfnSpec dense = dense_ffn(r, type);
  for (long long i = 0; i < layers; ++i)
    out[static_cast<std::size_t>(i)] = (i >= first_dense && i % freq == 0) ? moe : dense;
  return out;
}

void group_layers(ModelSpec &m, const std::vector<LayerSpec> &layers) {
  for (const auto &l : layers) {
    auto it = std::find_if(m.groups.begin(), m.groups.end(),
                           [&](const LayerGroup &g) { return g.layer == l; });
    if (it == m.groups.end()) {
      m.groups.push_back({l, 0});
      it = m.groups.end() - 1;
    }
    ++it->count;
    m.layer_group.push_back(static_cast<int>(it - m.groups.begin()));
  }
}

} // namespace

ModelSpec load_hf_config(const std::filesystem::path &file, const std::string &id) {
  const auto j = read_json_file(file);
  JsonReader r(j, file.string(), "", Nulls::absent); // HF writes null for "not set"
  ModelSpec m;
  m.file = file.string();
  m.id = id.empty() ? file.string() : id;
  m.model_type = r.string("model_type");
  if (!k_supported.count(m.model_type)) {
    std::string known;
    for (const auto &k : k_supported) known += (known.empty() ? "" : ", ") + k;
    unsupported(r, "model_type", "architecture not modelled by rooftop (modelled: " + known + ")");
  }
  m.hidden_size = r.integer("hidden_size");
  m.vocab_size = r.integer("vocab_size");
  m.num_layers = r.integer("num_hidden_layers");
  if (m.num_layers > 100000) r.fail("num_hidden_layers", "must be at most 100000");
  for (const char *k : {"hidden_size", "vocab_size"})
    if (r.json().at(k).get<double>() > 1e8) r.fail(k, "must be at most 1e8");
  m.tie_word_embeddings = r.boolean_or("tie_word_embeddings", false);
  m.max_position_embeddings = r.integer_or("max_position_embeddings", 0);
  m.dtype = read_dtype(r, m);
  read_quantization(r, m);
  const bool deepseek = m.model_type == "deepseek_v2" || m.model_type == "deepseek_v3";
  const AttentionSpec base = deepseek ? read_mla(r) : read_gqa(r, m.model_type);
  const auto attn = deepseek ? std::vector<AttentionSpec>(static_cast<std::size_t>(m.num_layers), base)
                             : layer_attention(r, base, m.num_layers, m.model_type);
  std::vector<FfnSpec> ffn;
  if (m.model_type == "mixtral" || m.model_type == "gpt_oss" || m.model_type == "qwen3_moe" || deepseek) {
    ffn = layer_ffn(r, m.num_layers, m.model_type);
  } else {
    ffn.assign(static_cast<std::size_t>(m.num_layers), dense_ffn(r, m.model_type));
  }
  for (const auto &f : ffn)
    if (f.kind == FfnKind::moe && f.experts_per_token > f.num_experts)
      throw InputError(r.where("num_experts_per_tok") + " = " + std::to_string(f.experts_per_token) +
                       ": must not exceed the number of routed experts (" +
                       std::to_string(f.num_experts) + ")");
  std::vector<LayerSpec> layers;
  for (std::size_t i = 0; i < attn.size(); ++i) layers.push_back({attn[i], ffn[i]});
  group_layers(m, layers);
  m.mtp_layers = r.integer_or("num_nextn_predict_layers", 0, Check::non_negative_integer);
  if (m.mtp_layers > 0)
    m.notes.push_back(std::to_string(m.mtp_layers) +
                      " multi-token-prediction module(s) not counted in the main model");
  return m;
}

} // namespace rooftop::wl
