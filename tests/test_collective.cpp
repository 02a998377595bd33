// Collectives: costs by hand (hand-built levels use the ideal model: one protocol at full
// bandwidth, the level's per-step latency, no base latency), topologies, hierarchy, NCCL's
// protocols on built-in systems, and nccl-tests bandwidths.
#include "core/errors.hpp"
#include "hwmodels/system.hpp"
#include "sim/collective.hpp"

#include <doctest/doctest.h>

using namespace rooftop;
using sim::CollectiveOp;

namespace {
/// A system of `n` GPUs with one-way per-GPU bandwidth `bw`, per-hop latency 1 us.
hw::SystemSpec synthetic(hw::Topology t, long long n, double bw, bool sharp = false) {
  hw::SystemSpec s;
  s.id = "synthetic";
  s.gpus_per_node = n;
  s.domain_gpus = n;
  s.topology = t;
  s.scale_up_link = hw::LinkSpec::make("l", "nvlink", BytesPerSecond(bw), Seconds(1e-6));
  if (t == hw::Topology::nvswitch)
    s.switch_link = hw::LinkSpec::make("sw", "nvswitch", BytesPerSecond(bw), Seconds(1e-6), sharp);
  s.nic = hw::LinkSpec::make("nic", "infiniband", BytesPerSecond(50e9), Seconds(5e-6));
  s.nics_per_gpu = 1;
  return s;
}
const sim::Level fast{BytesPerSecond(100e9), Seconds(1e-6), false, BytesPerSecond(100e9),
                      BytesPerSecond(100e9), Seconds(20e-6)};
const sim::Level slow{BytesPerSecond(10e9), Seconds(5e-6), false, BytesPerSecond(10e9),
                      BytesPerSecond(10e9), Seconds(0), hw::NcclFabric::net};
/// x to 1e-9 relative (doctest's default Approx also allows ~1e-5 absolute, which in seconds
/// would accept almost anything).
doctest::Approx rel(double x) { return doctest::Approx(x).epsilon(1e-9).scale(0); }
} // namespace

TEST_CASE("without a switch a GPU splits its NVLink bandwidth over its peers (B/N)") {
  // 4 Rubin GPUs: 3.6 TB/s bidirectional per GPU = 1.8 TB/s one way; 3 peers -> 0.6 TB/s one
  // way per pair = 1.2 TB/s bidirectional (DOMAIN.md: 3.6/3 = 1.2 TB/s per pair)
  const auto rubin4 = synthetic(hw::Topology::p2p, 4, 1.8e12);
  CHECK(rubin4.pair_bandwidth().value() * 2 == doctest::Approx(1.2e12));
  // 8 H100s: 900 GB/s bidirectional, 7 peers -> 128.6 GB/s per pair (DOMAIN.md: ~128 GB/s)
  const auto h100x8 = synthetic(hw::Topology::p2p, 8, 450e9);
  CHECK(h100x8.pair_bandwidth().value() * 2 == doctest::Approx(900e9 / 7));
  // An NVSwitch gives every pair the full bandwidth
  CHECK(synthetic(hw::Topology::nvswitch, 8, 450e9).pair_bandwidth().value() == 450e9);
}

TEST_CASE("ring all-reduce of 1 GB on 8 GPUs at 100 GB/s") {
  // ring: 2 x 7 x 1 us + 2 x 7/8 x 1e9 / 100e9 = 14 us + 17.5 ms = 17.514 ms
  // tree (a chain in one node, as NCCL's): 2 x 7 x 1 us + 2 x 10 ms = 20.014 ms -> ring wins
  const auto c = sim::collective_cost(CollectiveOp::all_reduce, Bytes(1e9), sim::Placement{8, 8},
                                      fast, slow, Seconds(0));
  CHECK(c.algorithm == "ring");
  CHECK(c.protocol.empty()); // hand-built levels: no NCCL protocol model
  CHECK(c.time.value() == rel(17.514e-3));
  // nccl-tests: algbw = S / t; busbw = algbw x 2 (n-1)/n
  CHECK(c.algbw.value() == doctest::Approx(1e9 / 17.514e-3));
  CHECK(c.busbw.value() == doctest::Approx(1e9 / 17.514e-3 * 1.75));
}

