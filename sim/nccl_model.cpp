// NCCL's per-protocol cost model, transcribed from src/graph/tuning.cc (v2.30.7-1): lines
// 283-436 (ncclTopoTuneModel) and 631-653 (ncclTopoGetAlgoTime); channels from search.cc.
#include "sim/nccl_model.hpp"

#include <algorithm>
#include <cmath>

namespace rooftop::sim {
namespace {

using hw::NcclAlgorithm;
using hw::NcclFabric;
using hw::NcclProtocol;

template <class E> std::size_t ix(E e) { return static_cast<std::size_t>(e); }

/// NCCL's log2i: floor(log2 x), -1 below 1 (ilogb: the binary exponent, exact for x >= 1).
int log2i(double x) { return x < 1 ? -1 : std::ilogb(x); }

/// The node-count column of NCCL's tables: 1 node, 2 nodes, more (tuning.cc `index2`).
std::size_t column(long long nodes) { return nodes <= 2 ? static_cast<std::size_t>(nodes - 1) : 2; }

/// LL's bus bandwidth cap: by GPU generation on one node, by node count on several.
BytesPerSecond ll_max(const hw::NcclTuning &t, int cc, long long nodes) {
  if (nodes == 1)
    return t.ll_max_one_node[ix(hw::nccl_generation(cc))];
  return nodes == 2 ? t.ll_max_two_nodes : t.ll_max_more_nodes;
}

Seconds hop(const hw::NcclTuning &t, NcclFabric f, NcclAlgorithm a, NcclProtocol p) {
  return t.hop_latency[ix(f)][ix(a)][ix(p)];
}

/// Ring: 2(n-1) steps for an all-reduce, n-1 otherwise, of which 2(k-1) (k-1) cross nodes.
/// bus: Simple B; LL min(llMax, 0.5 B); LL128 min(0.92 B, channels x per-channel cap)
/// latency: base + intra-node steps x max(hop_intra, net overhead) + inter-node steps x hop_net
void ring(const hw::NcclTuning *t, NcclProtocol p, Bytes size, const TunerGroup &g,
          const RingChannels &ch, ProtocolCost &c) {
  const auto n = static_cast<double>(g.ranks), k = static_cast<double>(g.nodes);
  const double steps = g.all_reduce ? 2 * (n - 1) : n - 1;
  const double inter_steps = g.nodes == 1 ? 0 : g.all_reduce ? 2 * (k - 1) : k - 1;
  if (!t) {
    c.latency = g.intra_hop * (steps - inter_steps) + g.inter_hop * inter_steps;
    c.algbw = c.bus * (n / steps);
    return;
  }
  const auto gen = ix(hw::nccl_generation(g.compute_capability));
  if (p == NcclProtocol::ll)
    c.bus = min(ll_max(*t, g.compute_capability, g.nodes), c.bus * t->ring_ll_fraction);
  if (p == NcclProtocol::ll128)
    c.bus = min(c.bus * t->ring_ll128_fraction,
                t->per_channel_ring_ll128[gen][column(g.nodes)] * static_cast<double>(ch.count));
  c.algbw = c.bus * (n / steps);
  // One rank per node: every step is a network hop, at the NET row's tree latency (line 387).
  const Seconds inter =
      hop(*t, NcclFabric::net, g.ranks == g.nodes ? NcclAlgorithm::tree : NcclAlgorithm::ring, p);
  Seconds intra = hop(*t, g.intra, NcclAlgorithm::ring, p);
  if (g.nodes > 1)
    intra = max(intra,
                t->net_overhead * (p == NcclProtocol::simple ? t->net_overhead_simple_factor : 1));
  c.latency = t->base_latency[ix(NcclAlgorithm::ring)][ix(p)] + intra * (steps - inter_steps) +
              inter * inter_steps;
  // "Plateau effect of ring": Simple all-reduce on several nodes, >= 64 bytes per channel and rank
  if (p == NcclProtocol::simple && g.nodes > 1 && g.all_reduce &&
      size.value() / (ch.count * n) >= 64)
    c.latency = c.latency * (g.compute_capability < 80 ? t->ring_simple_plateau_before_sm80
                                                       : t->ring_simple_plateau);
}

/// All-reduce tree: a chain inside each node, a double binary tree across nodes.
/// bus: min(0.92 B, channels x cap); LL: min(bus / 3.8, llMax); LL128: min(bus x 7/9 (one node)
/// or 120/128, channels x cap); x 0.85 with one GPU per node (the TREE pattern);
/// algbw = bus / 2 x treeCorrection[p][floor(log2(S / 64))]
/// latency: base + 2 ((ppn - 1) hop_intra + floor(log2 nodes) hop_net)
void tree(const hw::NcclTuning *t, NcclProtocol p, Bytes size, const TunerGroup &g,
          const RingChannels &channels, ProtocolCost &c) {
  const auto ppn_steps = static_cast<double>(g.ranks / g.nodes - 1);
  const auto log_nodes = static_cast<double>(log2i(static_cast<double>(g.nodes)));
  if (!t) {
    c.latency = 2.0 * (g.intra_hop * ppn_steps + g.inter_hop * log_nodes);
    c.algbw = c.bus * 0.5;
    return;
  }
  const auto ch = static_cast<double>(channels.count);
  const auto gen = ix(hw::nccl_generation(g.compute_capability));
  const std::size_t col = column(g.nodes);
  c.bus = min(c.bus * t->tree_fraction, t->per_channel_tree[gen][col] * ch);
  if (p == NcclProtocol::ll)
    c.bus = min(c.bus * t->tree_ll_fraction, ll_max(*t, g.compute_capability, g.nodes));
  if (p == NcclProtocol::ll128)
    c.bus = min(c.bus * (g.nodes == 1 ? t->tree_ll128_fraction_one_node
                                      : t->tree_ll128_fraction_more_nodes),
                t->per_channel_tree_ll128[gen][col] * ch);
  // One GPU per node: NCCL's search gives the tree the TREE pattern (search.cc line 1133), which
  // its tuner takes 0.85 of (tuning.cc line 336).
  if (g.ranks == g.nodes)
    c.bus = c.bus * t->tree_one_gpu_per_node_fraction;
  c.algbw = c.bus * 0.5;
  const int log_size = log2i(std::floor(size.value() / 64));
  if (log_size >= 0 && log_size < 23)
    c.algbw = c.algbw * t->tree_correction[ix(p)][static_cast<std::size_t>(log_size)];
  c.latency = t->base_latency[ix(NcclAlgorithm::tree)][ix(p)] +
              2.0 * (hop(*t, g.intra, NcclAlgorithm::tree, p) * ppn_steps +
                     hop(*t, NcclFabric::net, NcclAlgorithm::tree, p) * log_nodes);
}

} // namespace

RingChannels ring_channels(const hw::NcclTuning &t, BytesPerSecond total, int cc,
                           bool between_nodes) {
  const auto &speeds = (between_nodes ? t.speeds_inter : t.speeds_intra)[cc >= 100  ? 2
                                                                         : cc >= 90 ? 1
                                                                                    : 0];
  const double bw = total.value(), max_channels = t.max_ring_channels;
  // Channels of speed s that fit: floor(B / s), at most max_ring_channels.
  const auto fit = [&](double s) { return std::min(max_channels, std::floor(bw / s)); };
  // Pass 1 (search.cc ncclTopoCompute): the fastest speed one channel fits, then slower ones
  // while speed / best > 0.49; the most bandwidth wins, the first on ties.
  double count = 0, speed = 0;
  for (const auto sp : speeds) {
    const double s = sp.value();
    if (s > bw)
      continue;
    if (count > 0 && !(s / speed > t.next_speed_min_ratio))
      break;
    if (const double c = fit(s); c * s > count * speed) {
      count = c;
      speed = s;
    }
    if (count == max_channels || count * speed >= bw)
      break;
  }
  if (count == 0)
    return {1, total};
  // ncclTopoDupChannels: twice the channels at half the speed.
  if (speed >= t.duplicate_min.value() && !(cc > 80 && speed < t.duplicate_after_sm80_min.value() &&
                                            count > t.duplicate_after_sm80_max_channels)) {
    const double doubled = std::min(2 * count, max_channels);
    speed /= std::ceil(doubled / count);
    count = doubled;
  }
  // Pass 2: faster speeds, slowest first, kept while the channels still fit and carry more
  // (once `count` channels no longer fit, no faster speed fits them).
  for (auto it = speeds.rbegin(); it != speeds.rend(); ++it) {
    const double s = it->value();
    if (s <= speed)
      continue;
    if (s * count > bw)
      break;
    if (const double c = fit(s); c * s > count * speed) {
      count = c;
      speed = s;
    }
  }
  return {static_cast<int>(count), BytesPerSecond(speed)};
}

RingChannels group_channels(const hw::NcclTuning &t, const TunerGroup &g) {
  return ring_channels(t, g.bus_bandwidth, g.compute_capability, g.nodes > 1);
}

std::optional<ProtocolCost> nccl_cost(const hw::NcclTuning *t, NcclAlgorithm a, NcclProtocol p,
                                      Bytes size, const TunerGroup &g) {
  return nccl_cost(t, a, p, size, g, t ? group_channels(*t, g) : RingChannels{});
}

std::optional<ProtocolCost> nccl_cost(const hw::NcclTuning *t, NcclAlgorithm a, NcclProtocol p,
                                      Bytes size, const TunerGroup &g, const RingChannels &ch) {
  if (a == NcclAlgorithm::tree && !g.all_reduce)
    return std::nullopt;
  if (!t && p != NcclProtocol::simple)
    return std::nullopt;
  // LL128 runs only over NVLink inside a node (tuning.cc line 531: typeIntra <= PATH_NVB).
  if (t && p == NcclProtocol::ll128 && g.intra == NcclFabric::pci && g.ranks > g.nodes)
    return std::nullopt;
  ProtocolCost c;
  c.bus = g.bus_bandwidth;
  if (a == NcclAlgorithm::ring)
    ring(t, p, size, g, ch, c);
  else
    tree(t, p, size, g, ch, c);
  c.time = c.latency + size / c.algbw;
  return c;
}

std::optional<ProtocolChoice> fastest_protocol(const hw::NcclTuning *t, NcclAlgorithm a, Bytes size,
                                               const TunerGroup &g) {
  return fastest_protocol(t, a, size, g, t ? group_channels(*t, g) : RingChannels{});
}

std::optional<ProtocolChoice> fastest_protocol(const hw::NcclTuning *t, NcclAlgorithm a, Bytes size,
                                               const TunerGroup &g, const RingChannels &ch) {
  std::optional<ProtocolChoice> best;
  for (const auto p : {NcclProtocol::ll, NcclProtocol::ll128, NcclProtocol::simple})
    if (const auto c = nccl_cost(t, a, p, size, g, ch); c && (!best || c->time < best->cost.time))
      best = ProtocolChoice{*c, p};
  return best;
}

} // namespace rooftop::sim
