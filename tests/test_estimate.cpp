// sim::estimate: the DOMAIN.md worked example, bound transitions, memory fit and invariants.
#include "core/errors.hpp"
#include "hwmodels/efficiency.hpp"
#include "hwmodels/gpu_spec.hpp"
#include "hwmodels/system.hpp"
#include "sim/estimate.hpp"
#include "workloads/model_catalogue.hpp"

#include <doctest/doctest.h>

#include <fstream>

using namespace rooftop;

namespace {
const std::string good = ROOFTOP_TEST_DATA_DIR "/good/";
const hw::GpuSpec &gpu(const char *id) { return hw::GpuCatalogue::builtin().get(id); }

wl::Deployment dep(long long batch, long long in, long long out, long long tp = 1) {
  wl::Deployment d;
  d.batch = batch;
  d.input_len = in;
  d.output_len = out;
  d.tp = tp;
  return d;
}

/// A Llama-shaped dense model of ~284B parameters (DOMAIN.md's fit example):
/// per layer q 16384^2 = 268,435,456; k,v 2x16384x1024 = 33,554,432; o 268,435,456;
/// MLP 3x16384x53248 = 2,617,245,696; norms 32,768 -> 3,187,703,808; x 88 = 280,517,935,104;
/// embedding + lm_head 2 x 128256 x 16384 = 4,202,692,608; final norm 16384 -> 284,720,644,096
wl::ModelSpec dense_284b() {
  const std::string path = "/tmp/rooftop_test_dense284b.config.json";
  std::ofstream(path) << R"({"model_type": "llama", "hidden_size": 16384,
    "intermediate_size": 53248, "num_hidden_layers": 88, "num_attention_heads": 128,
    "num_key_value_heads": 8, "vocab_size": 128256, "torch_dtype": "bfloat16"})";
  return wl::load_hf_config(path, "dense-284b");
}
} // namespace

TEST_CASE("worked example: 30B dense 16-bit on one H100, spec-sheet roofline") {
  const auto m = wl::load_hf_config(good + "dense-30b.config.json");
  // count by hand: per layer q 37,748,736 + k,v 12,582,912 + o 37,748,736 + MLP 375,128,064
  // + norms 12,288 = 463,220,736; x 64 = 29,646,127,104; + 2 x 196,608,000 + 6144 = 30,039,349,248
  CHECK(wl::count_params(m).total == 30039349248.0);
  const auto &h100 = gpu("h100-sxm");
  const auto e = sim::estimate(h100, m, dep(1, 16, 17), hw::Efficiency::ideal());
  // Decode reads every weight but the embedding table (one 6144-wide row instead):
  // (30,039,349,248 - 196,608,000 + 6144) x 2 B = 59,685,494,784 B; / 3.35e12 B/s = 17.817 ms
  const double weights_read = 59685494784.0;
  CHECK(e.tpot.value() == doctest::Approx(weights_read / 3.35e12).epsilon(2e-3));
  CHECK(e.tpot.value() == doctest::Approx(0.018).epsilon(0.02));        // "~18 ms"
  CHECK(e.output_tokens_per_s_per_user == doctest::Approx(56).epsilon(0.02)); // "~56 tokens/s"
  // ~2 x 30B = 60 GFLOP per token: 60e9 / 989.5e12 = 0.06 ms = ~0.3% of the step
  CHECK(e.decode.flops.value() == doctest::Approx(2 * 29.84e9).epsilon(0.01));
  CHECK(e.decode.compute_utilization == doctest::Approx(0.0034).epsilon(0.1));
  CHECK(e.decode.bound == sim::Bound::memory);
}