TEST_CASE("switches that reduce take NVLS for large messages, a ring for small ones") {
  // 8 KB: ring 14 us + 1.75 x 0.08 us = 14.14 us; tree 2 x 7 x 1 us + 2 x 0.08 us = 14.16 us
  const auto small = sim::collective_cost(CollectiveOp::all_reduce, Bytes(8e3),
                                          sim::Placement{8, 8}, fast, slow, Seconds(0));
  CHECK(small.algorithm == "ring");
  CHECK(small.time.value() == rel(14.14e-6));
  sim::Level sharp = fast;
  sharp.in_switch = true;
  // NVLS: its fixed 20 us + 1e9 / 100e9 = 10.02 ms
  const auto nvls = sim::collective_cost(CollectiveOp::all_reduce, Bytes(1e9),
                                         sim::Placement{8, 8}, sharp, slow, Seconds(0));
  CHECK(nvls.algorithm == "nvls");
  CHECK(nvls.time.value() == rel(10.02e-3));
  // ...but a small message is cheaper by the ring (14.14 us) than by NVLS (20.08 us)
  CHECK(sim::collective_cost(CollectiveOp::all_reduce, Bytes(8e3), sim::Placement{8, 8}, sharp,
                             slow, Seconds(0)).algorithm == "ring");
}

TEST_CASE("all-gather, reduce-scatter, all-to-all and send/recv") {
  // ring all-gather of 1 GB total on 4 GPUs: 3 x 1 us + 3/4 x 10 ms = 7.503 ms; busbw factor 3/4
  const auto ag = sim::collective_cost(CollectiveOp::all_gather, Bytes(1e9), sim::Placement{4, 4},
                                       fast, slow, Seconds(0));
  CHECK(ag.time.value() == rel(7.503e-3));
  CHECK(ag.busbw.value() == doctest::Approx(ag.algbw.value() * 0.75));
  const auto a2a = sim::collective_cost(CollectiveOp::all_to_all, Bytes(1e9), sim::Placement{4, 4},
                                        fast, slow, Seconds(0));
  CHECK(a2a.time.value() == rel(7.503e-3));
  // send/recv 1 GB: 1 us + 10 ms, busbw = algbw
  const auto p2p = sim::collective_cost(CollectiveOp::send_recv, Bytes(1e9), sim::Placement{2, 2},
                                        fast, slow, Seconds(0));
  CHECK(p2p.time.value() == rel(10.001e-3));
  CHECK(p2p.busbw.value() == doctest::Approx(p2p.algbw.value()));
}

