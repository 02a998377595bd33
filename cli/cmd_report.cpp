// `rooftop report`: the estimate as a directory with a self-contained report.html and PNG plots.
#include "cli/commands.hpp"
#include "cli/estimate_args.hpp"
#include "reports/estimate_report.hpp"
#include "reports/report_dir.hpp"

#include <fmt/format.h>

#include <iostream>
#include <memory>

namespace rooftop::cli {
namespace {

struct Args {
  EstimateArgs estimate;
  std::string out = "rooftop-report";
};

/// A command line that reproduces the report: the options as given.
std::string command_line(const Args &a) {
  const auto &e = a.estimate;
  std::string c = "rooftop report --model " + e.model + " --gpu " + e.gpu;
  if (e.gpus_option && e.gpus_option->count() > 0) c += " --gpus " + std::to_string(e.gpus);
  c += " --tp " + std::to_string(e.tp);
  if (!e.weight_dtype.empty()) c += " --weight-dtype " + e.weight_dtype;
  if (!e.act_dtype.empty()) c += " --act-dtype " + e.act_dtype;
  if (!e.kv_dtype.empty()) c += " --kv-dtype " + e.kv_dtype;
  c += fmt::format(" --batch {} --input-len {} --output-len {}", e.batch, e.input_len,
                   e.output_len);
  if (e.reserve_fraction != 0.10) c += fmt::format(" --reserve-fraction {}", e.reserve_fraction);
  if (e.decode_samples != 16) c += fmt::format(" --decode-samples {}", e.decode_samples);
  if (e.max_prefill_tokens != 0)
    c += fmt::format(" --max-prefill-tokens {}", e.max_prefill_tokens);
  if (!e.efficiency_file.empty()) c += " --efficiency " + e.efficiency_file;
  if (e.ideal) c += " --ideal";
  return c + " --out " + a.out;
}

void run(const Args &a) {
  const EstimateSetup s = resolve_estimate_args(a.estimate);
  const auto e = sim::estimate(*s.gpu, s.model, s.deployment, s.efficiency, s.options, &s.cluster);
  const rep::EstimateInputs in{s.model, *s.gpu, s.deployment, s.efficiency};
  const auto files = rep::write_report(a.out, in, e, s.options, command_line(a));
  std::cout << "wrote " << files.html.string() << "\n";
  for (const auto &p : files.pngs) std::cout << "wrote " << p.string() << "\n";
  if (e.feasibility == sim::Feasibility::out_of_memory) {
    std::cerr << "error: " << rep::out_of_memory_message(in, e) << "\n";
    exit_status() = 2;
  }
}

} // namespace

void add_report(CLI::App &app) {
  auto a = std::make_shared<Args>();
  auto *c = app.add_subcommand("report", "an HTML report with roofline, time, batch and memory "
                                         "plots (needs gnuplot)");
  add_estimate_options(*c, a->estimate);
  c->add_option("--out", a->out, "directory to write report.html and the PNG plots into")
      ->capture_default_str();
  c->callback([a] { run(*a); });
}

} // namespace rooftop::cli
