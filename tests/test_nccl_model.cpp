// NCCL's per-protocol cost model: channels, ring and tree times by hand from the constants of
// data/hardware/nccl_tuning.json (NCCL v2.30.7-1 src/graph/tuning.cc), and the protocol NCCL
// chooses as the message grows, on hand-built groups and on built-in systems.
#include "hwmodels/efficiency.hpp"
#include "hwmodels/nccl_tuning.hpp"
#include "hwmodels/system.hpp"
#include "sim/collective.hpp"
#include "sim/nccl_model.hpp"

#include <doctest/doctest.h>

using namespace rooftop;
using hw::NcclAlgorithm;
using hw::NcclProtocol;

namespace {
/// x to 1e-9 relative (doctest's default also allows ~1e-5 absolute: too loose for seconds).
doctest::Approx rel(double x) { return doctest::Approx(x).epsilon(1e-9).scale(0); }

const hw::NcclTuning &nccl() { return hw::builtin_nccl_tuning(); }

/// 8 H100s in one NVSwitch node: Simple bus bandwidth 450 GB/s x 0.82 = 369 GB/s.
sim::TunerGroup h100x8() {
  sim::TunerGroup g;
  g.ranks = 8;
  g.bus_bandwidth = BytesPerSecond(369e9);
  g.compute_capability = 90;
  return g;
}

double time(NcclAlgorithm a, NcclProtocol p, double bytes, const sim::TunerGroup &g) {
  return sim::nccl_cost(&nccl(), a, p, Bytes(bytes), g).value().time.value();
}

NcclProtocol fastest(double bytes, const sim::TunerGroup &g) {
  return sim::fastest_protocol(&nccl(), NcclAlgorithm::ring, Bytes(bytes), g).value().protocol;
}

constexpr double k_small = 65536;      // 64 KiB: a decode step's TP all-reduce
constexpr double k_large = 1073741824; // 1 GiB
} // namespace

TEST_CASE("ring channels follow NCCL's topology search") {
  // H100, 369 GB/s, sm90 intra speeds {60, 50, 40, 30, 24, ...} GB/s: 60 -> 6 channels (360),
  // 50 -> 7 (350), 40 -> 9 (360, a tie keeps the first), 30 -> 12 (360); 24 / 60 = 0.4 <= 0.49
  // stops. 6 x 60: doubled (60 >= 50) to 12 x 30; 40 GB/s would need 12 x 40 = 480 > 369.
  auto c = sim::ring_channels(nccl(), BytesPerSecond(369e9), 90, false);
  CHECK(c.count == 12);
  CHECK(c.per_channel.value() == rel(30e9));
  // A100, 300 x 0.69 = 207 GB/s, speeds {40, 30, 20, 18, ...}: 40 -> 5 (200), 30 -> 6 (180),
  // 20 -> 10 (200, tie), 18 / 40 = 0.45 stops; doubled (sm80 doubles from 25 GB/s): 10 x 20.
  c = sim::ring_channels(nccl(), BytesPerSecond(207e9), 80, false);
  CHECK(c.count == 10);
  CHECK(c.per_channel.value() == rel(20e9));
  // B200, 900 x 0.82 = 738 GB/s, sm100 speeds {90, 80, ...}: 90 -> 8 (720), no later speed
  // carries more; doubled to 16 x 45.
  c = sim::ring_channels(nccl(), BytesPerSecond(738e9), 100, false);
  CHECK(c.count == 16);
  CHECK(c.per_channel.value() == rel(45e9));
  // Across nodes (sm90 inter speeds {48, 45, 42, 40, 30, 24, 22, ...}): 48 -> 7 (336), 45 -> 8
  // (360), ... 22 / 45 < 0.49 stops; 45 < 50 GB/s with 8 > 4 channels: not doubled.
  c = sim::ring_channels(nccl(), BytesPerSecond(369e9), 90, true);
  CHECK(c.count == 8);
  CHECK(c.per_channel.value() == rel(45e9));
  // Slower than every speed: one channel of the whole bandwidth.
  c = sim::ring_channels(nccl(), BytesPerSecond(1e9), 90, false);
  CHECK(c.count == 1);
  CHECK(c.per_channel.value() == rel(1e9));
}

