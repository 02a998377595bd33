// Calibration host code: statistics, the stopping rule, fitting on synthetic measurements with a
// known answer, the hold-out, the file round trip, the CPU backend, and the CUDA stub.
#include "calibration/backend.hpp"
#include "calibration/calibration_file.hpp"
#include "calibration/fit.hpp"
#include "calibration/fit_allreduce.hpp"
#include "calibration/minimize.hpp"
#include "calibration/runner.hpp"
#include "calibration/stats.hpp"
#include "core/errors.hpp"
#include "hwmodels/efficiency.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <stdexcept>
#include <unistd.h>

using namespace rooftop;
using namespace rooftop::cal;

namespace {
const std::string good = ROOFTOP_TEST_DATA_DIR "/good/";

/// A decode attention case with its declared work: `batch` sequences of `context` keys,
/// `q` query and `kv` KV heads of `dim`, over a cache of `kv_dtype`.
Case decode_case(long long batch, long long q, long long kv, long long dim, long long context,
                 DType kv_dtype = DType::bf16) {
  Case c;
  c.kind = CaseKind::attention_decode;
  c.dtype = kv_dtype;
  c.batch = batch;
  c.q_heads = q;
  c.kv_heads = kv;
  c.head_dim = dim;
  c.context = context;
  declare_work(c);
  return c;
}

Measurement measured(Case c, double seconds) {
  declare_work(c);
  if (c.id.empty()) // an id from the shape, as plans give (the hold-out hashes it)
    c.id = to_string(c.kind) + "_" + std::to_string(c.m) + "_" + std::to_string(c.context) + "_" +
           std::to_string(static_cast<long long>(c.bytes));
  Measurement m;
  m.c = c;
  m.samples_s = {seconds, seconds, seconds};
  m.median_s = m.mean_s = seconds;
  return m;
}
} // namespace

TEST_CASE("sample statistics") {
  CHECK(median({3, 1, 2}) == 2);
  CHECK(median({4, 1, 2, 3}) == 2.5);
  CHECK(mean({1, 2, 3}) == 2);
  CHECK(stdev({2, 4, 4, 4, 5, 5, 7, 9}) == doctest::Approx(2.138089935)); // sample stdev
  std::vector<double> s{1.0, 1.01, 0.99, 1.0, 5.0};
  CHECK(drop_slow_outliers(s) == 1); // the 5.0 (a throttled sample)
  CHECK(s.size() == 4);
}

TEST_CASE("the stopping rule") {
  StopRule r;
  r.min_samples = 3;
  r.max_samples = 10;
  r.target_rel_stderr = 0.01;
  r.max_seconds = 1.0;
  CHECK(!should_stop({1.0, 1.0}, 0.0, r));                 // fewer than min
  CHECK(should_stop({1.0, 1.0, 1.0}, 0.0, r));             // no spread
  CHECK(!should_stop({1.0, 2.0, 1.0}, 0.0, r));            // spread too large
  CHECK(should_stop({1.0, 2.0, 1.0}, 1.5, r));             // out of time
  CHECK(should_stop({5.0}, 5.0, r));                       // out of time below min_samples
  CHECK(!should_stop({}, 0.0, r));                         // but at least one sample
  CHECK(should_stop(std::vector<double>(10, 1.0), 0, r));  // max samples
  // the runner honours it: a constant run stops at min_samples after warm-up
  int calls = 0;
  const auto m = sample_case(Case{}, r, [&] {
    ++calls;
    return 1e-3;
  });
  CHECK(m.samples_s.size() == 3);
  CHECK(calls == 3 + r.warmup);
  // a run longer than max_seconds: one warm-up, one sample
  calls = 0;
  const auto slow = sample_case(Case{}, r, [&] {
    ++calls;
    return 2.0;
  });
  CHECK(slow.samples_s.size() == 1);
  CHECK(calls == 2);
}

TEST_CASE("declared work: streams count every array they move, attention its K/V and Q/O") {
  // streams of 1 MiB arrays: read 1, write 1, copy 2 (read + write), triad 3 (two read, one written)
  for (const auto &[kind, arrays] : {std::pair{StreamKind::read, 1.0}, {StreamKind::write, 1.0},
                                     {StreamKind::copy, 2.0}, {StreamKind::triad, 3.0}}) {
    Case c;
    c.kind = CaseKind::stream;
    c.stream = kind;
    c.bytes = 1048576;
    declare_work(c);
    CHECK(c.bytes_moved == arrays * 1048576);
    // triad a = b + s c: 2 FLOP per FP32 element, 1048576 / 4 = 262144 elements -> 524288
    CHECK(c.flops == (kind == StreamKind::triad ? 524288 : 0));
  }
  // an FP8 GEMM writes BF16: (2x32 + 32x16) x 1 + 2x16 x 2 = 640 bytes; 2 x 2 x 16 x 32 = 2048 FLOP
  Case g;
  g.kind = CaseKind::gemm;
  g.dtype = DType::fp8;
  g.m = 2;
  g.n = 16;
  g.k = 32;
  declare_work(g);
  CHECK(g.bytes_moved == 640);
  CHECK(g.flops == 2048);
  // GQA decode, batch 1, 32/8 heads of 128, 1024 keys: K and V 1024 x 2 x 8 x 128 x 2 = 4194304
  // bytes, Q and O 2 x 32 x 128 x 2 = 16384; 2 x 32 x 2 x 128 x 1024 = 16777216 FLOP
  const Case d = decode_case(1, 32, 8, 128, 1024);
  CHECK(d.bytes_moved == 4194304 + 16384);
  CHECK(d.flops == 16777216);
  // causal prefill of 4 tokens, 2/1 heads of 8: 4 x 5 / 2 = 10 pairs per head, 2 x 2 x (8 + 8)
  // FLOP each -> 640; Q, O (2 heads) and K, V (1 head): 4 x (4 + 2) x 8 x 2 = 384 bytes
  Case p;
  p.kind = CaseKind::attention_prefill;
  p.batch = 1;
  p.q_heads = 2;
  p.kv_heads = 1;
  p.head_dim = 8;
  p.context = 4;
  declare_work(p);
  CHECK(p.flops == 640);
  CHECK(p.bytes_moved == 384);
}

TEST_CASE("the H100 plan: its cases, and buffers that fit in 80 GB") {
  // H100 SXM: 50 MiB L2, streams up to 8 GiB, FP8
  const Plan p = default_plan(false, true, 52428800, 8.0 * (1 << 30));
  std::map<CaseKind, int> n;
  double largest_stream = 0, largest_kv = 0;
  for (const auto &c : p.cases) {
    ++n[c.kind];
    if (c.kind == CaseKind::stream) largest_stream = std::max(largest_stream, c.bytes);
    if (c.kind == CaseKind::attention_decode)
      largest_kv = std::max(largest_kv, c.bytes_moved);
  }
  // GEMMs: 8 M x 6 (N, K) x {bf16, fp8} = 96; streams: 50 MiB / 8 = 6553600 B x 4^0..5 (the
  // next, 2.7e10, is over 8 GiB) x 4 kinds = 24; decode: 3 layouts x 3 batches x 4 contexts = 36
  CHECK(n[CaseKind::gemm] == 96);
  CHECK(n[CaseKind::stream] == 24);
  CHECK(n[CaseKind::attention_decode] == 36);
  CHECK(n[CaseKind::attention_prefill] == 3);
  CHECK(n[CaseKind::launch] == 2);
  CHECK(n[CaseKind::layer] == 6);
  CHECK(p.cases.size() == 167); // at most ~1 s each (0.5 s of samples + 0.5 s of warm-up)
  // the largest stream array, 6553600 x 4^5 = 6710886400 B: the backend allocates three
  // (20.1 GB); the largest KV cache, MHA batch 64 x 32 heads x 32768 x 128 x 2 (K, V) x 2 B =
  // 34359738368 B (+ Q and O): both well inside 80 GB with the 100 MiB flush buffer
  CHECK(largest_stream == 6710886400.0);
  CHECK(3 * largest_stream < 80e9);
  CHECK(largest_kv == doctest::Approx(34359738368.0 + 2.0 * 64 * 32 * 128 * 2));
  CHECK(largest_kv < 80e9 / 2);
}

