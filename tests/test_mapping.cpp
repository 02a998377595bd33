// Parallel mappings in the estimate: PP stages, TP placement, EP all-to-all, CP, overlap.
#include "core/errors.hpp"
#include "hwmodels/efficiency.hpp"
#include "hwmodels/system.hpp"
#include "sim/estimate.hpp"
#include "workloads/model_catalogue.hpp"
#include "workloads/op_graph.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

using namespace rooftop;

namespace {
const std::string good = ROOFTOP_TEST_DATA_DIR "/good/";
const hw::GpuSpec &gpu(const char *id) { return hw::GpuCatalogue::builtin().get(id); }
wl::Deployment dep(long long batch, long long in, long long out) {
  wl::Deployment d;
  d.batch = batch;
  d.input_len = in;
  d.output_len = out;
  return d;
}
const wl::Op &find(const std::vector<wl::Op> &ops, const char *name) {
  for (const auto &o : ops)
    if (std::strcmp(o.name, name) == 0) return o;
  throw std::runtime_error(std::string("no op ") + name);
}
} // namespace

TEST_CASE("PP=2 halves the weights per GPU and does not shorten a token's latency") {
  const auto m = wl::resolve_model("llama-3.1-8b"); // 32 layers: 16 + 16
  const auto &h100 = gpu("h100-sxm");
  const auto eff = hw::builtin_efficiency(h100);
  auto d = dep(1, 512, 64);
  const auto one = sim::estimate(h100, m, d, eff);
  d.pp = 2;
  const auto two = sim::estimate(h100, m, d, eff);
  // Stage 0 holds the embedding and 16 layers, stage 1 16 layers, the final norm and the LM head:
  // the two untied 128256 x 4096 tables are the same size, so each stage holds half (+- norms).
  CHECK(two.memory.weights.value() == doctest::Approx(one.memory.weights.value() / 2).epsilon(1e-3));
  // A token still crosses every layer, plus a hand-off between the stages.
  CHECK(two.tpot >= one.tpot);
  CHECK(two.tpot.value() == doctest::Approx(one.tpot.value()).epsilon(0.05));
  CHECK(two.microbatches.count == 1); // batch 1: nothing to pipeline
  // With a batch, two micro-batches keep both stages busy: throughput gains, latency does not.
  d.batch = 64;
  const auto piped = sim::estimate(h100, m, d, eff);
  CHECK(piped.microbatches.count == 2);
  CHECK(piped.bubble_fraction == doctest::Approx(1.0 / 3)); // (pp - 1) / (m + pp - 1)
}

TEST_CASE("a batch that does not divide into micro-batches is timed micro-batch by micro-batch") {
  const auto m = wl::resolve_model("llama-3.1-8b");
  const auto &h100 = gpu("h100-sxm");
  const auto eff = hw::builtin_efficiency(h100);
  auto d = dep(3, 512, 64);
  d.pp = 2; // batch 3 over 2 stages: micro-batches of 2 and 1 sequences
  const auto three = sim::estimate(h100, m, d, eff);
  REQUIRE(three.microbatches.count == 2);
  CHECK(three.microbatches.sequences(0) == 2);
  CHECK(three.microbatches.sequences(1) == 1);
  // Stage times of a micro-batch of 2 (batch 4 = 2 + 2) and of 1 (batch 2 = 1 + 1)
  d.batch = 4;
  const auto four = sim::estimate(h100, m, d, eff);
  d.batch = 2;
  const auto two = sim::estimate(h100, m, d, eff);
  const auto stage = [](const sim::Estimate &e, wl::Phase phase, int s) {
    double t = 0;
    for (const auto &o : e.ops)
      if (o.phase == phase && o.stage == s) t += o.time.value();
    return t;
  };
  const double a0 = stage(four, wl::Phase::prefill, 0), a1 = stage(four, wl::Phase::prefill, 1);
  const double b0 = stage(two, wl::Phase::prefill, 0), b1 = stage(two, wl::Phase::prefill, 1);
  // GPipe fill, the micro-batch of 2 first: C(1, 1) = max(a0 + a1, a0 + b0) + b1
  CHECK(three.ttft.value() == doctest::Approx(std::max(a0 + a1, a0 + b0) + b1).epsilon(1e-12));
  const double c0 = stage(four, wl::Phase::decode, 0), c1 = stage(four, wl::Phase::decode, 1);
  const double e0 = stage(two, wl::Phase::decode, 0), e1 = stage(two, wl::Phase::decode, 1);
  // a decode step: max(each micro-batch's trip, each stage's load)
  CHECK(three.tpot.value() ==
        doctest::Approx(std::max({c0 + c1, e0 + e1, c0 + e0, c1 + e1})).epsilon(1e-12));
  // Timing both micro-batches as the larger one would make batch 3 as slow as batch 4
  CHECK(three.ttft < four.ttft);
  CHECK(three.tpot < four.tpot);
  // The reported operators are the largest micro-batch's; utilisation counts 2 + 1 sequences
  CHECK(three.prefill.flops.value() == doctest::Approx(four.prefill.flops.value()));
  const double peak = h100.matmul_peak(d.act_dtype)->value();
  CHECK(three.prefill.compute_utilization ==
        doctest::Approx((four.prefill.flops.value() + two.prefill.flops.value()) /
                        (peak * three.ttft.value() * 2)));
}