TEST_CASE("ring all-reduce on 8 H100s per protocol, small and large (tuning.cc constants)") {
  const auto g = h100x8();
  // 2(n-1) = 14 steps; algbw = bus x n / steps = bus x 8/14.
  // LL: latency 6.6 us + 14 x 0.6 us = 15.0 us; bus min(llMax 141, 0.5 x 369) = 141 GB/s.
  //  64 KiB: 15 us + 65536 x 14 / (141e9 x 8) = 15 + 0.813390 us = 15.813390 us
  //  1 GiB: 15 us + 1073741824 x 14 / 1.128e12 = 13.341583 ms
  CHECK(time(NcclAlgorithm::ring, NcclProtocol::ll, k_small, g) == rel(15e-6 + 917504 / 1.128e12));
  CHECK(time(NcclAlgorithm::ring, NcclProtocol::ll, k_large, g) ==
        rel(15e-6 + 15032385536 / 1.128e12));
  // LL128: 14 us + 14 x 1.9 us = 40.6 us; bus min(0.92 x 369 = 339.48, 12 channels x 36.7 =
  // 440.4) = 339.48 GB/s; algbw x 8 = 2.71584e12.
  //  64 KiB: 40.6 us + 917504 / 2.71584e12 = 40.937834 us; 1 GiB: 40.6 us + 5.535078 ms
  CHECK(time(NcclAlgorithm::ring, NcclProtocol::ll128, k_small, g) ==
        rel(40.6e-6 + 917504 / 2.71584e12));
  CHECK(time(NcclAlgorithm::ring, NcclProtocol::ll128, k_large, g) ==
        rel(40.6e-6 + 15032385536 / 2.71584e12));
  // Simple: 8.4 us + 14 x 3.4 us = 56.0 us; bus 369 GB/s; x 8 = 2.952e12.
  //  64 KiB: 56 us + 0.310808 us = 56.310808 us; 1 GiB: 56 us + 5.092272 ms = 5.148272 ms
  CHECK(time(NcclAlgorithm::ring, NcclProtocol::simple, k_small, g) ==
        rel(56e-6 + 917504 / 2.952e12));
  CHECK(time(NcclAlgorithm::ring, NcclProtocol::simple, k_large, g) ==
        rel(56e-6 + 15032385536 / 2.952e12));
}

TEST_CASE("the protocol changes with size as NCCL's does: LL, then LL128, then Simple") {
  const auto g = h100x8();
  // From the costs above: LL = LL128 at 25.6 us / (1/80.571 - 1/193.989 GB/s) = 3.53 MB,
  // LL128 = Simple at 15.4 us / (1/193.989 - 1/210.857 GB/s) = 37.3 MB.
  CHECK(fastest(1024, g) == NcclProtocol::ll);
  CHECK(fastest(k_small, g) == NcclProtocol::ll);
  CHECK(fastest(16777216, g) == NcclProtocol::ll128); // LL 223.2, LL128 127.1, Simple 135.6 us
  CHECK(fastest(k_large, g) == NcclProtocol::simple);
}

TEST_CASE("tree all-reduce in one node: a chain, NCCL's bandwidth factors and correction") {
  const auto g = h100x8();
  // bus min(0.92 x 369 = 339.48, 12 x 38.7 = 464.4) = 339.48; LL: min(339.48 / 3.8 = 89.3368,
  // 141) GB/s; algbw / 2 = 44.6684 x treeCorrection[LL][log2(65536 / 64) = 10] = 0.6 ->
  // 26.801053 GB/s. Latency 6.8 us + 2 x (8 - 1) x 0.6 us = 15.2 us.
  //  64 KiB: 15.2 us + 65536 / 26.801053e9 = 15.2 + 2.445277 us = 17.645277 us
  CHECK(time(NcclAlgorithm::tree, NcclProtocol::ll, k_small, g) ==
        rel(15.2e-6 + 65536 / (339.48e9 / 3.8 * 0.5 * 0.6)));
  // NCCL runs no tree for all-gather
  auto ag = g;
  ag.all_reduce = false;
  CHECK_FALSE(sim::nccl_cost(&nccl(), NcclAlgorithm::tree, NcclProtocol::ll, Bytes(k_small), ag));
}

TEST_CASE("a ring over two nodes: network latency, post overhead and the Simple plateau") {
  auto g = h100x8();
  g.ranks = 16;
  g.nodes = 2;
  // 30 steps, 2(2-1) = 2 across. Simple: intra max(3.4 us, 3 x 1 us net overhead) = 3.4 us,
  // inter NET ring Simple 14 us: 8.4 + 28 x 3.4 + 2 x 14 = 131.6 us.
  //  4 KiB: 4096 / (8 channels x 16 ranks) = 32 < 64 bytes: no plateau;
  //   131.6 us + 4096 x 30 / (369e9 x 16) = 131.6 + 0.020813 us
  CHECK(time(NcclAlgorithm::ring, NcclProtocol::simple, 4096, g) ==
        rel(131.6e-6 + 4096 * 30 / (369e9 * 16)));
  //  1 GiB: the plateau multiplies the latency by 1.4: 184.24 us + 5.455193 ms
  CHECK(time(NcclAlgorithm::ring, NcclProtocol::simple, k_large, g) ==
        rel(184.24e-6 + k_large * 30 / (369e9 * 16)));
  // LL on 2 nodes: bus min(llMax two nodes 39, 0.5 x 369) = 39 GB/s; intra max(0.6, 1) = 1 us
  // per step: 6.6 + 28 x 1 + 2 x 2.7 = 40 us.
  const auto ll = sim::nccl_cost(&nccl(), NcclAlgorithm::ring, NcclProtocol::ll, Bytes(4096), g);
  CHECK(ll->latency.value() == rel(40e-6));
  CHECK(ll->bus.value() == rel(39e9));
}