TEST_CASE("fit recovers known efficiencies from synthetic measurements") {
  // A GPU of round numbers: BF16 1e15 FLOP/s, 1e12 B/s.
  const auto spec = hw::load_gpu(good + "gpus/test-gpu.json");
  const hw::Efficiency defaults = hw::Efficiency::ideal();
  const double overhead = 3e-6, e_max = 0.8, m_half = 64, bw = 0.9e12, t0 = 5e-6;
  std::vector<Measurement> ms;
  Case launch;
  launch.kind = CaseKind::launch;
  ms.push_back(measured(launch, overhead));
  // Streams beyond 4 x L2 (50 MiB): t = t0 + B / (0.9e12)
  for (double mb : {1e9, 2e9, 4e9, 8e9, 16e9}) {
    Case c;
    c.kind = CaseKind::stream;
    c.stream = StreamKind::copy;
    c.bytes = mb;
    declare_work(c);
    ms.push_back(measured(c, t0 + c.bytes_moved / bw));
  }
  // Compute-bound GEMMs: t = overhead + F / (P e_max M / (M + m_half))
  for (long long m : {256, 512, 1024, 2048, 4096, 8192}) {
    Case c;
    c.kind = CaseKind::gemm;
    c.m = m;
    c.n = c.k = 8192;
    declare_work(c);
    const double e = e_max * static_cast<double>(m) / (static_cast<double>(m) + m_half);
    ms.push_back(measured(c, overhead + c.flops / (1e15 * e)));
  }
  // Decode attention: bandwidth efficiency 0.7 ctx / (ctx + 500)
  for (long long ctx : {256, 512, 1024, 2048, 4096, 8192, 16384}) {
    const Case c = decode_case(8, 32, 8, 128, ctx);
    const double e = 0.7 * static_cast<double>(ctx) / (static_cast<double>(ctx) + 500);
    ms.push_back(measured(c, 2 * overhead + c.bytes_moved / (1e12 * e))); // split + combine
  }
  // Prefill attention at half the BF16 peak
  for (long long s : {1024, 2048, 4096, 8192, 16384}) {
    Case c;
    c.kind = CaseKind::attention_prefill;
    c.batch = 1;
    c.q_heads = 32;
    c.kv_heads = 8;
    c.head_dim = 128;
    c.context = s;
    declare_work(c);
    ms.push_back(measured(c, 2 * overhead + c.flops / (1e15 * 0.5)));
  }
  const auto f = fit(ms, spec, defaults);
  CHECK(f.kernel_overhead_s == doctest::Approx(overhead));
  CHECK(f.hbm_bandwidth_Bps == doctest::Approx(bw).epsilon(1e-9));
  CHECK(f.stream_fixed_s == doctest::Approx(t0).epsilon(1e-6));
  REQUIRE(f.gemm.count("bf16") == 1);
  CHECK(f.gemm.at("bf16").e_max == doctest::Approx(e_max).epsilon(1e-9));
  CHECK(f.gemm.at("bf16").m_half == doctest::Approx(m_half).epsilon(1e-6));
  CHECK(f.attention_bandwidth == doctest::Approx(0.7).epsilon(1e-9));
  CHECK(f.attention_context_half == doctest::Approx(500).epsilon(1e-6));
  CHECK(f.attention_flops == doctest::Approx(0.5).epsilon(1e-9));
  CHECK(f.efficiency.attention_flops == defaults.attention_flops); // reference kernel: not used
  // The table: efficiencies relative to the spec sheet, origin measured
  CHECK(f.efficiency.origin == hw::EfficiencyOrigin::measured);
  CHECK(f.efficiency.hbm_bandwidth == doctest::Approx(0.9));
  CHECK(f.efficiency.gemm_efficiency(DType::bf16, 64) == doctest::Approx(0.4)); // half at m_half
  CHECK(f.held > 0); // some cases were held out, and the fit was still exact
}

TEST_CASE("the GEMM fit finds the wave quantization of a known tile, and none where there is none") {
  const auto spec = hw::load_gpu(good + "gpus/test-gpu.json"); // 100 SMs, BF16 1e15 FLOP/s
  REQUIRE(spec.sm_count == 100);
  const double e_max = 0.75, m_half = 32;
  for (const bool waves : {true, false}) {
    CAPTURE(waves);
    std::vector<Measurement> ms;
    for (long long n : {1280LL, 4096LL, 5120LL, 8192LL})
      for (long long m : {384LL, 1024LL, 1664LL, 2048LL, 4096LL, 6144LL}) {
        Case c;
        c.kind = CaseKind::gemm;
        c.id = "g" + std::to_string(m) + "x" + std::to_string(n);
        c.m = m;
        c.n = n;
        c.k = 8192;
        declare_work(c);
        const double md = static_cast<double>(m), nd = static_cast<double>(n);
        // by hand: 128 x 256 tiles, ceil(M/128) ceil(N/256) of them in waves of 100
        const double tiles = std::ceil(md / 128) * std::ceil(nd / 256);
        const double w = waves ? tiles / (std::ceil(tiles / 100) * 100) : 1.0;
        ms.push_back(measured(c, c.flops / (1e15 * e_max * md / (md + m_half) * w)));
      }
    const auto f = fit(ms, spec, hw::Efficiency::ideal());
    REQUIRE(f.gemm.count("bf16") == 1);
    const auto &g = f.gemm.at("bf16");
    CHECK(g.tile_m == (waves ? 128 : 0));
    CHECK(g.tile_n == (waves ? 256 : 0));
    CHECK(g.e_max == doctest::Approx(e_max).epsilon(1e-6));
    CHECK(g.m_half == doctest::Approx(m_half).epsilon(1e-4));
    // the model applies it: M = 1664, N = 1280 is 13 x 5 = 65 tiles, one wave of 100
    const double e = f.efficiency.gemm_efficiency(DType::bf16, 1664) *
                     f.efficiency.gemm_wave_efficiency(1664, 1280, 100);
    CHECK(e == doctest::Approx(e_max * 1664 / (1664 + m_half) * (waves ? 0.65 : 1.0)).epsilon(1e-6));
  }
}

TEST_CASE("nelder_mead finds known minima and never returns worse than its start") {
  // Rosenbrock's valley, from its classic start (-1.2, 1): the minimum is (1, 1).
  const auto rosenbrock = [](const std::vector<double> &x) {
    return 100 * std::pow(x[1] - x[0] * x[0], 2) + std::pow(1 - x[0], 2);
  };
  const Minimum r = nelder_mead(rosenbrock, {-1.2, 1.0}, 0.5, 1e-20, 20000);
  CHECK(r.x[0] == doctest::Approx(1).epsilon(1e-5));
  CHECK(r.x[1] == doctest::Approx(1).epsilon(1e-5));
  CHECK(r.value < 1e-10);
  CHECK(r.evaluations > 0);
  // A shifted quadratic in four dimensions.
  const std::vector<double> at{3, -2, 0.5, 10};
  const auto bowl = [&](const std::vector<double> &x) {
    double s = 0;
    for (std::size_t i = 0; i < x.size(); ++i)
      s += (static_cast<double>(i) + 1.0) * (x[i] - at[i]) * (x[i] - at[i]);
    return s;
  };
  const Minimum b = nelder_mead(bowl, {0, 0, 0, 0}, 1.0, 1e-20, 20000);
  for (std::size_t i = 0; i < at.size(); ++i) CHECK(b.x[i] == doctest::Approx(at[i]).epsilon(1e-5));
  // Started at the minimum, it stays there; a function that is not finite nearby is avoided.
  const Minimum s = nelder_mead(bowl, at);
  CHECK(s.value == 0);
  CHECK(s.x == at);
  const auto walled = [](const std::vector<double> &x) {
    return x[0] < 0 ? std::numeric_limits<double>::quiet_NaN() : (x[0] - 2) * (x[0] - 2);
  };
  CHECK(nelder_mead(walled, {0.1}).x[0] == doctest::Approx(2).epsilon(1e-4));
}

namespace {
/// FP8 GEMMs on the test GPU (100 SMs, FP8 2e15 FLOP/s, 1e12 B/s) timed by the whole GEMM
/// model: fixed cost + max(compute on e_max M / (M + m_half), bytes at a fraction of HBM)
/// + (with `pass` > 0) a pass converting M x K BF16 activations to FP8 (3 B each) at `pass` of
/// HBM; memory-bound, ridge and compute-bound shapes over several N and K.
std::vector<Measurement> fp8_gemms(double pass) {
  const double t0 = 6e-6, e_bw = 0.8, e_max = 0.7, m_half = 96;
  std::vector<Measurement> ms;
  for (long long n : {1024, 4096, 16384})
    for (long long k : {1024, 8192})
      for (long long m : {1, 8, 32, 128, 512, 1024, 2048, 8192}) {
        Case c;
        c.kind = CaseKind::gemm;
        c.dtype = DType::fp8;
        c.m = m;
        c.n = n;
        c.k = k;
        c.id = "gemm_fp8_" + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k);
        declare_work(c);
        const double md = static_cast<double>(m);
        const double compute = c.flops / (2e15 * e_max * md / (md + m_half));
        const double q = pass > 0 ? md * static_cast<double>(k) * 3 / (1e12 * pass) : 0;
        ms.push_back(measured(c, t0 + std::max(compute, c.bytes_moved / (1e12 * e_bw)) + q));
      }
  return ms;
}
} // namespace

TEST_CASE("the joint GEMM fit recovers every term, the conversion pass included, where the two steps cannot") {
  const auto spec = hw::load_gpu(good + "gpus/test-gpu.json");
  REQUIRE(spec.matmul_peak(DType::fp8)->value() == 2e15);
  const auto ms = fp8_gemms(0.3);
  const auto f = fit(ms, spec, hw::Efficiency::ideal());
  REQUIRE(f.gemm.count("fp8") == 1);
  const auto &g = f.gemm.at("fp8");
  CHECK(g.joint);
  std::size_t train = 0;
  for (std::size_t i = 0; i < ms.size(); ++i) train += held_out(ms, i) ? 0 : 1;
  CHECK(g.cases == train); // every fitted GEMM of the type, memory- and compute-bound
  CHECK(g.e_max == doctest::Approx(0.7).epsilon(1e-3));
  CHECK(g.m_half == doctest::Approx(96).epsilon(1e-2));
  CHECK(g.bandwidth == doctest::Approx(0.8).epsilon(1e-3));
  CHECK(g.overhead_s == doctest::Approx(6e-6).epsilon(1e-2));
  CHECK(g.quantize == doctest::Approx(0.3).epsilon(1e-3));
  CHECK(g.tile_m == 0);
  // The table carries the pass, and costs every case (held out ones too) as it was timed.
  REQUIRE(f.efficiency.gemm_quantize_by_dtype.count("fp8") == 1);
  CHECK(f.efficiency.gemm_quantize_by_dtype.at("fp8") == doctest::Approx(0.3).epsilon(1e-3));
  const hw::GemmTerms t = f.efficiency.gemm_terms(DType::fp8);
  for (const auto &m : ms) {
    const double md = static_cast<double>(m.c.m);
    // by hand: fixed cost + max(compute, memory) + 3 B per M x K activation at the pass's share
    const double pred = t.overhead.value() +
                        std::max(m.c.flops / (2e15 * t.efficiency(md)), m.c.bytes_moved / (1e12 * t.bandwidth)) +
                        md * static_cast<double>(m.c.k) * 3 / (1e12 * t.quantize);
    CHECK(pred == doctest::Approx(m.median_s).epsilon(1e-2));
  }
  // Without a pass in the times none is fitted, and the terms are still recovered.
  const auto plain = fit(fp8_gemms(0), spec, hw::Efficiency::ideal());
  const auto &p = plain.gemm.at("fp8");
  CHECK(p.quantize == 0);
  CHECK(plain.efficiency.gemm_quantize_by_dtype.count("fp8") == 0);
  CHECK(p.e_max == doctest::Approx(0.7).epsilon(1e-3));
  CHECK(p.bandwidth == doctest::Approx(0.8).epsilon(1e-3));
}

