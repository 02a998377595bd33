// `rooftop validate`: predicted versus published or measured figures, with the error.
#include "cli/commands.hpp"
#include "core/paths.hpp"
#include "sim/collective_validation.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

namespace rooftop::cli {
namespace {

void run_nccl(const std::string &file, bool json) {
  const auto rows = sim::load_published_collectives(file);
  const auto cmp = sim::compare_published(rows);
  std::vector<double> errors;
  for (const auto &c : cmp)
    if (!c.published.fitted) errors.push_back(c.relative_error);
  const auto s = sim::summarize_errors(errors);
  if (json) {
    nlohmann::ordered_json a = nlohmann::ordered_json::array();
    for (const auto &c : cmp)
      a.push_back({{"id", c.published.id},
                   {"system", c.published.system},
                   {"nodes", c.published.nodes},
                   {"ranks", c.published.ranks},
                   {"op", sim::to_string(c.published.op)},
                   {"size_bytes", c.published.size.value()},
                   {"published_busbw_Bps", c.published.busbw.value()},
                   {"predicted_busbw_Bps", c.predicted.busbw.value()},
                   {"predicted_algorithm", c.predicted.algorithm},
                   {"relative_error", c.relative_error},
                   {"fitted", c.published.fitted},
                   {"kind", c.published.kind},
                   {"source", c.published.source}});
    nlohmann::ordered_json j = {{"schema", "rooftop.validation/1"},
                                {"file", file},
                                {"rows", a},
                                {"summary",
                                 {{"count", s.count},
                                  {"median_abs_relative_error", s.median_abs},
                                  {"p90_abs_relative_error", s.p90_abs},
                                  {"max_abs_relative_error", s.max_abs}}}};
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << fmt::format("{:<22} {:<14} {:>5} {:<12} {:>12} {:>10} {:>10} {:>8}  {}\n", "id",
                           "system", "nodes", "op", "size (B)", "published", "rooftop", "error",
                           "algorithm");
  for (const auto &c : cmp)
    std::cout << fmt::format("{:<22} {:<14} {:>5} {:<12} {:>12.0f} {:>10.1f} {:>10.1f} {:>+7.1f}%  "
                             "{}{}\n",
                             c.published.id, c.published.system, c.published.nodes,
                             sim::to_string(c.published.op), c.published.size.value(),
                             c.published.busbw.value() / 1e9, c.predicted.busbw.value() / 1e9,
                             100 * c.relative_error, c.predicted.algorithm,
                             c.published.fitted ? "  (fitted: not counted)" : "");
  std::cout << fmt::format("busbw in GB/s (1e9 bytes/s). {} rows counted: median |error| {:.1f}%, "
                           "p90 {:.1f}%, max {:.1f}%\n",
                           s.count, 100 * s.median_abs, 100 * s.p90_abs, 100 * s.max_abs);
}

} // namespace

void add_validate(CLI::App &app) {
  auto file = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto *v = app.add_subcommand("validate", "compare rooftop with published or measured figures");
  v->add_option("--nccl-tests", *file,
                "published nccl-tests rows (default data/validation/nccl_tests_published.json)")
      ->expected(0, 1);
  v->add_flag("--json", *json, "print rooftop.validation/1 JSON");
  v->callback([file, json, v] {
    std::string f = *file;
    if (f.empty()) f = (data_dir() / "validation" / "nccl_tests_published.json").string();
    (void)v;
    run_nccl(f, *json);
  });
}

} // namespace rooftop::cli