TEST_CASE("decode turns compute-bound as the batch grows") {
  const auto m = wl::load_hf_config(good + "dense-30b.config.json");
  const auto &h100 = gpu("h100-sxm");
  const auto eff = hw::Efficiency::ideal();
  const auto small = sim::estimate(h100, m, dep(1, 16, 17), eff);
  const auto large = sim::estimate(h100, m, dep(1024, 16, 17), eff);
  CHECK(small.decode.bound == sim::Bound::memory);
  CHECK(large.decode.bound == sim::Bound::compute);
  // BF16 GEMM intensity ~ batch FLOP/B: past the ridge 989.5/3.35 = 295 FLOP/B at batch 1024
  CHECK(large.decode.arithmetic_intensity() > sim::ridge_point(h100, eff, DType::bf16));
  CHECK(small.decode.arithmetic_intensity() < 2.0);
  // Throughput grows with batch while latency per step grows far less than the batch
  CHECK(large.decode_tokens_per_s > 100 * small.decode_tokens_per_s);
  // prefill of a long prompt is compute-bound
  const auto p = sim::estimate(h100, m, dep(1, 4096, 2), eff);
  CHECK(p.prefill.bound == sim::Bound::compute);
}

TEST_CASE("fit and no-fit: 284B parameters in FP8 need an 8-GPU H100 node") {
  const auto m = dense_284b();
  CHECK(wl::count_params(m).total == 284720644096.0);
  const auto &h100 = gpu("h100-sxm");
  const auto eff = hw::builtin_efficiency(h100);
  auto d = dep(1, 1024, 128);
  d.weight_dtype = d.expert_dtype = DType::fp8;
  d.act_dtype = DType::fp8;
  const auto one = sim::estimate(h100, m, d, eff);
  CHECK(one.feasibility == sim::Feasibility::out_of_memory);
  CHECK(!one.memory.fits());
  // Capacity: the H100's nvidia-smi total, 81559 MiB = 85,520,809,984 B; the 10% reserve
  // 8,552,080,998.4 B leaves 76,968,728,985.6 B for weights, KV cache and activations.
  CHECK(one.memory.capacity.value() == 85520809984.0);
  CHECK(one.memory.capacity_source == hw::CapacitySource::reported);
  CHECK(one.memory.reserved.value() == doctest::Approx(8552080998.4).epsilon(1e-12));
  // Linear layers in FP8 (1 B/param), embedding and LM head kept at BF16 (2 B/param):
  // (284,720,644,096 - 4,202,692,608) x 1 + 4,202,692,608 x 2 = 288,923,336,704 B,
  // 3.75 x the 76,968,728,985.6 B of room: no batch fits.
  CHECK(one.memory.weights.value() == doctest::Approx(288923336704.0).epsilon(1e-4));
  CHECK(one.memory.max_batch == 0);
  d.tp = 8;
  const auto node = sim::estimate(h100, m, d, eff);
  CHECK(node.feasibility == sim::Feasibility::ok);
  // TP=8: 288,923,336,704 / 8 = 36,115,417,088 B per GPU, under half the room.
  CHECK(node.memory.weights.value() == doctest::Approx(288923336704.0 / 8).epsilon(1e-3));
  CHECK(node.memory.weights.value() < 0.5 * 76968728985.6);
  CHECK(node.memory.max_batch > 1);
}

TEST_CASE("DeepSeek-V3 in FP8 does not fit 8 H100s but fits 8 H200s") {
  const auto m = wl::resolve_model("deepseek-v3"); // 671B in FP8 = ~671 GB
  auto d = dep(1, 1024, 128, 8);
  d.weight_dtype = d.expert_dtype = DType::fp8;
  sim::resolve_dtypes(m, gpu("h100-sxm"), d, false, false);
  const auto h100 = sim::estimate(gpu("h100-sxm"), m, d, hw::builtin_efficiency(gpu("h100-sxm")));
  const auto h200 = sim::estimate(gpu("h200-sxm"), m, d, hw::builtin_efficiency(gpu("h200-sxm")));
  CHECK(h100.feasibility == sim::Feasibility::out_of_memory);
  CHECK(h200.feasibility == sim::Feasibility::ok);
  // By hand: at least 1 B for each of the 671,026,419,200 parameters over 8 GPUs is
  // 83,878,302,400 B per GPU, more than the H100's room of 0.9 x 85,520,809,984 =
  // 76,968,728,985.6 B (its nvidia-smi total less the 10% reserve), so it cannot fit; the H200
  // has 0.9 x 150,754,820,096 (143771 MiB) = 135,679,338,086.4 B, 51.8 GB above that bound.
  CHECK(wl::count_params(m).total == 671026419200.0);
  CHECK(h100.memory.weights.value() >= 671026419200.0 / 8);
  CHECK(h100.memory.capacity.value() - h100.memory.reserved.value() ==
        doctest::Approx(76968728985.6).epsilon(1e-12));
  CHECK(h200.memory.capacity.value() - h200.memory.reserved.value() ==
        doctest::Approx(135679338086.4).epsilon(1e-12));
}

