// `rooftop hw list|show`: the GPU catalogue.
#include "cli/commands.hpp"
#include "hwmodels/gpu_spec.hpp"
#include "reports/catalogue_report.hpp"

#include <iostream>
#include <memory>

namespace rooftop::cli {

void add_hw(CLI::App &app) {
  auto *hw = app.add_subcommand("hw", "GPU catalogue");
  hw->require_subcommand(1);
  auto json = std::make_shared<bool>(false);
  auto *list = hw->add_subcommand("list", "list the GPUs in the catalogue");
  list->add_flag("--json", *json, "print JSON");
  list->callback([json] {
    const auto &c = hw::GpuCatalogue::builtin();
    if (*json) std::cout << rep::gpu_list_json(c).dump(2) << "\n";
    else std::cout << rep::gpu_list_text(c);
  });
  auto id = std::make_shared<std::string>();
  auto *show = hw->add_subcommand("show", "show one GPU with the source of every figure");
  show->add_option("gpu", *id, "GPU id (see `rooftop hw list`)")->required();
  show->add_flag("--json", *json, "print JSON");
  show->callback([json, id] {
    const auto &g = hw::GpuCatalogue::builtin().get(*id);
    if (*json) std::cout << rep::gpu_json(g).dump(2) << "\n";
    else std::cout << rep::gpu_text(g);
  });
}

} // namespace rooftop::cli