TEST_CASE("the joint GEMM fit keeps the two-step constant where the points want a curve above the peak") {
  // 24 FP8 cases on 1.25 M / (M + 8192) (more than the 16 a joint fit needs): the two-step
  // curve's maximum is above the peak, so it falls back to a constant; the joint fit, bounded
  // at the peak, would end at it, and must leave the constant (and its note) as they are.
  const auto spec = hw::load_gpu(good + "gpus/test-gpu.json");
  const double fp8_peak = spec.matmul_peak(DType::fp8)->value();
  std::vector<Measurement> ms;
  for (long long n : {8192, 12288, 16384, 24576})
    for (long long m : {1024, 2048, 4096, 8192, 16384, 32768}) {
      Case c;
      c.kind = CaseKind::gemm;
      c.dtype = DType::fp8;
      c.m = m;
      c.n = n;
      c.k = 16384;
      c.id = "gemm_fp8_" + std::to_string(m) + "x" + std::to_string(n);
      declare_work(c);
      const double md = static_cast<double>(m);
      ms.push_back(measured(c, c.flops / (fp8_peak * 1.25 * md / (md + 8192))));
    }
  const auto f = fit(ms, spec, hw::Efficiency::ideal());
  const auto &g = f.gemm.at("fp8");
  CHECK_FALSE(g.joint);
  CHECK(g.m_half == 0);
  CHECK(g.e_max < 0.99);
  CHECK(std::any_of(f.notes.begin(), f.notes.end(),
                    [](const std::string &n) { return n.find("used instead, as a constant") != std::string::npos; }));
}

TEST_CASE("the kernel overhead is the small operation's cost when one was measured") {
  const auto spec = hw::load_gpu(good + "gpus/test-gpu.json");
  Case empty;
  empty.kind = CaseKind::launch;
  empty.id = "launch_empty_kernel";
  declare_work(empty);
  Case small;
  small.kind = CaseKind::launch;
  small.id = "launch_small_rmsnorm_4096";
  small.hidden = 4096;
  declare_work(small);
  CHECK(small.bytes_moved == 4096 * 2 * 2); // one bf16 row read and written
  const auto only_empty = fit({measured(empty, 2e-6)}, spec, hw::Efficiency::ideal());
  CHECK(only_empty.kernel_overhead_s == doctest::Approx(2e-6));
  const auto both = fit({measured(empty, 2e-6), measured(small, 3e-6)}, spec, hw::Efficiency::ideal());
  CHECK(both.kernel_overhead_s == doctest::Approx(3e-6));
}

TEST_CASE("the hold-out is deterministic, about one in four, every layer, never the launch") {
  std::vector<Measurement> ms;
  for (int i = 0; i < 400; ++i) {
    Case c;
    c.kind = i % 2 ? CaseKind::gemm : CaseKind::stream;
    c.id = "case_" + std::to_string(i);
    ms.push_back(measured(c, 1e-3));
  }
  Case layer;
  layer.kind = CaseKind::layer;
  layer.id = "layer";
  Measurement lm;
  lm.c = layer;
  ms.push_back(lm);
  Case launch;
  launch.kind = CaseKind::launch;
  launch.id = "launch_empty_kernel";
  ms.push_back(measured(launch, 1e-6));
  int held = 0;
  for (std::size_t i = 0; i < 400; ++i) {
    held += held_out(ms, i) ? 1 : 0;
    CHECK(held_out(ms, i) == held_out(ms, i)); // deterministic
  }
  CHECK(held > 60);  // ~100 of 400
  CHECK(held < 140);
  CHECK(held_out(ms, 400));
  CHECK(!held_out(ms, 401));
}

TEST_CASE("fit_line is exact on a line") {
  const auto [a, b] = fit_line({1, 2, 3, 4}, {3, 5, 7, 9}); // y = 1 + 2x
  CHECK(a == doctest::Approx(1));
  CHECK(b == doctest::Approx(2));
}

TEST_CASE("calibration files round-trip") {
  CalibrationRun run;
  run.gpu = "h100-sxm";
  run.architecture = "hopper";
  run.meta = {{"date", "2026-11-24"}};
  run.device.backend = "cpu";
  run.device.name = "test";
  Case c;
  c.kind = CaseKind::gemm;
  c.id = "g";
  c.m = 2;
  c.n = 3;
  c.k = 4;
  run.measurements.push_back(measured(c, 1.5e-6));
  Case skipped;
  skipped.kind = CaseKind::gemm;
  skipped.id = "s";
  skipped.dtype = DType::fp8;
  skipped.m = skipped.n = skipped.k = 16;
  declare_work(skipped); // a plan declares every case's work, skipped or not
  Measurement sm;
  sm.c = skipped;
  sm.skipped = true;
  sm.skip_reason = "no FP8";
  run.measurements.push_back(sm);
  run.measurements[0].implementation = "cuBLASLt 13.0.0";
  run.self_checks.push_back({"gemm_bf16", "cuBLASLt", 3e-3, 1e-2, ""});
  run.self_checks.push_back({"attention", "rooftop flash_wmma", std::numeric_limits<double>::infinity(), 2e-2, ""});
  run.self_checks.push_back({"mla", "", 0, 0, "too little shared memory"});
  const auto path = std::filesystem::temp_directory_path() / "rooftop_test_calibration.json";
  write_json_file(path, to_json(run));
  const auto back = load_calibration(path);
  CHECK(back.gpu == "h100-sxm");
  REQUIRE(back.measurements.size() == 2);
  CHECK(back.measurements[0].median_s == 1.5e-6);
  CHECK(back.measurements[0].c.flops == 2.0 * 2 * 3 * 4);
  CHECK(back.measurements[1].skipped);
  CHECK(back.measurements[1].skip_reason == "no FP8");
  CHECK(back.measurements[0].implementation == "cuBLASLt 13.0.0");
  REQUIRE(back.self_checks.size() == 3);
  CHECK(back.self_checks[2].skip_reason == "too little shared memory");
  CHECK(back.self_checks[2].passed()); // skipped, not failed
  CHECK(back.self_checks[0].passed());
  CHECK(back.self_checks[0].max_rel_error == 3e-3);
  CHECK(back.self_checks[1].implementation == "rooftop flash_wmma");
  CHECK_FALSE(back.self_checks[1].passed()); // infinity is written as the largest double
}

TEST_CASE("the CPU backend's kernels pass their self-checks, and the checks can fail") {
  auto cpu = make_cpu_backend();
  const auto checks = cpu->self_check();
  REQUIRE(checks.size() >= 2);
  for (const auto &c : checks) {
    CAPTURE(c.name);
    CHECK(c.passed());
    CHECK(c.max_rel_error < c.tolerance);
    CHECK(!c.implementation.empty());
  }
  SelfCheck bad{"x", "y", 0.5, 1e-2, ""};
  CHECK_FALSE(bad.passed());
}

TEST_CASE("the CPU backend runs a plan") {
  auto cpu = make_cpu_backend();
  CHECK(cpu->device().backend == "cpu");
  StopRule r;
  r.warmup = 1;
  r.min_samples = 2;
  r.max_samples = 3;
  r.max_seconds = 0.01;
  Plan p = default_plan(true, false, 1 << 20, 1 << 20);
  // a dense layer of a tiny model, and an FP8 GEMM the CPU cannot run
  Case layer;
  layer.kind = CaseKind::layer;
  layer.id = "layer_tiny";
  layer.model = good + "tiny-llama.config.json";
  layer.batch = 2;
  layer.context = 16;
  declare_work(layer);
  p.cases.push_back(layer);
  Case fp8;
  fp8.kind = CaseKind::gemm;
  fp8.dtype = DType::fp8;
  fp8.m = fp8.n = fp8.k = 16;
  declare_work(fp8);
  p.cases.push_back(fp8);
  const auto ms = run_plan(*cpu, p, r);
  REQUIRE(ms.size() == p.cases.size());
  for (std::size_t i = 0; i + 1 < ms.size(); ++i) {
    CAPTURE(ms[i].c.id);
    CHECK(!ms[i].skipped);
    CHECK(ms[i].median_s > 0);
    CHECK(std::isfinite(ms[i].median_s));
    CHECK(!ms[i].implementation.empty());
  }
  CHECK(ms.back().skipped);
  const auto spec = host_reference_spec(ms, cpu->device());
  CHECK(spec.architecture == hw::Architecture::cpu);
  const auto f = fit(ms, spec, hw::Efficiency::ideal());
  CHECK(f.efficiency.gemm_flops > 0);
  CHECK(f.efficiency.gemm_flops <= 1);
}

