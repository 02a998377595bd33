// The CUDA backend: times the plan's cases with CUDA events, warm-up, an L2 flush before cold
// samples, and the shared stopping rule. GEMMs run through cuBLASLt (BF16; FP8 E4M3 with BF16
// output on compute capability >= 8.9); everything else runs rooftop's kernels (kernels.cu).
#include "calibration/backend.hpp"
#include "calibration/cuda/cuda_check.cuh"
#include "calibration/cuda/kernels.cuh"
#include "calibration/runner.hpp"

#include <cuda_fp8.h>
#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace rooftop::cal {
namespace {

/// Device memory, freed on scope exit.
class Buffer {
public:
  explicit Buffer(std::size_t bytes) : bytes_(bytes) {
    if (const cudaError_t e = cudaMalloc(&p_, bytes > 0 ? bytes : 1); e != cudaSuccess) {
      (void)cudaGetLastError(); // not this case's launches' error (cuda_check.cuh)
      std::size_t free_b = 0, total_b = 0;
      const bool known = cudaMemGetInfo(&free_b, &total_b) == cudaSuccess;
      (void)cudaGetLastError();
      throw CudaError("cudaMalloc of " + std::to_string(bytes) + " bytes: " + cudaGetErrorString(e) +
                      (known ? " (" + std::to_string(free_b) + " of " + std::to_string(total_b) +
                                   " bytes free on the device)"
                             : std::string()));
    }
  }
  ~Buffer() { cudaFree(p_); }
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;
  template <class T> T *as() const { return static_cast<T *>(p_); }
  [[nodiscard]] std::size_t bytes() const { return bytes_; }

private:
  void *p_ = nullptr;
  std::size_t bytes_ = 0;
};

/// cuBLASLt GEMM C[m x n] (row-major) = A[m x k] B[k x n], run as the column-major "TN" problem
/// D[n x m] = W^T X (the layout FP8 requires): W stored k x n, X stored k x m, both column-major.
class LtGemm {
public:
  LtGemm(cublasLtHandle_t h, DType t, long long m, long long n, long long k, void *workspace,
         std::size_t ws_bytes)
      : h_(h), ws_(workspace), ws_bytes_(ws_bytes) {
    const cudaDataType_t in = t == DType::fp8 ? CUDA_R_8F_E4M3 : CUDA_R_16BF;
    ROOFTOP_CUBLAS(cublasLtMatmulDescCreate(&desc_, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    const cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    ROOFTOP_CUBLAS(cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta)));
    ROOFTOP_CUBLAS(cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb)));
    if (t == DType::fp8) { // fast accumulation, as FP8 inference GEMMs run (torch._scaled_mm's use_fast_accum)
      const int8_t fast = 1;
      ROOFTOP_CUBLAS(cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_FAST_ACCUM, &fast, sizeof(fast)));
    }
    ROOFTOP_CUBLAS(cublasLtMatrixLayoutCreate(&a_, in, static_cast<uint64_t>(k), static_cast<uint64_t>(n), k));
    ROOFTOP_CUBLAS(cublasLtMatrixLayoutCreate(&b_, in, static_cast<uint64_t>(k), static_cast<uint64_t>(m), k));
    ROOFTOP_CUBLAS(cublasLtMatrixLayoutCreate(&d_, CUDA_R_16BF, static_cast<uint64_t>(n), static_cast<uint64_t>(m), n));
    cublasLtMatmulPreference_t pref;
    ROOFTOP_CUBLAS(cublasLtMatmulPreferenceCreate(&pref));
    ROOFTOP_CUBLAS(cublasLtMatmulPreferenceSetAttribute(
        pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws_bytes_, sizeof(ws_bytes_)));
    int found = 0;
    const cublasStatus_t st =
        cublasLtMatmulAlgoGetHeuristic(h_, desc_, a_, b_, d_, d_, pref, 1, &heuristic_, &found);
    cublasLtMatmulPreferenceDestroy(pref);
    // NOT_SUPPORTED (or nothing found): no algorithm for this shape, which is skipped. Any other
    // failure (a bad descriptor, an uninitialised handle, a device error) is an error, not a
    // skip: a self-check or a case would otherwise pass by timing nothing.
    if (st != CUBLAS_STATUS_NOT_SUPPORTED) cublas_check(st, "cublasLtMatmulAlgoGetHeuristic");
    ok_ = st == CUBLAS_STATUS_SUCCESS && found > 0 && heuristic_.state == CUBLAS_STATUS_SUCCESS;
  }
  ~LtGemm() {
    cublasLtMatrixLayoutDestroy(d_);
    cublasLtMatrixLayoutDestroy(b_);
    cublasLtMatrixLayoutDestroy(a_);
    cublasLtMatmulDescDestroy(desc_);
  }
  LtGemm(const LtGemm &) = delete;
  LtGemm &operator=(const LtGemm &) = delete;
  [[nodiscard]] bool ok() const { return ok_; }
  void run(const void *w, const void *x, void *out, cudaStream_t s) const {
    const float alpha = 1.f, beta = 0.f;
    ROOFTOP_CUBLAS(cublasLtMatmul(h_, desc_, &alpha, w, a_, x, b_, &beta, out, d_, out, d_,
                                  &heuristic_.algo, ws_, ws_bytes_, s));
  }

