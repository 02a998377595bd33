// `rooftop serve`: simulate a request workload on a deployment with continuous batching.
#include "cli/commands.hpp"
#include "cli/estimate_args.hpp"
#include "cli/options.hpp"
#include "cli/scheduler_args.hpp"
#include "core/errors.hpp"
#include "core/parse.hpp"
#include "reports/serving_report.hpp"
#include "sim/serving.hpp"
#include "workloads/deployment.hpp"
#include "workloads/requests.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <type_traits>

namespace rooftop::cli {
namespace {

struct Args {
  EstimateArgs estimate;
  long long requests = 1000;
  double rate = 0;
  std::uint64_t seed = 1;
  std::string workload_file;
  SchedulerArgs scheduler;
  double slo_ttft_s = 0, slo_tpot_s = 0;
  std::string requests_csv;
  std::string kv_pool;
  bool json = false;
  CLI::App *app = nullptr;
};

/// Options of `estimate` that mean nothing here (the scheduler sets the batch).
void refuse_estimate_only(const CLI::App &c) {
  for (const char *o : {"--batch", "--max-batch", "--max-prefill-tokens", "--decode-samples"})
    if (c.count(o) > 0)
      throw InputError(std::string(o) + " is an estimate option; serve's batch comes from its "
                       "scheduler (--max-num-seqs, --max-num-batched-tokens)");
}

std::optional<Seconds> slo(const CLI::App &c, const char *option, double v) {
  if (c.count(option) == 0) return std::nullopt;
  return latency_objective(option, v);
}

std::vector<wl::Request> requests(const Args &a, std::string &described) {
  const CLI::App &c = *a.app;
  if (!a.workload_file.empty()) {
    for (const char *o : {"--requests", "--rate", "--seed", "--input-len", "--output-len"})
      if (c.count(o) > 0)
        throw InputError(std::string(o) + ": the requests come from --workload " + a.workload_file);
    auto r = wl::load_requests(a.workload_file);
    described = std::to_string(r.size()) + " requests from " + a.workload_file;
    return r;
  }
  if (c.count("--rate") > 0 && !(std::isfinite(a.rate) && a.rate > 0))
    throw InputError("--rate = " + std::to_string(a.rate) + ": must be a rate > 0 (requests/s)");
  wl::RequestPattern p;
  p.count = a.requests;
  p.rate_per_s = a.rate;
  p.seed = a.seed;
  p.input_tokens = a.estimate.input_len;
  p.output_tokens = a.estimate.output_len;
  described = std::to_string(p.count) + " requests of " + std::to_string(p.input_tokens) + " in / " +
              std::to_string(p.output_tokens) + " out tokens, " +
              (a.rate > 0 ? fmt::format("Poisson arrivals at {:g} requests/s (seed ", a.rate) +
                                std::to_string(a.seed) + ")"
                          : std::string("all at t = 0"));
  return wl::generate_requests(p);
}

void run(const Args &a) {
  refuse_estimate_only(*a.app);
  EstimateArgs ea = a.estimate;
  if (!a.workload_file.empty()) // a trace gives the lengths (--input-len is refused with it):
    ea.input_len = ea.output_len = 1; // the defaults 1024 + 256 must not meet a short model
  const EstimateSetup s = resolve_estimate_args(ea);
  if (a.workload_file.empty()) // generated: name --input-len and --output-len when too long
    wl::validate_mapping(s.model, s.deployment);
  sim::SchedulerConfig cfg = scheduler_config(a.scheduler, s.options.reserve_fraction);
  if (!a.kv_pool.empty()) {
    cfg.kv_pool = parse_bytes(a.kv_pool, "--kv-pool");
    if (cfg.kv_pool.value() <= 0) throw InputError("--kv-pool must be > 0 bytes");
  }
  std::string described;
  const auto reqs = requests(a, described);
  const rep::ServingInputs in{s.model,    *s.gpu,    s.deployment,
                              s.efficiency, cfg,     described,
                              slo(*a.app, "--slo-ttft", a.slo_ttft_s),
                              slo(*a.app, "--slo-tpot", a.slo_tpot_s)};
  if (a.app->count("--requests-csv") > 0 && a.requests_csv.empty())
    throw InputError("--requests-csv: give a file name");
  const auto r =
      sim::simulate_serving(*s.gpu, s.model, s.deployment, s.efficiency, s.cluster, cfg, reqs,
                            a.workload_file);
  if (!a.requests_csv.empty()) {
    std::ofstream out(a.requests_csv);
    out << rep::serving_csv(r);
    if (!out) throw InputError("--requests-csv " + a.requests_csv + ": cannot write the file");
  }
  if (a.json) std::cout << rep::serving_json(in, r).dump(2) << "\n";
  else std::cout << rep::serving_text(in, r);
}

} // namespace

void add_serve(CLI::App &app) {
  auto a = std::make_shared<Args>();
  auto *c = app.add_subcommand(
      "serve", "simulate serving a request workload: continuous batching, chunked prefill, "
               "paged KV cache; TTFT, TPOT and throughput percentiles");
  a->app = c;
  add_estimate_options(*c, a->estimate);
  c->add_option("--requests", a->requests, "requests to generate (with --input-len, --output-len)")
      ->check(exact_integer<long long>())
      ->capture_default_str();
  c->add_option("--rate", a->rate,
                "Poisson arrival rate, requests/s (default: every request arrives at t = 0)");
  c->add_option("--seed", a->seed, "seed of the arrival times")
      ->check(exact_integer<std::uint64_t>())
      ->capture_default_str();
  c->add_option("--workload", a->workload_file,
                "a rooftop.requests/1 file of requests (arrival_s, input_tokens, output_tokens)");
  add_scheduler_options(*c, a->scheduler);
  c->add_option("--kv-pool", a->kv_pool,
                "KV-cache pool per GPU, e.g. 20GiB (default: what the weights, one step's "
                "activations and the reserve leave)");
  c->add_option("--slo-ttft", a->slo_ttft_s, "TTFT objective for goodput, s");
  c->add_option("--slo-tpot", a->slo_tpot_s, "TPOT objective for goodput, s");
  c->add_option("--requests-csv", a->requests_csv, "write one CSV line per request to this file");
  c->add_flag("--json", a->json, "print the rooftop.serving/1 JSON object");
  c->callback([a] { run(*a); });
}

} // namespace rooftop::cli
