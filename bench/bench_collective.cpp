// Speed of building clusters and costing collectives on them, up to 100,000 GPUs.
#include "hwmodels/efficiency.hpp"
#include "hwmodels/system.hpp"
#include "sim/collective.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <string>

int main(int argc, char **argv) {
  using namespace rooftop;
  using clock = std::chrono::steady_clock;
  double seconds = 1.0;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--seconds") seconds = std::atof(argv[i + 1]);
  const auto t0 = clock::now();
  const auto &sys = hw::SystemCatalogue::builtin().get("hgx-h100-8");
  const auto eff = hw::builtin_efficiency(hw::GpuCatalogue::builtin().get(sys.gpu));
  const auto cluster = hw::make_cluster(sys, 12500);
  const auto t1 = clock::now();
  const auto one = sim::collective_cost(sim::CollectiveOp::all_reduce, gib(1), cluster,
                                        cluster.gpus(), eff);
  const auto t2 = clock::now();
  fmt::print("cluster of {} GPUs ({} x {}): catalogues loaded and cluster built in {:.1f} ms; "
             "first 1 GiB all-reduce over all GPUs costed in {:.1f} us ({:.3f} s, {})\n",
             cluster.gpus(), cluster.nodes, sys.id,
             std::chrono::duration<double, std::milli>(t1 - t0).count(),
             std::chrono::duration<double, std::micro>(t2 - t1).count(), one.time.value(),
             one.algorithm);
  long long calls = 0;
  double checksum = 0;
  const auto start = clock::now();
  const auto ops = {sim::CollectiveOp::all_reduce, sim::CollectiveOp::all_gather,
                    sim::CollectiveOp::reduce_scatter, sim::CollectiveOp::all_to_all};
  while (std::chrono::duration<double>(clock::now() - start).count() < seconds) {
    for (long long ranks = 8; ranks <= cluster.gpus(); ranks *= 5) {
      if (ranks % 8) continue;
      for (auto op : ops) {
        checksum += sim::collective_cost(op, Bytes(double(ranks) * 1024), cluster, ranks, eff).time.value();
        ++calls;
      }
    }
  }
  const double el = std::chrono::duration<double>(clock::now() - start).count();
  fmt::print("collective_cost on that cluster: {:.0f} calls/s ({:.2f} us each; checksum {:.3g})\n",
             double(calls) / el, el / double(calls) * 1e6, checksum);
  return 0;
}