TEST_CASE("the usual system of a GPU is its largest scale-up domain") {
  const auto &cat = hw::SystemCatalogue::builtin();
  CHECK(cat.default_for_gpu("h100-sxm").id == "hgx-h100-8"); // not the 4-GPU board
  CHECK(cat.default_for_gpu("gb200").id == "gb200-nvl72");
  CHECK(cat.default_for_gpu("rubin").id == "vr-nvl72");
  CHECK(hw::cluster_for_gpu(gpu("h100-sxm"), 8).system.id == "hgx-h100-8");
}

TEST_CASE("a GPU no system holds is one server of at most 8") {
  const auto &cat = hw::SystemCatalogue::builtin();
  CHECK(!cat.holds("h100-pcie"));
  CHECK(cat.holds("h100-sxm"));
  const auto eight = hw::cluster_for_gpu(gpu("h100-pcie"), 8);
  CHECK(eight.system.id == "h100-pcie-standalone");
  CHECK(eight.gpus() == 8);
  CHECK_THROWS_WITH_AS(hw::cluster_for_gpu(gpu("h100-pcie"), 9),
                       doctest::Contains("9 x h100-pcie: no system in data/hardware/systems"),
                       InputError);
  // A GPU that a system holds spills over nodes instead: 100,000 H100 SXM = 12,500 HGX boards.
  CHECK(hw::cluster_for_gpu(gpu("h100-sxm"), 100000).nodes == 12500);
}

TEST_CASE("TP=8 inside one NVLink domain beats TP=8 split over two") {
  const auto m = wl::resolve_model("llama-3.1-70b");
  const auto &h100 = gpu("h100-sxm");
  const auto eff = hw::builtin_efficiency(h100);
  auto d = dep(8, 1024, 64);
  d.tp = 8;
  const auto hgx = hw::SystemCatalogue::builtin().get("hgx-h100-8");
  auto half = hgx; // the same GPUs and NICs, four to a node
  half.gpus_per_node = half.domain_gpus = 4;
  const auto inside_cluster = hw::make_cluster(hgx, 1);
  const auto split_cluster = hw::make_cluster(half, 2);
  const auto inside = sim::estimate(h100, m, d, eff, {}, &inside_cluster);
  const auto split = sim::estimate(h100, m, d, eff, {}, &split_cluster);
  CHECK(inside.tp.domains() == 1);
  CHECK(split.tp.domains() == 2);
  CHECK(inside.tpot < split.tpot);
  CHECK(inside.ttft < split.ttft);
  CHECK(inside.decode.communication_time < split.decode.communication_time);
}

