// Roofline cost of single operators on a synthetic GPU with round numbers.
#include "core/errors.hpp"
#include "hwmodels/gpu_spec.hpp"
#include "sim/roofline.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>

using namespace rooftop;

namespace {
hw::GpuSpec test_gpu() { return hw::load_gpu(ROOFTOP_TEST_DATA_DIR "/good/gpus/test-gpu.json"); }
/// One GPU (or a TP group of `tp`) joined by a 1e11 B/s link with no per-step latency.
sim::Machine machine(const hw::GpuSpec &g, const hw::Efficiency &e, long long tp) {
  const sim::Level link{BytesPerSecond(1e11), Seconds(0), false, BytesPerSecond(1e11),
                        BytesPerSecond(1e11), Seconds(0)};
  sim::Machine m{g, e, link, link};
  m.tp = sim::Placement{tp, tp};
  return m;
}
wl::Op gemm(double flops, double bytes) {
  wl::Op o;
  o.name = "g";
  o.unit = wl::Unit::gemm;
  o.compute_dtype = DType::bf16;
  o.flops = Flops(flops);
  o.weight_bytes = Bytes(bytes);
  return o;
}
} // namespace

TEST_CASE("roofline: time is the larger of compute and memory, plus overhead") {
  const auto g = test_gpu(); // 1e15 FLOP/s bf16, 1e12 B/s
  const auto ideal = hw::Efficiency::ideal();
  const sim::Machine m = machine(g, ideal, 1);
  // 1e12 FLOP / 1e15 = 1 ms; 1e10 B / 1e12 = 10 ms -> memory-bound, 10 ms
  auto c = sim::cost_op(gemm(1e12, 1e10), m);
  CHECK(c.time.value() == doctest::Approx(10e-3));
  CHECK(c.bound == sim::Bound::memory);
  // 1e13 FLOP = 10 ms vs 1e9 B = 1 ms -> compute-bound
  c = sim::cost_op(gemm(1e13, 1e9), m);
  CHECK(c.time.value() == doctest::Approx(10e-3));
  CHECK(c.bound == sim::Bound::compute);
  // ridge point 1e15 / 1e12 = 1000 FLOP/B
  CHECK(sim::ridge_point(g, ideal, DType::bf16) == doctest::Approx(1000));
}

TEST_CASE("efficiencies derate each roof and kernels add a fixed cost") {
  const auto g = test_gpu();
  hw::Efficiency e = hw::Efficiency::ideal();
  e.gemm_flops = 0.5;
  e.hbm_bandwidth = 0.8;
  e.kernel_overhead = Seconds(5e-6);
  const sim::Machine m = machine(g, e, 1);
  // compute 1e12 / (1e15 x 0.5) = 2 ms; memory 1e9 / (1e12 x 0.8) = 1.25 ms; + 5 us
  const auto c = sim::cost_op(gemm(1e12, 1e9), m);
  CHECK(c.compute.value() == doctest::Approx(2e-3));
  CHECK(c.memory.value() == doctest::Approx(1.25e-3));
  CHECK(c.time.value() == doctest::Approx(2e-3 + 5e-6));
}

TEST_CASE("a TP all-reduce costs a ring all-reduce over the TP group") {
  const auto g = test_gpu();
  hw::Efficiency e = hw::Efficiency::ideal();
  e.collective_latency = Seconds(1e-5);
  const sim::Machine m = machine(g, e, 4);
  wl::Op ar;
  ar.unit = wl::Unit::network;
  ar.kind = wl::OpKind::all_reduce;
  ar.comm_bytes = Bytes(1e9);
  // 2 x 3/4 x 1e9 B / 1e11 B/s = 15 ms, + 10 us
  const auto c = sim::cost_op(ar, m);
  CHECK(c.time.value() == doctest::Approx(15e-3 + 1e-5));
  CHECK(c.bound == sim::Bound::communication);
}