TEST_CASE("the CUDA backend is absent cleanly or there is a GPU") {
  try {
    auto b = make_cuda_backend(0);
    CHECK(b->device().backend == "cuda"); // a GPU machine
  } catch (const NotCompiled &e) {
    CHECK(!cuda_compiled());
    CHECK(std::string(e.what()).find("without CUDA") != std::string::npos);
  } catch (const NotSupported &e) {
    CHECK(cuda_compiled()); // built with CUDA, but no usable device here
    CHECK(std::string(e.what()).find("CUDA device") != std::string::npos);
  }
}

TEST_CASE("a measured table is measured on its GPU, transferred within its architecture") {
  const std::string table = good + "calibration/h100-measured.efficiency.json";
  const auto &cat = hw::GpuCatalogue::builtin();
  const auto h100 = hw::load_default_efficiency(table, cat.get("h100-sxm"));
  CHECK(h100.origin == hw::EfficiencyOrigin::measured);
  CHECK(h100.gemm_efficiency(DType::fp8, 1e9) == doctest::Approx(0.6));
  CHECK(h100.attention_bandwidth_efficiency(256) == doctest::Approx(0.35)); // half at 256
  CHECK(hw::load_default_efficiency(table, cat.get("h200-sxm")).origin ==
        hw::EfficiencyOrigin::transferred);
  CHECK_THROWS_WITH_AS(hw::load_default_efficiency(table, cat.get("a100-sxm-80gb")),
                       doctest::Contains("another architecture"), InputError);
}

namespace {
/// A backend whose second case throws, as a cuBLASLt error or a kernel fault would.
class FlakyBackend final : public Backend {
public:
  [[nodiscard]] DeviceInfo device() const override { return {}; }
  Measurement run(const Case &c, const StopRule &) override {
    if (++calls == 2) throw std::runtime_error("cublasLtMatmul: cuBLAS status 7");
    Measurement m;
    m.c = c;
    m.median_s = m.mean_s = 1e-3;
    m.samples_s = {1e-3};
    return m;
  }
  std::vector<SelfCheck> self_check() override { return {}; }
  int calls = 0;
};
} // namespace

TEST_CASE("a case that throws is recorded as failed and the run goes on") {
  FlakyBackend b;
  Plan p = default_plan(true, false, 1 << 20, 1 << 20);
  const auto ms = run_plan(b, p, StopRule{});
  REQUIRE(ms.size() == p.cases.size());
  CHECK(!ms[0].failed);
  CHECK(ms[1].failed);
  CHECK(ms[1].skipped);
  CHECK(ms[1].skip_reason.find("cuBLAS status 7") != std::string::npos);
  CHECK(!ms[2].failed);
  CHECK(ms[2].median_s > 0);
  CalibrationRun run;
  run.gpu = "h100-sxm";
  run.architecture = "hopper";
  run.device.backend = "cuda";
  run.device.name = "t";
  run.measurements = ms;
  const auto path = std::filesystem::temp_directory_path() / "rooftop_test_failed_case.json";
  write_json_file(path, to_json(run));
  const auto back = load_calibration(path);
  CHECK(back.measurements[1].failed);
  CHECK(!back.measurements[0].failed);
}

namespace {
/// A backend that records which cases it was asked to run.
class CountingBackend final : public Backend {
public:
  [[nodiscard]] DeviceInfo device() const override { return {}; }
  Measurement run(const Case &c, const StopRule &) override {
    ran.push_back(c.id);
    Measurement m;
    m.c = c;
    m.median_s = m.mean_s = 1e-3;
    m.samples_s = {1e-3};
    return m;
  }
  std::vector<SelfCheck> self_check() override { return {}; }
  std::vector<std::string> ran;
};

Case case_of(CaseKind kind, DType t = DType::bf16) {
  Case c;
  c.kind = kind;
  c.dtype = t;
  c.id = to_string(kind) + "_" + to_string(t);
  return c;
}
} // namespace

TEST_CASE("a kernel that failed its self-check is not timed, and the others are") {
  // Arrange: the FP8 GEMM and an attention kernel failed; the BF16 GEMM and copy passed; the
  // RMSNorm check was skipped (which passes)
  const std::vector<SelfCheck> checks = {
      {"gemm_bf16_16x64x128", "cuBLASLt", 1e-3, 1e-2, ""},
      {"gemm_fp8_1x64x128", "cuBLASLt", 0.5, 1e-2, ""},
      {"stream_copy", "rooftop stream_copy", 0, 1e-6, ""},
      {"attention_decode_mla_576", "threw: too many resources",
       std::numeric_limits<double>::infinity(), 0, ""},
      {"rmsnorm", "rooftop rmsnorm", 1.0, 1e-2, "not on this device"}};
  Case copy = case_of(CaseKind::stream), read = case_of(CaseKind::stream);
  copy.stream = StreamKind::copy;
  copy.id = "stream_copy";
  read.stream = StreamKind::read;
  read.id = "stream_read";
  Case small = case_of(CaseKind::launch);
  small.hidden = 4096;
  small.id = "launch_small";
  // Act / Assert: what each case depends on
  CHECK(failed_check_for(case_of(CaseKind::gemm), checks).empty());
  CHECK(failed_check_for(case_of(CaseKind::gemm, DType::fp8), checks) == "gemm_fp8_1x64x128");
  CHECK(failed_check_for(copy, checks).empty());
  CHECK(failed_check_for(read, checks).empty());
  CHECK(failed_check_for(case_of(CaseKind::attention_decode), checks) == "attention_decode_mla_576");
  CHECK(failed_check_for(case_of(CaseKind::attention_prefill), checks) == "attention_decode_mla_576");
  CHECK(failed_check_for(case_of(CaseKind::layer), checks) == "attention_decode_mla_576");
  CHECK(failed_check_for(small, checks).empty()); // the RMSNorm check was skipped, not failed
  CHECK(failed_check_for(case_of(CaseKind::launch), checks).empty());
  // a failed stream check blocks only its own stream; a failed check of an unknown kernel, all
  CHECK(failed_check_for(copy, {{"stream_copy", "x", 1, 1e-6, ""}}) == "stream_copy");
  CHECK(failed_check_for(read, {{"stream_copy", "x", 1, 1e-6, ""}}).empty());
  CHECK(failed_check_for(case_of(CaseKind::launch), {{"mystery", "x", 1, 0, ""}}) == "mystery");
  CHECK(failed_check_for(small, {{"rmsnorm", "x", 1, 1e-2, ""}}) == "rmsnorm");
  CHECK(failed_check_for(case_of(CaseKind::layer), {{"silu_mul", "x", 1, 1e-2, ""}}) == "silu_mul");
  // run_plan does not run the blocked cases and records them as failed, naming the check
  CountingBackend b;
  Plan p;
  p.cases = {case_of(CaseKind::gemm), case_of(CaseKind::gemm, DType::fp8), copy,
             case_of(CaseKind::attention_decode)};
  const auto ms = run_plan(b, p, StopRule{}, {}, checks);
  REQUIRE(ms.size() == 4);
  CHECK(b.ran == std::vector<std::string>{"gemm_bf16", "stream_copy"});
  CHECK(!ms[0].skipped);
  CHECK(ms[1].failed);
  CHECK(ms[1].skipped);
  CHECK(ms[1].skip_reason == "not timed: its kernel failed self-check gemm_fp8_1x64x128");
  CHECK(ms[3].failed);
}

namespace {
/// Loads tests/data/good/calibration/small.calibration.json after `edit`; the InputError's
/// message, or "" when it loads.
template <class F> std::string load_edited(F &&edit) {
  auto j = nlohmann::json::parse(std::ifstream(good + "calibration/small.calibration.json"));
  edit(j);
  const auto path = std::filesystem::temp_directory_path() /
                    ("rooftop_test_edited_" + std::to_string(getpid()) + ".calibration.json");
  std::ofstream(path) << j.dump();
  try {
    (void)load_calibration(path);
  } catch (const InputError &e) {
    return e.what();
  }
  return "";
}
bool has(const std::string &message, const std::string &needle) {
  INFO(message);
  return message.find(needle) != std::string::npos;
}
} // namespace

TEST_CASE("a calibration file's gpu and architecture agree: host-cpu exactly with cpu") {
  CHECK(load_edited([](nlohmann::json &) {}).empty());
  const auto label = [](const std::string &gpu, const std::string &arch) {
    return load_edited([&](nlohmann::json &j) {
      j["gpu"] = gpu;
      j["architecture"] = arch;
    });
  };
  CHECK(label("host-cpu", "cpu").empty());
  CHECK(has(label("host-cpu", "hopper"),
            ".calibration.json: /architecture = \"hopper\": must be \"cpu\" exactly when"));
  CHECK(has(label("h100-sxm", "cpu"), "/architecture = \"cpu\": must be \"cpu\" exactly when"));
  CHECK(has(label("h100-sxm", "ampere"), "disagrees with /gpu = \"h100-sxm\", a hopper GPU"));
  CHECK(has(label("h100-sxm", "hoper"), "/architecture = \"hoper\": unknown architecture"));
}

