// bench_serve: how fast the serving simulator runs: simulated steps and requests per second of
// wall time for a few workloads. Plain text output; each workload is repeated for `--seconds N`.
#include "hwmodels/efficiency.hpp"
#include "hwmodels/gpu_spec.hpp"
#include "hwmodels/system.hpp"
#include "sim/estimate.hpp"
#include "sim/serving.hpp"
#include "workloads/model_catalogue.hpp"
#include "workloads/requests.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <string>

namespace {

using Clock = std::chrono::steady_clock;
using namespace rooftop;

struct Case {
  const char *name;
  const char *model;
  long long tp;
  wl::RequestPattern pattern;
};

void bench(const Case &c, double budget_s) {
  const auto &gpu = hw::GpuCatalogue::builtin().get("h100-sxm");
  const auto m = wl::resolve_model(c.model);
  wl::Deployment d;
  d.tp = c.tp;
  d.weight_dtype = d.expert_dtype = DType::fp8;
  d.kv_dtype = DType::fp8;
  sim::resolve_dtypes(m, gpu, d, false, true);
  const auto eff = hw::builtin_efficiency(gpu);
  const auto cluster = hw::cluster_for_gpu(gpu, d.gpus(), d.tp);
  const auto requests = wl::generate_requests(c.pattern);
  const sim::SchedulerConfig cfg;
  long long runs = 0, steps = 0;
  double checksum = 0, seconds = 0;
  const auto start = Clock::now();
  do {
    const auto r = sim::simulate_serving(gpu, m, d, eff, cluster, cfg, requests);
    ++runs;
    steps += r.steps;
    checksum += r.output_tokens_per_s;
    seconds = std::chrono::duration<double>(Clock::now() - start).count();
  } while (seconds < budget_s);
  const double per_run = seconds / static_cast<double>(runs);
  fmt::print("{:<44} {:>4} runs, {:>8.2f} ms per run ({} steps): {:>10.0f} steps/s, {:>10.0f} "
             "requests/s (checksum {:.6g})\n",
             c.name, runs, 1e3 * per_run, steps / runs, static_cast<double>(steps) / seconds,
             static_cast<double>(requests.size()) / per_run, checksum);
}

} // namespace

int main(int argc, char **argv) {
  double budget_s = 2.0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) {
      budget_s = std::atof(argv[++i]);
    } else {
      fmt::print(stderr, "usage: bench_serve [--seconds N]\n");
      return 2;
    }
  }
  if (!(budget_s > 0)) {
    fmt::print(stderr, "error: --seconds must be > 0\n");
    return 2;
  }
  try {
    bench({"llama-3.1-8b, 1 GPU, 30000 x 128/128 at t=0", "llama-3.1-8b", 1,
           {30000, 0, 128, 128, 1}},
          budget_s);
    bench({"llama-3.1-70b, TP 4, 2000 x 2048/256 at 10/s", "llama-3.1-70b", 4,
           {2000, 10, 2048, 256, 1}},
          budget_s);
    bench({"mixtral-8x7b, TP 2, 2000 x 1024/256 at 20/s", "mixtral-8x7b", 2,
           {2000, 20, 1024, 256, 1}},
          budget_s);
  } catch (const std::exception &e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