TEST_CASE("one rank per node: every step is a network hop at the NET row's tree latency") {
  sim::TunerGroup g;
  g.ranks = 2;
  g.nodes = 2;
  g.bus_bandwidth = BytesPerSecond(48e9); // one NDR NIC, 50 GB/s x 0.96
  // LL: 6.6 us + 2 steps x hwLat[NET][TREE][LL] 5.0 us = 16.6 us (not 2 x 2.7 us);
  // bus min(39, 0.5 x 48 = 24) = 24 GB/s
  const auto ll = sim::nccl_cost(&nccl(), NcclAlgorithm::ring, NcclProtocol::ll, Bytes(4096), g);
  CHECK(ll->latency.value() == rel(16.6e-6));
  CHECK(ll->bus.value() == rel(24e9));
}

TEST_CASE("LL128 runs only over NVLink inside a node, and the ideal model has one protocol") {
  auto g = h100x8();
  g.intra = hw::NcclFabric::pci;
  CHECK_FALSE(sim::nccl_cost(&nccl(), NcclAlgorithm::ring, NcclProtocol::ll128, Bytes(4096), g));
  CHECK(sim::nccl_cost(&nccl(), NcclAlgorithm::ring, NcclProtocol::ll, Bytes(4096), g));
  // PCIe LL: 6.6 us + 14 x hwLat[PCI][RING][LL] 1.0 us = 20.6 us
  CHECK(sim::nccl_cost(&nccl(), NcclAlgorithm::ring, NcclProtocol::ll, Bytes(4096), g)
            ->latency.value() == rel(20.6e-6));
  // No tuner: Simple at the full bandwidth, 14 steps x 1 us, no base latency
  g.intra_hop = Seconds(1e-6);
  CHECK_FALSE(sim::nccl_cost(nullptr, NcclAlgorithm::ring, NcclProtocol::ll, Bytes(4096), g));
  CHECK(sim::nccl_cost(nullptr, NcclAlgorithm::ring, NcclProtocol::simple, Bytes(1e9), g)
            ->time.value() == rel(14e-6 + 1e9 * 14 / (369e9 * 8)));
}

TEST_CASE("built-in systems: NCCL's protocol and algorithm as the all-reduce grows") {
  const auto cost = [](const std::string &system, double bytes, long long nodes = 1,
                       bool ideal = false) {
    const auto &sys = hw::SystemCatalogue::builtin().get(system);
    const auto eff = ideal ? hw::Efficiency::ideal()
                           : hw::builtin_efficiency(hw::GpuCatalogue::builtin().get(sys.gpu));
    const auto c = hw::make_cluster(sys, nodes);
    return sim::collective_cost(sim::CollectiveOp::all_reduce, Bytes(bytes), c, c.gpus(), eff);
  };
  // A100 (no NVLS; 300 x 0.69 = 207 GB/s): LL to 2.4 MB, LL128 to 21 MB, then Simple
  CHECK(cost("hgx-a100-8", k_small).protocol == "LL");
  CHECK(cost("hgx-a100-8", 8388608).protocol == "LL128");
  const auto large = cost("hgx-a100-8", k_large);
  CHECK(large.protocol == "Simple");
  CHECK(large.algorithm == "ring");
  // 3.5 us per call (efficiency.json) + 56 us + 1 GiB x 14 / (207e9 x 8)
  CHECK(large.time.value() == rel(3.5e-6 + 56e-6 + k_large * 14 / (207e9 * 8)));
  // H200: a ring with LL for a decode-sized message, NVLS (Simple) for a large one
  const auto small = cost("hgx-h200-8", k_small);
  CHECK(small.algorithm == "ring");
  CHECK(small.protocol == "LL");
  CHECK(small.time.value() == rel(3.5e-6 + 15e-6 + 917504 / 1.128e12));
  CHECK(cost("hgx-h200-8", k_large).algorithm == "nvls");
  CHECK(cost("hgx-h200-8", k_large).protocol == "Simple");
  // Two nodes: small messages in stages with LL inside and across, large ones one Simple ring
  CHECK(cost("hgx-h100-8", 4096, 2).protocol == "LL/LL");
  CHECK(cost("hgx-h100-8", k_large, 2).protocol == "Simple");
  // --ideal: no protocol model
  CHECK(cost("hgx-h200-8", k_small, 1, true).protocol.empty());
}