private:
  cublasLtHandle_t h_;
  cublasLtMatmulDesc_t desc_ = nullptr;
  cublasLtMatrixLayout_t a_ = nullptr, b_ = nullptr, d_ = nullptr;
  cublasLtMatmulHeuristicResult_t heuristic_{};
  void *ws_;
  std::size_t ws_bytes_;
  bool ok_ = false;
};

/// The NVIDIA driver's own version (e.g. "580.159.04") and the board's power limit, read through
/// NVML, which ships with the driver: loaded at run time so the build needs no NVML.
struct DriverFacts {
  std::string version;
  double power_limit_w = 0;
};

DriverFacts driver_facts(int cuda_index) {
  DriverFacts f;
  void *lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) return f;
  using Init = int (*)();
  using Version = int (*)(char *, unsigned);
  using ByBus = int (*)(const char *, void **);
  using Power = int (*)(void *, unsigned *);
  const auto init = reinterpret_cast<Init>(dlsym(lib, "nvmlInit_v2"));
  const auto version = reinterpret_cast<Version>(dlsym(lib, "nvmlSystemGetDriverVersion"));
  const auto by_bus = reinterpret_cast<ByBus>(dlsym(lib, "nvmlDeviceGetHandleByPciBusId_v2"));
  const auto power = reinterpret_cast<Power>(dlsym(lib, "nvmlDeviceGetPowerManagementLimit"));
  const auto shutdown = reinterpret_cast<Init>(dlsym(lib, "nvmlShutdown"));
  if (init && init() == 0) { // NVML_SUCCESS
    char buf[96] = {};
    if (version && version(buf, sizeof buf) == 0) f.version = buf;
    char bus[32] = {};
    void *dev = nullptr;
    unsigned mw = 0;
    if (by_bus && power && cudaDeviceGetPCIBusId(bus, sizeof bus, cuda_index) == cudaSuccess &&
        by_bus(bus, &dev) == 0 && power(dev, &mw) == 0)
      f.power_limit_w = mw / 1000.0;
    if (shutdown) shutdown();
  }
  dlclose(lib);
  return f;
}

/// Host copies of small device problems, for the self-checks.
std::vector<__nv_bfloat16> random_bf16(std::size_t n, float lo, float hi, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<__nv_bfloat16> v(n);
  for (auto &x : v) x = __float2bfloat16(u(rng));
  return v;
}

template <class T> void upload(Buffer &b, const std::vector<T> &v) {
  ROOFTOP_CUDA(cudaMemcpy(b.as<void>(), v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice));
}

template <class T> std::vector<T> download(const Buffer &b, std::size_t n) {
  std::vector<T> v(n);
  ROOFTOP_CUDA(cudaMemcpy(v.data(), b.as<void>(), n * sizeof(T), cudaMemcpyDeviceToHost));
  return v;
}

double to_double(__nv_bfloat16 x) { return static_cast<double>(__bfloat162float(x)); }
double to_double(float x) { return static_cast<double>(x); }

/// max |got - want| / max |want| (a result of all zeros against a non-zero reference is 1).
template <class T> double rel_error(const std::vector<T> &got, const std::vector<double> &want) {
  double err = 0, scale = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double g = to_double(got[i]);
    if (!std::isfinite(g)) return std::numeric_limits<double>::infinity();
    err = std::max(err, std::fabs(g - want[i]));
    scale = std::max(scale, std::fabs(want[i]));
  }
  return scale > 0 ? err / scale : err;
}

SelfCheck make_check(std::string name, std::string impl, double err, double tol) {
  SelfCheck c;
  c.name = std::move(name);
  c.implementation = std::move(impl);
  c.max_rel_error = err;
  c.tolerance = tol;
  return c;
}

std::string attention_name(const cuda::AttentionArgs &a) {
  return std::string("rooftop ") + cuda::to_string(a.kernel) +
         (a.kernel == cuda::AttentionKernel::flash_wmma ? " (tensor cores, WMMA)" : " (CUDA cores)") +
         ", " + std::to_string(a.splits) + (a.splits == 1 ? " split" : " splits");
}

std::string lt_name() {
  const std::size_t v = cublasLtGetVersion();
  return "cuBLASLt " + std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." +
         std::to_string(v % 100);
}

