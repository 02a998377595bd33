// `rooftop model list|show`: preset models and any Hugging Face config.json.
#include "cli/commands.hpp"
#include "core/errors.hpp"
#include "reports/catalogue_report.hpp"
#include "workloads/model_catalogue.hpp"

#include <iostream>
#include <memory>

namespace rooftop::cli {

void add_model(CLI::App &app) {
  auto *model = app.add_subcommand("model", "model presets and Hugging Face configs");
  model->require_subcommand(1);
  auto json = std::make_shared<bool>(false);
  auto *list = model->add_subcommand("list", "list the preset models");
  list->add_flag("--json", *json, "print JSON");
  list->callback([json] {
    if (*json) std::cout << rep::model_list_json().dump(2) << "\n";
    else std::cout << rep::model_list_text();
  });
  auto name = std::make_shared<std::string>();
  auto kv = std::make_shared<std::string>();
  auto *show = model->add_subcommand("show", "parameters, KV cache per token, layer structure");
  show->add_option("model", *name, "preset id or path to a config.json")->required();
  show->add_option("--kv-dtype", *kv, "KV-cache data type (default: the model's dtype)");
  show->add_flag("--json", *json, "print JSON");
  show->callback([json, name, kv] {
    const auto m = wl::resolve_model(*name);
    DType kvt = m.dtype;
    if (!kv->empty()) {
      try {
        kvt = dtype_from_string(*kv);
      } catch (const InputError &e) {
        throw InputError(std::string("--kv-dtype: ") + e.what());
      }
    }
    const auto preset = wl::find_preset(*name);
    if (*json) std::cout << rep::model_json(m, kvt, preset).dump(2) << "\n";
    else std::cout << rep::model_text(m, kvt, preset);
  });
}

} // namespace rooftop::cli
