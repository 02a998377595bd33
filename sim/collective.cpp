// Alpha-beta collective costs. For n ranks, message S, link bandwidth B (one way, per GPU) and
// per-step latency a (Thakur, Rabenseifner & Gropp, "Optimization of collective communication
// operations in MPICH", IJHPCA 2005; Patarasuk & Yuan 2009 for the ring all-reduce):
//   ring all-reduce          2(n-1) a + 2 (n-1)/n S/B
//   tree all-reduce          2 ceil(log2 n) a + 2 S/B   (reduce then broadcast, pipelined)
//   in-switch all-reduce     a_nvls + S/B_nvls          (NVLink SHARP: push S, receive S;
//                                                        a_nvls from NCCL's tuner, 23 us)
//   ring all-gather/r-scatter (n-1) a + (n-1)/n S/B
//   direct all-to-all        (n-1) a + (n-1)/n S/B
//   send/recv                a + S/B_pair
// Across k domains of g GPUs, NCCL either runs one ring through all n ranks, its inter-domain
// hops carried by the g NICs of each domain in parallel (bottleneck min(B_in, g B_out)), or a
// hierarchy: the operation inside each domain, then S/g per rail across, one phase after the
// other (their sum: a multi-node collective is never cheaper than its in-node part). rooftop
// takes the cheaper, as NCCL's tuner would. An uneven split (8 + 4) is costed at its worst
// node: g = the most ranks in one domain inside it, and the fewest (f, the fewest NICs) across:
// ring bottleneck min(B_in, f B_out), hierarchy S/f per rail, and for an all-gather or
// reduce-scatter never less than the thinnest domain's share through its f NICs, (n-f)/n S.
#include "sim/collective.hpp"

#include "core/errors.hpp"

#include <algorithm>
#include <cmath>

namespace rooftop::sim {
namespace {

struct Flat {
  Seconds time;
  const char *algorithm;
};

double ln2ceil(long long n) { return std::ceil(std::log2(static_cast<double>(n))); }

/// The cheapest algorithm for one level of n ranks.
Flat flat(CollectiveOp op, Bytes s, long long n, const Level &l) {
  if (n <= 1) return {Seconds(0), "none"};
  const auto nd = static_cast<double>(n);
  const Seconds beta = s / l.bandwidth;
  switch (op) {
  case CollectiveOp::all_reduce: {
    Flat best{l.alpha * (2 * (nd - 1)) + beta * (2 * (nd - 1) / nd), "ring"};
    const Seconds tree = l.alpha * (2 * ln2ceil(n)) + beta * 2.0;
    if (tree < best.time) best = {tree, "tree"};
    if (l.in_switch && n > 2) {
      const Seconds nvls = l.nvls_latency + s / l.nvls_bandwidth;
      if (nvls < best.time) best = {nvls, "nvls"};
    }
    return best;
  }
  case CollectiveOp::all_gather:
  case CollectiveOp::reduce_scatter:
    return {l.alpha * (nd - 1) + beta * ((nd - 1) / nd), "ring"};
  case CollectiveOp::all_to_all:
    return {l.alpha * (nd - 1) + beta * ((nd - 1) / nd), "direct"};
  case CollectiveOp::send_recv:
    return {l.alpha + s / l.pair_bandwidth, "p2p"};
  }
  throw InternalError("flat: unknown collective");
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
  Level intra{s.scale_up_bandwidth() * eff.link_bandwidth, s.scale_up_link.latency,
              s.in_switch_reduction(), s.pair_bandwidth() * eff.link_bandwidth,
              s.scale_up_bandwidth() * eff.nvls_bandwidth,
              s.switch_link ? s.switch_link->in_switch_latency : Seconds(0)};
  // Rail-optimised fat tree: traffic between nodes crosses the spine, divided by the
  // oversubscription ratio.
  const BytesPerSecond out = s.scale_out_bandwidth() * eff.network_bandwidth / c.oversubscription;
  Level inter{out, s.nic.latency, false, out, out, Seconds(0)};
  return {intra, inter};
}

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
  Seconds body;
  if (p.size <= 1) {
    r.algorithm = "none";
  } else if (k == 1) {
    const Flat f = flat(op, size, g, intra);
    body = r.intra_time = f.time;
    r.algorithm = f.algorithm;
  } else if (op == CollectiveOp::send_recv) {
    body = r.inter_time = flat(op, size, 2, inter).time;
    r.algorithm = "p2p";
  } else if (op == CollectiveOp::all_to_all) {
    // Each rank sends S/n to every rank: (g-1)/n S stays inside, (n-g)/n S crosses; concurrent.
    // Inside, a rank of the fullest domain; across, one of the thinnest (n - f peers outside).
    r.intra_time = intra.alpha * (gd - 1) + size * ((gd - 1) / n) / intra.bandwidth;
    r.inter_time = inter.alpha * (n - fd) + size * ((n - fd) / n) / inter.bandwidth;
    body = max(r.intra_time, r.inter_time);
    r.algorithm = "direct";
  } else {
    // all-reduce, all-gather, reduce-scatter: one ring through all ranks, whose inter-domain
    // hops share the domain's NICs (f in the thinnest), or the pipelined hierarchy; the cheaper.
    const bool ar = op == CollectiveOp::all_reduce;
    const double steps = ar ? 2 * (n - 1) : n - 1;
    const double volume = ar ? 2 * (n - 1) / n : (n - 1) / n;
    const BytesPerSecond ring_bw = min(intra.bandwidth, inter.bandwidth * fd);
    const Seconds ring = inter.alpha * steps + size * volume / ring_bw;
    const Flat in = flat(op, size, g, intra);
    Flat out = flat(op, size / fd, k, inter);
    // An all-gather's thinnest domain receives the n - f outside ranks' shares, (n-f)/n S, through
    // its f NICs (a reduce-scatter sends as much): never faster than that. For an even split it
    // is the ring's (k-1)/k S/f and changes nothing. An all-reduce needs no such bound: the other
    // domains reduce first, so the thin one exchanges S per direction however its ranks are split.
    if (!ar)
      out.time = max(out.time, inter.alpha * static_cast<double>(k - 1) +
                                   size * ((n - fd) / n) / (inter.bandwidth * fd));
    const Seconds staged = in.time + out.time;
    if (ring < staged) {
      body = ring;
      r.inter_time = inter.alpha * steps + size * volume / (inter.bandwidth * fd);
      r.intra_time = max(Seconds(0), ring - r.inter_time);
      r.algorithm = "ring";
    } else {
      body = staged;
      r.intra_time = in.time;
      r.inter_time = out.time;
      r.algorithm = std::string("hierarchical(") + in.algorithm + "/" + out.algorithm + ")";
    }
  }
  r.time = call_latency + body;
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
