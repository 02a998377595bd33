// The preset models of data/models/index.json, and resolving a --model argument.
#pragma once

#include "workloads/model_spec.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace rooftop::wl {

/// One preset: a real Hugging Face config and the published parameter counts.
struct ModelPreset {
  std::string id;
  std::filesystem::path config;  ///< absolute path of the config.json copy
  std::string hf_repo;
  std::string source;
  double published_total_params = 0;
  double published_active_params = 0;
  bool published_active_counts_embedding = true; ///< the publisher counts the embedding table
  double published_active_rounding = 0; ///< the published figure is rounded to +- this many
  std::string published_params_source;
};

/// Loads a rooftop.model_index/1 file. Throws InputError naming file and field.
std::vector<ModelPreset> load_model_index(const std::filesystem::path &file);
/// The presets of data/models/index.json.
const std::vector<ModelPreset> &builtin_presets();
/// The preset with this id, or nullopt.
std::optional<ModelPreset> find_preset(const std::string &id);

/// A preset id or a path to a config.json (a directory holding config.json works too).
/// Throws InputError naming the argument and listing the presets when it is neither.
ModelSpec resolve_model(const std::string &name_or_path);

} // namespace rooftop::wl