class CudaBackend final : public Backend {
public:
  explicit CudaBackend(int index) : index_(index) {
    int count = 0;
    if (const cudaError_t e = cudaGetDeviceCount(&count); e != cudaSuccess)
      throw NotSupported(std::string("no usable CUDA device: ") + cudaGetErrorString(e) +
                         " (use --backend cpu on a machine without a GPU)");
    if (index < 0 || index >= count)
      throw InputError("no CUDA device " + std::to_string(index) + " (" + std::to_string(count) +
                       " found)");
    ROOFTOP_CUDA(cudaSetDevice(index));
    ROOFTOP_CUDA(cudaStreamCreate(&stream_));
    ROOFTOP_CUDA(cudaEventCreate(&start_));
    ROOFTOP_CUDA(cudaEventCreate(&stop_));
    ROOFTOP_CUBLAS(cublasLtCreate(&lt_));
    ROOFTOP_CUDA(cudaMalloc(&workspace_, k_workspace));
    info_ = describe();
    int optin = 0;
    ROOFTOP_CUDA(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, index_));
    limits_.sm_count = info_.sm_count;
    limits_.shared_per_block = static_cast<std::size_t>(optin);
    // The flush buffer: reading twice L2 leaves L2 holding clean lines of it (a memset would
    // leave dirty ones, whose write-back the next timed kernel would pay).
    flush_ = std::make_unique<Buffer>(static_cast<std::size_t>(2 * std::max(info_.l2_bytes, 1e6)) / 16 * 16);
    sink_ = std::make_unique<Buffer>(64);
    ROOFTOP_CUDA(cudaMemset(flush_->as<void>(), 0, flush_->bytes()));
  }
  ~CudaBackend() override {
    flush_.reset();
    sink_.reset();
    cudaFree(workspace_);
    cublasLtDestroy(lt_);
    cudaEventDestroy(stop_);
    cudaEventDestroy(start_);
    cudaStreamDestroy(stream_);
  }

  [[nodiscard]] DeviceInfo device() const override { return info_; }

  std::vector<SelfCheck> self_check() override {
    std::vector<SelfCheck> out;
    // A check that throws (a launch the device refuses, a fault) is recorded as a failed check,
    // so that the kernels whose checks passed can still be timed (run_plan skips the rest).
    const auto guarded = [&](const std::string &name, const std::function<SelfCheck()> &check) {
      try {
        out.push_back(check());
      } catch (const std::exception &e) {
        out.push_back(make_check(name, std::string("threw: ") + e.what(),
                                 std::numeric_limits<double>::infinity(), 0));
      }
    };
    const auto gemm_check = [&](DType t, long long m, long long n, long long k) {
      guarded(gemm_check_name(t, m, n, k), [&] { return check_gemm(t, m, n, k); });
    };
    const auto attention_check = [&](const std::string &name, auto... args) {
      guarded(name, [&] { return check_attention(name, args...); });
    };
    gemm_check(DType::bf16, 16, 64, 128);
    gemm_check(DType::bf16, 1, 64, 128);
    if (info_.sm_version >= 89) {
      gemm_check(DType::fp8, 16, 64, 128);
      gemm_check(DType::fp8, 1, 64, 128); // the plan times M = 1 and 4 too
    }
    for (StreamKind k : {StreamKind::write, StreamKind::copy, StreamKind::triad})
      guarded("stream_" + to_string(k), [&] { return check_stream(k); });
    // name, batch, q heads, kv heads, queries, context, head size, causal, latent[, splits]
    attention_check("attention_decode_gqa_split", 2, 8, 2, 1, 300, 128, false, false, 0);
    attention_check("attention_decode_gqa_3_splits", 2, 8, 2, 1, 300, 128, false, false, 3);
    attention_check("attention_decode_gqa_one_split", 2, 8, 2, 1, 300, 128, false, false, 1);
    attention_check("attention_decode_mha_d64", 3, 4, 4, 1, 77, 64, false, false, 0);
    attention_check("attention_decode_gqa_d32", 3, 4, 2, 1, 77, 32, false, false, 0);
    attention_check("attention_decode_g8_d256", 2, 16, 2, 1, 130, 256, false, false, 0);
    attention_check("attention_decode_g16_d64", 1, 32, 2, 1, 150, 64, false, false, 0);
    attention_check("attention_decode_mla_576", 1, 32, 1, 1, 200, 576, false, true, 0);
    attention_check("attention_decode_mla_576_one_split", 1, 32, 1, 1, 200, 576, false, true, 1);
    attention_check("attention_prefill_gqa_d128", 1, 4, 2, 100, 100, 128, true, false, 0);
    attention_check("attention_prefill_gqa_d256", 1, 4, 2, 90, 90, 256, true, false, 0);
    attention_check("attention_prefill_gqa_d32", 2, 4, 2, 70, 70, 32, true, false, 0);
    attention_check("attention_chunk_gqa_d128", 1, 8, 2, 5, 260, 128, true, false, 0);
    guarded("rmsnorm", [&] { return check_rmsnorm(3, 4096); });
    guarded("silu_mul", [&] { return check_silu(3, 1000); });
    return out;
  }

  Measurement run(const Case &c, const StopRule &rule) override {
    switch (c.kind) {
    case CaseKind::gemm: return gemm(c, rule);
    case CaseKind::stream: return stream(c, rule);
    case CaseKind::attention_decode:
    case CaseKind::attention_prefill: return attention(c, rule);
    case CaseKind::launch: return launch(c, rule);
    case CaseKind::layer: return layer(c, rule);
    case CaseKind::all_reduce:
      throw NotSupported("an all_reduce case needs several GPUs; it comes only from published "
                         "measurements (docs/calibration.md)");
    }
    throw InternalError("CudaBackend::run: unknown case kind");
  }