TEST_CASE("EP dispatch and combine all-to-all volume for a stated batch") {
  const auto m = wl::load_hf_config(good + "tiny-moe.config.json"); // E 8, top-2, hidden 64
  auto d = dep(16, 8, 8);
  // EP = TP: the TP group already holds every token; no all-to-all, one TP all-reduce combines
  d.tp = 2;
  d.ep = 2;
  const auto tp_ops = wl::lower_pass(m, d, wl::Phase::decode, {16, 1, 8});
  for (const auto &o : tp_ops) CHECK(std::string(o.name) != "ep_dispatch_all_to_all");
  CHECK(find(tp_ops, "ffn_all_reduce").comm_bytes.value() == 16 * 64 * 2);
  // each GPU stores 8/2 = 4 whole experts: 4 x 3 x 64 x 32 x 2 B
  CHECK(find(tp_ops, "moe_experts").stored_weight_bytes.value() == 4 * 6144 * 2);
  // 16 tokens x 2 picks touch 8 (1 - (6/8)^16) = 7.92 experts, 3.96 of them on this GPU; the
  // grouped GEMMs are whole experts (N = 2 x 32 for gate+up, 64 for down), not TP-sharded
  const auto &ex = find(tp_ops, "moe_experts");
  CHECK(ex.groups == doctest::Approx(4 * (1 - std::pow(0.75, 16))));
  CHECK(ex.cols == 64);
  CHECK(ex.second_cols == 64);
  // Attention DP: TP 1 x DP 2 replicas, EP 2: 32 tokens in the EP group, 16 per rank, each
  // sending its 16 tokens' 2 copies of the 64-wide hidden state in bf16:
  // 16 x 2 x 64 x 2 B = 4096 B per rank (mean load: imbalance 1)
  d.tp = 1;
  d.dp = 2;
  d.ep_imbalance = 1;
  const auto dp_ops = wl::lower_pass(m, d, wl::Phase::decode, {16, 1, 8});
  CHECK(find(dp_ops, "ep_dispatch_all_to_all").comm_bytes.value() == 4096);
  CHECK(find(dp_ops, "ep_combine_all_to_all").comm_bytes.value() == 4096);
  // The busiest rank sets the all-to-all: x imbalance, derived for 32 x 2 = 64 picks over 2
  // ranks: 1 + sqrt(2 ln 2 x 1 / 64) = 1.147
  d.ep_imbalance = 0;
  const auto skew = wl::lower_pass(m, d, wl::Phase::decode, {16, 1, 8});
  CHECK(find(skew, "ep_dispatch_all_to_all").comm_bytes.value() ==
        doctest::Approx(4096 * (1 + std::sqrt(2 * std::log(2.0) / 64))));
  // FP8 GEMM inputs dispatch in FP8 (half the bytes); the combine stays at the model dtype
  d.ep_imbalance = 1;
  d.weight_dtype = d.expert_dtype = d.act_dtype = DType::fp8;
  const auto fp8 = wl::lower_pass(m, d, wl::Phase::decode, {16, 1, 8});
  CHECK(find(fp8, "ep_dispatch_all_to_all").comm_bytes.value() == 2048);
  CHECK(find(fp8, "ep_combine_all_to_all").comm_bytes.value() == 4096);
  // With TP 2 x DP 2 and EP 4, each rank holds half its TP group's tokens after the combine:
  // an all-gather over TP follows
  d = dep(16, 8, 8);
  d.tp = 2;
  d.dp = 2;
  d.ep = 4;
  CHECK(find(wl::lower_pass(m, d, wl::Phase::decode, {16, 1, 8}), "ep_tp_all_gather").comm_bytes.value() ==
        16 * 64 * 2);
}

TEST_CASE("EP load imbalance of uniform routing, and its ceiling") {
  wl::FfnSpec f;
  f.kind = wl::FfnKind::moe;
  f.num_experts = 8;
  f.experts_per_token = 2;
  // ep 8: one expert per rank, a token's 2 picks on 2 ranks: the busiest rank can get at most
  // every token once: 8 x min(2, 1) / 2 = 4 x the mean
  CHECK(wl::max_ep_imbalance(8, f) == 4.0);
  CHECK(wl::expected_ep_imbalance(1, 100, 4) == 1.0);
  // 1 + sqrt(2 ln 8 x 7 / 1e6) = 1 + sqrt(29.11e-6) = 1.005396
  CHECK(wl::expected_ep_imbalance(8, 1e6, 4) == doctest::Approx(1.0053955).epsilon(1e-6));
  CHECK(wl::expected_ep_imbalance(8, 1, 4) == 4.0); // few tokens: at the ceiling
  CHECK(wl::expected_ep_imbalance(64, 512, 64) > wl::expected_ep_imbalance(64, 65536, 64));
  // a user figure above the ceiling is refused
  const auto m = wl::resolve_model("mixtral-8x7b");
  auto d = dep(8, 16, 16);
  d.tp = 1;
  d.dp = 8;
  d.ep = 8;
  d.ep_imbalance = 5;
  CHECK_THROWS_WITH_AS(wl::validate_mapping(m, d), doctest::Contains("exceeds"), InputError);
}