TEST_CASE("the fit check uses the reported total, and falls back to the datasheet's, labelled") {
  // tests/data/good/tiny-llama.config.json (h 64, I 128, 2 layers, 4 q / 2 kv heads x 16,
  // V 100, untied, BF16), 1024 input + 1024 output tokens, on an H100.
  //   weights: per layer q 4096 + k,v 4096 + o 4096 + MLP 24,576 + norms 128 = 36,992;
  //            x 2 = 73,984; + embedding 6400 + head 6400 + final norm 64 = 86,848 x 2 B
  //            = 173,696 B
  //   KV cache: 2 layers x (K, V) x 2 heads x 16 x 2 B = 256 B/token x 2048 = 524,288 B
  //   activations of one 1024-token prefill: the largest operator, the MLP product (read
  //            gate and up, write the product) 3 x 1024 x 128 x 2 B = 786,432, plus the
  //            residual stream 1024 x 64 x 2 B = 131,072 -> 917,504 B
  //   per sequence 524,288 + 917,504 = 1,441,792 B
  // Reported: 0.9 x 85,520,809,984 - 173,696 = 76,968,555,289.6 B / 1,441,792 = 53,383.95
  // Datasheet: 0.9 x 80e9 - 173,696 = 71,999,826,304 B / 1,441,792 = 49,937.73
  const auto m = wl::load_hf_config(good + "tiny-llama.config.json");
  const sim::EstimateOptions o;
  const auto d = dep(1, 1024, 1024);
  const auto &h100 = gpu("h100-sxm");
  const auto reported = sim::estimate_memory(h100, m, d, o);
  CHECK(reported.weights.value() == 173696.0);
  CHECK(reported.kv_cache.value() == 524288.0);
  CHECK(reported.activations.value() == 917504.0);
  CHECK(reported.capacity.value() == 85520809984.0);
  CHECK(reported.capacity_source == hw::CapacitySource::reported);
  CHECK(reported.reserved.value() == doctest::Approx(8552080998.4).epsilon(1e-12));
  CHECK(reported.max_batch == 53383);
  // The same card without a reported total: the datasheet's 80e9, and the label says so.
  auto datasheet_only = h100;
  datasheet_only.memory_reported.reset();
  const auto fallback = sim::estimate_memory(datasheet_only, m, d, o);
  CHECK(fallback.capacity.value() == 80e9);
  CHECK(fallback.capacity_source == hw::CapacitySource::datasheet);
  CHECK(fallback.reserved.value() == doctest::Approx(8e9).epsilon(1e-12));
  CHECK(fallback.max_batch == 49937);
  // --reserve-fraction applies to the reported total: 0.2 x 85,520,809,984 leaves
  // 68,416,647,987.2 - 173,696 = 68,416,474,291.2 B / 1,441,792 = 47,452.4
  sim::EstimateOptions fifth;
  fifth.reserve_fraction = 0.2;
  CHECK(sim::estimate_memory(h100, m, d, fifth).max_batch == 47452);
}

TEST_CASE("max batch is the largest that fits") {
  const auto m = wl::resolve_model("llama-3.1-8b");
  const auto &h100 = gpu("h100-sxm");
  const sim::EstimateOptions o;
  auto d = dep(1, 2048, 512);
  const long long mb = sim::estimate_memory(h100, m, d, o).max_batch;
  REQUIRE(mb > 1);
  d.batch = mb;
  CHECK(sim::estimate_memory(h100, m, d, o).fits());
  d.batch = mb + 1;
  CHECK(!sim::estimate_memory(h100, m, d, o).fits());
  // KV cache: 32 layers x 2 x 8 x 128 x 2 B = 131072 B/token x 2560 tokens per sequence
  d.batch = 3;
  CHECK(sim::estimate_memory(h100, m, d, o).kv_cache.value() == 3.0 * 2560 * 131072);
  d.kv_dtype = DType::fp8;
  CHECK(sim::estimate_memory(h100, m, d, o).kv_cache.value() == 3.0 * 2560 * 65536);
}

