// `rooftop estimate`: memory, TTFT, TPOT and throughput of one deployment.
#include "cli/commands.hpp"
#include "cli/estimate_args.hpp"
#include "reports/estimate_report.hpp"

#include <iostream>
#include <memory>

namespace rooftop::cli {
namespace {

struct Args {
  EstimateArgs estimate;
  bool json = false;
};

void run(const Args &a) {
  const EstimateSetup s = resolve_estimate_args(a.estimate);
  const auto e = sim::estimate(*s.gpu, s.model, s.deployment, s.efficiency, s.options, &s.cluster);
  const rep::EstimateInputs in{s.model, *s.gpu, s.deployment, s.efficiency};
  if (a.json) std::cout << rep::estimate_json(in, e).dump(2) << "\n";
  else std::cout << rep::estimate_text(in, e);
  if (e.feasibility == sim::Feasibility::out_of_memory) {
    std::cerr << "error: " << rep::out_of_memory_message(in, e) << "\n";
    exit_status() = 2;
  }
}

} // namespace

void add_estimate(CLI::App &app) {
  auto a = std::make_shared<Args>();
  auto *c = app.add_subcommand("estimate", "memory, TTFT, TPOT and throughput of one deployment");
  add_estimate_options(*c, a->estimate);
  c->add_flag("--json", a->json, "print the rooftop.estimate/1 JSON object");
  c->callback([a] { run(*a); });
}

} // namespace rooftop::cli