TEST_CASE("all-reduce across domains: the cheaper of one ring and the staged hierarchy") {
  // 2 domains x 4 GPUs, S = 1 GB, inside 100 GB/s, across 10 GB/s per GPU:
  //  one ring through 8 ranks: inter hops share 4 NICs -> min(100, 4 x 10) = 40 GB/s; of its
  //   2 x 7 = 14 steps 2 x (2 - 1) = 2 cross domains (5 us), 12 stay inside (1 us):
  //   12 x 1 us + 2 x 5 us + 2 x 7/8 x 1e9 / 40e9 = 22 us + 43.75 ms = 43.772 ms
  //  hierarchy: inside ring all-reduce 2 x 3 x 1 us + 2 x 3/4 x 10 ms = 15.006 ms;
  //   across S/4 = 250 MB over 2 ranks: ring 2 x 5 us + 2 x 1/2 x 25 ms = 25.01 ms
  //   staged: 15.006 + 25.01 = 40.016 ms -> the hierarchy wins
  const auto c = sim::collective_cost(CollectiveOp::all_reduce, Bytes(1e9), sim::Placement{8, 4},
                                      fast, slow, Seconds(0));
  CHECK(c.intra_time.value() == rel(15.006e-3));
  CHECK(c.inter_time.value() == rel(25.01e-3));
  CHECK(c.time.value() == rel(40.016e-3));
  CHECK(c.algorithm == "hierarchical(ring/ring)");
  // 2 domains x 8 GPUs sharing 8 NICs: one ring is bottlenecked at min(100, 8 x 10) = 80 GB/s:
  //  28 x 1 us + 2 x 5 us + 2 x 15/16 x 1e9 / 80e9 = 0.038 + 23.4375 = 23.4755 ms;
  //  hierarchy: inside 2 x 7 x 1 us + 1.75 x 10 ms = 17.514 ms, across S/8 = 125 MB over 2:
  //  2 x 5 us + 12.5 ms = 12.51 ms -> staged 30.024 ms: the ring wins
  const auto c16 = sim::collective_cost(CollectiveOp::all_reduce, Bytes(1e9),
                                        sim::Placement{16, 8}, fast, slow, Seconds(0));
  CHECK(c16.algorithm == "ring");
  CHECK(c16.time.value() == rel(23.4755e-3));
  // never cheaper than the same collective inside one domain
  const auto one = sim::collective_cost(CollectiveOp::all_reduce, Bytes(1e9), sim::Placement{8, 8},
                                        fast, slow, Seconds(0));
  CHECK(c16.time > one.time);
  // TP=8 inside one domain beats TP=8 across two
  const auto inside = sim::collective_cost(CollectiveOp::all_reduce, Bytes(1e9),
                                           sim::Placement{8, 8}, fast, slow, Seconds(0));
  CHECK(inside.time < c.time);
}

TEST_CASE("an uneven all-reduce is costed at its worst node") {
  // 12 ranks split 8 + 4, S = 1.2 GB, inside 100 GB/s and 1 us, across 10 GB/s and 5 us per GPU:
  //  one ring through 12 ranks, inter hops over the thinner domain's 4 NICs: min(100, 4 x 10) =
  //   40 GB/s: 20 x 1 us + 2 x 5 us + 2 x 11/12 x 1.2e9 / 40e9 = 0.03 ms + 55 ms = 55.03 ms
  //  hierarchy: inside the fuller domain (8): ring 2 x 7 x 1 us + 2 x 7/8 x 12 ms = 21.014 ms;
  //   across S/4 = 300 MB over 2 domains: 2 x 5 us + 2 x 1/2 x 30 ms = 30.01 ms; staged 51.024 ms
  //  (an even 6 + 6 would give 20.01 + 20.01 = 40.02 ms)
  const sim::Placement p{12, 8, 4, 2};
  const auto c = sim::collective_cost(CollectiveOp::all_reduce, Bytes(1.2e9), p, fast, slow,
                                      Seconds(0));
  CHECK(c.algorithm == "hierarchical(ring/ring)");
  CHECK(c.intra_time.value() == rel(21.014e-3));
  CHECK(c.inter_time.value() == rel(30.01e-3));
  CHECK(c.time.value() == rel(51.024e-3));
  // all-to-all of 1.2 GB per rank: a rank of the 4-domain sends 8/12 of it across:
  //  8 x 5 us + 8/12 x 1.2e9 / 10e9 = 80.04 ms; one of the 8-domain 7/12 inside: 7.007 ms
  const auto a2a = sim::collective_cost(CollectiveOp::all_to_all, Bytes(1.2e9), p, fast, slow,
                                        Seconds(0));
  CHECK(a2a.inter_time.value() == rel(80.04e-3));
  CHECK(a2a.intra_time.value() == rel(7.007e-3));
  CHECK(a2a.time.value() == rel(80.04e-3));
}

