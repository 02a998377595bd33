// Device kernels timed by the CUDA backend: STREAM loops; attention as decode_split (CUDA cores,
// flash-decoding: online softmax, keys split over warps and blocks, then combined) and flash_wmma
// (FlashAttention-2 style tiles on tensor cores through WMMA); RMSNorm; SiLU-and-multiply.
// These are rooftop's own kernels, written for measurement, not taken from a library; the
// backend checks each against a host reference before timing it (cuda_backend.cu).
#include "calibration/cuda/cuda_check.cuh"
#include "calibration/cuda/kernels.cuh"

#include <mma.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <string>

namespace rooftop::cal::cuda {
namespace {

constexpr int k_threads = 256;

int blocks_for(std::size_t n) {
  return static_cast<int>(std::min<std::size_t>((n + k_threads - 1) / k_threads, 65535 * 8));
}

__global__ void empty_kernel() {}

__global__ void spin_kernel(long long cycles) {
  const long long t0 = clock64();
  while (clock64() - t0 < cycles) {
  }
}

__global__ void read_kernel(const float4 *a, float *sink, std::size_t n) {
  float s = 0;
  for (std::size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    const float4 x = a[i];
    s += x.x + x.y + x.z + x.w;
  }
  if (s == -1.2345f) *sink = s; // never true: keeps the loads
}

__global__ void write_kernel(float4 *a, std::size_t n) {
  for (std::size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
    a[i] = make_float4(1.f, 2.f, 3.f, 4.f);
}

__global__ void copy_kernel(float4 *a, const float4 *b, std::size_t n) {
  for (std::size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
    a[i] = b[i];
}

__global__ void triad_kernel(float4 *a, const float4 *b, const float4 *c, std::size_t n) {
  for (std::size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    const float4 x = b[i], y = c[i];
    a[i] = make_float4(x.x + 3.f * y.x, x.y + 3.f * y.y, x.z + 3.f * y.z, x.w + 3.f * y.w);
  }
}

__device__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

constexpr float k_log2e = 1.4426950408889634f;
constexpr float k_ln2 = 0.6931471805599453f;

/// Eight bf16 (16 bytes) as floats.
__device__ __forceinline__ void unpack8(const uint4 &u, float *f) {
  const auto *h = reinterpret_cast<const __nv_bfloat162 *>(&u);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 x = __bfloat1622float2(h[i]);
    f[2 * i] = x.x;
    f[2 * i + 1] = x.y;
  }
}

/// The query rows of one (batch, KV head): r = qi * group + g, query head kv_head * group + g.
/// Returns the row's index into q / o ([batch][q_heads][queries]) and sets `limit` (keys < limit
/// are visible).
__device__ __forceinline__ std::size_t query_row(const AttentionArgs &a, int b, int kvh, int r,
                                                 int &limit) {
  const int group = a.q_heads / a.kv_heads;
  const int qi = r / group, g = r % group;
  limit = a.causal ? a.ctx - a.queries + qi + 1 : a.ctx;
  return (static_cast<std::size_t>(b) * a.q_heads + kvh * group + g) * a.queries + qi;
}

/// Writes one finished row: the normalised output when there is one split, else the split's
/// (max in natural-log units, sum, unnormalised accumulator) for the combine kernel.
__device__ __forceinline__ void write_row(const AttentionArgs &a, std::size_t row, int split,
                                          int d, float m_log2, float l, float acc) {
  if (a.splits == 1) {
    a.o[row * a.dv + d] = __float2bfloat16(l > 0.f ? acc / l : 0.f);
    return;
  }
  float *p = a.partial + (row * a.splits + split) * (a.dv + 2);
  if (d == 0) {
    p[0] = l > 0.f ? m_log2 * k_ln2 : -FLT_MAX;
    p[1] = l;
  }
  p[2 + d] = acc;
}

constexpr int k_decode_warps = 4;
constexpr int k_decode_unroll = 2;

/// decode_split: one block per (batch, KV head, row tile of RM rows, split). Each key row of DK
/// bf16 is read by DK / 8 lanes with 16-byte loads; a warp covers 256 / DK keys per step, each
/// lane group keeping its own online-softmax state, merged through shared memory at the end.
template <int DK, int RM>
__global__ void __launch_bounds__(k_decode_warps * 32) decode_split_kernel(AttentionArgs a) {
  constexpr int L = DK / 8;  // lanes per key row
  constexpr int KW = 32 / L; // keys per warp per step
  constexpr int NS = k_decode_warps * KW; // independent softmax streams per block
  __shared__ float s_m[NS][RM], s_l[NS][RM], s_acc[NS][RM][DK];
  const int b = blockIdx.x / a.kv_heads, kvh = blockIdx.x % a.kv_heads;
  const int rows = (a.q_heads / a.kv_heads) * a.queries;
  const int r0 = blockIdx.y * RM, split = blockIdx.z;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int sub = lane / L, li = lane % L;
  const float scale = rsqrtf(static_cast<float>(DK)) * k_log2e;

  float q[RM][8];
  int limit[RM];
  int max_limit = 0;
#pragma unroll
  for (int r = 0; r < RM; ++r) {
    limit[r] = 0;
#pragma unroll
    for (int i = 0; i < 8; ++i) q[r][i] = 0.f;
    if (r0 + r < rows) {
      const std::size_t row = query_row(a, b, kvh, r0 + r, limit[r]);
      unpack8(*reinterpret_cast<const uint4 *>(a.q + row * DK + li * 8), q[r]);
#pragma unroll
      for (int i = 0; i < 8; ++i) q[r][i] *= scale;
      max_limit = max(max_limit, limit[r]);
    }
  }
  const int first = split * a.chunk;
  const int end = min(min(a.ctx, first + a.chunk), max_limit);
  const std::size_t kv_base = (static_cast<std::size_t>(b) * a.kv_heads + kvh) * a.ctx;
  const __nv_bfloat16 *kp = a.k + kv_base * DK + li * 8;
  const __nv_bfloat16 *vp = a.v + kv_base * DK + li * 8;

  float m[RM], l[RM], acc[RM][8];
#pragma unroll
  for (int r = 0; r < RM; ++r) {
    m[r] = -INFINITY;
    l[r] = 0.f;
#pragma unroll
    for (int i = 0; i < 8; ++i) acc[r][i] = 0.f;
  }
  constexpr int stride = k_decode_warps * KW; // keys between a lane group's consecutive keys
  // The loop bound is warp-uniform (every lane runs the shuffles); keys past `end` are masked.
  for (int base = first + warp * KW; base < end; base += stride * k_decode_unroll) {
    uint4 kv[k_decode_unroll], vv[k_decode_unroll];
#pragma unroll
    for (int u = 0; u < k_decode_unroll; ++u) {
      const int j = base + u * stride + sub;
      if (j < end) {
        kv[u] = __ldg(reinterpret_cast<const uint4 *>(kp + static_cast<std::size_t>(j) * DK));
        vv[u] = __ldg(reinterpret_cast<const uint4 *>(vp + static_cast<std::size_t>(j) * DK));
      } else {
        kv[u] = vv[u] = make_uint4(0u, 0u, 0u, 0u);
      }
    }
#pragma unroll
    for (int u = 0; u < k_decode_unroll; ++u) {
      const int j = base + u * stride + sub;
      float kf[8], vf[8];
      unpack8(kv[u], kf);
      unpack8(vv[u], vf);
#pragma unroll
      for (int r = 0; r < RM; ++r) {
        float s = 0.f;
#pragma unroll
        for (int i = 0; i < 8; ++i) s += q[r][i] * kf[i];
#pragma unroll
        for (int o = L / 2; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
        if (j < end && j < limit[r]) {
          const float mn = fmaxf(m[r], s);
          const float c = exp2f(m[r] - mn), p = exp2f(s - mn);
          l[r] = l[r] * c + p;
#pragma unroll
          for (int i = 0; i < 8; ++i) acc[r][i] = acc[r][i] * c + p * vf[i];
          m[r] = mn;
        }
      }
    }
  }
  // Merge the block's streams.
  const int stream = warp * KW + sub;
#pragma unroll
  for (int r = 0; r < RM; ++r) {
    if (li == 0) {
      s_m[stream][r] = m[r];
      s_l[stream][r] = l[r];
    }
#pragma unroll
    for (int i = 0; i < 8; ++i) s_acc[stream][r][li * 8 + i] = acc[r][i];
  }
  __syncthreads();
  for (int idx = threadIdx.x; idx < RM * DK; idx += blockDim.x) {
    const int r = idx / DK, d = idx % DK;
    if (r0 + r >= rows) continue;
    float mx = -INFINITY;
    for (int st = 0; st < NS; ++st)
      if (s_l[st][r] > 0.f) mx = fmaxf(mx, s_m[st][r]);
    float den = 0.f, num = 0.f;
    for (int st = 0; st < NS; ++st)
      if (s_l[st][r] > 0.f) {
        const float w = exp2f(s_m[st][r] - mx);
        den += s_l[st][r] * w;
        num += s_acc[st][r][d] * w;
      }
    int unused = 0;
    write_row(a, query_row(a, b, kvh, r0 + r, unused), split, d, mx, den, num);
  }
}

/// Shared-memory layout of flash_wmma for head size D, NW warps (16 query rows each), BN keys
/// per tile: Q [BM][D] bf16, K [BN][D] bf16, V [BN][D] bf16 (absent when V is K), O [BM][D]
/// fp32, S [BM][BN] fp32, P [BM][BN] bf16, then per-row scale, max and sum (fp32). Every
/// region is a multiple of 32 bytes, as WMMA loads need.
struct FlashLayout {
  std::size_t q, k, v, o, s, p, c, m, l, bytes;
  __host__ __device__ FlashLayout(int d, int nw, int bn, bool same_kv) {
    const std::size_t bm = 16 * static_cast<std::size_t>(nw);
    q = 0;
    k = q + bm * d * 2;
    v = k + static_cast<std::size_t>(bn) * d * 2;
    o = same_kv ? v : v + static_cast<std::size_t>(bn) * d * 2;
    s = o + bm * d * 4;
    p = s + bm * bn * 4;
    c = p + bm * bn * 2;
    m = c + bm * 4;
    l = m + bm * 4;
    bytes = l + bm * 4;
    if (same_kv) v = k;
  }
};

/// Loads `rows` rows of D bf16 from `src` (row stride D) into shared `dst`, zero past `valid`.
template <int D>
__device__ __forceinline__ void load_tile(__nv_bfloat16 *dst, const __nv_bfloat16 *src, int rows,
                                          int valid) {
  constexpr int V = D / 8;
  for (int idx = threadIdx.x; idx < rows * V; idx += blockDim.x) {
    const int r = idx / V, c = idx % V;
    uint4 x = make_uint4(0u, 0u, 0u, 0u);
    if (r < valid) x = *reinterpret_cast<const uint4 *>(src + static_cast<std::size_t>(r) * D + c * 8);
    *reinterpret_cast<uint4 *>(dst + r * D + c * 8) = x;
  }
}

/// acc += A B for one 16 x 16 output tile over K = 16 kblocks: A is 16 x K bf16, row-major with
/// leading dimension lda; B is K x 16 bf16 in LayoutB with leading dimension ldb, its kb-th
/// 16 x 16 block at b + kb * b_step (16 for col-major K^T, 16 ldb for row-major V).
template <class LayoutB>
__device__ __forceinline__ void
mma_tile(nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 16, float> &acc,
         const __nv_bfloat16 *a, unsigned lda, const __nv_bfloat16 *b, unsigned ldb, int b_step,
         int kblocks) {
  namespace w = nvcuda::wmma;
  for (int kb = 0; kb < kblocks; ++kb) {
    w::fragment<w::matrix_a, 16, 16, 16, __nv_bfloat16, w::row_major> fa;
    w::fragment<w::matrix_b, 16, 16, 16, __nv_bfloat16, LayoutB> fb;
    w::load_matrix_sync(fa, a + kb * 16, lda);
    w::load_matrix_sync(fb, b + kb * b_step, ldb);
    w::mma_sync(acc, fa, fb, acc);
  }
}

/// flash_wmma: one block per (batch, KV head, tile of 16 NW query rows, split of keys).
template <int D, int NW, int BN>
__global__ void __launch_bounds__(NW * 32) flash_wmma_kernel(AttentionArgs a) {
  namespace w = nvcuda::wmma;
  constexpr int BM = 16 * NW;
  extern __shared__ __align__(128) unsigned char smem[];
  const bool same_kv = a.k == a.v;
  const FlashLayout lay(D, NW, BN, same_kv);
  auto *sq = reinterpret_cast<__nv_bfloat16 *>(smem + lay.q);
  auto *sk = reinterpret_cast<__nv_bfloat16 *>(smem + lay.k);
  auto *sv = reinterpret_cast<__nv_bfloat16 *>(smem + lay.v);
  auto *so = reinterpret_cast<float *>(smem + lay.o);
  auto *ss = reinterpret_cast<float *>(smem + lay.s);
  auto *sp = reinterpret_cast<__nv_bfloat16 *>(smem + lay.p);
  auto *sc = reinterpret_cast<float *>(smem + lay.c);
  auto *sm = reinterpret_cast<float *>(smem + lay.m);
  auto *sl = reinterpret_cast<float *>(smem + lay.l);

  const int b = blockIdx.x / a.kv_heads, kvh = blockIdx.x % a.kv_heads;
  const int rows = (a.q_heads / a.kv_heads) * a.queries;
  const int r0 = blockIdx.y * BM, split = blockIdx.z;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const float scale = rsqrtf(static_cast<float>(D)) * k_log2e;

  // Q rows of the tile (rows are query-position major, so the last valid row sees the most keys).
  constexpr int V = D / 8;
  for (int idx = threadIdx.x; idx < BM * V; idx += blockDim.x) {
    const int r = idx / V, c = idx % V;
    uint4 x = make_uint4(0u, 0u, 0u, 0u);
    if (r0 + r < rows) {
      int unused = 0;
      x = *reinterpret_cast<const uint4 *>(a.q + query_row(a, b, kvh, r0 + r, unused) * D + c * 8);
    }
    *reinterpret_cast<uint4 *>(sq + r * D + c * 8) = x;
  }
  for (int idx = threadIdx.x; idx < BM * D; idx += blockDim.x) so[idx] = 0.f;
  int max_limit = 0;
  {
    const int last = min(r0 + BM, rows) - 1;
    query_row(a, b, kvh, last, max_limit);
  }
  // This lane's softmax row (two lanes per row, each half of the tile's keys).
  const int my_r = warp * 16 + lane / 2, half = lane & 1;
  int my_limit = 0;
  if (r0 + my_r < rows) query_row(a, b, kvh, r0 + my_r, my_limit);
  float m_row = -INFINITY, l_row = 0.f;

  const int first = split * a.chunk;
  const int end = min(min(a.ctx, first + a.chunk), max_limit);
  const std::size_t kv_base = (static_cast<std::size_t>(b) * a.kv_heads + kvh) * a.ctx;
  __syncthreads();
  for (int kt = first; kt < end; kt += BN) {
    load_tile<D>(sk, a.k + (kv_base + kt) * D, BN, a.ctx - kt);
    if (!same_kv) load_tile<D>(sv, a.v + (kv_base + kt) * D, BN, a.ctx - kt);
    __syncthreads();
    // S = Q K^T for this warp's 16 rows.
    for (int nb = 0; nb < BN / 16; ++nb) {
      w::fragment<w::accumulator, 16, 16, 16, float> acc;
      w::fill_fragment(acc, 0.f);
      mma_tile<w::col_major>(acc, sq + warp * 16 * D, D, sk + nb * 16 * D, D, 16, D / 16);
      w::store_matrix_sync(ss + warp * 16 * BN + nb * 16, acc, BN, w::mem_row_major);
    }
    __syncwarp();
    // Online softmax of the tile, row by row.
    {
      float *srow = ss + my_r * BN;
      __nv_bfloat16 *prow = sp + my_r * BN;
      const int c0 = half * (BN / 2);
      float tmax = -INFINITY;
      for (int c = c0; c < c0 + BN / 2; ++c) {
        const int j = kt + c;
        const float s = j < end && j < my_limit ? srow[c] * scale : -INFINITY;
        srow[c] = s;
        tmax = fmaxf(tmax, s);
      }
      tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, 1));
      const float mn = fmaxf(m_row, tmax);
      float corr = 1.f, psum = 0.f;
      if (mn == -INFINITY) {
        for (int c = c0; c < c0 + BN / 2; ++c) prow[c] = __float2bfloat16(0.f);
      } else {
        corr = exp2f(m_row - mn);
        for (int c = c0; c < c0 + BN / 2; ++c) {
          const float p = exp2f(srow[c] - mn);
          psum += p;
          prow[c] = __float2bfloat16(p);
        }
      }
      psum += __shfl_xor_sync(0xffffffffu, psum, 1);
      l_row = l_row * corr + psum;
      m_row = mn;
      if (half == 0) sc[my_r] = corr;
    }
    __syncwarp();
    // O = O diag(corr) + P V for this warp's rows.
    for (int idx = lane; idx < 16 * D; idx += 32) so[warp * 16 * D + idx] *= sc[warp * 16 + idx / D];
    __syncwarp();
    for (int db = 0; db < D / 16; ++db) {
      w::fragment<w::accumulator, 16, 16, 16, float> acc;
      w::load_matrix_sync(acc, so + warp * 16 * D + db * 16, D, w::mem_row_major);
      mma_tile<w::row_major>(acc, sp + warp * 16 * BN, BN, sv + db * 16, D, 16 * D, BN / 16);
      w::store_matrix_sync(so + warp * 16 * D + db * 16, acc, D, w::mem_row_major);
    }
    __syncthreads(); // before the next tile overwrites K and V
  }
  if (half == 0) {
    sm[my_r] = m_row;
    sl[my_r] = l_row;
  }
  __syncthreads();
  for (int idx = threadIdx.x; idx < BM * D; idx += blockDim.x) {
    const int r = idx / D, d = idx % D;
    if (r0 + r >= rows) continue;
    int unused = 0;
    write_row(a, query_row(a, b, kvh, r0 + r, unused), split, d, sm[r], sl[r], so[idx]);
  }
}

/// Combines the splits of one query row: o = sum_i acc_i e^(m_i - M) / sum_i l_i e^(m_i - M).
__global__ void attention_combine_kernel(AttentionArgs a) {
  const int row = blockIdx.x;
  const float *p = a.partial + static_cast<std::size_t>(row) * a.splits * (a.dv + 2);
  float mx = -FLT_MAX;
  for (int i = 0; i < a.splits; ++i)
    if (p[i * (a.dv + 2) + 1] > 0.f) mx = fmaxf(mx, p[i * (a.dv + 2)]);
  float den = 0.f;
  for (int i = 0; i < a.splits; ++i) {
    const float l = p[i * (a.dv + 2) + 1];
    if (l > 0.f) den += l * __expf(p[i * (a.dv + 2)] - mx);
  }
  for (int d = threadIdx.x; d < a.dv; d += blockDim.x) {
    float num = 0.f;
    for (int i = 0; i < a.splits; ++i)
      if (p[i * (a.dv + 2) + 1] > 0.f) num += p[i * (a.dv + 2) + 2 + d] * __expf(p[i * (a.dv + 2)] - mx);
    a.o[static_cast<std::size_t>(row) * a.dv + d] = __float2bfloat16(den > 0.f ? num / den : 0.f);
  }
}

__global__ void rmsnorm_kernel(const __nv_bfloat16 *x, __nv_bfloat16 *y, int cols) {
  __shared__ float part[k_threads / 32];
  const __nv_bfloat16 *r = x + static_cast<std::size_t>(blockIdx.x) * cols;
  float s = 0.f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    const float v = __bfloat162float(r[c]);
    s += v * v;
  }
  s = warp_sum(s);
  if (threadIdx.x % 32 == 0) part[threadIdx.x / 32] = s;
  __syncthreads();
  float t = 0.f;
  for (int i = 0; i < static_cast<int>(blockDim.x / 32); ++i) t += part[i];
  const float inv = rsqrtf(t / static_cast<float>(cols) + 1e-6f);
  for (int c = threadIdx.x; c < cols; c += blockDim.x)
    y[static_cast<std::size_t>(blockIdx.x) * cols + c] = __float2bfloat16(__bfloat162float(r[c]) * inv);
}

__global__ void silu_mul_kernel(const __nv_bfloat16 *in, __nv_bfloat16 *out, int rows, int cols) {
  const std::size_t n = static_cast<std::size_t>(rows) * cols;
  for (std::size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    const std::size_t r = i / cols, c = i % cols;
    const float g = __bfloat162float(in[r * 2 * cols + c]);
    const float u = __bfloat162float(in[r * 2 * cols + cols + c]);
    out[i] = __float2bfloat16(g / (1.f + __expf(-g)) * u);
  }
}

__global__ void fill_kernel(__nv_bfloat16 *p, std::size_t n) {
  for (std::size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    unsigned x = static_cast<unsigned>(i) * 2654435761u;
    x ^= x >> 13;
    p[i] = __float2bfloat16((static_cast<float>(x & 0xffff) / 65535.f - 0.5f) * 0.1f);
  }
}

__global__ void fill_fp8_kernel(unsigned char *p, std::size_t n) {
  for (std::size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    unsigned x = static_cast<unsigned>(i) * 2654435761u;
    x ^= x >> 13;
    // E4M3: sign, biased exponent 4..10 (2^-3 .. 2^3), random mantissa; never NaN (s1111111).
    p[i] = static_cast<unsigned char>((x & 0x80u) | ((4u + (x >> 8) % 7u) << 3) | ((x >> 16) & 7u));
  }
}

} // namespace