TEST_CASE("CP splits the prompt and exchanges K/V") {
  const auto m = wl::resolve_model("llama-3.1-8b");
  const auto &h100 = gpu("h100-sxm");
  const auto eff = hw::builtin_efficiency(h100);
  auto d = dep(1, 32768, 2);
  const auto one = sim::estimate(h100, m, d, eff);
  d.cp = 4;
  const auto four = sim::estimate(h100, m, d, eff);
  // each rank does a quarter of the prefill work (load-balanced causal split)
  CHECK(four.prefill.flops.value() == doctest::Approx(one.prefill.flops.value() / 4).epsilon(0.01));
  CHECK(four.ttft < one.ttft);
  CHECK(four.prefill.communication_time.value() > 0);
  // and holds a quarter of the KV cache
  CHECK(four.memory.kv_cache.value() == doctest::Approx(one.memory.kv_cache.value() / 4));
}

TEST_CASE("overlap hides collectives behind compute, as an upper bound") {
  const auto m = wl::resolve_model("llama-3.1-70b");
  const auto &h100 = gpu("h100-sxm");
  const auto eff = hw::builtin_efficiency(h100);
  auto d = dep(32, 2048, 64);
  d.tp = 8;
  const auto plain = sim::estimate(h100, m, d, eff);
  d.overlap_comm = true;
  const auto hidden = sim::estimate(h100, m, d, eff);
  const double rest = plain.prefill.time.value() - plain.prefill.communication_time.value();
  CHECK(hidden.ttft.value() ==
        doctest::Approx(std::max(rest, plain.prefill.communication_time.value())));
  CHECK(hidden.ttft < plain.ttft);
}

TEST_CASE("mapping errors") {
  const auto &h100 = gpu("h100-sxm");
  const auto eff = hw::builtin_efficiency(h100);
  const auto dense = wl::resolve_model("llama-3.1-8b");
  const auto moe = wl::resolve_model("mixtral-8x7b"); // 8 experts
  auto d = dep(1, 16, 16);
  d.ep = 2;
  CHECK_THROWS_WITH_AS(sim::estimate(h100, dense, d, eff), doctest::Contains("no experts"), InputError);
  d.tp = 2;
  d.ep = 4; // neither TP (2) nor TP x DP (2)
  CHECK_THROWS_WITH_AS(sim::estimate(h100, moe, d, eff), doctest::Contains("--ep 4"), InputError);
  d.tp = 1;
  d.dp = 16;
  d.ep = 16; // 16 does not divide 8 experts
  CHECK_THROWS_WITH_AS(sim::estimate(h100, moe, d, eff), doctest::Contains("does not divide"),
                       InputError);
  auto big = dep(1, 16, 16);
  big.tp = 8;
  big.dp = 4;
  const auto node = hw::make_cluster(hw::SystemCatalogue::builtin().get("hgx-h100-8"), 2);
  CHECK_THROWS_WITH_AS(sim::estimate(h100, dense, big, eff, {}, &node),
                       doctest::Contains("32 GPUs"), InputError);
  auto deep = dep(1, 16, 16);
  deep.pp = 64; // more stages than 32 layers
  CHECK_THROWS_AS(sim::estimate(h100, dense, deep, eff), InputError);
}

TEST_CASE("groups that straddle a domain boundary are costed across it") {
  const auto &gb200 = gpu("gb200");
  const auto eff = hw::builtin_efficiency(gb200);
  const auto m = wl::resolve_model("llama-3.1-70b");
  auto d = dep(1, 64, 8);
  // A replica of TP 8 x PP 3 = 24 ranks on 8-GPU HGX nodes: TP groups are aligned; with TP 12
  // (x PP 2) the second TP group holds ranks 12..23 = 4 in node 1 + 8 in node 2
  const auto &h100 = gpu("h100-sxm");
  const auto hgx = hw::make_cluster(hw::SystemCatalogue::builtin().get("hgx-h100-8"), 3);
  d.tp = 8;
  d.pp = 3;
  const hw::Efficiency h100_eff = hw::builtin_efficiency(h100); // the machines refer to it
  CHECK(sim::make_machine(h100, h100_eff, hgx, d).tp.domains() == 1);
  auto d12 = dep(1, 64, 8);
  d12.tp = 12;
  d12.pp = 2;
  const auto m12 = sim::make_machine(h100, h100_eff, hgx, d12);
  // Each TP group of 12 splits 8 + 4 over two nodes and is costed at its worst node: 8 ranks
  // inside the fuller domain, the 4 NICs of the thinner one across (not rounded to 6 + 6)
  CHECK(m12.tp.domains() == 2);
  CHECK(m12.tp.per_domain == 8);
  CHECK(m12.tp.fewest_per_domain == 4);
  // Independent DP replicas do not pay for one that straddles racks: gb200, TP 16 x DP 9 =
  // 144 GPUs, replica 0 sits inside rack 0
  d.tp = 16;
  d.pp = 1;
  d.dp = 9;
  const auto racks = hw::cluster_for_gpu(gb200, d.gpus());
  CHECK(racks.nodes == 2);
  CHECK(sim::make_machine(gb200, eff, racks, d).tp.domains() == 1);
}