TEST_CASE("an uneven all-gather is never faster than the thin domain's NICs allow") {
  // 3 ranks split 2 + 1 (CP groups strided over two nodes), S = 30 MB, across 10 GB/s, 5 us:
  //  the lone rank receives the other two ranks' shares, 2/3 x 30 MB = 20 MB, over its one NIC:
  //  at least 5 us + 20 MB / 10 GB/s = 2.005 ms (the ring over k = 2 with S/f would say 1.505 ms)
  //  inside the 2-rank domain: 1 us + 1/2 x 30 MB / 100 GB/s = 0.151 ms; staged 2.156 ms
  //  the NIC-bottlenecked ring: of its 2 steps 1 crosses (5 us), 1 stays inside (1 us):
  //  1 us + 5 us + 2/3 x 30 MB / min(100, 1 x 10) GB/s = 2.006 ms
  const sim::Placement p{3, 2, 1, 2};
  const auto c = sim::collective_cost(CollectiveOp::all_gather, Bytes(30e6), p, fast, slow, Seconds(0));
  CHECK(c.time.value() >= 2.005e-3 * (1 - 1e-9));
  CHECK(c.time.value() == rel(2.006e-3));
  CHECK(c.algorithm == "ring");
}

TEST_CASE("hierarchical all-to-all sends the off-domain share over the network") {
  // 8 ranks, 4 per domain, S = 800 MB per rank: 300 MB stays (3/8), 400 MB crosses (4/8)
  // intra 3 x 1 us + 300 MB / 100 GB/s = 3.003 ms; inter 4 x 5 us + 400 MB / 10 GB/s = 40.02 ms
  const auto c = sim::collective_cost(CollectiveOp::all_to_all, Bytes(800e6), sim::Placement{8, 4},
                                      fast, slow, Seconds(0));
  CHECK(c.time.value() == rel(40.02e-3));
}

TEST_CASE("nccl-tests bus bandwidth factors") {
  CHECK(sim::bus_factor(CollectiveOp::all_reduce, 8) == doctest::Approx(1.75));
  CHECK(sim::bus_factor(CollectiveOp::all_gather, 8) == doctest::Approx(0.875));
  CHECK(sim::bus_factor(CollectiveOp::all_to_all, 4) == doctest::Approx(0.75));
  CHECK(sim::bus_factor(CollectiveOp::send_recv, 2) == 1.0);
  CHECK(sim::collective_from_string("all_reduce") == CollectiveOp::all_reduce);
  CHECK(sim::collective_from_string("alltoall") == CollectiveOp::all_to_all);
  CHECK_THROWS_AS(sim::collective_from_string("broadcast-ish"), InputError);
}

TEST_CASE("placing groups on a cluster") {
  const auto node = synthetic(hw::Topology::nvswitch, 8, 450e9, true);
  const auto c = hw::make_cluster(node, 4);
  CHECK(c.gpus() == 32);
  const auto p = sim::place_group(c, 16);
  CHECK(p.per_domain == 8);
  CHECK(p.domains() == 2);
  CHECK(sim::place_group(c, 4).domains() == 1);
  CHECK_THROWS_WITH_AS(sim::place_group(c, 64), doctest::Contains("exceeds"), InputError);
  CHECK_THROWS_WITH_AS(sim::place_group(c, 12), doctest::Contains("evenly"), InputError);
  CHECK_THROWS_AS(hw::make_cluster(node, 0), InputError);
  CHECK_THROWS_AS(hw::make_cluster(node, 2, 0.5), InputError);
  // A 100,000-GPU cluster is a formula, not 100,000 objects
  const auto big = hw::make_cluster(node, 12500);
  CHECK(big.gpus() == 100000);
  const auto cost = sim::collective_cost(CollectiveOp::all_reduce, gib(1), big, 100000,
                                         hw::Efficiency::ideal());
  CHECK(cost.time.value() > 0);
}

TEST_CASE("oversubscription divides the bandwidth between nodes") {
  const auto node = synthetic(hw::Topology::nvswitch, 8, 450e9, true);
  const auto eff = hw::Efficiency::ideal();
  const auto [in1, out1] = sim::cluster_levels(hw::make_cluster(node, 2, 1.0), eff);
  const auto [in2, out2] = sim::cluster_levels(hw::make_cluster(node, 2, 2.0), eff);
  CHECK(out1.bandwidth.value() == 50e9); // one 400 Gb/s NIC per GPU
  CHECK(out2.bandwidth.value() == 25e9);
  CHECK(in1.in_switch);
}