private:
  static constexpr std::size_t k_workspace = 32u << 20;
  /// The spin before a warm sample, s: covers the host's event record and first launch (a few
  /// microseconds), and is not timed.
  static constexpr double k_head_start_s = 20e-6;

  DeviceInfo describe() const {
    cudaDeviceProp p{};
    ROOFTOP_CUDA(cudaGetDeviceProperties(&p, index_));
    DeviceInfo d;
    d.backend = "cuda";
    d.name = p.name;
    d.sm_version = p.major * 10 + p.minor;
    d.sm_count = p.multiProcessorCount;
    int khz = 0, mem_khz = 0;
    ROOFTOP_CUDA(cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, index_));
    ROOFTOP_CUDA(cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, index_));
    d.clock_hz = khz * 1e3;
    d.memory_clock_hz = mem_khz * 1e3;
    d.memory_bytes = static_cast<double>(p.totalGlobalMem);
    d.l2_bytes = static_cast<double>(p.l2CacheSize);
    int drv = 0, rt = 0;
    ROOFTOP_CUDA(cudaDriverGetVersion(&drv));
    ROOFTOP_CUDA(cudaRuntimeGetVersion(&rt));
    const DriverFacts facts = driver_facts(index_);
    d.driver_version = (facts.version.empty() ? std::string("unknown (NVML not found)") : facts.version) +
                       ", CUDA driver API " + std::to_string(drv / 1000) + "." +
                       std::to_string(drv % 1000 / 10);
    d.power_limit_w = facts.power_limit_w;
    d.cuda_version = std::to_string(rt / 1000) + "." + std::to_string(rt % 1000 / 10);
    return d;
  }

  /// Seconds of `body` on the stream, between two events; `reps` runs per sample. A cold sample
  /// is preceded by the L2 flush, and one with `head_start` by a short spin kernel: either keeps
  /// the GPU busy while the host records the start event and launches `body`, so the host's
  /// launch delay after the start event is not timed (an idle GPU would record the start at
  /// once and then wait for the first launch).
  double time(const std::function<void()> &body, bool cold, int reps = 1, bool head_start = false) {
    if (cold)
      cuda::stream_read(flush_->as<float4>(), sink_->as<float>(), flush_->bytes() / 16, stream_);
    else if (head_start)
      cuda::spin(static_cast<long long>(k_head_start_s * (info_.clock_hz > 0 ? info_.clock_hz : 2e9)),
                 stream_);
    ROOFTOP_CUDA(cudaEventRecord(start_, stream_));
    for (int i = 0; i < reps; ++i) body();
    ROOFTOP_CUDA(cudaEventRecord(stop_, stream_));
    ROOFTOP_CUDA(cudaEventSynchronize(stop_));
    ROOFTOP_CUDA(cudaGetLastError());
    float ms = 0;
    ROOFTOP_CUDA(cudaEventElapsedTime(&ms, start_, stop_));
    return ms * 1e-3 / reps;
  }

  /// Runs of `body` per warm sample so that a sample is at least 200 us of GPU work (the event
  /// timer's resolution is about 0.5 us).
  int warm_reps(const std::function<void()> &body) {
    constexpr double k_min_sample_s = 200e-6;
    const auto reps_for = [&](double t) {
      return static_cast<int>(std::clamp(std::ceil(k_min_sample_s / std::max(t, 1e-8)), 1.0, 10000.0));
    };
    const int first = reps_for(time(body, false, 1, true));
    return reps_for(time(body, false, first, true));
  }

  /// Samples of `body`: cold (after the L2 flush, one run each) or warm (warm_reps runs each,
  /// after a head start).
  Measurement sample(const Case &c, const StopRule &rule, const std::function<void()> &body) {
    const int reps = c.cold ? 1 : warm_reps(body);
    return sample_case(c, rule, [&] { return time(body, c.cold, reps, true); });
  }

  static std::string gemm_check_name(DType t, long long m, long long n, long long k) {
    return "gemm_" + to_string(t) + "_" + std::to_string(m) + "x" + std::to_string(n) + "x" +
           std::to_string(k);
  }

  SelfCheck check_gemm(DType t, long long m, long long n, long long k) {
    const std::string name = gemm_check_name(t, m, n, k);
    const auto xs = random_bf16(static_cast<std::size_t>(m * k), -1, 1, 1);
    const auto ws = random_bf16(static_cast<std::size_t>(n * k), -1, 1, 2);
    std::vector<double> xd(xs.size()), wd(ws.size());
    Buffer x(xs.size() * 2), w(ws.size() * 2), out(static_cast<std::size_t>(m * n) * 2);
    if (t == DType::fp8) {
      std::vector<__nv_fp8_e4m3> x8(xs.size()), w8(ws.size());
      for (std::size_t i = 0; i < xs.size(); ++i) {
        x8[i] = __nv_fp8_e4m3(__bfloat162float(xs[i]));
        xd[i] = static_cast<double>(static_cast<float>(x8[i]));
      }
      for (std::size_t i = 0; i < ws.size(); ++i) {
        w8[i] = __nv_fp8_e4m3(__bfloat162float(ws[i]));
        wd[i] = static_cast<double>(static_cast<float>(w8[i]));
      }
      upload(x, x8);
      upload(w, w8);
    } else {
      for (std::size_t i = 0; i < xs.size(); ++i) xd[i] = to_double(xs[i]);
      for (std::size_t i = 0; i < ws.size(); ++i) wd[i] = to_double(ws[i]);
      upload(x, xs);
      upload(w, ws);
    }
    LtGemm g(lt_, t, m, n, k, workspace_, k_workspace);
    if (!g.ok()) { // as gemm() does: a shape without an algorithm is skipped, not timed
      SelfCheck c = make_check(name, lt_name(), 0, 1e-2);
      c.skip_reason = "cuBLASLt found no algorithm for this shape and type (its timed cases are "
                      "skipped the same way)";
      return c;
    }
    g.run(w.as<void>(), x.as<void>(), out.as<void>(), stream_);
    ROOFTOP_CUDA(cudaStreamSynchronize(stream_));
    // out[i][j] = sum_l x[i][l] w[j][l]: a linear layer, W stored [n][k].
    std::vector<double> want(static_cast<std::size_t>(m * n), 0.0);
    for (long long i = 0; i < m; ++i)
      for (long long j = 0; j < n; ++j) {
        double acc = 0;
        for (long long l = 0; l < k; ++l) acc += xd[i * k + l] * wd[j * k + l];
        want[i * n + j] = acc;
      }
    return make_check(name, lt_name() + " (first heuristic algorithm, TN)",
                      rel_error(download<__nv_bfloat16>(out, want.size()), want), 1e-2);
  }

  SelfCheck check_stream(StreamKind kind) {
    const std::size_t n4 = 4096 + 7, n = 4 * n4;
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> u(-1, 1);
    std::vector<float> hb(n), hc(n);
    for (auto &x : hb) x = u(rng);
    for (auto &x : hc) x = u(rng);
    Buffer a(n * 4), b(n * 4), c(n * 4);
    upload(b, hb);
    upload(c, hc);
    ROOFTOP_CUDA(cudaMemset(a.as<void>(), 0, a.bytes()));
    std::vector<double> want(n);
    switch (kind) {
    case StreamKind::write:
      cuda::stream_write(a.as<float4>(), n4, stream_);
      for (std::size_t i = 0; i < n; ++i) want[i] = static_cast<double>(i % 4 + 1);
      break;
    case StreamKind::copy:
      cuda::stream_copy(a.as<float4>(), b.as<float4>(), n4, stream_);
      for (std::size_t i = 0; i < n; ++i) want[i] = hb[i];
      break;
    case StreamKind::triad:
      cuda::stream_triad(a.as<float4>(), b.as<float4>(), c.as<float4>(), n4, stream_);
      for (std::size_t i = 0; i < n; ++i) want[i] = static_cast<double>(hb[i]) + 3.0 * hc[i];
      break;
    case StreamKind::read: break;
    }
    ROOFTOP_CUDA(cudaStreamSynchronize(stream_));
    ROOFTOP_CUDA(cudaGetLastError());
    return make_check("stream_" + to_string(kind), "rooftop stream_" + to_string(kind),
                      rel_error(download<float>(a, n), want), 1e-6);
  }

  /// Attention against softmax(q k^T / sqrt(d)) v in double on the host.
  SelfCheck check_attention(const std::string &name, int batch, int hq, int hkv, int queries,
                            int ctx, int d, bool causal, bool latent, int splits = 0) {
    cuda::AttentionArgs a;
    a.batch = batch;
    a.q_heads = hq;
    a.kv_heads = hkv;
    a.queries = queries;
    a.ctx = ctx;
    a.dk = a.dv = d;
    a.causal = causal;
    a.shared_kv = latent;
    a.want_splits = splits;
    try {
      cuda::plan_attention(a, limits_);
    } catch (const NotSupported &e) {
      SelfCheck c = make_check(name, "", 0, 0);
      c.skip_reason = e.what();
      return c;
    }
    const std::size_t rows = static_cast<std::size_t>(batch) * hq * queries;
    const std::size_t kvn = static_cast<std::size_t>(batch) * hkv * ctx * d;
    const auto hq_ = random_bf16(rows * d, -3, 3, 4); // scores of spread about 1
    const auto hk = random_bf16(kvn, -1, 1, 5);
    const auto hv = latent ? hk : random_bf16(kvn, -1, 1, 6);
    Buffer q(rows * d * 2), k(kvn * 2), v(latent ? 16 : kvn * 2), o(rows * d * 2),
        partial(std::max<std::size_t>(cuda::attention_partial_floats(a), 1) * sizeof(float));
    upload(q, hq_);
    upload(k, hk);
    if (!latent) upload(v, hv);
    ROOFTOP_CUDA(cudaMemset(o.as<void>(), 0xff, o.bytes())); // NaN: unwritten rows fail
    a.q = q.as<__nv_bfloat16>();
    a.k = k.as<__nv_bfloat16>();
    a.v = latent ? a.k : v.as<__nv_bfloat16>();
    a.o = o.as<__nv_bfloat16>();
    a.partial = partial.as<float>();
    cuda::attention(a, stream_);
    ROOFTOP_CUDA(cudaStreamSynchronize(stream_));
    ROOFTOP_CUDA(cudaGetLastError());
    std::vector<double> want(rows * d, 0.0), s(static_cast<std::size_t>(ctx));
    const int group = hq / hkv;
    for (int b = 0; b < batch; ++b)
      for (int h = 0; h < hq; ++h)
        for (int qi = 0; qi < queries; ++qi) {
          const std::size_t row = (static_cast<std::size_t>(b) * hq + h) * queries + qi;
          const std::size_t kv = (static_cast<std::size_t>(b) * hkv + h / group) * ctx;
          const int limit = causal ? ctx - queries + qi + 1 : ctx;
          double mx = -std::numeric_limits<double>::infinity(), sum = 0;
          for (int j = 0; j < limit; ++j) {
            double dot = 0;
            for (int e = 0; e < d; ++e)
              dot += to_double(hq_[row * d + e]) * to_double(hk[(kv + j) * d + e]);
            s[j] = dot / std::sqrt(static_cast<double>(d));
            mx = std::max(mx, s[j]);
          }
          for (int j = 0; j < limit; ++j) sum += (s[j] = std::exp(s[j] - mx));
          for (int j = 0; j < limit; ++j)
            for (int e = 0; e < d; ++e) want[row * d + e] += s[j] / sum * to_double(hv[(kv + j) * d + e]);
        }
    return make_check(name, attention_name(a), rel_error(download<__nv_bfloat16>(o, want.size()), want),
                      2e-2);
  }

  SelfCheck check_rmsnorm(int rows, int cols) {
    const auto hx = random_bf16(static_cast<std::size_t>(rows) * cols, -2, 2, 7);
    Buffer x(hx.size() * 2), y(hx.size() * 2);
    upload(x, hx);
    cuda::rmsnorm(x.as<__nv_bfloat16>(), y.as<__nv_bfloat16>(), rows, cols, stream_);
    ROOFTOP_CUDA(cudaStreamSynchronize(stream_));
    ROOFTOP_CUDA(cudaGetLastError());
    std::vector<double> want(hx.size());
    for (int r = 0; r < rows; ++r) {
      double ss = 0;
      for (int c = 0; c < cols; ++c) ss += to_double(hx[r * cols + c]) * to_double(hx[r * cols + c]);
      const double inv = 1 / std::sqrt(ss / cols + 1e-6);
      for (int c = 0; c < cols; ++c) want[r * cols + c] = to_double(hx[r * cols + c]) * inv;
    }
    return make_check("rmsnorm", "rooftop rmsnorm", rel_error(download<__nv_bfloat16>(y, want.size()), want),
                      1e-2);
  }

  SelfCheck check_silu(int rows, int cols) {
    const auto hin = random_bf16(static_cast<std::size_t>(rows) * 2 * cols, -4, 4, 8);
    Buffer in(hin.size() * 2), out(static_cast<std::size_t>(rows) * cols * 2);
    upload(in, hin);
    cuda::silu_mul(in.as<__nv_bfloat16>(), out.as<__nv_bfloat16>(), rows, cols, stream_);
    ROOFTOP_CUDA(cudaStreamSynchronize(stream_));
    ROOFTOP_CUDA(cudaGetLastError());
    std::vector<double> want(static_cast<std::size_t>(rows) * cols);
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) {
        const double g = to_double(hin[static_cast<std::size_t>(r) * 2 * cols + c]);
        const double u = to_double(hin[static_cast<std::size_t>(r) * 2 * cols + cols + c]);
        want[static_cast<std::size_t>(r) * cols + c] = g / (1 + std::exp(-g)) * u;
      }
    return make_check("silu_mul", "rooftop silu_mul",
                      rel_error(download<__nv_bfloat16>(out, want.size()), want), 1e-2);
  }

  Measurement gemm(const Case &c, const StopRule &rule) {
    if (c.dtype == DType::fp8 && info_.sm_version < 89)
      return skipped(c, "FP8 tensor cores need compute capability >= 8.9");
    if (c.dtype != DType::fp8 && c.dtype != DType::bf16)
      return skipped(c, "the CUDA backend times BF16 and FP8 GEMMs only");
    const double eb = c.dtype == DType::fp8 ? 1 : 2;
    const auto m = static_cast<std::size_t>(c.m), n = static_cast<std::size_t>(c.n),
               k = static_cast<std::size_t>(c.k);
    Buffer w(static_cast<std::size_t>(k * n * eb)), x(static_cast<std::size_t>(k * m * eb)),
        out(m * n * 2);
    // Random operands: constant or zero data switches less and would run faster than real weights.
    for (Buffer *b : {&w, &x}) {
      if (c.dtype == DType::fp8)
        cuda::fill_fp8(b->as<void>(), b->bytes(), stream_);
      else
        cuda::fill_bf16(b->as<__nv_bfloat16>(), b->bytes() / 2, stream_);
    }
    LtGemm g(lt_, c.dtype, c.m, c.n, c.k, workspace_, k_workspace);
    if (!g.ok()) return skipped(c, "cuBLASLt found no algorithm for this shape and type");
    auto r = sample(c, rule, [&] { g.run(w.as<void>(), x.as<void>(), out.as<void>(), stream_); });
    r.implementation = lt_name() + " (first heuristic algorithm, TN" +
                       (c.dtype == DType::fp8 ? ", fast accumulation)" : ")");
    return r;
  }

  Measurement stream(const Case &c, const StopRule &rule) {
    const auto n4 = static_cast<std::size_t>(c.bytes / 16);
    Buffer a(n4 * 16), b(n4 * 16), x(n4 * 16), sink(64);
    ROOFTOP_CUDA(cudaMemsetAsync(a.as<void>(), 0, a.bytes(), stream_));
    ROOFTOP_CUDA(cudaMemsetAsync(b.as<void>(), 0, b.bytes(), stream_));
    ROOFTOP_CUDA(cudaMemsetAsync(x.as<void>(), 0, x.bytes(), stream_));
    auto *pa = a.as<float4>();
    auto *pb = b.as<float4>();
    auto *px = x.as<float4>();
    std::function<void()> body;
    switch (c.stream) {
    case StreamKind::read: body = [&] { cuda::stream_read(pa, sink.as<float>(), n4, stream_); }; break;
    case StreamKind::write: body = [&] { cuda::stream_write(pa, n4, stream_); }; break;
    case StreamKind::copy: body = [&] { cuda::stream_copy(pa, pb, n4, stream_); }; break;
    case StreamKind::triad: body = [&] { cuda::stream_triad(pa, pb, px, n4, stream_); }; break;
    }
    // Below L2 the arrays stay cached unless flushed: small cases are timed warm on purpose
    // (they measure L2), large ones are far beyond it.
    auto m = sample(c, rule, body);
    m.implementation = "rooftop stream_" + to_string(c.stream) + " (float4 grid-stride loop)";
    return m;
  }

  Measurement attention(const Case &c, const StopRule &rule) {
    const bool prefill = c.kind == CaseKind::attention_prefill;
    // MLA-like: one latent serves as both K and V (read once from HBM), as the absorbed MLA
    // decode reads its cache.
    const bool latent = c.latent_dim > 0;
    cuda::AttentionArgs a;
    a.batch = static_cast<int>(c.batch);
    a.q_heads = static_cast<int>(c.q_heads);
    a.kv_heads = static_cast<int>(latent ? 1 : c.kv_heads);
    a.queries = prefill ? static_cast<int>(c.context) : 1;
    a.ctx = static_cast<int>(c.context);
    a.dk = a.dv = static_cast<int>(latent ? c.latent_dim : c.head_dim);
    a.causal = prefill;
    a.shared_kv = latent;
    try {
      cuda::plan_attention(a, limits_);
    } catch (const NotSupported &e) {
      return skipped(c, e.what());
    }
    const auto bf = [](std::size_t n) { return n * 2; };
    const std::size_t rows = static_cast<std::size_t>(a.batch) * a.q_heads * a.queries;
    const std::size_t kv = static_cast<std::size_t>(a.batch) * a.kv_heads * a.ctx * a.dk;
    Buffer q(bf(rows * a.dk)), k(bf(kv)), v(latent ? 16 : bf(kv)), o(bf(rows * a.dv)),
        partial(cuda::attention_partial_floats(a) * sizeof(float));
    for (Buffer *buf : {&q, &k, &v})
      cuda::fill_bf16(buf->as<__nv_bfloat16>(), buf->bytes() / 2, stream_);
    a.q = q.as<__nv_bfloat16>();
    a.k = k.as<__nv_bfloat16>();
    a.v = latent ? a.k : v.as<__nv_bfloat16>();
    a.o = o.as<__nv_bfloat16>();
    a.partial = partial.as<float>();
    auto m = sample(c, rule, [&] { cuda::attention(a, stream_); });
    m.implementation = attention_name(a);
    return m;
  }

  Measurement launch(const Case &c, const StopRule &rule) {
    // Back-to-back empty kernels: the per-kernel floor a stream of small kernels pays.
    if (c.hidden > 0) { // a one-row RMSNorm: a small real operation
      const auto cols = static_cast<int>(c.hidden);
      Buffer x(static_cast<std::size_t>(cols) * 2), y(static_cast<std::size_t>(cols) * 2);
      cuda::fill_bf16(x.as<__nv_bfloat16>(), static_cast<std::size_t>(cols), stream_);
      auto m = sample_case(c, rule, [&] {
        return time([&] { cuda::rmsnorm(x.as<__nv_bfloat16>(), y.as<__nv_bfloat16>(), 1, cols, stream_); },
                    false, 100);
      });
      m.implementation = "rooftop rmsnorm of one row, 100 back to back";
      return m;
    }
    auto m = sample_case(c, rule, [&] { return time([&] { cuda::launch_empty(stream_); }, false, 100); });
    m.implementation = "rooftop empty kernel, 100 back to back";
    return m;
  }

  Measurement layer(const Case &c, const StopRule &rule) {
    const long long h = c.hidden, hq = c.q_heads, hkv = c.kv_heads, d = c.head_dim,
                    inter = c.intermediate, b = c.batch, ctx = c.context + 1;
    if (h <= 0 || hq <= 0 || hkv <= 0 || d <= 0 || inter <= 0)
      return skipped(c, "layer dimensions missing (declare_work fills them)");
    const auto sz = [](long long x) { return static_cast<std::size_t>(x) * 2; }; // bf16 bytes
    Buffer x(sz(b * h)), xn(sz(b * h)), wqkv(sz(h * (hq + 2 * hkv) * d)), qkv(sz(b * (hq + 2 * hkv) * d)),
        kc(sz(b * hkv * ctx * d)), vc(sz(b * hkv * ctx * d)), att(sz(b * hq * d)),
        wo(sz(hq * d * h)), y(sz(b * h)), wup(sz(h * 2 * inter)), up(sz(b * 2 * inter)),
        act(sz(b * inter)), wdown(sz(inter * h));
    for (Buffer *buf : {&x, &wqkv, &kc, &vc, &wo, &wup, &wdown})
      cuda::fill_bf16(buf->as<__nv_bfloat16>(), buf->bytes() / 2, stream_);
    LtGemm g_qkv(lt_, DType::bf16, b, (hq + 2 * hkv) * d, h, workspace_, k_workspace);
    LtGemm g_o(lt_, DType::bf16, b, h, hq * d, workspace_, k_workspace);
    LtGemm g_up(lt_, DType::bf16, b, 2 * inter, h, workspace_, k_workspace);
    LtGemm g_down(lt_, DType::bf16, b, h, inter, workspace_, k_workspace);
    if (!g_qkv.ok() || !g_o.ok() || !g_up.ok() || !g_down.ok())
      return skipped(c, "cuBLASLt found no algorithm for a layer GEMM");
    cuda::AttentionArgs a;
    a.batch = static_cast<int>(b);
    a.q_heads = static_cast<int>(hq);
    a.kv_heads = static_cast<int>(hkv);
    a.queries = 1;
    a.ctx = static_cast<int>(ctx);
    a.dk = a.dv = static_cast<int>(d);
    cuda::plan_attention(a, limits_);
    Buffer partial(cuda::attention_partial_floats(a) * sizeof(float));
    // The query is the q slice of qkv; for timing, read it from the first columns (layout
    // differences do not change the traffic).
    a.q = qkv.as<__nv_bfloat16>();
    a.k = kc.as<__nv_bfloat16>();
    a.v = vc.as<__nv_bfloat16>();
    a.o = att.as<__nv_bfloat16>();
    a.partial = partial.as<float>();
    const int bi = static_cast<int>(b), hi = static_cast<int>(h), ii = static_cast<int>(inter);
    auto body = [&] {
      cuda::rmsnorm(x.as<__nv_bfloat16>(), xn.as<__nv_bfloat16>(), bi, hi, stream_);
      g_qkv.run(wqkv.as<void>(), xn.as<void>(), qkv.as<void>(), stream_);
      cuda::attention(a, stream_);
      g_o.run(wo.as<void>(), att.as<void>(), y.as<void>(), stream_);
      cuda::rmsnorm(y.as<__nv_bfloat16>(), xn.as<__nv_bfloat16>(), bi, hi, stream_);
      g_up.run(wup.as<void>(), xn.as<void>(), up.as<void>(), stream_);
      cuda::silu_mul(up.as<__nv_bfloat16>(), act.as<__nv_bfloat16>(), bi, ii, stream_);
      g_down.run(wdown.as<void>(), act.as<void>(), y.as<void>(), stream_);
    };
    auto m = sample(c, rule, body);
    m.implementation = lt_name() + " GEMMs; rooftop rmsnorm, silu_mul and " + attention_name(a);
    return m;
  }

  int index_;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
  cublasLtHandle_t lt_ = nullptr;
  void *workspace_ = nullptr;
  DeviceInfo info_;
  cuda::DeviceLimits limits_;
  std::unique_ptr<Buffer> flush_, sink_;
};

} // namespace

bool cuda_compiled() { return true; }

std::unique_ptr<Backend> make_cuda_backend(int index) { return std::make_unique<CudaBackend>(index); }

} // namespace rooftop::cal
