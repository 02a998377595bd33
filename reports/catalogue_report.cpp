// Rendering the GPU and model catalogues.
#include "reports/catalogue_report.hpp"

#include "reports/format.hpp"

#include <fmt/format.h>

namespace rooftop::rep {
namespace {

template <class T> nlohmann::ordered_json opt(const std::optional<T> &v) {
  if (!v) return nullptr;
  if constexpr (std::is_arithmetic_v<T>) return *v;
  else return v->value();
}

std::string flops_or_dash(const hw::GpuSpec &g, const char *k) {
  const auto v = g.dense_flops.get(k);
  return v ? fmt::format("{:.0f}", v->value() / 1e12) : "-";
}

nlohmann::ordered_json layer_json(const wl::ModelSpec &m, const wl::LayerGroup &g, DType kv) {
  const auto &a = g.layer.attention;
  const auto &f = g.layer.ffn;
  nlohmann::ordered_json attn = {{"kind", wl::to_string(a.kind)},
                         {"num_heads", a.num_heads},
                         {"num_kv_heads", a.num_kv_heads},
                         {"head_dim", a.head_dim},
                         {"v_head_dim", a.v_head_dim},
                         {"window", opt(a.window)},
                         {"params", wl::attention_params(a, m.hidden_size)}};
  if (a.kind == wl::AttentionKind::mla)
    attn.update({{"q_lora_rank", a.q_lora_rank},
                 {"kv_lora_rank", a.kv_lora_rank},
                 {"qk_nope_head_dim", a.qk_nope_head_dim},
                 {"qk_rope_head_dim", a.qk_rope_head_dim}});
  nlohmann::ordered_json ffn = {{"kind", wl::to_string(f.kind)}, {"gated", f.gated}};
  if (f.kind == wl::FfnKind::dense) ffn["intermediate_size"] = f.intermediate;
  else
    ffn.update({{"num_experts", f.num_experts},
                {"experts_per_token", f.experts_per_token},
                {"expert_intermediate_size", f.expert_intermediate},
                {"num_shared_experts", f.num_shared_experts},
                {"shared_intermediate_size", f.shared_intermediate}});
  return {{"count", g.count},
          {"attention", attn},
          {"ffn", ffn},
          {"kv_cache_bytes_per_token", wl::kv_bytes_per_token_layer(a, kv).value()}};
}

std::string layer_text(const wl::ModelSpec &m, const wl::LayerGroup &g, DType kv) {
  const auto &a = g.layer.attention;
  const auto &f = g.layer.ffn;
  std::string attn;
  if (a.kind == wl::AttentionKind::mla)
    attn = fmt::format("MLA {} heads, kv_lora {}, rope {}, q_lora {}", a.num_heads,
                       a.kv_lora_rank, a.qk_rope_head_dim, a.q_lora_rank);
  else
    attn = fmt::format("{} {} q / {} kv heads x {}{}",
                       a.num_kv_heads == a.num_heads ? "MHA"
                       : a.num_kv_heads == 1        ? "MQA"
                                                    : "GQA",
                       a.num_heads, a.num_kv_heads, a.head_dim,
                       a.window ? fmt::format(", sliding window {}", *a.window) : "");
  std::string ffn =
      f.kind == wl::FfnKind::dense
          ? fmt::format("MLP {}", f.intermediate)
          : fmt::format("MoE {} experts x {} (top-{}){}", f.num_experts, f.expert_intermediate,
                        f.experts_per_token,
                        f.num_shared_experts ? fmt::format(" + {} shared", f.num_shared_experts) : "");
  (void)m;
  return fmt::format("  {:>4} x  {}; {}; KV {} B/token\n", g.count, attn, ffn,
                     wl::kv_bytes_per_token_layer(a, kv).value());
}

} // namespace

nlohmann::ordered_json gpu_json(const hw::GpuSpec &g) {
  nlohmann::ordered_json flops = nlohmann::ordered_json::object();
  for (const auto &[k, v] : g.dense_flops.entries()) flops[k] = v.value();
  nlohmann::ordered_json j = {{"id", g.id},
                      {"name", g.name},
                      {"architecture", hw::to_string(g.architecture)},
                      {"form_factor", g.form_factor},
                      {"preliminary", g.preliminary},
                      {"sm_count", opt(g.sm_count)},
                      {"boost_clock_hz", opt(g.boost_clock)},
                      {"tdp_w", opt(g.tdp_w)},
                      {"memory",
                       {{"type", g.memory_type},
                        {"capacity_bytes", g.memory_datasheet.value()},
                        {"reported_bytes", opt(g.memory_reported)},
                        {"capacity_source", hw::to_string(g.capacity_source())},
                        {"bandwidth_Bps", g.memory_bandwidth.value()},
                        {"l2_bytes", opt(g.l2)}}},
                      {"dense_flops_per_s", flops},
                      {"sources", g.sources},
                      {"notes", g.notes},
                      {"file", g.file}};
  if (g.nvlink)
    j["nvlink"] = {{"generation", g.nvlink->generation},
                   {"links", g.nvlink->links},
                   {"bandwidth_bidirectional_Bps", g.nvlink->bandwidth_bidirectional.value()},
                   {"bandwidth_one_way_Bps", g.nvlink->one_way().value()}};
  if (g.pcie) j["pcie"] = {{"generation", g.pcie->generation}, {"lanes", g.pcie->lanes}};
  return j;
}

std::string gpu_text(const hw::GpuSpec &g) {
  std::string s = fmt::format("{} ({}){}\n", g.name, g.id, g.preliminary ? "  [PRELIMINARY]" : "");
  s += fmt::format("  architecture {}, form factor {}", hw::to_string(g.architecture), g.form_factor);
  if (g.sm_count) s += fmt::format(", {} SMs", *g.sm_count);
  if (g.boost_clock) s += fmt::format(", boost {:.0f} MHz", g.boost_clock->value() / 1e6);
  if (g.tdp_w) s += fmt::format(", {:.0f} W", *g.tdp_w);
  s += fmt::format("\n  memory {} {} (datasheet) at {}", gb(g.memory_datasheet), g.memory_type,
                   bandwidth(g.memory_bandwidth));
  if (g.l2) s += fmt::format(", L2 {:.1f} MiB", g.l2->value() / 1048576.0);
  s += g.memory_reported
           ? fmt::format("\n  memory as nvidia-smi reports it: {} ({:+.1f}% on the datasheet), "
                         "the capacity estimates use",
                         gb(*g.memory_reported),
                         100.0 * (g.memory_reported->value() / g.memory_datasheet.value() - 1))
           : fmt::format("\n  no reported total known: estimates use the datasheet's {}",
                         gb(g.memory_datasheet));
  s += "\n  dense peak (no sparsity):\n";
  for (const auto &[k, v] : g.dense_flops.entries()) s += fmt::format("    {:<12} {}\n", k, flops_rate(v));
  if (g.nvlink)
    s += fmt::format("  NVLink {} : {} bidirectional ({} one way){}\n", g.nvlink->generation,
                     bandwidth(g.nvlink->bandwidth_bidirectional), bandwidth(g.nvlink->one_way()),
                     g.nvlink->links ? fmt::format(", {} links", g.nvlink->links) : "");
  if (g.pcie) s += fmt::format("  PCIe gen{} x{}\n", g.pcie->generation, g.pcie->lanes);
  for (const auto &n : g.notes) s += "  note: " + n + "\n";
  s += "  sources:\n";
  for (const auto &[k, v] : g.sources) s += fmt::format("    {}: {}\n", k, v);
  return s;
}

std::string gpu_list_text(const hw::GpuCatalogue &c) {
  std::string s = fmt::format("{:<15} {:<46} {:>9} {:>9} {:>9} {:>8} {:>9} {:>9} {:>10}\n", "id",
                              "name", "BF16 TF/s", "FP8 TF/s", "FP4 TF/s", "mem GB", "smi GB",
                              "HBM TB/s", "NVLink GB/s");
  for (const auto &[id, g] : c.all())
    s += fmt::format(
        "{:<15} {:<46} {:>9} {:>9} {:>9} {:>8.0f} {:>9} {:>9.2f} {:>10}{}\n", id, g.name,
        flops_or_dash(g, "bf16"), flops_or_dash(g, "fp8"), flops_or_dash(g, "fp4"),
        g.memory_datasheet.value() / 1e9,
        g.memory_reported ? fmt::format("{:.2f}", g.memory_reported->value() / 1e9) : "-",
        g.memory_bandwidth.value() / 1e12,
        g.nvlink ? fmt::format("{:.0f}", g.nvlink->bandwidth_bidirectional.value() / 1e9) : "-",
        g.preliminary ? "  (preliminary)" : "");
  s += "(dense peaks; NVLink per GPU, both directions; mem GB: the datasheet's, smi GB: the "
       "total nvidia-smi reports,\n which estimates use where known (else the datasheet's); "
       "GB = 1e9 bytes)\n";
  return s;
}

nlohmann::ordered_json gpu_list_json(const hw::GpuCatalogue &c) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (const auto &[id, g] : c.all()) a.push_back(gpu_json(g));
  return a;
}

