// Collective communication cost: NCCL's own model per algorithm and protocol (ring, tree with
// LL / LL128 / Simple; in-switch reduction), direct all-to-all and p2p, hierarchical across
// scale-up domains, reported as nccl-tests reports it.
#pragma once

#include "core/units.hpp"
#include "hwmodels/efficiency.hpp"
#include "hwmodels/nccl_tuning.hpp"
#include "hwmodels/system.hpp"
#include "sim/placement.hpp"

#include <string>
#include <vector>

namespace rooftop::sim {

enum class CollectiveOp { all_reduce, all_gather, reduce_scatter, all_to_all, send_recv };
std::string to_string(CollectiveOp op);
/// "all-reduce", "all_reduce", "allreduce", ... Throws InputError listing the valid names.
CollectiveOp collective_from_string(const std::string &s);

/// One level of the fabric with efficiency applied: bandwidth per GPU one way, per-step latency.
struct Level {
  BytesPerSecond bandwidth; ///< bytes/s, one way, per GPU (a ring's Simple bus bandwidth)
  Seconds alpha;            ///< per step of the link (links.json latency_s), s: all-to-all,
                            ///< send/recv, and every step without NCCL's model
  bool in_switch = false;   ///< the switch can reduce (NVLink SHARP)
  BytesPerSecond pair_bandwidth; ///< one pair of GPUs (p2p topology: B / peers), bytes/s
  BytesPerSecond nvls_bandwidth; ///< algbw of an in-switch all-reduce, bytes/s (in_switch only)
  Seconds nvls_latency;          ///< fixed latency of an in-switch all-reduce, s
  hw::NcclFabric fabric = hw::NcclFabric::nvlink; ///< the row of NCCL's latency table it uses
  /// NCCL's tuner constants; nullptr: the ideal model (one protocol at full bandwidth, per-step
  /// latency alpha, no base latency), as --ideal and hand-built levels use.
  const hw::NcclTuning *nccl = nullptr;
  int compute_capability = 90; ///< of its GPUs, x10, as NCCL indexes its tables
};

/// Cost of one collective call.
struct CollectiveCost {
  CollectiveOp op = CollectiveOp::all_reduce;
  Bytes size;              ///< the nccl-tests "size" (see bus_factor)
  long long ranks = 1;
  Seconds time;
  Seconds intra_time;      ///< part spent inside scale-up domains
  Seconds inter_time;      ///< part spent on the scale-out network
  std::string algorithm;   ///< e.g. "ring", "nvls", "hierarchical(ring/nvls)"
  /// NCCL protocol: "LL", "LL128" or "Simple"; "LL/Simple" for a hierarchy (inside / across,
  /// "-" for a part without one); "" where not modelled (all-to-all, send/recv, --ideal).
  std::string protocol;
  BytesPerSecond algbw;    ///< size / time
  BytesPerSecond busbw;    ///< algbw x bus_factor (nccl-tests PERFORMANCE.md)
};

/// nccl-tests' bus-bandwidth factor: all-reduce 2(n-1)/n; all-gather, reduce-scatter and
/// all-to-all (n-1)/n; send/recv 1. Sizes follow nccl-tests: all-reduce the buffer, all-gather
/// the whole output, reduce-scatter the whole input, all-to-all one rank's send buffer.
double bus_factor(CollectiveOp op, long long n);

/// The fabric levels of a cluster with efficiencies applied: [0] scale-up, [1] scale-out. They
/// carry NCCL's tuner constants (data/hardware/nccl_tuning.json) unless `eff` is ideal.
std::pair<Level, Level> cluster_levels(const hw::Cluster &c, const hw::Efficiency &eff);

/// Cost of one collective over a placed group: the cheapest algorithm and protocol NCCL's tuner
/// would choose, plus `call_latency`. Both levels are expected to carry the same `nccl`.
CollectiveCost collective_cost(CollectiveOp op, Bytes size, const Placement &p, const Level &intra,
                               const Level &inter, Seconds call_latency);
/// Convenience: place a group of `size` GPUs on `c` and cost the collective.
CollectiveCost collective_cost(CollectiveOp op, Bytes size, const hw::Cluster &c, long long ranks,
                               const hw::Efficiency &eff);

} // namespace rooftop::sim