TEST_CASE("decode is integrated over the growing context") {
  const auto m = wl::resolve_model("llama-3.1-8b");
  const auto &h100 = gpu("h100-sxm");
  const auto eff = hw::builtin_efficiency(h100);
  const auto d = dep(64, 1000, 3001);
  sim::EstimateOptions every;
  every.decode_samples = 4000; // every one of the 3000 steps
  const auto exact = sim::estimate(h100, m, d, eff, every);
  const auto sampled = sim::estimate(h100, m, d, eff);
  CHECK(sampled.tpot.value() == doctest::Approx(exact.tpot.value()).epsilon(1e-3));
  // longer contexts read more KV: the mean step exceeds the first step's
  const auto first = sim::estimate(h100, m, dep(64, 1000, 2), eff);
  CHECK(exact.tpot > first.tpot);
}

TEST_CASE("latency and throughput relations") {
  const auto m = wl::resolve_model("llama-3.1-70b");
  const auto &h100 = gpu("h100-sxm");
  const auto eff = hw::builtin_efficiency(h100);
  auto d = dep(8, 512, 128, 4);
  const auto one = sim::estimate(h100, m, d, eff);
  CHECK(one.e2e_latency.value() == doctest::Approx(one.ttft.value() + 127 * one.tpot.value()));
  CHECK(one.output_tokens_per_s == doctest::Approx(8.0 * 128 / one.e2e_latency.value()));
  CHECK(one.output_tokens_per_s_per_gpu == doctest::Approx(one.output_tokens_per_s / 4));
  // DP=2 doubles throughput, not latency
  d.dp = 2;
  const auto two = sim::estimate(h100, m, d, eff);
  CHECK(two.tpot.value() == doctest::Approx(one.tpot.value()));
  CHECK(two.output_tokens_per_s == doctest::Approx(2 * one.output_tokens_per_s));
  CHECK(two.output_tokens_per_s_per_gpu == doctest::Approx(one.output_tokens_per_s_per_gpu));
  // phase time is the sum of its operators
  double prefill = 0;
  for (const auto &o : one.ops)
    if (o.phase == wl::Phase::prefill) prefill += o.time.value();
  CHECK(prefill == doctest::Approx(one.ttft.value()).epsilon(1e-12));
}

TEST_CASE("tensor parallelism costs all-reduces over NVLink") {
  const auto m = wl::resolve_model("llama-3.1-70b");
  const auto &h100 = gpu("h100-sxm");
  const auto eff = hw::builtin_efficiency(h100);
  const auto tp2 = sim::estimate(h100, m, dep(1, 512, 64, 2), eff);
  const auto tp8 = sim::estimate(h100, m, dep(1, 512, 64, 8), eff);
  CHECK(tp8.tpot < tp2.tpot);
  CHECK(tp8.decode.communication_time.value() > 0);
  CHECK(tp8.memory.weights.value() == doctest::Approx(tp2.memory.weights.value() / 4).epsilon(0.01));
}

