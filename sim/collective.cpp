// Collective costs. NCCL chooses, per call, the algorithm and protocol its tuner predicts fastest
// (src/graph/tuning.cc); rooftop runs the same model (sim/nccl_model.cpp, constants in
// data/hardware/nccl_tuning.json): for n ranks, message S, Simple bus bandwidth B per rank,
//   ring (all-reduce 2(n-1) steps, all-gather/reduce-scatter n-1):
//     base[p] + steps x hop[p] + S / (B_p x n / steps)
//   tree (all-reduce; a chain inside a node, a binary tree across nodes):
//     base[p] + 2 ((ppn - 1) hop[p] + floor(log2 nodes) hop_net[p]) + S / (B_p / 2 x corr[p](S))
//   in-switch all-reduce (NVLS, Simple only): lat_nvls + S / B_nvls   (lat_nvls: links.json)
// with B_p the protocol's share of B: LL min(llMax, B/2), LL128 min(0.92 B, channels x cap),
// Simple B (a tree first takes 0.92 B, then LL / 3.8 and LL128 x 7/9). Without the tuner
// (--ideal), one protocol at B with the link's per-step latency and no base latency.
// NCCL's tuner does not cost these; they stay alpha-beta with the link's latency a:
//   direct all-to-all        (n-1) a + (n-1)/n S/B
//   send/recv                a + S/B_pair
// Across k domains of g GPUs, NCCL either runs one ring through all ranks, its inter-domain
// hops carried by the g NICs of each domain in parallel (bottleneck min(B_in, g B_out)), or a
// hierarchy: the operation inside each domain, then S/g per rail across, one phase after the
// other (their sum: a multi-node collective is never cheaper than its in-node part). rooftop
// takes the cheaper, as NCCL's tuner would. An uneven split (8 + 4) is costed at its worst
// node: g = the most ranks in one domain inside it, and the fewest (f, the fewest NICs) across:
// ring bottleneck min(B_in, f B_out), hierarchy S/f per rail, and for an all-gather or
// reduce-scatter never less than the thinnest domain's share through its f NICs, (n-f)/n S.
#include "sim/collective.hpp"

#include "core/errors.hpp"
#include "sim/nccl_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