void launch_empty(cudaStream_t s) { empty_kernel<<<1, 1, 0, s>>>(); }
void spin(long long cycles, cudaStream_t s) { spin_kernel<<<1, 1, 0, s>>>(cycles); }
void stream_read(const float4 *a, float *sink, std::size_t n4, cudaStream_t s) {
  read_kernel<<<blocks_for(n4), k_threads, 0, s>>>(a, sink, n4);
}
void stream_write(float4 *a, std::size_t n4, cudaStream_t s) {
  write_kernel<<<blocks_for(n4), k_threads, 0, s>>>(a, n4);
}
void stream_copy(float4 *a, const float4 *b, std::size_t n4, cudaStream_t s) {
  copy_kernel<<<blocks_for(n4), k_threads, 0, s>>>(a, b, n4);
}
void stream_triad(float4 *a, const float4 *b, const float4 *c, std::size_t n4, cudaStream_t s) {
  triad_kernel<<<blocks_for(n4), k_threads, 0, s>>>(a, b, c, n4);
}

namespace {

int query_rows(const AttentionArgs &a) { return (a.q_heads / a.kv_heads) * a.queries; }

/// Rows per decode_split block: the smallest of 1, 2, 4, 8 that holds the rows (at most 8).
int decode_rows(int rows) {
  int rm = 1;
  while (rm < rows && rm < 8) rm *= 2;
  return rm;
}

template <int DK, int RM> void launch_decode(const AttentionArgs &a, cudaStream_t s) {
  const dim3 grid(static_cast<unsigned>(a.batch * a.kv_heads),
                  static_cast<unsigned>((query_rows(a) + RM - 1) / RM), static_cast<unsigned>(a.splits));
  decode_split_kernel<DK, RM><<<grid, k_decode_warps * 32, 0, s>>>(a);
}

template <int DK> void launch_decode_rm(const AttentionArgs &a, cudaStream_t s) {
  switch (decode_rows(query_rows(a))) {
  case 1: return launch_decode<DK, 1>(a, s);
  case 2: return launch_decode<DK, 2>(a, s);
  case 4: return launch_decode<DK, 4>(a, s);
  default: return launch_decode<DK, 8>(a, s);
  }
}

bool decode_supported(int d) { return d == 32 || d == 64 || d == 128 || d == 256; }

void launch_decode_any(const AttentionArgs &a, cudaStream_t s) {
  switch (a.dk) {
  case 32: return launch_decode_rm<32>(a, s);
  case 64: return launch_decode_rm<64>(a, s);
  case 128: return launch_decode_rm<128>(a, s);
  case 256: return launch_decode_rm<256>(a, s);
  default: throw InternalError("decode_split: unsupported head size " + std::to_string(a.dk));
  }
}

/// One flash_wmma configuration: head size D, NW warps (16 NW query rows), BN keys per tile.
template <int D, int NW, int BN> struct Flash {
  /// Opts in to the layout's shared memory (above the 48 KiB default) on the current device and
  /// returns the blocks per SM the kernel reaches.
  static int prepare(std::size_t bytes) {
    ROOFTOP_CUDA(cudaFuncSetAttribute(flash_wmma_kernel<D, NW, BN>,
                                      cudaFuncAttributeMaxDynamicSharedMemorySize,
                                      static_cast<int>(bytes)));
    int blocks = 0;
    ROOFTOP_CUDA(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, flash_wmma_kernel<D, NW, BN>,
                                                               NW * 32, bytes));
    return blocks;
  }
  static void launch(const AttentionArgs &a, cudaStream_t s) {
    const dim3 grid(static_cast<unsigned>(a.batch * a.kv_heads),
                    static_cast<unsigned>((query_rows(a) + 16 * NW - 1) / (16 * NW)),
                    static_cast<unsigned>(a.splits));
    flash_wmma_kernel<D, NW, BN><<<grid, NW * 32, a.shared_bytes, s>>>(a);
  }
};

