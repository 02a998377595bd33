// The CUDA backend: times the plan's cases with CUDA events, warm-up, an L2 flush before cold
// samples, and the shared stopping rule. GEMMs run through cuBLASLt (BF16; FP8 E4M3 with BF16
// output on compute capability >= 8.9); everything else runs rooftop's kernels (kernels.cu).
#include "calibration/backend.hpp"
#include "calibration/cuda/cuda_check.cuh"
#include "calibration/cuda/kernels.cuh"
#include "calibration/runner.hpp"

#include <cuda_fp8.h>

#include <functional>
#include <string>
#include <vector>

namespace rooftop::cal {
namespace {

/// Device memory, freed on scope exit.
class Buffer {
public:
  explicit Buffer(std::size_t bytes) : bytes_(bytes) {
    ROOFTOP_CUDA(cudaMalloc(&p_, bytes > 0 ? bytes : 1));
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
    ok_ = st == CUBLAS_STATUS_SUCCESS && found > 0;
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
    flush_ = std::make_unique<Buffer>(static_cast<std::size_t>(2 * std::max(info_.l2_bytes, 1e6)));
  }
  ~CudaBackend() override {
    flush_.reset();
    cudaFree(workspace_);
    cublasLtDestroy(lt_);
    cudaEventDestroy(stop_);
    cudaEventDestroy(start_);
    cudaStreamDestroy(stream_);
  }

  [[nodiscard]] DeviceInfo device() const override { return info_; }

  Measurement run(const Case &c, const StopRule &rule) override {
    switch (c.kind) {
    case CaseKind::gemm: return gemm(c, rule);
    case CaseKind::stream: return stream(c, rule);
    case CaseKind::attention_decode:
    case CaseKind::attention_prefill: return attention(c, rule);
    case CaseKind::launch: return launch(c, rule);
    case CaseKind::layer: return layer(c, rule);
    }
    throw InternalError("CudaBackend::run: unknown case kind");
  }

private:
  static constexpr std::size_t k_workspace = 32u << 20;

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
    d.driver_version = "CUDA driver API " + std::to_string(drv / 1000) + "." + std::to_string(drv % 1000 / 10);
    d.cuda_version = std::to_string(rt / 1000) + "." + std::to_string(rt % 1000 / 10);
    return d;
  }

  /// Seconds of `body` on the stream, between two events; `reps` runs per sample.
  double time(const std::function<void()> &body, bool cold, int reps = 1) {
    if (cold) ROOFTOP_CUDA(cudaMemsetAsync(flush_->as<void>(), 0, flush_->bytes(), stream_));
    ROOFTOP_CUDA(cudaEventRecord(start_, stream_));
    for (int i = 0; i < reps; ++i) body();
    ROOFTOP_CUDA(cudaEventRecord(stop_, stream_));
    ROOFTOP_CUDA(cudaEventSynchronize(stop_));
    ROOFTOP_CUDA(cudaGetLastError());
    float ms = 0;
    ROOFTOP_CUDA(cudaEventElapsedTime(&ms, start_, stop_));
    return ms * 1e-3 / reps;
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
    ROOFTOP_CUDA(cudaMemsetAsync(w.as<void>(), 0x11, w.bytes(), stream_)); // small finite values
    ROOFTOP_CUDA(cudaMemsetAsync(x.as<void>(), 0x11, x.bytes(), stream_));
    LtGemm g(lt_, c.dtype, c.m, c.n, c.k, workspace_, k_workspace);
    if (!g.ok()) return skipped(c, "cuBLASLt found no algorithm for this shape and type");
    return sample_case(c, rule, [&] {
      return time([&] { g.run(w.as<void>(), x.as<void>(), out.as<void>(), stream_); }, c.cold);
    });
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
    return sample_case(c, rule, [&] { return time(body, c.cold); });
  }

  Measurement attention(const Case &c, const StopRule &rule) {
    const bool prefill = c.kind == CaseKind::attention_prefill;
    const int dk = static_cast<int>(c.latent_dim > 0 ? c.latent_dim : c.head_dim);
    const int kvh = static_cast<int>(c.latent_dim > 0 ? 1 : c.kv_heads);
    const int queries = prefill ? static_cast<int>(c.context) : 1;
    const auto bt = static_cast<std::size_t>(c.batch), hq = static_cast<std::size_t>(c.q_heads),
               ctx = static_cast<std::size_t>(c.context);
    // MLA-like: one latent serves as both K and V (read once from HBM; the second read of a row
    // hits L1/L2), as the absorbed MLA decode reads its cache.
    const bool latent = c.latent_dim > 0;
    Buffer q(bt * hq * queries * dk * 2), k(bt * kvh * ctx * dk * 2),
        v(latent ? 16 : bt * kvh * ctx * dk * 2), o(bt * hq * queries * dk * 2);
    const int splits = cuda::attention_splits(static_cast<int>(c.context));
    Buffer partial(bt * hq * queries * splits * (dk + 2) * sizeof(float));
    for (Buffer *buf : {&q, &k, &v})
      cuda::fill_bf16(buf->as<__nv_bfloat16>(), buf->bytes() / 2, stream_);
    const __nv_bfloat16 *values = latent ? k.as<__nv_bfloat16>() : v.as<__nv_bfloat16>();
    cuda::AttentionArgs a{q.as<__nv_bfloat16>(), k.as<__nv_bfloat16>(), values,
                          o.as<__nv_bfloat16>(), partial.as<float>(), static_cast<int>(c.batch),
                          static_cast<int>(c.q_heads), kvh, queries, static_cast<int>(c.context),
                          dk, dk, splits, prefill};
    return sample_case(c, rule, [&] { return time([&] { cuda::attention(a, stream_); }, c.cold); });
  }

  Measurement launch(const Case &c, const StopRule &rule) {
    // Back-to-back empty kernels: the per-kernel floor a stream of small kernels pays.
    return sample_case(c, rule, [&] { return time([&] { cuda::launch_empty(stream_); }, false, 100); });
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
    const int splits = cuda::attention_splits(static_cast<int>(ctx));
    Buffer partial(static_cast<std::size_t>(b * hq * splits * (d + 2)) * sizeof(float));
    // The query is the q slice of qkv; for timing, read it from the first columns (layout
    // differences do not change the traffic).
    cuda::AttentionArgs a{qkv.as<__nv_bfloat16>(), kc.as<__nv_bfloat16>(), vc.as<__nv_bfloat16>(),
                          att.as<__nv_bfloat16>(), partial.as<float>(), static_cast<int>(b),
                          static_cast<int>(hq), static_cast<int>(hkv), 1, static_cast<int>(ctx),
                          static_cast<int>(d), static_cast<int>(d), splits, false};
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
    return sample_case(c, rule, [&] { return time(body, c.cold); });
  }

  int index_;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
  cublasLtHandle_t lt_ = nullptr;
  void *workspace_ = nullptr;
  DeviceInfo info_;
  std::unique_ptr<Buffer> flush_;
};

} // namespace

bool cuda_compiled() { return true; }

std::unique_ptr<Backend> make_cuda_backend(int index) { return std::make_unique<CudaBackend>(index); }

} // namespace rooftop::cal