namespace rooftop::sim {
namespace {

using hw::NcclAlgorithm;
using hw::NcclProtocol;

struct Flat {
  Seconds time;
  const char *algorithm;
  std::optional<NcclProtocol> protocol; ///< none where not modelled
};

/// n ranks on `nodes` nodes as NCCL's tuner sees them, with bus bandwidth `bus` per rank.
TunerGroup group(CollectiveOp op, long long n, long long nodes, BytesPerSecond bus,
                 const Level &intra, const Level &inter) {
  return {op == CollectiveOp::all_reduce, n, nodes, bus, intra.fabric, intra.compute_capability,
          intra.alpha, inter.alpha};
}

/// The cheapest NCCL algorithm and protocol for an all-reduce, all-gather or reduce-scatter of
/// group `g`, NVLS included when `nvls` is (an in-switch level inside one domain).
Flat tuned(Bytes s, const TunerGroup &g, const hw::NcclTuning *t, const Level *nvls) {
  Flat best{Seconds(std::numeric_limits<double>::infinity()), "ring", std::nullopt};
  const RingChannels ch = t ? group_channels(*t, g) : RingChannels{};
  const auto consider = [&](NcclAlgorithm a, const char *name) {
    if (const auto c = fastest_protocol(t, a, s, g, ch); c && c->cost.time < best.time)
      best = {c->cost.time, name, t ? std::optional(c->protocol) : std::nullopt};
  };
  consider(NcclAlgorithm::tree, "tree"); // NCCL's order: ties go to the tree
  consider(NcclAlgorithm::ring, "ring");
  if (nvls) {
    const Seconds time = nvls->nvls_latency + s / nvls->nvls_bandwidth;
    if (time < best.time)
      best = {time, "nvls", t ? std::optional(NcclProtocol::simple) : std::nullopt};
  }
  return best;
}

/// The cheapest algorithm for n ranks inside one domain of level `l`.
Flat flat(CollectiveOp op, Bytes s, long long n, const Level &l) {
  if (n <= 1) return {Seconds(0), "none", std::nullopt};
  const auto nd = static_cast<double>(n);
  switch (op) {
  case CollectiveOp::all_reduce:
  case CollectiveOp::all_gather:
  case CollectiveOp::reduce_scatter: {
    const bool nvls = op == CollectiveOp::all_reduce && l.in_switch && n > 2;
    return tuned(s, group(op, n, 1, l.bandwidth, l, l), l.nccl, nvls ? &l : nullptr);
  }
  case CollectiveOp::all_to_all:
    return {l.alpha * (nd - 1) + s / l.bandwidth * ((nd - 1) / nd), "direct", std::nullopt};
  case CollectiveOp::send_recv:
    return {l.alpha + s / l.pair_bandwidth, "p2p", std::nullopt};
  }
  throw InternalError("flat: unknown collective");
}

std::string protocol_name(const std::optional<NcclProtocol> &p) {
  return p ? hw::to_string(*p) : "";
}

/// "inside/across", "-" for a part without a protocol; "" when neither has one.
std::string protocol_pair(const Flat &in, const Flat &out) {
  if (!in.protocol && !out.protocol) return "";
  const auto name = [](const Flat &f) { return f.protocol ? hw::to_string(*f.protocol) : "-"; };
  return name(in) + "/" + name(out);
}

} // namespace

std::string to_string(CollectiveOp op) {
  switch (op) {
  case CollectiveOp::all_reduce: return "all-reduce";
  case CollectiveOp::all_gather: return "all-gather";
  case CollectiveOp::reduce_scatter: return "reduce-scatter";
  case CollectiveOp::all_to_all: return "all-to-all";
  case CollectiveOp::send_recv: return "send-recv";
  }
  throw InternalError("to_string: unknown CollectiveOp");
}

CollectiveOp collective_from_string(const std::string &raw) {
  std::string s;
  for (char c : raw)
    if (c != '-' && c != '_') s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "allreduce") return CollectiveOp::all_reduce;
  if (s == "allgather") return CollectiveOp::all_gather;
  if (s == "reducescatter") return CollectiveOp::reduce_scatter;
  if (s == "alltoall") return CollectiveOp::all_to_all;
  if (s == "sendrecv" || s == "p2p") return CollectiveOp::send_recv;
  throw InputError("unknown collective '" + raw +
                   "': expected all-reduce, all-gather, reduce-scatter, all-to-all or send-recv");
}

double bus_factor(CollectiveOp op, long long n) {
  const auto nd = static_cast<double>(n);
  switch (op) {
  case CollectiveOp::all_reduce: return 2 * (nd - 1) / nd;
  case CollectiveOp::all_gather:
  case CollectiveOp::reduce_scatter:
  case CollectiveOp::all_to_all: return (nd - 1) / nd;
  case CollectiveOp::send_recv: return 1.0;
  }
  throw InternalError("bus_factor: unknown collective");
}

std::pair<Level, Level> cluster_levels(const hw::Cluster &c, const hw::Efficiency &eff) {
  const auto &s = c.system;
  const hw::NcclTuning *nccl =
      eff.origin == hw::EfficiencyOrigin::ideal ? nullptr : &hw::builtin_nccl_tuning();
  const int cc = hw::nccl_compute_capability(s.gpu_architecture);
  Level intra{s.scale_up_bandwidth() * eff.link_bandwidth,
              s.scale_up_link.latency,
              s.in_switch_reduction(),
              s.pair_bandwidth() * eff.link_bandwidth,
              s.scale_up_bandwidth() * eff.nvls_bandwidth,
              s.switch_link ? s.switch_link->in_switch_latency : Seconds(0),
              hw::nccl_fabric(s.scale_up_link),
              nccl,
              cc};
  // Rail-optimised fat tree: traffic between nodes crosses the spine, divided by the
  // oversubscription ratio.
  const BytesPerSecond out = s.scale_out_bandwidth() * eff.network_bandwidth / c.oversubscription;
  Level inter{out, s.nic.latency, false, out, out, Seconds(0), hw::NcclFabric::net, nccl, cc};
  return {intra, inter};
}