TEST_CASE("a calibration file is refused where its entries contradict themselves") {
  const auto first = [](nlohmann::json &j) -> nlohmann::json & { return j["measurements"][0]; };
  // 3 samples, sample_count 4
  CHECK(has(load_edited([&](nlohmann::json &j) { first(j)["sample_count"] = 4; }),
            "/measurements/0/sample_count = 4: contradicts the 3 values of samples_s"));
  CHECK(load_edited([&](nlohmann::json &j) { first(j).erase("samples_s"); }).empty());
  CHECK(has(load_edited([&](nlohmann::json &j) { first(j)["sample_count"] = 1.5; }),
            "/measurements/0/sample_count = 1.5"));
  CHECK(has(load_edited([&](nlohmann::json &j) { first(j)["samples_s"][1] = -1e-6; }),
            "/measurements/0/samples_s/1 = -1e-06: must be a time in [1e-12, 3600] (s)"));
  CHECK(has(load_edited([&](nlohmann::json &j) { first(j)["samples_s"][2] = nullptr; }),
            "/measurements/0/samples_s/2 = null: must be a time in [1e-12, 3600] (s)"));
  CHECK(has(load_edited([&](nlohmann::json &j) { first(j)["median_s"] = 5e-324; }),
            "/measurements/0/median_s = 5e-324: must be a time in [1e-12, 3600] (s)"));
  CHECK(has(load_edited([&](nlohmann::json &j) { first(j)["mean_s"] = 1e308; }),
            "/measurements/0/mean_s = 1e+308: must be a time in [1e-12, 3600] (s)"));
  // a failed check stored as passed, and a passing one stored as failed: 0.003 <= 0.01
  CHECK(has(load_edited([](nlohmann::json &j) { j["self_checks"][0]["passed"] = false; }),
            "/self_checks/0/passed = false: contradicts max_rel_error <= tolerance"));
  CHECK(has(load_edited([](nlohmann::json &j) { j["self_checks"][0]["passed"] = "yes"; }),
            "/self_checks/0/passed = \"yes\": must be true or false"));
  // a skipped check passes whatever its error
  CHECK(load_edited([](nlohmann::json &j) { j["self_checks"][2]["max_rel_error"] = 1.0; }).empty());
  CHECK(has(load_edited([&](nlohmann::json &j) { first(j)["kind"] = "gem"; }),
            "/measurements/0/kind = \"gem\": unknown case kind 'gem': expected one of gemm, "
            "stream, attention_decode, attention_prefill, launch, layer"));
  CHECK(has(load_edited([&](nlohmann::json &j) { first(j)["m"] = 0; }),
            "/measurements/0/m = 0: must be >= 1 for a GEMM"));
  // declared work that the shape does not give: the 2x3x4 BF16 GEMM is 2 x 2 x 3 x 4 = 48
  // FLOP and (2x4 + 4x3 + 2x3) x 2 = 52 bytes
  CHECK(has(load_edited([&](nlohmann::json &j) { first(j)["flops"] = 24; }),
            "/measurements/0/flops = 24: contradicts the case's shape, which gives 48 FLOP "
            "(2 m n k)"));
  CHECK(has(load_edited([&](nlohmann::json &j) { first(j)["m"] = 4; }),
            "/measurements/0/flops = 48: contradicts the case's shape, which gives 96 FLOP"));
  CHECK(has(load_edited([&](nlohmann::json &j) { first(j)["bytes"] = 104; }),
            "/measurements/0/bytes = 104: contradicts the case's shape, which gives 52 bytes"));
  // a 1 MiB read stream moves 1 MiB
  CHECK(has(load_edited([](nlohmann::json &j) { j["measurements"][1]["bytes"] = 2097152; }),
            "/measurements/1/bytes = 2097152: contradicts the case's shape, which gives 1048576"));
}

TEST_CASE("relative_least_squares is exact on a linear model and weighs relative error") {
  // y = 2 + 3 x1 + 0.5 x2, columns of very different scales
  std::vector<std::vector<double>> a;
  std::vector<double> y;
  for (double x1 : {1e-9, 5e-9, 2e-8})
    for (double x2 : {10.0, 1000.0, 1e5}) {
      a.push_back({1, x1, x2});
      y.push_back(2 + 3 * x1 + 0.5 * x2);
    }
  const auto c = relative_least_squares(a, y);
  REQUIRE(c.size() == 3);
  CHECK(c[0] == doctest::Approx(2).epsilon(1e-9));
  CHECK(c[1] == doctest::Approx(3).epsilon(1e-6));
  CHECK(c[2] == doctest::Approx(0.5).epsilon(1e-9));
  // A constant c fitted to {1, 100}: (c - 1)^2 + (c / 100 - 1)^2 is least at
  // c = (1 + 1/100) / (1 + 1/100^2) = 1.0099, near the small value, not at the mean 50.5 that
  // absolute error would give.
  const auto k = relative_least_squares({{1.0}, {1.0}}, {1, 100});
  CHECK(k[0] == doctest::Approx(1.01 / 1.0001).epsilon(1e-12));
  CHECK_THROWS_AS(relative_least_squares({{1.0}}, {0.0}), InternalError);
}

namespace {
/// Published-style decode measurements over a `kv` cache from the additive model with known
/// terms: 32 cases (batches, contexts, 1 or 8 KV heads).
std::vector<Measurement> additive_decode_cases(double fixed, double item, double e_c, double e_dec,
                                               const std::string &impl, DType kv = DType::bf16) {
  std::vector<Measurement> ms;
  const double peak = 1e15, bw = 1e12; // test-gpu: BF16 1e15 FLOP/s, 1e12 B/s
  for (long long b : {1, 8, 64, 256})
    for (long long ctx : {128, 1024, 8192, 32768})
      for (long long kvh : {1, 8}) {
        const Case c = decode_case(b, 8 * kvh, kvh, 128, ctx, kv);
        const double items = static_cast<double>(b * kvh);
        auto m = measured(c, fixed + item * items + c.flops / (peak * e_c) + c.bytes_moved / (bw * e_dec));
        m.implementation = impl;
        ms.push_back(m);
      }
  return ms;
}

/// Published-style attention measurements from the additive model with known terms.
std::vector<Measurement> additive_attention_cases(double fixed, double item, double e_c,
                                                  double e_dec, double e_pre,
                                                  const std::string &impl) {
  std::vector<Measurement> ms = additive_decode_cases(fixed, item, e_c, e_dec, impl);
  const double peak = 1e15, bw = 1e12;
  for (long long b : {1, 4, 16})
    for (long long s : {16, 256, 2048, 8192}) {
      Case c;
      c.kind = CaseKind::attention_prefill;
      c.batch = b;
      c.q_heads = 32;
      c.kv_heads = 8;
      c.head_dim = 128;
      c.context = s;
      declare_work(c);
      const double items = static_cast<double>(b * 8);
      auto m = measured(c, fixed + item * items + c.flops / (peak * e_c) + c.bytes_moved / (bw * e_pre));
      m.implementation = impl;
      ms.push_back(m);
    }
  return ms;
}
} // namespace

TEST_CASE("the additive attention fit recovers a production kernel's terms, and costs with them") {
  const auto spec = hw::load_gpu(good + "gpus/test-gpu.json");
  const hw::Efficiency defaults = hw::Efficiency::ideal();
  const double fixed = 12e-6, item = 25e-9, e_c = 0.65, e_dec = 0.9, e_pre = 0.45;
  const auto ms = additive_attention_cases(fixed, item, e_c, e_dec, e_pre,
                                           "vLLM FlashAttention-3 (published)");
  const auto f = fit(ms, spec, defaults);
  REQUIRE(f.additive_attention);
  CHECK(f.attention_fixed_s == doctest::Approx(fixed).epsilon(1e-6));
  CHECK(f.attention_item_s == doctest::Approx(item).epsilon(1e-6));
  CHECK(f.attention_flops == doctest::Approx(e_c).epsilon(1e-6));
  CHECK(f.attention_bandwidth == doctest::Approx(e_dec).epsilon(1e-6));
  CHECK(f.attention_prefill_bandwidth == doctest::Approx(e_pre).epsilon(1e-6));
  const auto &e = f.efficiency;
  CHECK(e.additive_attention());
  CHECK(e.attention_flops == doctest::Approx(e_c).epsilon(1e-6)); // a production kernel: used
  CHECK(e.attention_context_half == 0);
  CHECK(e.attention_fixed.value() == doctest::Approx(fixed).epsilon(1e-6));
  // The same cases through rooftop's own kernels keep the roofline fit (no additive terms).
  const auto own = fit(additive_attention_cases(fixed, item, e_c, e_dec, e_pre, "rooftop decode_split"),
                       spec, defaults);
  CHECK(!own.additive_attention);
  CHECK(!own.efficiency.additive_attention());
  // Too few prefill cases: not fitted either.
  auto decode_only = additive_attention_cases(fixed, item, e_c, e_dec, e_pre, "FA3");
  std::erase_if(decode_only, [](const Measurement &m) { return m.c.kind == CaseKind::attention_prefill; });
  CHECK(!fit(decode_only, spec, defaults).additive_attention);
}

TEST_CASE("warm_in_l2: a warm, non-MLA decode case whose bytes fit in the GPU's L2") {
  const auto spec = hw::load_gpu(good + "gpus/test-gpu.json"); // 50 MiB of L2
  REQUIRE(spec.l2);
  const Case c = decode_case(1, 8, 8, 128, 1024);
  REQUIRE(c.bytes_moved < spec.l2->value());
  CHECK(warm_in_l2(c, spec));
  Case cold = c;
  cold.cold = true; // rooftop's own runs flush L2 before each decode sample
  CHECK(!warm_in_l2(cold, spec));
  Case mla = c;
  mla.latent_dim = 576;
  CHECK(!warm_in_l2(mla, spec));
  Case prefill = c;
  prefill.kind = CaseKind::attention_prefill;
  CHECK(!warm_in_l2(prefill, spec));
  Case big = c;
  big.bytes_moved = spec.l2->value(); // exactly the L2: not within it
  CHECK(!warm_in_l2(big, spec));
  auto no_l2 = spec;
  no_l2.l2.reset();
  CHECK(!warm_in_l2(c, no_l2));
}

