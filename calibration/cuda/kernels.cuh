// Device kernels the CUDA backend times (declarations; definitions in kernels.cu).
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstddef>

namespace rooftop::cal::cuda {

void launch_empty(cudaStream_t s);
/// Keeps one SM busy for `cycles` SM clock cycles (queued before a start event, it makes the
/// GPU wait for nothing the host has not yet launched).
void spin(long long cycles, cudaStream_t s);
void stream_read(const float4 *a, float *sink, std::size_t n4, cudaStream_t s);
void stream_write(float4 *a, std::size_t n4, cudaStream_t s);
void stream_copy(float4 *a, const float4 *b, std::size_t n4, cudaStream_t s);
void stream_triad(float4 *a, const float4 *b, const float4 *c, std::size_t n4, cudaStream_t s);

/// Which attention kernel runs a shape (chosen by plan_attention).
enum class AttentionKernel {
  /// Few query rows per KV head (MHA, GQA decode): CUDA cores, 16-byte loads, K/V read once
  /// per KV head for all of its query heads, online softmax, keys split over warps and blocks
  /// (flash-decoding), partial results combined.
  decode_split,
  /// Many query rows per KV head (prefill, MLA decode with many heads over one latent):
  /// FlashAttention-2 style tiles on tensor cores (WMMA BF16, FP32 accumulate), output
  /// accumulated in shared memory; keys split over blocks when the grid is small.
  flash_wmma,
};
const char *to_string(AttentionKernel k);

/// Attention of `queries` query rows per (batch, head) over bf16 K/V caches, online softmax.
/// q: [batch][q_heads][queries][dk]; k: [batch][kv_heads][ctx][dk]; v: same with dv (v may be
/// k: MLA's one latent); o: [batch][q_heads][queries][dv]. Causal when `causal` (query i sees
/// keys < ctx - queries + i + 1). plan_attention fills kernel, splits and chunk.
struct AttentionArgs {
  const __nv_bfloat16 *q = nullptr, *k = nullptr, *v = nullptr;
  __nv_bfloat16 *o = nullptr;
  float *partial = nullptr; ///< attention_partial_floats(*this) floats when splits > 1
  int batch = 0, q_heads = 0, kv_heads = 0, queries = 0, ctx = 0, dk = 0, dv = 0;
  bool causal = false;
  bool shared_kv = false; ///< v is k (MLA's one latent); then the pointers must be equal
  int want_splits = 0;    ///< force this many key splits (0: as many as fill the GPU)
  // Filled by plan_attention:
  AttentionKernel kernel = AttentionKernel::decode_split;
  int splits = 1;      ///< key ranges processed by separate blocks, then combined
  int chunk = 0;       ///< keys per split
  int flash_warps = 0; ///< flash_wmma: warps per block (16 query rows each)
  int flash_keys = 0;  ///< flash_wmma: keys per tile
  std::size_t shared_bytes = 0; ///< flash_wmma: dynamic shared memory per block
};

/// What plan_attention needs of the device.
struct DeviceLimits {
  int sm_count = 1;
  std::size_t shared_per_block = 48 * 1024; ///< opt-in shared memory per block, bytes
};

/// Chooses the kernel, its tile configuration (the largest that fits the device's shared
/// memory; opted in here) and the key split, so that the grid fills the SMs at the kernel's
/// occupancy. Throws InputError for shapes no kernel supports (dk != dv, a head size other than
/// 32, 64, 128, 256 and, for flash_wmma, 576, or too many query rows) and NotSupported when no
/// configuration fits the device's shared memory.
void plan_attention(AttentionArgs &a, const DeviceLimits &dev);
/// Floats the split-combine scratch needs (0 when splits == 1).
std::size_t attention_partial_floats(const AttentionArgs &a);
void attention(const AttentionArgs &a, cudaStream_t s);

void rmsnorm(const __nv_bfloat16 *x, __nv_bfloat16 *y, int rows, int cols, cudaStream_t s);
/// out[r][c] = silu(in[r][c]) * in[r][cols + c] for a [rows][2 cols] gate|up input.
void silu_mul(const __nv_bfloat16 *in, __nv_bfloat16 *out, int rows, int cols, cudaStream_t s);
/// Fills with small pseudo-random bf16 values (no NaN).
void fill_bf16(__nv_bfloat16 *p, std::size_t n, cudaStream_t s);
/// Fills with pseudo-random FP8 E4M3 values of magnitude 2^-3 .. 2^3 (no NaN).
void fill_fp8(void *p, std::size_t n, cudaStream_t s);

} // namespace rooftop::cal::cuda
