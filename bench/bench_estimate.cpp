// bench_estimate: how fast rooftop's core runs: sim::estimate calls per second, and the lowering
// of one pass (wl::lower_pass) on its own. Plain text output; `--seconds N` per measurement.
#include "hwmodels/efficiency.hpp"
#include "hwmodels/gpu_spec.hpp"
#include "sim/estimate.hpp"
#include "workloads/model_catalogue.hpp"
#include "workloads/op_graph.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <string>

namespace {

using Clock = std::chrono::steady_clock;
using namespace rooftop;

struct Timing {
  long long calls = 0;
  double seconds = 0;   ///< wall time, s
  double checksum = 0;  ///< sum of a result, so the work cannot be optimized away
};

/// Calls `f(i)` for i = 0, 1, ... until at least `budget_s` seconds have passed; the clock is read
/// once per `chunk` calls.
template <class F> Timing time_loop(double budget_s, long long chunk, F &&f) {
  Timing t;
  const auto start = Clock::now();
  do {
    for (long long i = 0; i < chunk; ++i) t.checksum += f(t.calls + i);
    t.calls += chunk;
    t.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  } while (t.seconds < budget_s);
  return t;
}

void report(const std::string &what, const Timing &t) {
  fmt::print("{:<46} {:>10} calls in {:6.3f} s: {:>12.0f} /s, {:>9.3f} us each (checksum {:.6g})\n",
             what, t.calls, t.seconds, static_cast<double>(t.calls) / t.seconds,
             1e6 * t.seconds / static_cast<double>(t.calls), t.checksum);
}

wl::Deployment deployment(const wl::ModelSpec &m, const hw::GpuSpec &gpu, long long tp) {
  wl::Deployment d;
  d.tp = tp;
  d.input_len = 2048;
  d.output_len = 256;
  d.weight_dtype = m.weight_dtype;
  d.expert_dtype = m.expert_dtype;
  sim::resolve_dtypes(m, gpu, d, false, false);
  return d;
}

/// sim::estimate at batch sizes 1..256 in turn (tp 8, input 2048, output 256).
void bench_model(const std::string &id, const hw::GpuSpec &gpu, const hw::Efficiency &eff,
                 double budget_s) {
  const auto m = wl::resolve_model(id);
  wl::Deployment d = deployment(m, gpu, 8);
  const sim::EstimateOptions o;
  // The model is lowered once per distinct layer type: each op carries count = its layers.
  const auto ops = wl::lower_pass(m, d, wl::Phase::decode, {1, 1, 0});
  long long instances = 0;
  for (const auto &op : ops) instances += op.count;
  fmt::print("{}: {} layers, {} distinct layer type(s): lower_pass(...).size() = {} ops "
             "standing for {} op instances\n",
             id, m.num_layers, m.groups.size(), ops.size(), instances);
  // Each estimate lowers 3 + decode_samples passes: one for stored weights, one for one
  // sequence's prefill activations, the prefill pass and one per decode context sample.
  fmt::print("  lower_pass calls per estimate: {} (3 + {} decode samples)\n", 3 + o.decode_samples,
             o.decode_samples);
  const Timing est = time_loop(budget_s, 256, [&](long long i) {
    d.batch = 1 + i % 256;
    return sim::estimate(gpu, m, d, eff, o).tpot.value();
  });
  report("  sim::estimate, batch 1..256", est);
  d.batch = 64;
  const Timing low = time_loop(budget_s / 4, 256, [&](long long i) {
    const wl::PassShape s{d.batch, 1, d.input_len + i % d.output_len};
    return static_cast<double>(wl::lower_pass(m, d, wl::Phase::decode, s).size());
  });
  report("  wl::lower_pass (decode step) only", low);
}

double parse_seconds(int argc, char **argv) {
  double s = 2.0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) {
      char *end = nullptr;
      s = std::strtod(argv[++i], &end);
      if (*end != '\0' || !(s > 0)) throw std::invalid_argument("--seconds: expected a number > 0");
    } else if (a == "--help" || a == "-h") {
      fmt::print("usage: bench_estimate [--seconds N]  (N: seconds per model, default 2)\n");
      std::exit(0);
    } else {
      throw std::invalid_argument("unknown argument '" + a + "' (usage: bench_estimate [--seconds N])");
    }
  }
  return s;
}

} // namespace

int main(int argc, char **argv) {
  try {
    const double budget_s = parse_seconds(argc, argv);
    const auto &gpu = hw::GpuCatalogue::builtin().get("h100-sxm");
    const auto eff = hw::builtin_efficiency(gpu);
    fmt::print("bench_estimate: {} (tp 8, input 2048, output 256, batch 1..256), "
               "{} s per sim::estimate measurement\n",
               gpu.id, budget_s);
    for (const char *id : {"llama-3.1-405b", "deepseek-v3"}) bench_model(id, gpu, eff, budget_s);
  } catch (const std::exception &e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 2;
  }
  return 0;
}