TEST_CASE("a measured all-reduce replaces NCCL's model inside one domain, for its group sizes only") {
  const auto g = test_gpu();
  hw::Efficiency e = hw::Efficiency::ideal();
  e.collective_latency = Seconds(1e-5);
  // 4 GPUs: 20 us at 1 MB, 120 us at 11 MB (10 us per MB).
  e.allreduce.by_ranks[4] = hw::AllReduceCurve{{1e6, 11e6}, {20e-6, 120e-6}};
  sim::Machine m = machine(g, e, 4);
  m.allreduce = &e.allreduce;
  wl::Op ar;
  ar.unit = wl::Unit::network;
  ar.kind = wl::OpKind::all_reduce;
  ar.comm_bytes = Bytes(6e6);
  // 20 us + 5 MB x 10 us/MB = 70 us, no call latency on top (the measurement holds it).
  auto c = sim::cost_op(ar, m);
  CHECK(c.time.value() == doctest::Approx(70e-6).epsilon(1e-12));
  CHECK(std::string(c.algorithm) == "measured");
  // The same group over two domains: NCCL's model (here the ideal ring through both levels).
  m.tp = sim::Placement{4, 2};
  c = sim::cost_op(ar, m);
  CHECK(std::string(c.algorithm) != "measured");
  // A group size the table does not have (2 GPUs): NCCL's model, 2 x 1/2 x 6e6 / 1e11 + 10 us.
  m.tp = sim::Placement{2, 2};
  c = sim::cost_op(ar, m);
  CHECK(c.time.value() == doctest::Approx(6e-5 + 1e-5).epsilon(1e-12));
  // An all-gather of the measured size is not an all-reduce: NCCL's model.
  m.tp = sim::Placement{4, 4};
  ar.collective = wl::Collective::all_gather;
  CHECK(std::string(sim::cost_op(ar, m).algorithm) != "measured");
}

TEST_CASE("a dtype the GPU has no tensor-core rate for is not supported") {
  const auto g = test_gpu(); // no fp4
  const hw::Efficiency ideal = hw::Efficiency::ideal(); // the machine holds a reference to it
  const sim::Machine m = machine(g, ideal, 1);
  auto op = gemm(1, 1);
  op.compute_dtype = DType::fp4;
  CHECK_THROWS_AS(sim::cost_op(op, m), NotSupported);
}

TEST_CASE("wave quantization: a grouped GEMM's tiles fill waves together, and two GEMMs' times add") {
  auto g = test_gpu();
  g.sm_count = 100;
  hw::Efficiency e = hw::Efficiency::ideal();
  e.gemm_tile_m = 128;
  e.gemm_tile_n = 128;
  const sim::Machine m = machine(g, e, 1);
  wl::Op o = gemm(1e12, 1); // compute-bound: 1 ms at full efficiency
  o.rows = 100;             // one row tile
  o.cols = 128 * 30;        // 30 column tiles
  // one problem: 30 tiles in one wave of 100 -> 0.3
  CHECK(sim::cost_op(o, m).compute.value() == doctest::Approx(1e-3 / 0.3));
  // 5 experts of the same shape in one launch: 150 tiles, 2 waves -> 150 / 200 = 0.75
  o.groups = 5;
  CHECK(sim::cost_op(o, m).compute.value() == doctest::Approx(1e-3 / 0.75));
  // with a second GEMM (N = 128 x 20: 100 tiles, one full wave -> 1.0) doing 1/3 of the FLOPs:
  // 2/3 ms / 0.75 + 1/3 ms / 1.0
  o.second_cols = 128 * 20;
  o.second_share = 1.0 / 3.0;
  CHECK(sim::cost_op(o, m).compute.value() == doctest::Approx(2e-3 / 3 / 0.75 + 1e-3 / 3));
  // no calibrated tile: no quantization
  const hw::Efficiency untiled = hw::Efficiency::ideal(); // outlives the machine, which refers to it
  const sim::Machine spec = machine(g, untiled, 1);
  CHECK(sim::cost_op(o, spec).compute.value() == doctest::Approx(1e-3));
}