namespace {

/// All-reduce, all-gather or reduce-scatter across k domains: one ring through all ranks, whose
/// inter-domain hops share the domain's NICs (f in the thinnest), or the staged hierarchy; the
/// cheaper, with its algorithm, protocol and time inside and across domains.
void across_domains(CollectiveCost &r, Bytes size, const Placement &p, const Level &intra,
                    const Level &inter) {
  const long long g = p.per_domain, k = p.domains();
  const auto fd = static_cast<double>(p.fewest_per_domain); // NICs of the thinnest domain
  const auto n = static_cast<double>(p.size);
  const bool ar = r.op == CollectiveOp::all_reduce;
  const TunerGroup ring_group =
      group(r.op, p.size, k, min(intra.bandwidth, inter.bandwidth * fd), intra, inter);
  const auto ring = fastest_protocol(intra.nccl, NcclAlgorithm::ring, size, ring_group);
  const Flat in = flat(r.op, size, g, intra);
  // Across: one rank per domain on each rail, S/f each.
  const TunerGroup rail = group(r.op, k, k, inter.bandwidth, intra, inter);
  Flat out = tuned(size / fd, rail, inter.nccl, nullptr);
  // An all-gather's thinnest domain receives the n - f outside ranks' shares, (n-f)/n S, through
  // its f NICs (a reduce-scatter sends as much): never faster than that. For an even split it
  // is the ring's (k-1)/k S/f and changes nothing. An all-reduce needs no such bound: the other
  // domains reduce first, so the thin one exchanges S per direction however its ranks are split.
  if (!ar) {
    const auto c = nccl_cost(inter.nccl, NcclAlgorithm::ring,
                             out.protocol.value_or(NcclProtocol::simple), size / fd, rail);
    out.time = max(out.time, c->latency + size * ((n - fd) / n) / (c->bus * fd));
  }
  const Seconds staged = in.time + out.time;
  if (ring->cost.time < staged) {
    // The network's part: the same ring were the NICs its only limit.
    TunerGroup nics = ring_group;
    nics.bus_bandwidth = inter.bandwidth * fd;
    r.inter_time = nccl_cost(intra.nccl, NcclAlgorithm::ring, ring->protocol, size, nics)->time;
    r.intra_time = max(Seconds(0), ring->cost.time - r.inter_time);
    r.time = ring->cost.time;
    r.algorithm = "ring";
    r.protocol = intra.nccl ? hw::to_string(ring->protocol) : "";
  } else {
    r.time = staged;
    r.intra_time = in.time;
    r.inter_time = out.time;
    r.algorithm = std::string("hierarchical(") + in.algorithm + "/" + out.algorithm + ")";
    r.protocol = protocol_pair(in, out);
  }
}

} // namespace

CollectiveCost collective_cost(CollectiveOp op, Bytes size, const Placement &p, const Level &intra,
                               const Level &inter, Seconds call_latency) {
  CollectiveCost r;
  r.op = op;
  r.size = size;
  r.ranks = p.size;
  const long long g = p.per_domain, k = p.domains();
  const auto gd = static_cast<double>(g);
  const auto fd = static_cast<double>(p.fewest_per_domain); // NICs of the thinnest domain
  const auto n = static_cast<double>(p.size);
  if (p.size <= 1) {
    r.algorithm = "none";
  } else if (k == 1) {
    const Flat f = flat(op, size, g, intra);
    r.time = r.intra_time = f.time;
    r.algorithm = f.algorithm;
    r.protocol = protocol_name(f.protocol);
  } else if (op == CollectiveOp::send_recv) {
    r.time = r.inter_time = flat(op, size, 2, inter).time;
    r.algorithm = "p2p";
  } else if (op == CollectiveOp::all_to_all) {
    // Each rank sends S/n to every rank: (g-1)/n S stays inside, (n-g)/n S crosses; concurrent.
    // Inside, a rank of the fullest domain; across, one of the thinnest (n - f peers outside).
    r.intra_time = intra.alpha * (gd - 1) + size * ((gd - 1) / n) / intra.bandwidth;
    r.inter_time = inter.alpha * (n - fd) + size * ((n - fd) / n) / inter.bandwidth;
    r.time = max(r.intra_time, r.inter_time);
    r.algorithm = "direct";
  } else {
    across_domains(r, size, p, intra, inter);
  }
  r.time = call_latency + r.time;
  r.algbw = size / r.time;
  r.busbw = r.algbw * bus_factor(op, p.size);
  return r;
}

CollectiveCost collective_cost(CollectiveOp op, Bytes size, const hw::Cluster &c, long long ranks,
                               const hw::Efficiency &eff) {
  const auto [intra, inter] = cluster_levels(c, eff);
  return collective_cost(op, size, place_group(c, ranks), intra, inter, eff.collective_latency);
}

} // namespace rooftop::sim