nlohmann::ordered_json model_json(const wl::ModelSpec &m, DType kv,
                          const std::optional<wl::ModelPreset> &preset) {
  const auto p = wl::count_params(m);
  nlohmann::ordered_json groups = nlohmann::ordered_json::array();
  for (const auto &g : m.groups) groups.push_back(layer_json(m, g, kv));
  nlohmann::ordered_json j = {{"id", m.id},
                      {"file", m.file},
                      {"model_type", m.model_type},
                      {"hidden_size", m.hidden_size},
                      {"num_layers", m.num_layers},
                      {"vocab_size", m.vocab_size},
                      {"tie_word_embeddings", m.tie_word_embeddings},
                      {"dtype", to_string(m.dtype)},
                      {"weight_dtype", to_string(m.weight_dtype)},
                      {"expert_dtype", to_string(m.expert_dtype)},
                      {"total_params", p.total},
                      {"active_params", p.active},
                      {"active_params_excluding_embedding", p.active_excluding_embedding},
                      {"params",
                       {{"embedding", p.embedding},
                        {"lm_head", p.lm_head},
                        {"attention", p.attention},
                        {"ffn", p.ffn},
                        {"norms", p.norms},
                        {"routed_experts", p.routed_experts}}},
                      {"kv_dtype", to_string(kv)},
                      {"kv_cache_bytes_per_token", wl::kv_bytes_per_token(m, kv).value()},
                      {"layer_groups", groups},
                      {"mtp_layers", m.mtp_layers},
                      {"notes", m.notes}};
  if (preset)
    j["published"] = {{"total_params", preset->published_total_params},
                      {"active_params", preset->published_active_params},
                      {"active_counts_embedding", preset->published_active_counts_embedding},
                      {"source", preset->published_params_source},
                      {"hf_repo", preset->hf_repo}};
  return j;
}