TEST_CASE("warm decode cases whose KV fits in L2 get a bandwidth of their own, not the HBM term") {
  // Published timings replay a CUDA graph without flushing L2: a decode whose KV cache fits in
  // L2 reads it from there (L40S: up to 2.8 x GDDR6). Here such cases run at 3 x HBM.
  const auto spec = hw::load_gpu(good + "gpus/test-gpu.json"); // 50 MiB of L2, 1e12 B/s
  REQUIRE(spec.l2);
  const double l2 = spec.l2->value();
  const hw::Efficiency defaults = hw::Efficiency::ideal();
  const double fixed = 12e-6, item = 25e-9, e_c = 0.65, e_dec = 0.9, e_pre = 0.45, e_l2 = 3.0;
  auto ms = additive_attention_cases(fixed, item, e_c, e_dec, e_pre, "FA3");
  std::size_t resident = 0, beyond = 0;
  for (auto &m : ms) {
    if (m.c.kind != CaseKind::attention_decode) continue;
    if (m.c.bytes_moved < l2) {
      m.median_s += m.c.bytes_moved / 1e12 * (1 / e_l2 - 1 / e_dec);
      ++resident;
    } else {
      ++beyond;
    }
  }
  REQUIRE(resident >= 8);
  REQUIRE(beyond >= 8);
  const auto has_note = [](const FitResult &f) {
    return std::any_of(f.notes.begin(), f.notes.end(), [](const std::string &x) {
      return x.find("within L2") != std::string::npos && x.find("3.000000 of HBM") != std::string::npos;
    });
  };
  const auto f = fit(ms, spec, defaults);
  REQUIRE(f.additive_attention);
  CHECK(f.attention_fixed_s == doctest::Approx(fixed).epsilon(1e-6));
  CHECK(f.attention_item_s == doctest::Approx(item).epsilon(1e-6));
  CHECK(f.attention_bandwidth == doctest::Approx(e_dec).epsilon(1e-6)); // HBM, not L2
  CHECK(f.attention_prefill_bandwidth == doctest::Approx(e_pre).epsilon(1e-6));
  CHECK(has_note(f));
  // The same times from cold runs (L2 flushed): no column, and the one HBM term cannot fit
  // both sets (here the additive fit fails outright).
  auto cold = ms;
  for (auto &m : cold) m.c.cold = true;
  const auto g = fit(cold, spec, defaults);
  CHECK(!has_note(g));
  CHECK(g.attention_bandwidth != doctest::Approx(e_dec).epsilon(0.01));
  // Too few warm cases within L2 (under 8 in the fit set): no column, whatever their speed.
  auto few = ms;
  std::size_t kept = 0;
  std::erase_if(few, [&](const Measurement &m) {
    if (!warm_in_l2(m.c, spec)) return false;
    return ++kept > 4;
  });
  CHECK(!has_note(fit(few, spec, defaults)));
  // Warm cases within L2 that ran no faster than HBM allows (the fit's own cases, above): no
  // column either (test "the additive attention fit recovers ..." recovers every term).
  const auto h = fit(additive_attention_cases(fixed, item, e_c, e_dec, e_pre, "FA3"), spec, defaults);
  CHECK(std::none_of(h.notes.begin(), h.notes.end(),
                     [](const std::string &x) { return x.find("within L2") != std::string::npos; }));
}

TEST_CASE("decode over an FP8 KV cache gets terms of its own when it has enough cases") {
  const auto spec = hw::load_gpu(good + "gpus/test-gpu.json");
  const hw::Efficiency defaults = hw::Efficiency::ideal();
  const double fixed = 12e-6, item = 25e-9, e_c = 0.65, e_dec = 0.9, e_pre = 0.45;
  const double fixed8 = 7e-6, item8 = 9e-9, e_dec8 = 0.7; // another kernel's terms
  auto ms = additive_attention_cases(fixed, item, e_c, e_dec, e_pre, "FA3");
  const auto fp8_cases = [&](std::size_t n) {
    auto all = additive_decode_cases(fixed8, item8, e_c, e_dec8, "FA3", DType::fp8);
    all.resize(n);
    return all;
  };
  const auto all8 = fp8_cases(32);
  ms.insert(ms.end(), all8.begin(), all8.end());
  const auto f = fit(ms, spec, defaults);
  REQUIRE(f.additive_attention);
  // BF16 decode and prefill keep their terms; FP8 decode has its own.
  CHECK(f.attention_fixed_s == doctest::Approx(fixed).epsilon(1e-6));
  CHECK(f.attention_item_s == doctest::Approx(item).epsilon(1e-6));
  CHECK(f.attention_bandwidth == doctest::Approx(e_dec).epsilon(1e-6));
  CHECK(f.attention_prefill_bandwidth == doctest::Approx(e_pre).epsilon(1e-6));
  REQUIRE(f.attention_decode_by_kv_dtype.count("fp8") == 1);
  const auto &t8 = f.attention_decode_by_kv_dtype.at("fp8");
  CHECK(t8.fixed.value() == doctest::Approx(fixed8).epsilon(1e-6));
  CHECK(t8.item.value() == doctest::Approx(item8).epsilon(1e-6));
  CHECK(t8.bandwidth == doctest::Approx(e_dec8).epsilon(1e-6));
  CHECK(f.efficiency.attention_decode_by_kv_dtype.count("fp8") == 1);
  // Costed back: an FP8 decode case at its own terms, a BF16 one at the table's.
  const auto terms8 = f.efficiency.attention_terms(DType::fp8, /*decode=*/true, 1024);
  CHECK(terms8.fixed.value() == doctest::Approx(fixed8).epsilon(1e-6));
  const auto terms16 = f.efficiency.attention_terms(DType::bf16, /*decode=*/true, 1024);
  CHECK(terms16.bandwidth == doctest::Approx(e_dec).epsilon(1e-6));
  // Prefill over an FP8 cache: the table's own (prefill was measured with BF16 only).
  const auto pre8 = f.efficiency.attention_terms(DType::fp8, /*decode=*/false, 1024);
  CHECK(pre8.fixed.value() == doctest::Approx(fixed).epsilon(1e-6));
  CHECK(pre8.bandwidth == doctest::Approx(e_pre).epsilon(1e-6));
  // Too few FP8 cases (under 8 in the fit set): they share BF16's terms, none of their own.
  auto few = additive_attention_cases(fixed, item, e_c, e_dec, e_pre, "FA3");
  const auto some8 = fp8_cases(4);
  few.insert(few.end(), some8.begin(), some8.end());
  const auto g = fit(few, spec, defaults);
  REQUIRE(g.additive_attention);
  CHECK(g.attention_decode_by_kv_dtype.empty());
  CHECK(g.efficiency.attention_decode_by_kv_dtype.empty());
  // Decode over FP8 caches only: too few BF16 ones for the table's own terms, so nothing is
  // split out and the FP8 cases set the shared terms (still the additive fit).
  auto only8 = additive_attention_cases(fixed, item, e_c, e_dec, e_pre, "FA3");
  std::erase_if(only8, [](const Measurement &m) { return m.c.kind == CaseKind::attention_decode; });
  only8.insert(only8.end(), all8.begin(), all8.end());
  const auto h = fit(only8, spec, defaults);
  REQUIRE(h.additive_attention);
  CHECK(h.attention_decode_by_kv_dtype.empty());
  CHECK(h.attention_bandwidth == doctest::Approx(e_dec8).epsilon(0.05));
  // FP8 cases whose own fit has a negative fixed cost: the split is dropped, with a note, and
  // no per-type terms are kept (the shared refit of these made-up cases is not additive either).
  auto neg = additive_attention_cases(fixed, item, e_c, e_dec, e_pre, "FA3");
  const auto neg8 = additive_decode_cases(-0.05e-6, item8, e_c, e_dec8, "FA3", DType::fp8);
  neg.insert(neg.end(), neg8.begin(), neg8.end());
  const auto n = fit(neg, spec, defaults);
  CHECK(n.attention_decode_by_kv_dtype.empty());
  CHECK(n.efficiency.attention_decode_by_kv_dtype.empty());
  CHECK(std::any_of(n.notes.begin(), n.notes.end(), [](const std::string &x) {
    return x.find("share BF16's terms") != std::string::npos;
  }));
}

TEST_CASE("a published calibration file: provenance instead of a stop rule, no spread required") {
  auto j = nlohmann::json::parse(std::ifstream(good + "calibration/small.calibration.json"));
  j.erase("stop_rule");
  j["published"] = {{"source", "github.com/example/kernels"},
                    {"commit", "0123456789abcdef0123456789abcdef01234567"},
                    {"statistic", "mean of 6 CUDA-graph replays"}};
  for (auto &m : j["measurements"])
    for (const char *k : {"rel_stdev", "samples_s", "sample_count", "discarded_samples"}) m.erase(k);
  char tmpl[] = "/tmp/rooftop-pub-XXXXXX";
  const int fd = mkstemp(tmpl);
  REQUIRE(fd >= 0);
  close(fd);
  const std::string file = tmpl;
  const auto write = [&](const nlohmann::json &v) { std::ofstream(file) << v.dump(2); };
  write(j);
  const auto run = load_calibration(file);
  CHECK(run.published.at("source") == "github.com/example/kernels");
  REQUIRE(!run.measurements.empty());
  CHECK(!run.measurements[0].rel_stdev.has_value());
  // Written back: "published" kept, no stop rule, no invented spread.
  const auto back = to_json(run);
  CHECK(back.contains("published"));
  CHECK(!back.contains("stop_rule"));
  CHECK(!back.at("measurements").at(0).contains("rel_stdev"));
  // Both a stop rule and "published": refused, naming the key.
  auto both = j;
  both["stop_rule"] = {{"min_samples", 5}, {"max_samples", 200}, {"target_rel_stderr", 0.005},
                       {"max_seconds", 0.5}};
  write(both);
  CHECK_THROWS_WITH_AS(load_calibration(file), doctest::Contains("/stop_rule"), InputError);
  // "published" without its commit: refused.
  auto no_commit = j;
  no_commit["published"].erase("commit");
  write(no_commit);
  CHECK_THROWS_WITH_AS(load_calibration(file), doctest::Contains("/published/commit"), InputError);
  // Neither: the stop rule is required, as before.
  auto neither = j;
  neither.erase("published");
  write(neither);
  CHECK_THROWS_WITH_AS(load_calibration(file), doctest::Contains("stop_rule"), InputError);
  std::filesystem::remove(file);
}