/// The flash_wmma configurations, largest first for each head size: plan_attention takes the
/// first whose shared memory fits the device (H100 227 KiB, A100 163 KiB, sm_86/89 99 KiB).
struct FlashConfig {
  int d, warps, keys;
};
constexpr FlashConfig k_flash_configs[] = {
    {32, 4, 64},  {64, 4, 64},  {64, 4, 32},  {128, 4, 64}, {128, 4, 32}, {128, 2, 32},
    {256, 4, 32}, {256, 2, 32}, {256, 1, 32}, {576, 2, 32}, {576, 1, 32}, {576, 1, 16},
};

template <int D, int NW, int BN, class F> bool try_flash(const FlashConfig &c, F &f) {
  if (c.d != D || c.warps != NW || c.keys != BN) return false;
  f(Flash<D, NW, BN>{});
  return true;
}

/// Calls f(Flash<D, NW, BN>{}) for configuration `c` (one of k_flash_configs).
template <class F> void with_flash(const FlashConfig &c, F &&f) {
  const bool found =
      try_flash<32, 4, 64>(c, f) || try_flash<64, 4, 64>(c, f) || try_flash<64, 4, 32>(c, f) ||
      try_flash<128, 4, 64>(c, f) || try_flash<128, 4, 32>(c, f) || try_flash<128, 2, 32>(c, f) ||
      try_flash<256, 4, 32>(c, f) || try_flash<256, 2, 32>(c, f) || try_flash<256, 1, 32>(c, f) ||
      try_flash<576, 2, 32>(c, f) || try_flash<576, 1, 32>(c, f) || try_flash<576, 1, 16>(c, f);
  if (!found) throw InternalError("flash_wmma: no configuration " + std::to_string(c.d));
}