std::string model_text(const wl::ModelSpec &m, DType kv,
                       const std::optional<wl::ModelPreset> &preset) {
  const auto p = wl::count_params(m);
  std::string s = fmt::format("{} ({}, {})\n", m.id, m.model_type, m.file);
  s += fmt::format("  parameters: {} total, {} active per token ({} without the embedding table)",
                   params(p.total), params(p.active), params(p.active_excluding_embedding));
  if (preset)
    s += fmt::format("  (published: {} / {})", params(preset->published_total_params),
                     params(preset->published_active_params));
  s += fmt::format("\n  hidden {}, {} layers, vocab {}, weights {} (experts {}), activations {}\n",
                   m.hidden_size, m.num_layers, m.vocab_size, to_string(m.weight_dtype),
                   to_string(m.expert_dtype), to_string(m.dtype));
  s += fmt::format("  KV cache: {:.0f} bytes per token over all layers at {} (sliding layers cap at "
                   "their window)\n",
                   wl::kv_bytes_per_token(m, kv).value(), to_string(kv));
  s += "  layers:\n";
  for (const auto &g : m.groups) s += layer_text(m, g, kv);
  for (const auto &n : m.notes) s += "  note: " + n + "\n";
  return s;
}

std::string model_list_text() {
  std::string s = fmt::format("{:<18} {:<12} {:>10} {:>10} {:>14}  {}\n", "id", "type", "total",
                              "active", "active w/o emb", "hugging face");
  for (const auto &pr : wl::builtin_presets()) {
    const auto m = wl::load_hf_config(pr.config, pr.id);
    const auto p = wl::count_params(m);
    s += fmt::format("{:<18} {:<12} {:>10} {:>10} {:>14}  {}\n", pr.id, m.model_type,
                     params(p.total), params(p.active), params(p.active_excluding_embedding),
                     pr.hf_repo);
  }
  return s;
}

nlohmann::ordered_json model_list_json() {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (const auto &pr : wl::builtin_presets()) {
    const auto m = wl::load_hf_config(pr.config, pr.id);
    const auto p = wl::count_params(m);
    a.push_back({{"id", pr.id},
                 {"model_type", m.model_type},
                 {"total_params", p.total},
                 {"active_params", p.active},
                 {"hf_repo", pr.hf_repo}});
  }
  return a;
}

} // namespace rooftop::rep