TEST_CASE("memory-bound GEMMs: a fixed cost and a bandwidth per dtype, used by the compute fit too") {
  const auto spec = hw::load_gpu(good + "gpus/test-gpu.json"); // BF16 1e15 FLOP/s, 1e12 B/s
  const hw::Efficiency defaults = hw::Efficiency::ideal();
  const double t0 = 4e-6, e_bw = 0.8, e_max = 0.7;
  std::vector<Measurement> ms;
  for (long long m : {1, 2, 4, 8})
    for (long long nk : {1024, 4096, 8192, 16384}) {
      Case c;
      c.kind = CaseKind::gemm;
      c.m = m;
      c.n = c.k = nk;
      declare_work(c);
      ms.push_back(measured(c, t0 + c.bytes_moved / (1e12 * e_bw)));
    }
  for (long long m : {2048, 4096, 8192, 16384}) { // compute-bound, after the same fixed cost
    Case c;
    c.kind = CaseKind::gemm;
    c.m = m;
    c.n = c.k = 8192;
    declare_work(c);
    ms.push_back(measured(c, t0 + c.flops / (1e15 * e_max)));
  }
  const auto f = fit(ms, spec, defaults);
  REQUIRE(f.gemm.count("bf16") == 1);
  const auto &g = f.gemm.at("bf16");
  CHECK(g.overhead_s == doctest::Approx(t0).epsilon(1e-6));
  CHECK(g.bandwidth == doctest::Approx(e_bw).epsilon(1e-6));
  CHECK(g.memory_cases >= 8);
  CHECK(g.e_max == doctest::Approx(e_max).epsilon(1e-6)); // busy = t - t0, not t - 2 us
  CHECK(f.efficiency.gemm_bandwidth(DType::bf16) == doctest::Approx(e_bw).epsilon(1e-6));
  CHECK(f.efficiency.gemm_overhead(DType::bf16, 2).value() == doctest::Approx(2 * t0).epsilon(1e-6));
  // Another dtype keeps the stream bandwidth and the kernel overhead.
  CHECK(f.efficiency.gemm_bandwidth(DType::fp8) == f.efficiency.hbm_bandwidth);
  CHECK(f.efficiency.gemm_overhead(DType::fp8, 1).value() == f.efficiency.kernel_overhead.value());
}

TEST_CASE("a dtype fits its own small-M curve and tile, and an unphysical curve falls back to a constant") {
  const auto spec = hw::load_gpu(good + "gpus/test-gpu.json"); // BF16 1e15, FP8 2e15 FLOP/s
  const hw::Efficiency defaults = hw::Efficiency::ideal();
  REQUIRE(spec.matmul_peak(DType::fp8));
  const double fp8_peak = spec.matmul_peak(DType::fp8)->value();
  std::vector<Measurement> ms;
  // BF16: e = 0.8 M / (M + 64); FP8: e = 0.6 M / (M + 512), compute-bound, no fixed cost
  for (long long m : {1024, 2048, 4096, 8192, 16384})
    for (const auto &[dt, e_max, half, peak] :
         {std::tuple{DType::bf16, 0.8, 64.0, 1e15}, std::tuple{DType::fp8, 0.6, 512.0, fp8_peak}}) {
      Case c;
      c.kind = CaseKind::gemm;
      c.dtype = dt;
      c.m = m;
      c.n = c.k = 16384;
      declare_work(c);
      const double e = e_max * static_cast<double>(m) / (static_cast<double>(m) + half);
      ms.push_back(measured(c, c.flops / (peak * e)));
    }
  auto f = fit(ms, spec, defaults);
  CHECK(f.gemm.at("fp8").m_half == doctest::Approx(512).epsilon(1e-6));
  CHECK(f.gemm.at("fp8").e_max == doctest::Approx(0.6).epsilon(1e-6));
  REQUIRE(f.efficiency.gemm_curve_by_dtype.count("fp8") == 1);
  CHECK(f.efficiency.gemm_curve_by_dtype.at("fp8").m_half == doctest::Approx(512).epsilon(1e-6));
  CHECK(f.efficiency.gemm_curve_by_dtype.count("bf16") == 0); // BF16's is the table's own
  CHECK(f.efficiency.gemm_m_half == doctest::Approx(64).epsilon(1e-6));
  // The model uses each dtype's curve: at M = 512, FP8 0.6 x 512 / 1024 and BF16 0.8 x 512 / 576.
  CHECK(f.efficiency.gemm_efficiency(DType::fp8, 512) == doctest::Approx(0.3).epsilon(1e-6));
  CHECK(f.efficiency.gemm_efficiency(DType::bf16, 512) == doctest::Approx(0.8 * 512 / 576).epsilon(1e-6));
  // FP8 points on a curve whose maximum is above the peak (1.25 M / (M + 8192)): a constant,
  // the median of the fitted points above the ridge point, no curve, no tile.
  std::vector<Measurement> odd;
  for (long long m : {1024, 2048, 4096, 8192, 16384}) {
    Case c;
    c.kind = CaseKind::gemm;
    c.dtype = DType::fp8;
    c.m = m;
    c.n = c.k = 16384;
    declare_work(c);
    const double e = 1.25 * static_cast<double>(m) / (static_cast<double>(m) + 8192);
    odd.push_back(measured(c, c.flops / (fp8_peak * e)));
  }
  f = fit(odd, spec, defaults);
  const auto &g = f.gemm.at("fp8");
  CHECK(g.m_half == 0);
  CHECK(g.tile_m == 0);
  std::vector<double> kept; // the fit set (the points not held out) above the ridge point
  for (std::size_t k = 0; k < odd.size(); ++k)
    if (!held_out(odd, k) && odd[k].c.flops / fp8_peak >= odd[k].c.bytes_moved / spec.memory_bandwidth.value())
      kept.push_back(1.25 * static_cast<double>(odd[k].c.m) / (static_cast<double>(odd[k].c.m) + 8192));
  REQUIRE(kept.size() >= 2);
  CHECK(g.e_max == doctest::Approx(median(kept)).epsilon(1e-9));
}

TEST_CASE("an unphysical GEMM curve's constant is the median above the ridge point, not of slow M = 1 cases") {
  // As vLLM's per-tensor FP8 GEMMs on B200: large-M cases on 1.25 M / (M + 8192) and M = 1
  // cases far slower than their bytes (a thousandth of the peak and less), which the time test
  // counts as compute-bound. The constant must describe the large-M ones (prefill); counting the
  // M = 1 cases set it for every M at a fraction of what large M reaches.
  const auto spec = hw::load_gpu(good + "gpus/test-gpu.json"); // FP8 2e15 FLOP/s, 1e12 B/s
  const hw::Efficiency defaults = hw::Efficiency::ideal();
  const double fp8_peak = spec.matmul_peak(DType::fp8)->value();
  const auto e_of = [](double m) { return 1.25 * m / (m + 8192); };
  std::vector<Measurement> ms;
  const auto add = [&](long long m, long long k) {
    Case c;
    c.kind = CaseKind::gemm;
    c.dtype = DType::fp8;
    c.m = m;
    c.n = 16384;
    c.k = k;
    c.id = "gemm_fp8_" + std::to_string(m) + "x16384x" + std::to_string(k);
    declare_work(c);
    ms.push_back(measured(c, c.flops / (fp8_peak * e_of(static_cast<double>(m)))));
  };
  for (long long m : {1024, 2048, 4096, 8192, 16384}) add(m, 16384);
  // Six M = 1 cases of different K (fewer than the 8 a memory-bound fit needs).
  for (long long k : {4096, 6144, 8192, 10240, 12288, 14336}) add(1, k);
  const auto f = fit(ms, spec, defaults);
  const auto &g = f.gemm.at("fp8");
  REQUIRE(g.m_half == 0); // the fallback: a constant
  std::vector<double> large, all; // the fit set: above the ridge point, and all of it
  for (std::size_t i = 0; i < ms.size(); ++i) {
    if (held_out(ms, i)) continue;
    const auto &c = ms[i].c;
    const double e = e_of(static_cast<double>(c.m));
    all.push_back(e);
    if (c.flops / fp8_peak >= c.bytes_moved / spec.memory_bandwidth.value()) large.push_back(e);
    if (c.m == 1) CHECK(c.flops / fp8_peak < c.bytes_moved / spec.memory_bandwidth.value());
  }
  REQUIRE(large.size() >= 2);
  REQUIRE(all.size() > large.size()); // some M = 1 cases are in the fit set
  CHECK(g.e_max == doctest::Approx(median(large)).epsilon(1e-9));
  CHECK(g.e_max > 2 * median(all));
  CHECK(f.efficiency.gemm_flops_by_dtype.at("fp8") == doctest::Approx(median(large)).epsilon(1e-9));
}

// ---- all_reduce cases (published measurements of an engine's TP all-reduce) -----------------

