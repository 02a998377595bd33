// `rooftop plan`: the fewest GPUs of each kind and TP degree that serve a load within an SLO.
#include "cli/commands.hpp"
#include "cli/estimate_args.hpp"
#include "cli/options.hpp"
#include "cli/scheduler_args.hpp"
#include "core/dtype.hpp"
#include "core/errors.hpp"
#include "reports/plan_report.hpp"
#include "sim/planner.hpp"
#include "workloads/model_catalogue.hpp"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>
#include <memory>

namespace rooftop::cli {
namespace {

struct Args {
  std::string model, weight_dtype, act_dtype, kv_dtype, engine = "vllm";
  SchedulerArgs scheduler;
  std::vector<std::string> gpus, prices, eps;
  std::vector<long long> tps{1, 2, 4, 8, 16}, pps{1};
  double rate = 0, slo_ttft_s = 0, slo_tpot_s = 0, percentile = 90, reserve_fraction = 0.10;
  long long requests = 2000, input_len = 1024, output_len = 256, max_gpus = 64;
  std::uint64_t seed = 1;
  bool json = false;
  CLI::App *app = nullptr;
};


/// "--price h100-sxm=2.5": USD per GPU-hour by GPU id.
std::map<std::string, double> prices(const std::vector<std::string> &given) {
  std::map<std::string, double> out;
  for (const auto &p : given) {
    const auto eq = p.find('=');
    double v = 0;
    std::size_t used = 0;
    try {
      if (eq != std::string::npos) v = std::stod(p.substr(eq + 1), &used);
    } catch (const std::exception &) {
      used = 0;
    }
    if (eq == std::string::npos || eq == 0 || used == 0 || used != p.size() - eq - 1 ||
        !(std::isfinite(v) && v > 0))
      throw InputError("--price '" + p + "': expected GPU=USD_PER_GPU_HOUR, e.g. h100-sxm=2.5");
    // Outside this range the cost columns read inf (1e308) or hundreds of zeros (1e-300).
    if (v < 1e-3 || v > 1e4)
      throw InputError("--price '" + p + "': must be in [0.001, 10000] USD per GPU-hour");
    const std::string id = p.substr(0, eq);
    (void)hw::GpuCatalogue::builtin().get(id); // names the known GPUs when unknown
    if (!out.emplace(id, v).second) throw InputError("--price: " + id + " given twice");
  }
  return out;
}

/// "--ep 1,tp": whether to try experts split by TP (1), whole experts over the TP group (tp), or
/// both (the default for a model with experts; a dense model has only 1).
std::vector<bool> expert_modes(const std::vector<std::string> &given, const wl::ModelSpec &m) {
  if (given.empty()) return m.is_moe() ? std::vector<bool>{false, true} : std::vector<bool>{false};
  std::vector<bool> out;
  for (const auto &e : given) {
    if (e != "1" && e != "tp")
      throw InputError("--ep '" + e + "': expected 1 (experts split by TP) or tp (each GPU of the "
                       "TP group holds whole experts)");
    if (e == "tp" && !m.is_moe())
      throw InputError("--ep tp: " + m.file + " has no experts");
    const bool whole = e == "tp";
    if (std::find(out.begin(), out.end(), whole) == out.end()) out.push_back(whole);
  }
  return out;
}

void run(const Args &a) {
  const auto m = wl::resolve_model(a.model);
  wl::Deployment base;
  apply_dtype_options(base, m, a.weight_dtype, a.act_dtype, a.kv_dtype);
  sim::PlanTarget t;
  t.rate_per_s = a.rate;
  t.requests = a.requests;
  t.input_tokens = a.input_len;
  t.output_tokens = a.output_len;
  t.seed = a.seed;
  t.quantile = a.percentile / 100.0;
  if (a.percentile != 50 && a.percentile != 90 && a.percentile != 99)
    throw InputError("--percentile must be 50, 90 or 99");
  t.ttft = latency_objective("--slo-ttft", a.slo_ttft_s);
  if (a.app->count("--slo-tpot") > 0) t.tpot = latency_objective("--slo-tpot", a.slo_tpot_s);
  t.max_gpus = a.max_gpus;
  t.engine = checked_engine(a.engine);
  const sim::SchedulerConfig cfg = scheduler_config(a.scheduler, a.reserve_fraction);
  const auto price = prices(a.prices);
  std::vector<std::string> gpus = a.gpus;
  if (gpus.empty())
    for (const auto &[id, g] : hw::GpuCatalogue::builtin().all()) gpus.push_back(id);
  for (const auto &[id, usd] : price)
    if (std::find(gpus.begin(), gpus.end(), id) == gpus.end())
      throw InputError("--price " + id + ": not one of the GPUs planned for (--gpu)");
  // A GPU or TP given twice is planned once.
  std::vector<long long> tps, pps;
  for (long long tp : a.tps)
    if (std::find(tps.begin(), tps.end(), tp) == tps.end()) tps.push_back(tp);
  for (long long pp : a.pps) {
    if (pp < 1 || pp > 1024) throw InputError("--pp " + std::to_string(pp) + ": must be in [1, 1024]");
    if (std::find(pps.begin(), pps.end(), pp) == pps.end()) pps.push_back(pp);
  }
  std::vector<std::string> unique_gpus;
  for (const auto &g : gpus)
    if (std::find(unique_gpus.begin(), unique_gpus.end(), g) == unique_gpus.end())
      unique_gpus.push_back(g);
  gpus = unique_gpus;
  const auto modes = expert_modes(a.eps, m);
  std::vector<sim::PlanCandidate> cands;
  for (const auto &id : gpus) {
    const auto &g = hw::GpuCatalogue::builtin().get(id);
    for (long long tp : tps) {
      if (tp < 1 || tp > 1024) throw InputError("--tp " + std::to_string(tp) + ": must be in [1, 1024]");
      const auto it = price.find(id);
      for (long long pp : pps)
        for (std::size_t k = 0; k < modes.size(); ++k)
          // At TP 1 both modes are one deployment (ep 1), planned once whichever was asked for.
          if (k == 0 || tp > 1)
            cands.push_back({&g, tp, it == price.end() ? 0.0 : it->second, modes[k] ? tp : 1, pp});
    }
  }
  const auto rows = sim::plan_capacity(m, base, !a.act_dtype.empty(), !a.kv_dtype.empty(), cands,
                                       t, cfg);
  if (a.json) std::cout << rep::plan_json(m, t, cfg, rows).dump(2) << "\n";
  else std::cout << rep::plan_text(m, t, rows);
}

} // namespace

void add_plan(CLI::App &app) {
  auto a = std::make_shared<Args>();
  auto *c = app.add_subcommand(
      "plan", "capacity planning: for each GPU, TP, EP and PP, the fewest replicas whose "
              "simulated serving meets a TTFT (and TPOT) objective at a request rate, and the cost");
  a->app = c;
  c->add_option("--model", a->model, "preset id or path to a Hugging Face config.json")->required();
  c->add_option("--gpu", a->gpus, "GPU ids to consider, comma-separated (default: every GPU)")
      ->delimiter(',');
  c->add_option("--tp", a->tps, "TP degrees to consider, comma-separated")
      ->delimiter(',')
      ->check(exact_integer<long long>())
      ->capture_default_str();
  c->add_option("--pp", a->pps,
                 "pipeline stages per replica to consider, comma-separated (serve's model of them)")
      ->delimiter(',')
      ->check(exact_integer<long long>())
      ->capture_default_str();
  c->add_option("--ep", a->eps,
                 "expert parallelism to consider, comma-separated: 1 (experts split by TP), tp "
                 "(each GPU of the TP group holds whole experts); default both for a model with "
                 "experts")
      ->delimiter(',');
  c->add_option("--weight-dtype", a->weight_dtype, "stored weights (default: as the model ships)");
  c->add_option("--act-dtype", a->act_dtype, "GEMM input dtype (default: resolved per GPU)");
  c->add_option("--kv-dtype", a->kv_dtype, "KV-cache dtype (default: the model dtype)");
  c->add_option("--rate", a->rate, "the load: Poisson arrivals, requests/s")->required();
  c->add_option("--input-len", a->input_len, "prompt tokens per request")
      ->check(exact_integer<long long>())
      ->capture_default_str();
  c->add_option("--output-len", a->output_len, "generated tokens per request")
      ->check(exact_integer<long long>())
      ->capture_default_str();
  c->add_option("--requests", a->requests, "requests simulated per replica")
      ->check(exact_integer<long long>())
      ->capture_default_str();
  c->add_option("--seed", a->seed, "seed of the arrival times")
      ->check(exact_integer<std::uint64_t>())
      ->capture_default_str();
  c->add_option("--slo-ttft", a->slo_ttft_s, "objective on the percentile's TTFT, s")->required();
  c->add_option("--slo-tpot", a->slo_tpot_s, "objective on the percentile's TPOT, s");
  c->add_option("--percentile", a->percentile, "50, 90 or 99")->capture_default_str();
  c->add_option("--max-gpus", a->max_gpus, "largest deployment considered")
      ->check(exact_integer<long long>())
      ->capture_default_str();
  c->add_option("--price", a->prices,
                "USD per GPU-hour, GPU=PRICE (repeatable), to rank by cost; no prices are built in");
  add_scheduler_options(*c, a->scheduler);
  c->add_option("--engine", a->engine,
                "the serving engine whose measured kernels the built-in efficiency tables are "
                "fitted to: vllm or trtllm (TensorRT-LLM)")
      ->capture_default_str();
  c->add_option("--reserve-fraction", a->reserve_fraction, "fraction of GPU memory kept back")
      ->capture_default_str();
  c->add_flag("--json", a->json, "print the rooftop.plan/1 JSON object");
  c->callback([a] { run(*a); });
}

} // namespace rooftop::cli
