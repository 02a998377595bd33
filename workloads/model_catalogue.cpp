// Preset models and --model resolution.
#include "workloads/model_catalogue.hpp"

#include "core/errors.hpp"
#include "core/json_io.hpp"
#include "core/paths.hpp"

namespace rooftop::wl {

std::vector<ModelPreset> load_model_index(const std::filesystem::path &file) {
  const auto j = read_json_file(file);
  JsonReader r(j, file.string());
  if (r.string("schema") != "rooftop.model_index/1")
    r.fail("schema", "expected \"rooftop.model_index/1\"");
  const auto &arr = r.array("models");
  r.finish();
  std::vector<ModelPreset> out;
  for (std::size_t i = 0; i < arr.size(); ++i) {
    JsonReader e(arr[i], file.string(), "/models/" + std::to_string(i));
    ModelPreset p;
    p.id = e.string("id");
    p.config = file.parent_path() / e.string("config");
    p.hf_repo = e.string("hf_repo");
    p.source = e.string("source");
    p.published_total_params = e.number("published_total_params", Check::positive, "parameters");
    p.published_active_params = e.number("published_active_params", Check::positive, "parameters");
    p.published_active_counts_embedding = e.boolean_or("published_active_counts_embedding", true);
    p.published_active_rounding =
        e.number_or("published_active_rounding", 0, Check::non_negative, "parameters");
    p.published_params_source = e.string("published_params_source");
    e.finish();
    out.push_back(p);
  }
  return out;
}

const std::vector<ModelPreset> &builtin_presets() {
  static const std::vector<ModelPreset> presets =
      load_model_index(data_dir() / "models" / "index.json");
  return presets;
}

std::optional<ModelPreset> find_preset(const std::string &id) {
  for (const auto &p : builtin_presets())
    if (p.id == id) return p;
  return std::nullopt;
}

ModelSpec resolve_model(const std::string &name_or_path) {
  namespace fs = std::filesystem;
  if (auto p = find_preset(name_or_path)) return load_hf_config(p->config, p->id);
  fs::path path(name_or_path);
  if (fs::is_directory(path)) path /= "config.json";
  if (fs::is_regular_file(path)) return load_hf_config(path);
  std::string known;
  for (const auto &p : builtin_presets()) known += (known.empty() ? "" : ", ") + p.id;
  throw InputError("unknown model '" + name_or_path +
                   "': not a preset and not a config.json file (presets: " + known + ")");
}

} // namespace rooftop::wl
