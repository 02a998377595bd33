// `hw` and `model` listings and details, as JSON and as text.
#pragma once

#include "core/dtype.hpp"
#include "hwmodels/gpu_spec.hpp"
#include "workloads/model_catalogue.hpp"
#include "workloads/model_spec.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace rooftop::rep {

nlohmann::ordered_json gpu_json(const hw::GpuSpec &g);
std::string gpu_text(const hw::GpuSpec &g);
std::string gpu_list_text(const hw::GpuCatalogue &c);
nlohmann::ordered_json gpu_list_json(const hw::GpuCatalogue &c);

/// A model's parameters, KV-cache bytes per token (at `kv`) and layer structure.
nlohmann::ordered_json model_json(const wl::ModelSpec &m, DType kv,
                          const std::optional<wl::ModelPreset> &preset);
std::string model_text(const wl::ModelSpec &m, DType kv,
                       const std::optional<wl::ModelPreset> &preset);
std::string model_list_text();
nlohmann::ordered_json model_list_json();

} // namespace rooftop::rep