TEST_CASE("invalid mappings and lengths are input errors") {
  const auto m = wl::resolve_model("llama-3.1-8b");
  const auto &h100 = gpu("h100-sxm");
  const auto eff = hw::builtin_efficiency(h100);
  CHECK_THROWS_WITH_AS(sim::estimate(h100, m, dep(1, 16, 16, 3), eff),
                       doctest::Contains("does not divide"), InputError);
  CHECK_THROWS_AS(sim::estimate(h100, m, dep(0, 16, 16), eff), InputError);
  CHECK_THROWS_AS(sim::estimate(h100, m, dep(1, 0, 16), eff), InputError);
  CHECK_THROWS_AS(sim::estimate(h100, m, dep(1, 16, 0), eff), InputError);
  CHECK_THROWS_AS(sim::estimate(h100, m, dep(1, 200000, 16), eff), InputError); // > 131072
  auto d = dep(1, 16, 16);
  d.act_dtype = DType::fp8; // GEMM inputs narrower than bf16 weights
  CHECK_THROWS_WITH_AS(sim::estimate(h100, m, d, eff), doctest::Contains("narrower"), InputError);
  d.weight_dtype = d.expert_dtype = DType::fp8; // W8A8 on a GPU without FP8 tensor cores
  CHECK_THROWS_AS(sim::estimate(gpu("a100-sxm-80gb"), m, d, eff), NotSupported);
  // TP must divide the MLP width: 14336 / 3 is not whole (and 32 heads / 3 fails first)
  const auto tiny = wl::load_hf_config(good + "tiny-llama.config.json"); // intermediate 128
  CHECK_NOTHROW(sim::estimate(h100, tiny, dep(1, 16, 16, 2), eff));
  CHECK_THROWS_AS(sim::estimate(h100, m, dep(1, 16, 16, 64), eff), InputError); // heads 32
}

TEST_CASE("chunked prefill bounds activation memory, so more sequences fit") {
  const auto m = wl::resolve_model("llama-3.1-8b");
  const auto &h100 = gpu("h100-sxm");
  auto d = dep(1, 8192, 512);
  sim::EstimateOptions whole, chunked;
  chunked.max_prefill_tokens = 8192;
  const auto a = sim::estimate_memory(h100, m, d, whole);
  const auto b = sim::estimate_memory(h100, m, d, chunked);
  CHECK(b.max_batch > a.max_batch);
  d.batch = b.max_batch;
  CHECK(sim::estimate_memory(h100, m, d, chunked).fits());
  d.batch = b.max_batch + 1;
  CHECK(!sim::estimate_memory(h100, m, d, chunked).fits());
}

TEST_CASE("MXFP4 weights run at the FP4 tensor-core rate where the GPU has it") {
  const auto m = wl::resolve_model("gpt-oss-20b");
  auto d = dep(1, 16, 16);
  d.weight_dtype = d.expert_dtype = DType::mxfp4;
  sim::resolve_dtypes(m, gpu("b200"), d, false, false);
  CHECK(d.act_dtype == DType::mxfp4);
  sim::resolve_dtypes(m, gpu("h100-sxm"), d, false, false);
  CHECK(d.act_dtype == DType::bf16); // weight-only on Hopper
}

TEST_CASE("the measured all-reduce applies only to an NVSwitch domain, with a switch, of its link") {
  hw::Efficiency e = hw::Efficiency::ideal();
  e.allreduce.scale_up_link = "nvlink4";
  e.allreduce.by_ranks[2] = hw::AllReduceCurve{{1024, 2048}, {4e-6, 5e-6}};
  const auto &systems = hw::SystemCatalogue::builtin();
  const auto on = [&](const hw::SystemSpec &s) { return sim::applicable_allreduce(e, hw::make_cluster(s, 1)); };
  CHECK(on(systems.get("hgx-h100-8")) == &e.allreduce);
  CHECK(on(systems.get("hgx-h200-8")) == &e.allreduce);
  CHECK(on(systems.get("hgx-b200-8")) == nullptr);  // NVLink 5
  CHECK(on(systems.get("hgx-h100-4")) == nullptr);  // direct NVLink 4, no switch
  CHECK(on(systems.get("pcie-l40s-8")) == nullptr); // PCIe
  // A server's bridge pair treated as one domain (cluster_for_gpu) has no switch, whatever its
  // link is called.
  hw::SystemSpec bridged = systems.get("hgx-h100-8");
  bridged.switch_link.reset();
  CHECK(on(bridged) == nullptr);
  // No curves: nothing applies.
  CHECK(sim::applicable_allreduce(hw::Efficiency::ideal(), hw::make_cluster(systems.get("hgx-h100-8"), 1)) ==
        nullptr);
}
