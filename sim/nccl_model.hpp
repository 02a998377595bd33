// NCCL's own cost model for one algorithm and protocol (src/graph/tuning.cc ncclTopoTuneModel and
// ncclTopoGetAlgoTime): time = latency + bytes / algorithm bandwidth, and the ring channels its
// topology search would find (src/graph/search.cc), which its per-channel caps multiply.
#pragma once

#include "core/units.hpp"
#include "hwmodels/nccl_tuning.hpp"

#include <optional>

namespace rooftop::sim {

/// A group as NCCL's tuner sees it.
struct TunerGroup {
  bool all_reduce = true;       ///< all-reduce; else all-gather or reduce-scatter (ring only)
  long long ranks = 1;          ///< nRanks
  long long nodes = 1;          ///< nNodes; ranks / nodes per node (ppn)
  BytesPerSecond bus_bandwidth; ///< Simple bus bandwidth per rank (NCCL: channels x per channel)
  hw::NcclFabric intra = hw::NcclFabric::nvlink; ///< what carries the steps inside a node
  int compute_capability = 90;                   ///< the GPUs', x10
  Seconds intra_hop; ///< ideal model only: latency of a step inside a node, s
  Seconds inter_hop; ///< ideal model only: latency of a step between nodes, s
};

/// The channels of a ring and the bus bandwidth each carries.
struct RingChannels {
  int count = 1;
  BytesPerSecond per_channel; ///< bytes/s
};

/// The channels NCCL's search gives a ring whose channels together carry `total` (bytes/s):
/// from the fastest speed of the generation's array that fits, lower speeds while > 0.49 x the
/// best, keeping the most bandwidth (the first on ties); then doubled at half speed (>= 25 GB/s;
/// after sm80 also >= 50 GB/s or <= 4 channels); then the speed raised while the channels fit.
/// With no speed that fits, one channel of `total`. `between_nodes` picks the inter-node speeds.
RingChannels ring_channels(const hw::NcclTuning &t, BytesPerSecond total, int compute_capability,
                           bool between_nodes);
/// The channels of group `g`: ring_channels of its bus bandwidth, between nodes when it spans
/// several (a tree has the ring's channels: src/init.cc, treeGraph min = max = ring channels).
RingChannels group_channels(const hw::NcclTuning &t, const TunerGroup &g);

/// One algorithm with one protocol: its latency, algorithm bandwidth and time for `size` bytes.
struct ProtocolCost {
  Seconds latency;      ///< s
  BytesPerSecond bus;   ///< bus bandwidth after the protocol's limits, bytes/s
  BytesPerSecond algbw; ///< size / (time - latency), bytes/s
  Seconds time;         ///< latency + size / algbw, s
};

/// NCCL's cost of a ring (all-reduce: 2(n-1) steps, else n-1) or an all-reduce tree with protocol
/// `p`, without the per-call overhead; nullopt where NCCL would not run it (a tree for
/// all-gather, LL128 over PCIe inside a node). With `t` == nullptr, the ideal alpha-beta model:
/// Simple only, no base latency, per-step latencies intra_hop / inter_hop, no protocol limits.
std::optional<ProtocolCost> nccl_cost(const hw::NcclTuning *t, hw::NcclAlgorithm a,
                                      hw::NcclProtocol p, Bytes size, const TunerGroup &g);
/// The same with the group's channels already known (group_channels; ignored when t is null).
std::optional<ProtocolCost> nccl_cost(const hw::NcclTuning *t, hw::NcclAlgorithm a,
                                      hw::NcclProtocol p, Bytes size, const TunerGroup &g,
                                      const RingChannels &channels);

/// The fastest protocol of algorithm `a` (nullopt where no protocol runs).
struct ProtocolChoice {
  ProtocolCost cost;
  hw::NcclProtocol protocol = hw::NcclProtocol::simple;
};
std::optional<ProtocolChoice> fastest_protocol(const hw::NcclTuning *t, hw::NcclAlgorithm a,
                                               Bytes size, const TunerGroup &g);
std::optional<ProtocolChoice> fastest_protocol(const hw::NcclTuning *t, hw::NcclAlgorithm a,
                                               Bytes size, const TunerGroup &g,
                                               const RingChannels &channels);

} // namespace rooftop::sim