TEST_CASE("a pipeline hand-off between nodes goes over the network") {
  const auto &h100 = gpu("h100-sxm");
  const auto eff = hw::builtin_efficiency(h100);
  const auto m = wl::resolve_model("llama-3.1-70b");
  auto d = dep(8, 512, 16);
  d.tp = 4;
  d.pp = 4; // stages 0,1 in node 0; stages 2,3 in node 1: the 1 -> 2 hop crosses
  const auto two = hw::make_cluster(hw::SystemCatalogue::builtin().get("hgx-h100-8"), 2);
  const auto e = sim::estimate(h100, m, d, eff, {}, &two);
  double inside = 0, across = 0;
  for (const auto &o : e.ops)
    if (o.name == "pp_send" && o.phase == wl::Phase::prefill)
      (o.ranks_per_domain == 2 ? inside : across) += 1;
  CHECK(inside == 2); // hops 0 -> 1 and 2 -> 3
  CHECK(across == 1); // hop 1 -> 2
}

TEST_CASE("KV heads replicated by TP are reported") {
  const auto &h100 = gpu("h100-sxm");
  const auto eff = hw::builtin_efficiency(h100);
  const auto m = wl::resolve_model("llama-3.1-70b"); // 8 K/V heads
  auto d = dep(1, 64, 8);
  d.tp = 8;
  CHECK(sim::estimate_memory(h100, m, d, {}).kv_replication == 1);
  d.tp = 16;
  d.dp = 1;
  CHECK(sim::estimate_memory(h100, m, d, {}).kv_replication == 2); // 16 GPUs, 8 heads
  // per GPU the cache does not shrink past 8-way TP: each GPU keeps one K/V head
  auto d8 = d;
  d8.tp = 8;
  CHECK(sim::estimate_memory(h100, m, d, {}).kv_cache == sim::estimate_memory(h100, m, d8, {}).kv_cache);
}

TEST_CASE("an infinite or NaN oversubscription is refused") {
  const auto &sys = hw::SystemCatalogue::builtin().get("hgx-h100-8");
  CHECK_THROWS_AS(hw::make_cluster(sys, 2, std::numeric_limits<double>::infinity()), InputError);
  CHECK_THROWS_AS(hw::make_cluster(sys, 2, std::nan("")), InputError);
}

TEST_CASE("PP with tied embeddings: the last stage holds its own copy of the table") {
  // vLLM builds embed_tokens on the last PP rank too when the LM head is tied to it
  // (`is_first_rank or (tie_word_embeddings and is_last_rank)`): with one stage the table is
  // stored once, with two each end stage stores it. tiny-moe: V 100 x h 64 x 2 B = 12,800 B.
  const auto m = wl::load_hf_config(good + "tiny-moe.config.json");
  REQUIRE(m.tie_word_embeddings);
  auto d = dep(1, 16, 4);
  const auto stored = [&](const wl::StageSlice *stage, const char *name) {
    for (const auto &o : wl::lower_pass(m, d, wl::Phase::decode, {1, 1, 0}, stage))
      if (std::strcmp(o.name, name) == 0) return o.stored_weight_bytes.value();
    return -1.0;
  };
  CHECK(stored(nullptr, "embedding") == 12800);
  CHECK(stored(nullptr, "lm_head") == 0); // the same table
  d.pp = 2;
  const auto stages = wl::split_stages(m, 2);
  CHECK(stored(&stages[0], "embedding") == 12800);
  CHECK(stored(&stages[0], "lm_head") == -1); // not on the first stage
  CHECK(stored(&stages[1], "lm_head") == 12800);
}