bool flash_supported(int d) {
  for (const auto &c : k_flash_configs)
    if (c.d == d) return true;
  return false;
}

template <int DK, int RM> int decode_occupancy() {
  int blocks = 0;
  ROOFTOP_CUDA(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, decode_split_kernel<DK, RM>,
                                                             k_decode_warps * 32, 0));
  return blocks;
}

template <int DK> int decode_occupancy_rm(int rm) {
  switch (rm) {
  case 1: return decode_occupancy<DK, 1>();
  case 2: return decode_occupancy<DK, 2>();
  case 4: return decode_occupancy<DK, 4>();
  default: return decode_occupancy<DK, 8>();
  }
}

int decode_blocks_per_sm(int dk, int rm) {
  switch (dk) {
  case 32: return decode_occupancy_rm<32>(rm);
  case 64: return decode_occupancy_rm<64>(rm);
  case 128: return decode_occupancy_rm<128>(rm);
  default: return decode_occupancy_rm<256>(rm);
  }
}

} // namespace

const char *to_string(AttentionKernel k) {
  return k == AttentionKernel::decode_split ? "decode_split" : "flash_wmma";
}

void plan_attention(AttentionArgs &a, const DeviceLimits &dev) {
  if (a.batch < 1 || a.q_heads < 1 || a.kv_heads < 1 || a.queries < 1 || a.ctx < 1 ||
      a.q_heads % a.kv_heads != 0 || a.queries > a.ctx)
    throw InputError("attention: invalid shape (batch " + std::to_string(a.batch) + ", heads " +
                     std::to_string(a.q_heads) + "/" + std::to_string(a.kv_heads) + ", queries " +
                     std::to_string(a.queries) + ", context " + std::to_string(a.ctx) + ")");
  if (a.dk != a.dv || !(decode_supported(a.dk) || flash_supported(a.dk)))
    throw InputError("attention: no kernel for head sizes dk " + std::to_string(a.dk) + ", dv " +
                     std::to_string(a.dv) + " (dk = dv in 32, 64, 128, 256, or 576 for flash_wmma)");
  const int rows = query_rows(a);
  const bool flash = flash_supported(a.dk) && (rows > 8 || !decode_supported(a.dk));
  a.kernel = flash ? AttentionKernel::flash_wmma : AttentionKernel::decode_split;
  int rows_per_block = decode_rows(rows), min_chunk = 64, per_sm = 0;
  if (flash) {
    a.flash_warps = 0;
    for (const auto &c : k_flash_configs) {
      if (c.d != a.dk) continue;
      const std::size_t bytes = FlashLayout(c.d, c.warps, c.keys, a.shared_kv).bytes;
      if (bytes > dev.shared_per_block) continue;
      a.flash_warps = c.warps;
      a.flash_keys = c.keys;
      a.shared_bytes = bytes;
      with_flash(c, [&](auto cfg) { per_sm = decltype(cfg)::prepare(bytes); });
      break;
    }
    if (a.flash_warps == 0)
      throw NotSupported("attention: no flash_wmma configuration for head size " +
                         std::to_string(a.dk) + " fits the device's " +
                         std::to_string(dev.shared_per_block) + " bytes of shared memory per block");
    rows_per_block = 16 * a.flash_warps;
    min_chunk = std::max(64, 2 * a.flash_keys);
  } else {
    per_sm = decode_blocks_per_sm(a.dk, rows_per_block);
  }
  const long long row_tiles = (rows + rows_per_block - 1) / rows_per_block;
  if (row_tiles > 65535)
    throw InputError("attention: " + std::to_string(rows) + " query rows per KV head is more than "
                     "the grid holds (65535 tiles of " + std::to_string(rows_per_block) + ")");
  const long long blocks = static_cast<long long>(a.batch) * a.kv_heads * row_tiles;
  const long long target = static_cast<long long>(std::max(per_sm, 1)) * std::max(dev.sm_count, 1);
  const long long max_splits = std::max(1, (a.ctx + min_chunk - 1) / min_chunk);
  long long splits = a.want_splits > 0 ? a.want_splits : (target + blocks - 1) / blocks;
  splits = std::clamp(splits, 1LL, std::min(max_splits, 65535LL));
  // Even chunks: the last split is not a sliver.
  a.chunk = static_cast<int>((a.ctx + splits - 1) / splits);
  a.splits = (a.ctx + a.chunk - 1) / a.chunk;
}