TEST_CASE("calibrated attention adds its fixed, per-item, compute and memory times") {
  const auto g = test_gpu(); // 1e15 FLOP/s bf16, 1e12 B/s
  hw::Efficiency e = hw::Efficiency::ideal();
  e.kernel_overhead = Seconds(2e-6);
  e.attention_flops = 0.5;
  e.attention_bandwidth = 0.8;
  wl::Op at;
  at.name = "attention";
  at.unit = wl::Unit::attention;
  at.compute_dtype = DType::bf16;
  at.flops = Flops(1e9);      // 1e9 / (1e15 x 0.5) = 2 us
  at.kv_bytes = Bytes(8e6);   // decode: 8e6 / (1e12 x 0.8) = 10 us
  at.kernels = 2;
  at.new_tokens = 1;
  at.items = 64;
  at.context = 4096;
  // Roofline (no calibrated attention): the larger of the two plus 2 kernels x 2 us.
  auto c = sim::cost_op(at, machine(g, e, 1));
  CHECK(c.time.value() == doctest::Approx(10e-6 + 4e-6));
  // Calibrated: 12 us + 64 x 25 ns + 2 us + 10 us, one after the other.
  e.attention_fixed = Seconds(12e-6);
  e.attention_item = Seconds(25e-9);
  e.attention_prefill_bandwidth = 0.4;
  REQUIRE(e.additive_attention());
  c = sim::cost_op(at, machine(g, e, 1));
  CHECK(c.overhead.value() == doctest::Approx(12e-6 + 64 * 25e-9));
  CHECK(c.time.value() == doctest::Approx(12e-6 + 1.6e-6 + 2e-6 + 10e-6));
  CHECK(c.bound == sim::Bound::memory);
  // A prefill (several new tokens) reads at the prefill fraction: 8e6 / (1e12 x 0.4) = 20 us.
  at.new_tokens = 512;
  c = sim::cost_op(at, machine(g, e, 1));
  CHECK(c.memory.value() == doctest::Approx(20e-6));
  CHECK(c.time.value() == doctest::Approx(12e-6 + 1.6e-6 + 2e-6 + 20e-6));
  // Terms of an FP8 KV cache's own: a decode step over such a cache uses them (8e6 at 0.5 of
  // 1e12 = 16 us, 7 us + 64 x 10 ns); a BF16 one and a prefill over FP8 keep the table's.
  e.attention_decode_by_kv_dtype["fp8"] = {Seconds(7e-6), Seconds(10e-9), 0.5};
  at.kv_dtype = DType::fp8;
  c = sim::cost_op(at, machine(g, e, 1)); // still the prefill
  CHECK(c.time.value() == doctest::Approx(12e-6 + 1.6e-6 + 2e-6 + 20e-6));
  at.new_tokens = 1;
  c = sim::cost_op(at, machine(g, e, 1));
  CHECK(c.overhead.value() == doctest::Approx(7e-6 + 64 * 10e-9));
  CHECK(c.memory.value() == doctest::Approx(16e-6));
  CHECK(c.time.value() == doctest::Approx(7e-6 + 0.64e-6 + 2e-6 + 16e-6));
  at.kv_dtype = DType::bf16;
  c = sim::cost_op(at, machine(g, e, 1));
  CHECK(c.time.value() == doctest::Approx(12e-6 + 1.6e-6 + 2e-6 + 10e-6));
}

TEST_CASE("a calibrated GEMM dtype has its own memory roof and fixed cost") {
  const auto g = test_gpu(); // 1e15 FLOP/s bf16, 1e12 B/s
  hw::Efficiency e = hw::Efficiency::ideal();
  e.hbm_bandwidth = 0.9;
  e.kernel_overhead = Seconds(2e-6);
  e.gemm_bandwidth_by_dtype["bf16"] = 0.5;
  e.gemm_overhead_by_dtype["bf16"] = 5e-6;
  // 1e9 B at 0.5 x 1e12 = 2 ms, + 5 us (not 1.11 ms + 2 us)
  const auto c = sim::cost_op(gemm(1e9, 1e9), machine(g, e, 1));
  CHECK(c.memory.value() == doctest::Approx(2e-3));
  CHECK(c.time.value() == doctest::Approx(2e-3 + 5e-6));
  // A vector operator keeps the stream bandwidth and the kernel overhead.
  wl::Op v;
  v.name = "norm";
  v.unit = wl::Unit::vector;
  v.act_bytes = Bytes(9e8);
  const auto cv = sim::cost_op(v, machine(g, e, 1));
  CHECK(cv.time.value() == doctest::Approx(1e-3 + 2e-6));
  // The GEMM ridge point uses the same memory roof: 1e15 / (1e12 x 0.5), not / (1e12 x 0.9).
  CHECK(sim::ridge_point(g, e, DType::bf16) == doctest::Approx(2000));
  CHECK(sim::ridge_point(g, e, DType::fp16) == doctest::Approx(1e15 / 0.9e12));
}