TEST_CASE("an all_reduce case names its system and group, and the loader refuses one that cannot be") {
  const auto ar = [](nlohmann::json &j) -> nlohmann::json & {
    auto &m = j["measurements"][0];
    for (const char *k : {"m", "n", "k"}) m.erase(k);
    m.update({{"kind", "all_reduce"}, {"system", "hgx-h100-8"}, {"ranks", 8},
              {"message_bytes", 1024}, {"flops", 0}, {"bytes", 0}});
    return m;
  };
  CHECK(load_edited([&](nlohmann::json &j) { ar(j); }).empty());
  CHECK(has(load_edited([&](nlohmann::json &j) { ar(j)["ranks"] = 16; }),
            "/measurements/0/ranks = 16: must be in [2, 8] (GPUs of one hgx-h100-8 scale-up domain)"));
  CHECK(has(load_edited([&](nlohmann::json &j) { ar(j)["ranks"] = 1; }),
            "/measurements/0/ranks = 1: must be in [2, 8]"));
  CHECK(has(load_edited([&](nlohmann::json &j) { ar(j)["system"] = "hgx-h100-9"; }),
            "/measurements/0/system = \"hgx-h100-9\""));
  CHECK(has(load_edited([&](nlohmann::json &j) { ar(j).erase("system"); }),
            "/measurements/0/system"));
  CHECK(has(load_edited([&](nlohmann::json &j) { ar(j)["message_bytes"] = 0.5; }),
            "/measurements/0/message_bytes = 0.5: must be a whole number of bytes in [1, 1e15]"));
  CHECK(has(load_edited([&](nlohmann::json &j) { ar(j)["flops"] = 5; }),
            "/measurements/0/flops = 5: contradicts the case's shape, which gives 0 FLOP"));
  CHECK(has(load_edited([&](nlohmann::json &j) { ar(j)["message_bytes"] = 1e300; }),
            "/measurements/0/message_bytes = 1e+300: must be a whole number of bytes in [1, 1e15]"));
  // Another kind's shape, or an L2 flush, means nothing for an all-reduce.
  CHECK(has(load_edited([&](nlohmann::json &j) { ar(j)["m"] = 2; }),
            "/measurements/0/m = 2: does not apply to an all_reduce case"));
  CHECK(has(load_edited([&](nlohmann::json &j) { ar(j)["cold"] = true; }),
            "/measurements/0/cold = true: must be false for an all_reduce case"));
  // A BF16 all-reduce only (what the curves cost), on a system of the file's GPU, and no faster
  // than the whole buffer over the one-way link (1e12 bytes in 1 ms is 1000 TB/s on NVLink 4).
  CHECK(has(load_edited([&](nlohmann::json &j) { ar(j)["dtype"] = "fp8"; }),
            "/measurements/0/dtype = \"fp8\": must be bf16 for an all_reduce case"));
  CHECK(has(load_edited([&](nlohmann::json &j) { ar(j)["system"] = "hgx-b200-8"; }),
            "/measurements/0/system = \"hgx-b200-8\": hgx-b200-8 holds b200 GPUs, but the file's "
            "/gpu is h100-sxm"));
  CHECK(has(load_edited([&](nlohmann::json &j) {
              auto &m = ar(j);
              m["message_bytes"] = 1e12;
              m["median_s"] = m["mean_s"] = 1e-3;
              m.erase("samples_s");
              m.erase("sample_count");
            }),
            "/measurements/0/median_s = 0.001: 0.001 s moves 1000000000000 bytes at 1e+06 GB/s, "
            "above the 450 GB/s one-way nvlink4 bandwidth of a hgx-h100-8 GPU"));
  // A GEMM has no group: the keys are unknown there.
  CHECK(has(load_edited([&](nlohmann::json &j) { j["measurements"][0]["ranks"] = 8; }),
            "/measurements/0/ranks"));
}

namespace {
Measurement all_reduce(const std::string &system, long long ranks, double bytes, double t) {
  Case c;
  c.kind = CaseKind::all_reduce;
  c.system = system;
  c.ranks = ranks;
  c.bytes = bytes;
  c.id = "ar_" + system + "_" + std::to_string(ranks) + "_" + std::to_string(static_cast<long long>(bytes));
  auto m = measured(c, t);
  m.implementation = "test all-reduce";
  return m;
}
} // namespace

TEST_CASE("all_reduce: every other size is held out, never the largest, and the curve goes through the rest") {
  // t = 5 us + S / 1e11 B/s at 1 KiB x 4^i, i = 0..5, on 2 and 8 GPUs of an HGX H100.
  std::vector<Measurement> ms;
  for (long long ranks : {2LL, 8LL})
    for (int i = 0; i < 6; ++i) {
      const double s = 1024.0 * std::pow(4.0, i);
      ms.push_back(all_reduce("hgx-h100-8", ranks, s, 5e-6 + s / 1e11));
    }
  // sizes in order: positions 1 and 3 held out; 5 is the largest and stays in.
  for (std::size_t i = 0; i < ms.size(); ++i) {
    INFO(ms[i].c.id);
    const std::size_t pos = i % 6;
    CHECK(held_out(ms, i) == (pos == 1 || pos == 3));
  }
  const auto h100 = hw::GpuCatalogue::builtin().get("h100-sxm");
  const auto r = fit(ms, h100, hw::Efficiency::ideal());
  CHECK(r.allreduce_cases == 8);
  const auto &c = r.efficiency.allreduce;
  CHECK(c.scale_up_link == "nvlink4");
  CHECK(c.implementation == "test all-reduce");
  REQUIRE(c.by_ranks.count(8) == 1);
  CHECK(c.by_ranks.at(8).bytes == std::vector<double>{1024, 16384, 262144, 1048576});
  // A held-out size on this straight line is interpolated exactly: 4 KiB -> 5 us + 4096 / 1e11.
  CHECK(c.time(8, Bytes(4096))->value() == doctest::Approx(5e-6 + 4096 / 1e11).epsilon(1e-12));
}

TEST_CASE("all_reduce: a table fitted from the slowest times a file may hold loads") {
  // 1 h at the largest size a case may have: within the measurement's bounds, so within the
  // table's (a refit whose output estimate could not read was a bug).
  std::vector<Measurement> ms;
  for (int i = 0; i < 3; ++i)
    ms.push_back(all_reduce("hgx-h100-8", 2, 1e13 * std::pow(10.0, i), 1200.0 * (i + 1)));
  const auto h100 = hw::GpuCatalogue::builtin().get("h100-sxm");
  const auto r = fit(ms, h100, hw::load_default_efficiency(
                                   ROOFTOP_TEST_DATA_DIR "/../../data/hardware/efficiency.json", h100));
  REQUIRE(!r.efficiency.allreduce.empty());
  CalibrationRun run;
  run.gpu = "h100-sxm";
  run.architecture = "hopper";
  const auto path = std::filesystem::temp_directory_path() /
                    ("rooftop_test_allreduce_" + std::to_string(getpid()) + ".json");
  write_json_file(path, efficiency_table_json(r, run, "x.json"));
  const auto back = hw::load_default_efficiency(path, h100);
  CHECK(back.allreduce.by_ranks.at(2).time_s.back() == 3600.0);
}

TEST_CASE("all_reduce: repeated sizes are averaged, and mixed systems or non-NVSwitch domains get no curve") {
  const auto a = all_reduce("hgx-h100-8", 4, 1024, 4e-6), b = all_reduce("hgx-h100-8", 4, 1024, 6e-6),
             c = all_reduce("hgx-h100-8", 4, 4096, 8e-6), d = all_reduce("hgx-h100-8", 2, 1024, 3e-6);
  std::vector<std::string> notes;
  const auto curves = fit_allreduce({&a, &b, &c, &d}, notes);
  REQUIRE(curves.by_ranks.count(4) == 1);
  const auto &t = curves.by_ranks.at(4).time_s;
  REQUIRE(t.size() == 2);
  CHECK(t[0] == doctest::Approx(5e-6).epsilon(1e-12)); // (4 + 6) / 2
  CHECK(t[1] == doctest::Approx(8e-6).epsilon(1e-12));
  CHECK(curves.by_ranks.count(2) == 0); // one size: no curve
  CHECK(std::any_of(notes.begin(), notes.end(), [](const std::string &n) {
    return n.find("2 GPUs: one size only") != std::string::npos;
  }));
  // A spike: 2 GPUs, 20 us at 4 KiB between 4 us (1 KiB) and 9 us (16 KiB) is over twice both.
  const auto s1 = all_reduce("hgx-h100-8", 2, 1024, 4e-6), s2 = all_reduce("hgx-h100-8", 2, 4096, 20e-6),
             s3 = all_reduce("hgx-h100-8", 2, 16384, 9e-6), s4 = all_reduce("hgx-h100-8", 2, 65536, 17e-6);
  notes.clear();
  const auto despiked = fit_allreduce({&s1, &s2, &s3, &s4}, notes);
  CHECK(despiked.by_ranks.at(2).bytes == std::vector<double>{1024, 16384, 65536});
  CHECK(notes.at(0).find("4096 bytes took") != std::string::npos);
  // 17 us at 64 KiB is not over twice 9 us... and an end point is never a spike.
  const auto s5 = all_reduce("hgx-h100-8", 2, 262144, 60e-6);
  notes.clear();
  CHECK(fit_allreduce({&s1, &s3, &s4, &s5}, notes).by_ranks.at(2).bytes.size() == 4);
  const auto other = all_reduce("hgx-a100-8", 4, 4096, 8e-6);
  notes.clear();
  CHECK(fit_allreduce({&a, &c, &other}, notes).empty());
  CHECK(notes.at(0).find("several systems") != std::string::npos);
  const auto p1 = all_reduce("pcie-l40s-8", 4, 1024, 8e-6), p2 = all_reduce("pcie-l40s-8", 4, 4096, 9e-6);
  notes.clear();
  CHECK(fit_allreduce({&p1, &p2}, notes).empty());
  CHECK(notes.at(0).find("no NVSwitch domain") != std::string::npos);
}
