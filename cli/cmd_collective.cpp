// `rooftop collective` (a message-size sweep, like nccl-tests) and `rooftop system list|show`.
#include "cli/commands.hpp"
#include "core/errors.hpp"
#include "core/parse.hpp"
#include "hwmodels/efficiency.hpp"
#include "hwmodels/links.hpp"
#include "reports/collective_report.hpp"
#include "sim/collective.hpp"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <memory>

namespace rooftop::cli {
namespace {

struct CollectiveArgs {
  std::string op = "all-reduce", bytes = "1GiB", min_bytes, system, gpu;
  long long nodes = 1, gpus = 0;
  double factor = 2.0, oversubscription = 1.0;
  bool json = false, ideal = false, gpus_given = false;
};

/// The cluster of --system, or of --gpu: its usual system, or, for a GPU no system lists (a PCIe
/// card), one server of --gpus of them joined by NVLink or PCIe, as `estimate` costs it.
hw::Cluster resolve_cluster(const CollectiveArgs &a, sim::CollectiveOp op) {
  const auto &cat = hw::SystemCatalogue::builtin();
  if (!a.system.empty()) return hw::make_cluster(cat.get(a.system), a.nodes, a.oversubscription);
  const auto &gpu = hw::GpuCatalogue::builtin().get(a.gpu);
  if (cat.holds(gpu.id))
    return hw::make_cluster(cat.default_for_gpu(gpu.id), a.nodes, a.oversubscription);
  const std::string none = "no system in data/hardware/systems holds " + gpu.id;
  if (a.nodes > 1)
    throw InputError("--nodes " + std::to_string(a.nodes) + ": " + none +
                     ", so rooftop has no network for it; one server only (or give --system)");
  if (!a.gpus_given && op != sim::CollectiveOp::send_recv) {
    const std::string pair = hw::scale_up_path(gpu, 2).name, more = hw::scale_up_path(gpu, 3).name;
    throw InputError(none + ": give --gpus N to cost N of them in one server (" +
                     (pair == more ? "joined by " + more : pair + " between 2, " + more + " for more") +
                     "), as estimate does, or give --system");
  }
  if (a.gpus > hw::k_max_standalone_gpus)
    throw InputError("--gpus = " + std::to_string(a.gpus) + ": " + hw::standalone_limit(gpu) +
                     "; give --gpus 2 to " + std::to_string(hw::k_max_standalone_gpus) +
                     ", or a --system");
  // send-recv runs between 2 GPUs; --gpus < 2 is refused by the caller
  const long long ranks = std::max(2LL, a.gpus_given ? a.gpus : 2);
  return hw::make_cluster(hw::cluster_for_gpu(gpu, ranks, ranks).system, 1, a.oversubscription);
}

void run(const CollectiveArgs &a) {
  const auto op = sim::collective_from_string(a.op);
  if (a.system.empty() == a.gpu.empty())
    throw InputError("give exactly one of --system or --gpu (the usual system for that GPU)");
  const auto cluster = resolve_cluster(a, op);
  const auto &sys = cluster.system;
  if (a.gpus_given && a.gpus < 2)
    throw InputError("--gpus = " + std::to_string(a.gpus) + ": a collective needs >= 2 GPUs");
  const long long ranks = a.gpus_given ? a.gpus : cluster.gpus();
  if (ranks < 2) throw InputError(sys.id + " x " + std::to_string(a.nodes) + " has one GPU: nothing to communicate");
  if (op == sim::CollectiveOp::send_recv && ranks != 2 && a.gpus_given)
    throw InputError("--op send-recv runs between 2 GPUs: give --gpus 2 or leave it out");
  const long long group = op == sim::CollectiveOp::send_recv ? 2 : ranks;
  const auto eff = a.ideal ? hw::Efficiency::ideal()
                           : hw::builtin_efficiency(hw::GpuCatalogue::builtin().get(sys.gpu));
  // send-recv between nodes when there are several, else inside the domain.
  sim::Placement placement = sim::place_group(cluster, group);
  if (op == sim::CollectiveOp::send_recv && cluster.nodes > 1) placement = {2, 1};
  const Bytes max = parse_bytes(a.bytes, "--bytes");
  const Bytes min = a.min_bytes.empty() ? max : parse_bytes(a.min_bytes, "--min-bytes");
  if (min > max) throw InputError("--min-bytes must not exceed --bytes");
  if (!(a.factor > 1.0)) throw InputError("--step-factor must be > 1");
  const auto [intra, inter] = sim::cluster_levels(cluster, eff);
  std::vector<sim::CollectiveCost> rows;
  const double n_rows = std::floor(std::log(max.value() / min.value()) / std::log(a.factor)) + 1;
  if (n_rows > 200)
    throw InputError("--min-bytes to --bytes by --step-factor is " + std::to_string(static_cast<long long>(n_rows)) +
                     " sizes: at most 200 (raise --step-factor)");
  for (double s = min.value(); s <= max.value() * (1 + 1e-12); s *= a.factor)
    rows.push_back(sim::collective_cost(op, Bytes(std::floor(s)), placement, intra, inter,
                                        eff.collective_latency));
  const rep::CollectiveInputs in{cluster, placement, eff, op};
  if (a.json) std::cout << rep::collective_json(in, rows).dump(2) << "\n";
  else std::cout << rep::collective_text(in, rows);
}

} // namespace

void add_collective(CLI::App &app) {
  auto a = std::make_shared<CollectiveArgs>();
  auto *c = app.add_subcommand("collective",
                               "time, algbw and busbw of a collective per message size");
  c->add_option("--op", a->op, "all-reduce, all-gather, reduce-scatter, all-to-all, send-recv")
      ->capture_default_str();
  c->add_option("--bytes", a->bytes, "message size (the largest of the sweep): 4096, 256MiB, 1GiB")
      ->capture_default_str();
  c->add_option("--min-bytes", a->min_bytes,
                "smallest message of a sweep, growing by --step-factor (default: only --bytes)");
  c->add_option("--step-factor", a->factor, "size ratio between sweep rows")->capture_default_str();
  c->add_option("--system", a->system, "system id (see `rooftop system list`)");
  c->add_option("--gpu", a->gpu, "or a GPU id: its usual system");
  c->add_option("--nodes", a->nodes, "systems on a rail-optimised fat tree")->capture_default_str();
  auto *gpus_opt = c->add_option("--gpus", a->gpus, "ranks in the group (default: every GPU of the cluster)");
  c->add_option("--oversubscription", a->oversubscription,
                "fat-tree spine oversubscription (1 = non-blocking)")->capture_default_str();
  c->add_flag("--ideal", a->ideal, "link line rates, efficiency 1, no fixed call latency");
  c->add_flag("--json", a->json, "print rooftop.collective/1 JSON");
  c->callback([a, gpus_opt] {
    a->gpus_given = gpus_opt->count() > 0;
    run(*a);
  });

  auto json = std::make_shared<bool>(false);
  auto *sys = app.add_subcommand("system", "systems: nodes, scale-up domains, NICs");
  sys->require_subcommand(1);
  auto *list = sys->add_subcommand("list", "list the systems");
  list->callback([] { std::cout << rep::system_list_text(hw::SystemCatalogue::builtin()); });
  auto id = std::make_shared<std::string>();
  auto *show = sys->add_subcommand("show", "one system with its sources");
  show->add_option("system", *id, "system id")->required();
  show->add_flag("--json", *json, "print JSON");
  show->callback([json, id] {
    const auto &s = hw::SystemCatalogue::builtin().get(*id);
    if (*json) std::cout << rep::system_json(s).dump(2) << "\n";
    else std::cout << rep::system_text(s);
  });
}

} // namespace rooftop::cli
