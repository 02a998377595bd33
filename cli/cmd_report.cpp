// `rooftop report`: the estimate as a directory with a self-contained report.html and PNG plots.
#include "cli/commands.hpp"
#include "cli/estimate_args.hpp"
#include "core/errors.hpp"
#include "reports/format.hpp"
#include "reports/estimate_report.hpp"
#include "reports/report_dir.hpp"

#include <iostream>
#include <memory>

namespace rooftop::cli {
namespace {

struct Args {
  EstimateArgs estimate;
  std::string out = "rooftop-report";
};

/// A command line that reproduces the report: the command line as given (every option, in its
/// order), shell-quoted, with the program as plain `rooftop`.
std::string command_line() {
  auto argv = cli_argv();
  if (argv.empty()) return "rooftop report"; // not run through main()
  argv[0] = "rooftop";
  return rep::shell_command(argv);
}

void run(const Args &a) {
  const EstimateSetup s = resolve_estimate_args(a.estimate);
  const auto e = sim::estimate(*s.gpu, s.model, s.deployment, s.efficiency, s.options, &s.cluster);
  const rep::EstimateInputs in{s.model, *s.gpu, s.deployment, s.efficiency};
  const auto files = rep::write_report(a.out, in, e, s.options, command_line(), &s.cluster);
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