TEST_CASE("one GPU per node: NCCL's tree takes the TREE pattern and 0.85 of its bandwidth") {
  // search.cc line 1133: with one GPU in the node the tree graph's pattern is TREE; tuning.cc
  // line 336: maxTreePattern == TREE -> tree busBw x 0.85 (after the LL / LL128 limits).
  sim::TunerGroup g;
  g.ranks = 4;
  g.nodes = 4;
  g.bus_bandwidth = BytesPerSecond(48e9); // one NDR NIC, 50 GB/s x 0.96
  // Channels across nodes (sm90 inter speeds): 48 -> 1 channel, doubled to 2 x 24 GB/s.
  // Simple: bus min(0.92 x 48 = 44.16, 2 x perChMaxTree[Hopper][more] 36 = 72) x 0.85 =
  // 37.536 GB/s; algbw / 2 = 18.768 GB/s; 1 GiB: floor(log2(2^30 / 64)) = 24 >= 23, no
  // correction. Latency 8.4 us + 2 x (0 x 4.0 + log2(4) x 14 us) = 64.4 us.
  CHECK(time(NcclAlgorithm::tree, NcclProtocol::simple, k_large, g) ==
        rel(64.4e-6 + k_large / 18.768e9));
  // LL: min(44.16 / 3.8 = 11.621, llMax 20.4) x 0.85 = 9.878 GB/s; corr[LL][10] = 0.6 at 64 KiB.
  // Latency 6.8 + 2 x 2 x 5.0 = 26.8 us.
  CHECK(time(NcclAlgorithm::tree, NcclProtocol::ll, k_small, g) ==
        rel(26.8e-6 + k_small / (44.16e9 / 3.8 * 0.85 * 0.5 * 0.6)));
  // Several GPUs per node (16 on 2 nodes): the balanced tree, no 0.85. Simple at 1 GiB:
  // bus min(0.92 x 369 = 339.48, 8 channels x 41.4 = 331.2) = 331.2 GB/s.
  auto two = h100x8();
  two.ranks = 16;
  two.nodes = 2;
  const auto c =
      sim::nccl_cost(&nccl(), NcclAlgorithm::tree, NcclProtocol::simple, Bytes(k_large), two);
  CHECK(c->bus.value() == rel(331.2e9));
}

TEST_CASE("multi-node rows of NCCL's tables: llMax beyond two nodes, the tree's network hop") {
  // Ring LL on 4 nodes x 8 H100s: llMaxBws[Intel][more nodes] = 20.4 GB/s (not two nodes' 39);
  // 62 steps, 6 across: 6.6 + 56 x max(0.6, 1) + 6 x 2.7 = 78.8 us.
  auto four = h100x8();
  four.ranks = 32;
  four.nodes = 4;
  const auto ll =
      sim::nccl_cost(&nccl(), NcclAlgorithm::ring, NcclProtocol::ll, Bytes(k_small), four);
  CHECK(ll->bus.value() == rel(20.4e9));
  CHECK(ll->latency.value() == rel(78.8e-6));
  // Tree LL on 2 nodes x 8: 6.8 + 2 x (7 x 0.6 + log2(2) x hwLat[NET][TREE][LL] 5.0) = 25.2 us
  auto two = h100x8();
  two.ranks = 16;
  two.nodes = 2;
  CHECK(sim::nccl_cost(&nccl(), NcclAlgorithm::tree, NcclProtocol::ll, Bytes(k_small), two)
            ->latency.value() == rel(25.2e-6));
}

TEST_CASE("tree LL128 in one node takes 7/9, and Volta's multi-node ring plateau is 1.9") {
  // 8 H100s: B_t = min(0.92 x 369, 12 x 38.7) = 339.48; LL128 min(339.48 x 7/9, 12 x 36.7)
  const auto t = sim::nccl_cost(&nccl(), NcclAlgorithm::tree, NcclProtocol::ll128,
                                Bytes(k_large), h100x8());
  CHECK(t->bus.value() == rel(339.48e9 * 7 / 9));
  // Volta (sm70), 16 ranks on 2 nodes, 100 GB/s: channels (before-sm90 inter speeds) 2 x 48
  // doubled to 4 x 24; 1 GiB / (4 x 16) >= 64 B: Simple latency (8.4 + 28 x 3.4 + 2 x 14 =
  // 131.6 us) x 1.9 = 250.04 us
  auto volta = h100x8();
  volta.ranks = 16;
  volta.nodes = 2;
  volta.compute_capability = 70;
  volta.bus_bandwidth = BytesPerSecond(100e9);
  CHECK(sim::group_channels(nccl(), volta).count == 4);
  CHECK(sim::nccl_cost(&nccl(), NcclAlgorithm::ring, NcclProtocol::simple, Bytes(k_large), volta)
            ->latency.value() == rel(250.04e-6));
}