std::size_t attention_partial_floats(const AttentionArgs &a) {
  if (a.splits <= 1) return 0;
  return static_cast<std::size_t>(a.batch) * a.q_heads * a.queries * a.splits * (a.dv + 2);
}

void attention(const AttentionArgs &a, cudaStream_t s) {
  if (a.chunk <= 0) throw InternalError("attention: plan_attention was not called");
  if (a.shared_kv != (a.k == a.v))
    throw InternalError("attention: shared_kv must say whether v is k");
  if (a.kernel == AttentionKernel::flash_wmma)
    with_flash({a.dk, a.flash_warps, a.flash_keys}, [&](auto cfg) { decltype(cfg)::launch(a, s); });
  else
    launch_decode_any(a, s);
  if (a.splits > 1)
    attention_combine_kernel<<<static_cast<unsigned>(a.batch * a.q_heads * a.queries), 128, 0, s>>>(a);
}

void rmsnorm(const __nv_bfloat16 *x, __nv_bfloat16 *y, int rows, int cols, cudaStream_t s) {
  rmsnorm_kernel<<<rows, k_threads, 0, s>>>(x, y, cols);
}
void silu_mul(const __nv_bfloat16 *in, __nv_bfloat16 *out, int rows, int cols, cudaStream_t s) {
  silu_mul_kernel<<<blocks_for(static_cast<std::size_t>(rows) * cols), k_threads, 0, s>>>(in, out, rows, cols);
}
void fill_bf16(__nv_bfloat16 *p, std::size_t n, cudaStream_t s) {
  fill_kernel<<<blocks_for(n), k_threads, 0, s>>>(p, n);
}
void fill_fp8(void *p, std::size_t n, cudaStream_t s) {
  fill_fp8_kernel<<<blocks_for(n), k_threads, 0, s>>>(static_cast<unsigned char *>(p), n);
}

} // namespace rooftop::cal::cuda