TEST_CASE("a GEMM type with a conversion pass pays for it after the GEMM, over M x K activations") {
  const auto g = test_gpu(); // 1e15 FLOP/s bf16, 2e15 fp8, 1e12 B/s
  REQUIRE(g.matmul_peak(DType::fp8)->value() == 2e15);
  hw::Efficiency e = hw::Efficiency::ideal();
  e.gemm_quantize_by_dtype["fp8"] = 0.5;
  // M = 256, N = 4096, K = 8192: the pass reads 256 x 8192 BF16 (2 B) and writes FP8 (1 B):
  // 6291456 B at 0.5 x 1e12 = 12.582912 us, after max(compute 8.589934592 us, memory 40 us).
  auto op = gemm(2.0 * 256 * 4096 * 8192, 4e7);
  op.compute_dtype = DType::fp8;
  op.rows = 256;
  op.cols = 4096;
  const auto c = sim::cost_op(op, machine(g, e, 1));
  CHECK(c.compute.value() == doctest::Approx(2.0 * 256 * 4096 * 8192 / 2e15));
  CHECK(c.memory.value() == doctest::Approx(40e-6 + 6291456 / 0.5e12));
  CHECK(c.time.value() == doctest::Approx(40e-6 + 6291456 / 0.5e12));
  // Compute-bound (M = 65536), the pass still adds: 2 x 65536 x 4096 x 8192 / 2e15 = 2.199 ms
  // + 65536 x 8192 x 3 B / 0.5e12 = 3.221 ms.
  op.flops = Flops(2.0 * 65536 * 4096 * 8192);
  op.rows = 65536;
  const auto big = sim::cost_op(op, machine(g, e, 1));
  CHECK(big.time.value() == doctest::Approx(2.0 * 65536 * 4096 * 8192 / 2e15 + 65536.0 * 8192 * 3 / 0.5e12));
  // Its traffic counts: 3.221 ms of memory against 2.199 ms of compute is memory-bound.
  CHECK(big.bound == sim::Bound::memory);
  e.gemm_quantize_by_dtype["fp8"] = 1.0; // 1.611 ms: compute-bound again
  CHECK(sim::cost_op(op, machine(g, e, 1)).bound == sim::Bound::compute);
  e.gemm_quantize_by_dtype["fp8"] = 0.5;
  // MoE: two grouped GEMMs in one op, the second (N = 1024, 40% of the FLOPs) with its own K.
  op.second_cols = 1024;
  op.second_share = 0.4;
  const double k1 = 0.6 * op.flops.value() / (2 * 4096), k2 = 0.4 * op.flops.value() / (2 * 1024);
  CHECK(sim::cost_op(op, machine(g, e, 1)).time.value() ==
        doctest::Approx(2.0 * 65536 * 4096 * 8192 / 2e15 + (k1 + k2) * 3 / 0.5e12));
  // BF16 GEMMs have no such pass.
  op.compute_dtype = DType::bf16;
  op.second_share = 0;
  CHECK(sim::cost_op(op, machine(g, e, 1)).time.value() == doctest::Approx(2.0 * 65536 * 4096 * 8192 / 1e15));
}

TEST_CASE("a machine's resolved GEMM terms cost GEMMs as the table's own look-ups do") {
  auto g = test_gpu();
  g.sm_count = 100;
  hw::Efficiency e = hw::Efficiency::ideal();
  e.gemm_flops = 0.8;
  e.gemm_m_half = 16;
  e.gemm_tile_m = 128;
  e.gemm_tile_n = 128;
  e.kernel_overhead = Seconds(2e-6);
  // bf16: only a bandwidth and a fixed cost of its own; fp8 would have its own curve, but the
  // test GPU has no fp8 rate, so fp16 (same rate as bf16 on it) carries its own efficiency.
  e.gemm_bandwidth_by_dtype["bf16"] = 0.5;
  e.gemm_overhead_by_dtype["bf16"] = 5e-6;
  e.gemm_flops_by_dtype["fp16"] = 0.6;
  e.gemm_curve_by_dtype["fp16"] = {64, 64, 256};
  sim::Machine slow = machine(g, e, 1);
  sim::Machine fast = machine(g, e, 1);
  fast.resolve_gemm_terms();
  for (DType t : {DType::bf16, DType::fp16})
    for (double rows : {1.0, 37.0, 512.0}) {
      auto op = gemm(2 * rows * 4096 * 4096, 2 * 4096.0 * 4096);
      op.compute_dtype = t;
      op.rows = rows;
      op.cols = 4096;
      INFO(to_string(t) << " " << rows);
      CHECK(sim::cost_op(op, fast).time.value() == sim::cost_op(op, slow).time.value());
      // and as the table's per-call look-ups give it
      const double e_c = e.gemm_efficiency(t, rows) *
                         e.gemm_wave_efficiency(t, rows, 4096, 100);
      const double t_c = op.flops.value() / (1e15 * e_c);
      const double t_m = op.bytes().value() / (1e12 * e.gemm_bandwidth(t));
      CHECK(sim::cost_op(op, fast).time.value() ==
            doctest::Approx(std::max(t_c, t_m) + e.gemm_overhead(t, 1).value()).epsilon(1e-12));
    }
}
